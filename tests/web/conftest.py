"""Web survey fixtures: a wave on each backend, an in-process client, a live server
(uvicorn in a thread) and a real headless Chromium driven by Playwright.

Browser tests are skipped when /usr/bin/chromium is missing, unless
$SHAREDGROUND_REQUIRE_BROWSER is set (as CI does), in which case they fail.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
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


class BrowserThread:
    """Headless Chromium driven from a thread of its own.

    Playwright's sync API refuses to start in a thread where another sync Playwright is
    running, and other test packages (the report's) keep their own for the whole session.
    So this one lives in a dedicated thread, and the web browser tests run in that thread
    too (see `pytest_pyfunc_call`), whatever order the suite runs in.
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self.started: Future[Any] = Future()
        self.thread = threading.Thread(target=self._main, name="web-browser", daemon=True)
        self.thread.start()
        self.browser = self.started.result(timeout=60)

    def _main(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                self.started.set_result(browser)
                while (job := self.jobs.get()) is not None:
                    work, result = job
                    try:
                        result.set_result(work())
                    except BaseException as exc:  # handed to the caller
                        result.set_exception(exc)
                browser.close()
        except BaseException as exc:  # Chromium could not start
            if not self.started.done():
                self.started.set_exception(exc)

    def call(self, work: Callable[[], Any]) -> Any:
        """Run `work` in the browser's thread and return its result (or raise its error)."""
        if threading.current_thread() is self.thread:
            return work()
        result: Future[Any] = Future()
        self.jobs.put((work, result))
        return result.result()

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserThread]:
    """One headless Chromium for the web tests (each test takes fresh contexts)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("SHAREDGROUND_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    driver = BrowserThread()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a test that uses the browser in the browser's thread."""
    if "browser" not in pyfuncitem.fixturenames:
        return None
    driver: BrowserThread = pyfuncitem.funcargs["browser"]  # type: ignore[assignment]
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    driver.call(lambda: pyfuncitem.obj(**kwargs))
    return True


@pytest.fixture
def new_context(browser: BrowserThread) -> Iterator[Callable[..., Any]]:
    """Make fresh browser contexts (as if separate browsers), closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make

    def close() -> None:
        for context in contexts:
            context.close()

    browser.call(close)
