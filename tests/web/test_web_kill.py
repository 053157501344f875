"""The survey server killed with SIGKILL while respondents answer: nothing lost or doubled.

A real `sharedground serve` (its own process group, killed whole) on SQLite and PostgreSQL;
respondents keep going once a new server answers on the same port. Afterwards:

* every respondent reached the confirmation page;
* every completed survey is stored exactly once, with exactly the answers sent (each page's
  form as the server reads it, merged), and nothing is left in the drafts;
* after each kill, every section a respondent had saved came back filled in as sent.

`make test` runs a short version (a dozen respondents, one kill); `make soak` sets
$SHAREDGROUND_SOAK=1 for the long one (200 respondents, two workers, four kills).
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from pathlib import Path

from soakload import Load, Server
from sqlalchemy import select
from webhelpers import Survey, free_port

from sharedground.fieldwork.links import find_link
from sharedground.store import Response
from sharedground.store.schema import Draft
from sharedground.web.questions import ROLE, read_section

SOAK = bool(os.environ.get("SHAREDGROUND_SOAK"))
RESPONDENTS = 200 if SOAK else 12
WORKERS = 2 if SOAK else 1
KILL_AT = [0.15, 0.35, 0.55, 0.75] if SOAK else [0.5]


def _in_a_thread(load: Load) -> None:
    # A loop of its own in a thread: in the whole suite the browser tests keep a loop
    # running in the main thread, where asyncio.run would refuse to start.
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(load.run())
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=main, name="soak-load")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def test_server_killed_mid_run_loses_and_duplicates_nothing(survey: Survey, tmp_path: Path) -> None:
    tokens = survey.links(RESPONDENTS)
    log = tmp_path / "serve.log"
    server = Server(survey.store.url, free_port(), WORKERS, log)
    load = Load.make(server, tokens, KILL_AT, seed=15)
    load.deadline_s = 1800.0 if SOAK else 600.0
    try:
        _in_a_thread(load)
    finally:
        server.stop()

    assert server.kills == len(KILL_AT)
    problems = [f"{p.token[:6]}: {text}" for p in load.respondents for text in p.problems]
    assert problems == [], log.read_text()[-3000:]
    assert all(p.done for p in load.respondents)
    # The kills hit requests in flight, and resumed pages were looked at.
    assert sum(p.interruptions for p in load.respondents) >= len(KILL_AT)
    assert sum(p.resumed_checks for p in load.respondents) >= 1
    print(  # shown by `make soak` (pytest -s)
        f"\n{RESPONDENTS} respondents, {server.kills} kills: "
        f"{sum(p.interruptions for p in load.respondents)} requests cut off, "
        f"{sum(p.resumed_checks for p in load.respondents)} saved pages reopened and checked"
    )

    with survey.store.session() as session:
        wave = survey.store.get_wave(session, survey.wave)
        stored = session.execute(
            select(Response.respondent_key, Response.role, Response.answers).where(
                Response.wave_id == wave.id
            )
        ).all()
        keys = {}
        for person in load.respondents:
            link = find_link(session, person.token)
            assert link is not None and link.completed_on is not None
            keys[f"web-link-{link.id}"] = person
        drafts = session.scalars(select(Draft.link_id)).all()
    assert drafts == []
    times = collections.Counter(key for key, _role, _answers in stored)
    assert set(times) == set(keys)
    assert max(times.values()) == 1

    for key, role, answers in stored:
        person = keys[key]
        expected: dict[str, str] = {}
        for section in load.instrument.sections:
            posted: dict[str, list[str]] = {}
            for name, value in person.pages[section.id]:
                posted.setdefault(name, []).append(value)
            given, _problems = read_section(section, posted)
            expected.update(given)
        assert role == expected.pop(ROLE)
        assert dict(answers) == expected, key
