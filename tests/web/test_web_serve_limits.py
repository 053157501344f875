"""`sharedground serve` options reaching every worker: the shared rate limit, the trusted
proxy that names the client, the study's time zone. Real server processes."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from webhelpers import Survey, free_port, make_survey, parse, text_of

from sharedground.cli import main
from sharedground.cli import web as cli_web
from sharedground.fieldwork.clock import study_today
from sharedground.store import Store
from sharedground.store.schema import Guess
from sharedground.web import clock, security

WRONG = "/s/" + "B" * 32
# An access-log line of a multi-worker server: "INFO:     [pid] client:port - "GET ..." 429".
ACCESS = re.compile(
    r'\[(?P<pid>\d+)\] (?P<client>[0-9a-f.:]+):\d+ - "GET (?P<path>\S+) [^"]*" (?P<status>\d{3})'
)


@contextmanager
def serving(store: Store, log: Path, *options: str) -> Iterator[str]:
    """`sharedground serve` on a free port with `options`; yields its base URL."""
    port = free_port()
    # Unbuffered, so that the log can be read while the server runs.
    env = {**os.environ, "SHAREDGROUND_SECRET_KEY": "serve-test", "PYTHONUNBUFFERED": "1"}
    for name in ("SHAREDGROUND_RATE_LIMIT", "SHAREDGROUND_TIMEZONE", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    command = [sys.executable, "-m", "sharedground", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--database", store.url, *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx2.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                assert process.poll() is None, log.read_text()
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def get(base: str, path: str, client: str | None = None) -> int:
    """GET on a new connection (so that any worker may take it), as if through a proxy."""
    headers = {"X-Forwarded-For": client} if client else {}
    response = httpx2.get(base + path, headers=headers, follow_redirects=False)
    if response.status_code == 429:
        assert text_of(parse(response.text), "h1") == "Too many attempts"
    return response.status_code


def answered(log: Path, client: str, status: int) -> set[str]:
    """The worker processes that answered `client` with `status`, from the access log."""
    lines = (ACCESS.search(line) for line in log.read_text().splitlines())
    return {m["pid"] for m in lines if m and m["client"] == client and int(m["status"]) == status}


@pytest.mark.slow
def test_workers_share_the_rate_limit(survey: Survey, tmp_path: Path) -> None:
    good = f"/s/{survey.link()}"
    log = tmp_path / "serve.log"
    guesser, neighbour = "203.0.113.7", "203.0.113.8"
    options = ["--workers", "2", "--rate-limit", "3/600", "--forwarded-allow-ips", "127.0.0.1"]
    with serving(survey.store, log, *options) as base:
        statuses = [get(base, WRONG, guesser) for _ in range(5)]
        # A worker that learnt "not blocked" moments ago lets one more through before it
        # hears (see RateLimiter): 3 + (workers - 1) failures at most, never 3 per worker.
        assert statuses[:3] == [404] * 3 and 429 in statuses, statuses
        assert statuses.count(404) <= 3 + 1, statuses
        # Blocked on every worker: ask on new connections until both have answered 429.
        for _ in range(200):
            assert get(base, good, guesser) == 429
            if len(answered(log, guesser, 429)) == 2:
                break
        assert len(answered(log, guesser, 429)) == 2, "the server never used its second worker"
        # The proxy's own address and other clients behind it are not blocked.
        assert get(base, good, neighbour) == 200
        assert get(base, good) == 200
    with survey.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Guess)) == statuses.count(404)


@pytest.mark.slow
def test_serve_options_reach_the_workers(store: Store, tmp_path: Path) -> None:
    # A zone whose date is not the study's (by default Europe/London's): at any instant one
    # of these two differs from every other zone's date (they are 25 hours apart).
    local = study_today()
    zone = next(
        z
        for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago")
        if dt.datetime.now(ZoneInfo(z)).date() != local
    )
    there = dt.datetime.now(ZoneInfo(zone)).date()
    # Open from the zone's today if that is ahead of the server, else closed on it.
    window = {"opens": there} if there > local else {"closes": there}
    survey = make_survey(store, "far", **window)
    good = f"/s/{survey.link()}"
    log = tmp_path / "serve.log"
    # This test's connections come from 127.0.0.1, which is not the trusted proxy here.
    options = ["--rate-limit", "2/600", "--forwarded-allow-ips", "192.0.2.1", "--timezone", zone]
    with serving(store, log, *options) as base:
        assert get(base, good) == 200
        assert [get(base, WRONG, f"198.51.100.{n}") for n in range(3)] == [404, 404, 429]
        assert get(base, good, "198.51.100.99") == 429  # the header was ignored
    text = log.read_text()
    assert f"dates in {zone}" in text
    assert "198.51.100" not in text  # logged as the connection's address, 127.0.0.1


def test_serve_refuses_bad_settings_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHAREDGROUND_RATE_LIMIT", "SHAREDGROUND_TIMEZONE", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    cases = [
        (["--rate-limit", "20"], "Invalid value for '--rate-limit': '20' is not a rate limit"),
        (["--timezone", "Europe/Londno"], "'Europe/Londno' is not a time zone"),
        (["--forwarded-allow-ips", "127.0.0.1,proxy"], "'proxy' is not an IP address"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, ["serve", *args])
        assert result.exit_code == 2
        assert message in " ".join(result.output.split())
    monkeypatch.setenv("SHAREDGROUND_RATE_LIMIT", "0/60")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "'0/60' is not a rate limit" in " ".join(result.output.split())


def test_the_command_and_the_app_read_the_same_settings() -> None:
    # The command spells the names out so as not to import the app at start-up.
    assert cli_web.RATE_LIMIT_ENV == security.RATE_LIMIT_ENV
    assert cli_web.TIMEZONE_ENV == clock.TIMEZONE_ENV
