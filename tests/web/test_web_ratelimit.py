"""The token-guessing limit counted in the database: one count for every app on a database."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from webhelpers import LiveServer, Survey, parse, text_of

from sharedground.store import Store
from sharedground.store.schema import Guess
from sharedground.web import create_app
from sharedground.web.security import DatabaseLedger, RateLimit, RateLimiter

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
WRONG = "/s/" + "B" * 32
# The address Starlette's TestClient reports for its requests.
CLIENT = "testclient"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=seconds)


def _app(store: Store, clock: Clock, limit: RateLimit, key: bytes = b"test-key") -> Starlette:
    return create_app(store, key=key, rate_limit=limit, now=clock)


def _status(app: Starlette, path: str) -> int:
    with TestClient(app) as client:
        response = client.get(path, follow_redirects=False)
    if response.status_code == 429:
        assert text_of(parse(response.text), "h1") == "Too many attempts"
    return response.status_code


def _rows(store: Store) -> list[Any]:
    with store.session() as session:
        return list(session.execute(select(Guess.client_key, Guess.at).order_by(Guess.at)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/600", RateLimit(20, 600)), (" 5/60 ", RateLimit(5, 60)), ("1/1", RateLimit(1, 1))],
)
def test_rate_limit_is_read_from_failures_over_seconds(text: str, expected: RateLimit) -> None:
    assert RateLimit.parse(text) == expected
    assert RateLimit.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["20", "20/", "/600", "0/600", "20/0", "-1/600", "2.5/60", "a/b"])
def test_a_bad_rate_limit_is_refused_with_the_form_it_needs(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a rate limit: give FAILURES/SECONDS"):
        RateLimit.parse(text)


def test_rate_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAREDGROUND_RATE_LIMIT", raising=False)
    assert RateLimit.from_env() == RateLimit(20, 600)
    monkeypatch.setenv("SHAREDGROUND_RATE_LIMIT", "7/90")
    assert RateLimit.from_env() == RateLimit(7, 90)
    monkeypatch.setenv("SHAREDGROUND_RATE_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"^\$SHAREDGROUND_RATE_LIMIT: 'lots' is not a rate"):
        RateLimit.from_env()


def test_two_apps_on_one_database_share_one_count(survey: Survey) -> None:
    store = survey.store
    good = f"/s/{survey.link()}"
    clock = Clock()
    limit = RateLimit(3, 600)
    first, second, third, fourth = (_app(store, clock, limit) for _ in range(4))

    # Three apps see the client open a good link: not blocked, never failed.
    assert [_status(app, good) for app in (second, third, fourth)] == [200, 200, 200]
    assert _status(second, WRONG) == 404
    assert _status(first, WRONG) == 404
    assert _status(first, WRONG) == 404
    assert _status(first, good) == 429

    # An app that has not seen the client reads the shared count: blocked at once.
    assert _status(_app(store, clock, limit), good) == 429
    # So does one that knew of an earlier failure (such clients are read on every request).
    assert _status(second, good) == 429
    # One that learnt "never failed" moments ago answers page views from memory for up to
    # `recheck` seconds (no database read)...
    assert _status(fourth, good) == 200
    # ...and a failure there writes, re-reads the count and blocks: one more, not three.
    assert _status(third, WRONG) == 404
    assert _status(third, good) == 429
    assert len(_rows(store)) == limit.failures + 1

    # Once its memory is older than `recheck`, the fourth app reads the count again.
    clock.advance(59)
    assert _status(fourth, good) == 200
    clock.advance(1.5)
    assert _status(fourth, good) == 429
    with TestClient(fourth) as client:
        wait = int(client.get(good).headers["retry-after"])
    assert 600 - 61 <= wait <= 600 - 59

    # The window passes for every app; the next failure clears rows that no longer count.
    clock.advance(550)
    assert [_status(app, good) for app in (first, second, third, fourth)] == [200] * 4
    assert _status(second, WRONG) == 404
    assert len(_rows(store)) == 1


def test_the_database_holds_a_keyed_hash_of_the_address_not_the_address(survey: Survey) -> None:
    store = survey.store
    clock = Clock()
    limit = RateLimit(5, 600)
    assert _status(_app(store, clock, limit), WRONG) == 404
    assert _status(_app(store, clock, limit, key=b"another-key"), WRONG) == 404
    rows = _rows(store)
    assert [at for _, at in rows] == [T0.timestamp()] * 2
    stored = {key for key, _ in rows}
    for key in stored:
        assert len(key) == 32 and set(key) <= set("0123456789abcdef")
        assert CLIENT not in key
        assert key != hashlib.sha256(CLIENT.encode()).hexdigest()[:32]  # not a plain hash
    # Keyed: under another secret the same address gives an unrelated value.
    expected = set()
    for secret in (b"test-key", b"another-key"):
        derived = hmac.new(secret, b"rate-limit client key", hashlib.sha256).digest()
        expected.add(hmac.new(derived, CLIENT.encode(), hashlib.sha256).hexdigest()[:32])
    assert stored == expected and len(stored) == 2


def test_database_ledger_window(store: Store) -> None:
    """The limiter's window over the shared ledger, with explicit instants."""
    ledger = DatabaseLedger(store, b"k")

    def limiter() -> RateLimiter:  # a fresh worker each time: nothing learnt in memory
        return RateLimiter(limit=3, window=60, ledger=ledger)

    one = limiter()
    for second in range(3):
        assert limiter().blocked("10.0.0.1", now=second) == 0
        one.failed("10.0.0.1", now=second)
    assert limiter().blocked("10.0.0.1", now=3) == 57
    assert limiter().blocked("10.0.0.2", now=3) == 0
    assert limiter().blocked("10.0.0.1", now=60.5) == 0
    # More failures than the limit (workers that had not heard yet): the wait runs until
    # fewer than `limit` remain in the window, not until the oldest leaves.
    limiter().failed("10.0.0.1", now=50)
    assert limiter().blocked("10.0.0.1", now=55) == pytest.approx(6)  # 1, 2, 50: until 61
    assert limiter().blocked("10.0.0.1", now=61.5) == 0  # 2, 50
    limiter().prune(now=200)
    assert ledger.recent("10.0.0.1", since=-1, count=10) == []


def test_memory_is_bounded(store: Store) -> None:
    limiter = RateLimiter(limit=2, window=60, ledger=DatabaseLedger(store, b"k"), max_clients=4)
    for n in range(10):
        limiter.blocked(f"10.0.0.{n}", now=100)
    limiter.failed("10.0.1.1", now=100)
    limiter.failed("10.0.1.1", now=100)
    assert limiter.blocked("10.0.1.1", now=101) == 59
    assert len(limiter._known) <= 4


class SpyLedger:
    """A database ledger that notes each call, whether it ran on an event loop, and can
    hold a read until the test lets it go."""

    def __init__(self, inner: DatabaseLedger) -> None:
        self.inner = inner
        self.calls: list[tuple[str, bool]] = []
        self.hold: threading.Event | None = None
        self.holding = threading.Event()

    def _note(self, name: str) -> None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        self.calls.append((name, on_loop))

    def recent(self, client: str, since: float, count: int) -> list[float]:
        self._note("recent")
        if self.hold is not None:
            self.holding.set()
            assert self.hold.wait(10), "the test never let the read go"
        return self.inner.recent(client, since, count)

    def record(self, client: str, at: float, since: float, count: int) -> list[float]:
        self._note("record")
        return self.inner.record(client, at, since, count)

    def prune(self, before: float) -> None:
        self._note("prune")
        self.inner.prune(before)


def _spied_app(store: Store, clock: Clock) -> tuple[Starlette, SpyLedger]:
    ledger = SpyLedger(DatabaseLedger(store, b"test-key"))
    limiter = RateLimiter(3, 600, ledger=ledger, clock=lambda: clock().timestamp())
    return create_app(store, key=b"test-key", limiter=limiter, now=clock), ledger


def test_the_shared_count_is_read_and_written_off_the_event_loop(survey: Survey) -> None:
    clock = Clock()
    app, ledger = _spied_app(survey.store, clock)
    good = f"/s/{survey.link()}"
    with TestClient(app) as client:
        assert client.get(good).status_code == 200  # never seen: read
        assert client.get(good).status_code == 200  # clean, learnt just now: memory only
        assert ledger.calls == [("recent", False)]
        assert client.get(WRONG).status_code == 404  # checked from memory, then written
        assert client.get(good).status_code == 200  # has failed: read on every request
        assert client.get("/optout/" + "C" * 32).status_code == 404  # the opt-out page too
    assert ledger.calls == [
        ("recent", False),
        ("record", False),
        ("prune", False),
        ("recent", False),
        ("recent", False),
        ("record", False),
    ]
    assert len(_rows(survey.store)) == 2


def test_a_slow_read_of_the_shared_count_does_not_hold_up_other_requests(
    survey: Survey,
) -> None:
    """While one request waits for the database's count, the server answers others."""
    app, ledger = _spied_app(survey.store, Clock())
    ledger.hold = threading.Event()
    with LiveServer(app) as server, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(urllib.request.urlopen, f"{server.url}/s/{survey.link()}", timeout=20)
        assert ledger.holding.wait(10)
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
                assert response.read() == b"ok"
            assert not waiting.done()  # the survey page is still waiting for its count
        finally:
            ledger.hold.set()
        with waiting.result(timeout=20) as response:
            assert response.status == 200
    assert ledger.calls == [("recent", False)]
