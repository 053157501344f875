"""Respondents answering a real `sharedground serve` that is killed with SIGKILL mid-run.

Used by `test_web_kill.py` (a short run in `make test`) and by `make soak` (the long run:
$SHAREDGROUND_SOAK=1). The answers are bench/bench_web.py's load generator's (random valid
answers per section, some left blank); the respondents here also survive the server's
death: a request that fails because the server is gone is tried again once a new server
answers, and then every section the respondent had saved is opened again and must come
back filled in with what was sent.

The server runs in a session (process group) of its own, so that SIGKILL reaches its
worker processes too, as when a machine loses power or the OOM killer strikes.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground.instrument import Instrument, Section, builtin
from sharedground.web.questions import raw_from_answers, read_section

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from bench_web import _answers  # noqa: E402  (the load generator's answers, reused)

#: What a request may raise when the server is killed under it, or is not back yet.
GONE = (aiohttp.ClientError, TimeoutError, OSError)


class Server:
    """`sharedground serve` in a process group of its own, started and killed at will."""

    def __init__(self, database: str, port: int, workers: int, log: Path) -> None:
        self.database = database
        self.port = port
        self.workers = workers
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "SHAREDGROUND_SECRET_KEY": "soak-secret"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sharedground",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--database",
                    self.database,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.starts += 1

    async def ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
                try:
                    async with session.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            return
                except GONE:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the server did not answer /healthz in time")

    def kill(self) -> None:
        """SIGKILL to the server's whole process group (it and its workers), no warning."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def filled_in(html: str) -> dict[str, list[str]]:
    """The answers a section page shows as given: checked radios and boxes, textareas."""
    page = HTMLParser(html)
    raw: dict[str, list[str]] = {}
    for node in page.css("form input[checked]"):
        name, value = node.attributes.get("name"), node.attributes.get("value")
        if name and value is not None:
            raw.setdefault(name, []).append(value)
    for node in page.css("form textarea"):
        name, text = node.attributes.get("name"), node.text()
        if name and text:
            raw.setdefault(name, []).append(text)
    return raw


def expected_raw(section: Section, form: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """What the page should show after `form` was saved: the form as the server reads it."""
    posted: dict[str, list[str]] = {}
    for name, value in form:
        posted.setdefault(name, []).append(value)
    answers, problems = read_section(section, posted)
    assert not problems, problems
    return {k: sorted(v) for k, v in raw_from_answers(section, answers).items()}


@dataclass
class Respondent:
    """One person with a link, their answers, and what they saw."""

    token: str
    pages: dict[str, list[tuple[str, str]]]
    saved: list[str] = field(default_factory=list)
    done: bool = False
    interruptions: int = 0
    resumed_checks: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Load:
    """Respondents against one server, killed at given fractions of the run."""

    server: Server
    respondents: list[Respondent]
    kill_at: list[float]
    instrument: Instrument = field(default_factory=lambda: builtin("dmr-2015"))
    deadline_s: float = 600.0
    up: asyncio.Event = field(default_factory=asyncio.Event)
    steps_done: int = 0

    @classmethod
    def make(cls, server: Server, tokens: list[str], kill_at: list[float], seed: int) -> Load:
        rng = random.Random(seed)
        people = [Respondent(t, _answers(random.Random(rng.random()))) for t in tokens]
        return cls(server, people, sorted(kill_at))

    @property
    def total_steps(self) -> int:
        return sum(len(r.pages) + 1 for r in self.respondents)

    def section(self, section_id: str) -> Section:
        return next(s for s in self.instrument.sections if s.id == section_id)

    async def run(self) -> None:
        self.server.start()
        await self.server.ready()
        self.up.set()
        jobs = [self._respondent(r) for r in self.respondents]
        await asyncio.wait_for(asyncio.gather(self._killer(), *jobs), self.deadline_s)

    async def _killer(self) -> None:
        for fraction in self.kill_at:
            while self.steps_done < fraction * self.total_steps:
                await asyncio.sleep(0.01)
            self.up.clear()
            self.server.kill()
            # Let the respondents find it gone, then bring up a new server on the same port.
            await asyncio.sleep(0.3)
            self.server.start()
            await self.server.ready()
            self.up.set()

    async def _respondent(self, person: Respondent) -> None:
        base, token = self.server.base, person.token
        survey = f"{base}/s/{token}"
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host (CSRF cookie)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(cookie_jar=jar, timeout=timeout) as http:
            csrf = ""

            async def attempt(step: str) -> None:
                nonlocal csrf
                if step == "check":
                    async with http.get(f"{survey}/check", allow_redirects=False) as page:
                        html = await page.text()
                        # Not 200 once a submit lost with the server was stored after all
                        # (the link is complete); the retried POST must then say done.
                        if page.status == 200:
                            csrf = _csrf(html) or csrf
                    async with http.post(
                        f"{survey}/check", data={"csrf_token": csrf}, allow_redirects=False
                    ) as sent:
                        if sent.status != 303 or not sent.headers["location"].endswith("/done"):
                            raise AssertionError(f"submit answered {sent.status}")
                    async with http.get(f"{survey}/done") as done:
                        if done.status != 200:
                            raise AssertionError(f"done page answered {done.status}")
                    return
                url = f"{survey}/page/{step}"
                async with http.get(url, allow_redirects=False) as page:
                    html = await page.text()
                    if page.status != 200:
                        raise AssertionError(f"{step} page answered {page.status}")
                    csrf = _csrf(html) or csrf
                form = [("csrf_token", csrf), *person.pages[step]]
                async with http.post(url, data=form, allow_redirects=False) as saved:
                    if saved.status != 303:
                        raise AssertionError(f"saving {step} answered {saved.status}")

            steps = [*person.pages, "check"]
            at = 0
            while at < len(steps):
                await self.up.wait()
                try:
                    await attempt(steps[at])
                except GONE:
                    person.interruptions += 1
                    await asyncio.sleep(0.05)
                    await self.up.wait()
                    if steps[at] != "check":
                        # (A submit lost with the server may have been stored: the link is
                        # then complete and its pages closed; the stored response is checked
                        # at the end instead.)
                        await self._check_resumed(http, survey, person)
                    continue
                except AssertionError as exc:
                    person.problems.append(str(exc))
                    return
                if steps[at] != "check":
                    person.saved.append(steps[at])
                self.steps_done += 1
                at += 1
            person.done = True

    async def _check_resumed(
        self, http: aiohttp.ClientSession, survey: str, person: Respondent
    ) -> None:
        """Every section saved before the kill comes back filled in with what was sent."""
        for section_id in person.saved:
            while True:
                await self.up.wait()
                try:
                    async with http.get(f"{survey}/page/{section_id}") as page:
                        html = await page.text()
                        status = page.status
                    break
                except GONE:
                    await asyncio.sleep(0.05)
            if status != 200:
                person.problems.append(f"resumed {section_id} answered {status}")
                continue
            shown = {k: sorted(v) for k, v in filled_in(html).items()}
            wanted = expected_raw(self.section(section_id), person.pages[section_id])
            if shown != wanted:
                person.problems.append(f"resumed {section_id}: shown {shown}, sent {wanted}")
            person.resumed_checks += 1


def _csrf(html: str) -> str | None:
    node = HTMLParser(html).css_first('input[name="csrf_token"]')
    return node.attributes.get("value") if node is not None else None
