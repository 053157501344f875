"""Fixtures for the report tests (helpers live in `report_support`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from sharedground.instrument import Instrument, builtin


@pytest.fixture(scope="session")
def instrument() -> Instrument:
    return builtin("dmr-2015")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the report's browser tests.

    Skipped when Chromium is missing, unless $SHAREDGROUND_REQUIRE_BROWSER is set (CI), in
    which case the tests fail.
    """
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
