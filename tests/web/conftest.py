"""Web survey fixtures: a wave on each backend, an in-process client, a live server
(uvicorn in a thread) and a real headless Chromium driven by Playwright.

Browser tests are skipped when /usr/bin/chromium is missing, unless
$SHAREDGROUND_REQUIRE_BROWSER is set (as CI does), in which case they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from webhelpers import CHROMIUM, CHROMIUM_ARGS, LiveServer, Survey, make_survey

from sharedground.store import Store


@pytest.fixture
def survey(store: Store) -> Survey:
    """A named (not anonymous) dmr-2015 wave, open now, on each backend."""
    return make_survey(store)


@pytest.fixture
def anonymous_survey(store: Store) -> Survey:
    return make_survey(store, "anon", anonymous=True)


@pytest.fixture
def client(survey: Survey) -> Iterator[TestClient]:
    with TestClient(survey.app()) as test_client:
        yield test_client


@pytest.fixture
def live(survey: Survey) -> Iterator[LiveServer]:
    with LiveServer(survey.app()) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (each test takes fresh contexts)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("SHAREDGROUND_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Make fresh browser contexts (as if separate browsers), closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
