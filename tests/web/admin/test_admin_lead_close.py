"""What a lead reads once fieldwork is over prints nothing the trust's report withholds,
and nothing split by role moves by one late return (issue #15, items 1 and 2).

The wave's disclosure decision (`analysis.disclosure`) is taken over every trust at once:
where one trust answered a question fewer times than the threshold, another trust's
figure for it ("This trust" in its report) is withheld too, or the national figure less
the other trusts' would give the small one back. The results page shows a trust's
figures for every question, so it must leave out those its report leaves out.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from adminhelpers import (
    PASSWORD,
    Site,
    close_yesterday,
    contacts_by_trust_and_role,
    login,
    make_site,
    settled,
)
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import parse

from sharedground import synth
from sharedground.analysis.disclosure import decide as deciding
from sharedground.exchange.importer import import_file
from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import study_today
from sharedground.instrument import GridItem, loads
from sharedground.store import Contact, Response, Store, Wave
from sharedground.text import disclosure
from sharedground.text.disclosure import final_survey, final_survey_if_ready, wait_for_decisions

#: Responses per trust: RB2's 3 make every one of its figures small, and RA1, the next
#: smallest, its partner in every row; RC3, where RA1 answered a question fewer than 5 times.
SIZES = {"RA1": 12, "RB2": 3, "RC3": 40}


@pytest.fixture
def site(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """Three trusts of 12, 3 and 40 synthetic responses, closed yesterday; `lead-c` is
    RC3's lead."""
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))
    made = make_site(store, tmp_path, n=16)
    frame = synth.generate("2015", seed=5, respondents=300, trusts=3)
    frame = frame.with_columns(
        pl.col("trust").replace({"T001": "RA1", "T002": "RB2", "T003": "RC3"})
    )
    frame = pl.concat([frame.filter(pl.col("trust") == t).head(n) for t, n in SIZES.items()])
    path = tmp_path / "cohort.csv"
    synth.write(frame, synth.instrument_for("2015"), path)
    import_file(store, path, "w")
    close_yesterday(store)
    with store.session() as session:
        accounts.create_user(session, "lead-c", PASSWORD, "lead", "RC3")
    return made


def _questions(client: TestClient, trust: str) -> dict[str, tuple[str, list[str]]]:
    """Each question's caption and shares on the trust's results page."""
    page = parse(settled(client, f"/admin/waves/w/trusts/{trust}/results"))
    return {
        table.attributes["data-question"] or "": (
            table.css_first("caption").text(strip=True),
            [td.text(strip=True) for td in table.css("td")],
        )
        for table in page.css("table[data-question]")
    }


def _shown_unless(questions: dict[str, tuple[str, list[str]]], withheld: set[str]) -> None:
    """Every question in `withheld` shows no shares; every other one its shares and count."""
    for column, (caption, shares) in questions.items():
        if column in withheld:
            assert set(shares) == {"–"}, column
        else:
            assert set(shares) != {"–"} and "answered)" in caption, column


def _withheld_in_report(store: Store, trust: str) -> set[str]:
    """The results page's questions whose "This trust" figure the trust's report withholds
    in some row."""
    with store.session() as session:
        wave = session.scalar(select(Wave).where(Wave.name == "w"))
        assert wave is not None
        instrument = loads(wave.instrument.definition)
    decision, _ = final_survey(store, wave)
    t = decision.trust_index(trust)
    found = set()
    for spec, table in zip(decision.cells.specs, decision.tables, strict=True):
        if table.trusts[t]:
            grid = isinstance(instrument.item(spec.item), GridItem)
            found.add(f"{spec.item}:{spec.option}" if grid else spec.item)
    return found


def test_the_results_page_prints_no_figure_the_trusts_report_withholds(
    site: Site, store: Store
) -> None:
    """RA1 is printed nowhere as a whole: its report withholds its "This trust" column in
    every row, as the partner of RB2's 3 responses. Its results page printed all of its
    shares (of 12 people, every question), which with the national figures and the other
    trusts' give RB2's 3 back; RC3's page likewise printed the few rows its report
    withholds."""
    withheld = _withheld_in_report(store, "RA1")
    others = _withheld_in_report(store, "RC3")
    with TestClient(site.app()) as lead, TestClient(site.app()) as other:
        assert login(lead, "lead-a") == 303
        assert login(other, "lead-c") == 303
        mine = _questions(lead, "RA1")
        # Every question the report tabulates is withheld for RA1 (the wave is built so).
        assert withheld and withheld <= mine.keys()
        for column in withheld:
            caption, shares = mine[column]
            assert set(shares) == {"–"}, (column, shares)
            assert "answered)" not in caption  # nor how many answered
        # Questions the report does not tabulate (country, gender) neither, as the report
        # prints nothing of RA1 as a whole.
        assert all(set(shares) == {"–"} for _, shares in mine.values())
        note = parse(settled(lead, "/admin/waves/w/trusts/RA1/results")).css_first("#withheld-note")
        assert note is not None and note.attributes["data-questions"] == str(len(mine))
        # RC3's report withholds its figure in a few rows (where RA1's partners it), and
        # its page those questions alone.
        theirs = _questions(other, "RC3")
        assert theirs.keys() == mine.keys()
        assert others and len(others) < len(withheld)
        _shown_unless(theirs, others)


def _complete(store: Store, contact_id: int) -> None:
    """Record one postal completion: the contact's and its response, as keying does."""
    with store.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        contact.completed_on = study_today()
        contact.completed_mode = "postal"
        session.add(
            Response(
                wave_id=contact.wave_id,
                respondent_key=f"paper-{contact_id}",
                role=contact.role,
                organisation_id=contact.organisation_id,
                mode="postal",
                submitted_on=study_today(),
                answers={},
            )
        )


def _notes(client: TestClient, trust: str) -> list[str]:
    """What the results and report pages say of the final figures."""
    results = parse(settled(client, f"/admin/waves/w/trusts/{trust}/results"))
    report = parse(client.get(f"/admin/waves/w/trusts/{trust}/report").text)
    found = [results.css_first("#release"), report.css_first("#report-release")]
    return [" ".join(node.text().split()) for node in found if node is not None]


def test_the_notes_on_late_returns_do_not_tell_their_role_groups(
    store: Store, tmp_path: Path
) -> None:
    """The results and report pages said when the figures next change: "when 3 more of one
    group have arrived", the fewest late returns of one role group still missing from a
    batch. A number moved by the roles of the late returns: after two late returns, 3 if
    they were of one group, 4 if of two, so a lead could tell whether the second was a
    colleague of the first. Two trusts alike but for the roles of their two late returns
    must read alike."""
    made = make_site(store, tmp_path, n=40)
    people = contacts_by_trust_and_role(store)
    for groups in people.values():
        assert sorted(len(ids) for ids in groups.values()) == [10, 10]
        for ids in groups.values():
            for contact_id in ids[:5]:
                _complete(store, contact_id)
    close_yesterday(store)
    with TestClient(made.app()) as a, TestClient(made.app()) as b:
        assert login(a, "lead-a") == 303
        assert login(b, "lead-b") == 303
        assert _notes(a, "RA1") == _notes(b, "RB2")  # read once, so the close is marked
        one, other = sorted(people["RA1"])
        _complete(store, people["RA1"][one][5])  # RA1: two late returns of one group
        _complete(store, people["RA1"][one][6])
        one, other = sorted(people["RB2"])
        _complete(store, people["RB2"][one][5])  # RB2: one of each of its two groups
        _complete(store, people["RB2"][other][5])
        notes = _notes(a, "RA1")
        assert len(notes) == 2 and "2 wait for their group's batch" in notes[0]
        assert notes == _notes(b, "RB2")


# -- the decision made in the background ----------------------------------------------------------


@dataclass
class HeldDecision:
    """The wave's decision, made afresh and held until the test lets it go."""

    gate: threading.Event = field(default_factory=threading.Event)
    #: One entry per decision started (the thread that made it).
    calls: list[str] = field(default_factory=list)
    #: Raise instead of deciding, this many times first.
    failures: int = 0


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldDecision]:
    """Nothing remembered from other tests, and `decide` waiting on an Event: the first
    views after the close come while the decision is being made, whatever the machine's
    speed (it is never timed)."""
    monkeypatch.setattr(disclosure, "_remembered", OrderedDict())
    monkeypatch.setattr(disclosure, "_making", {})
    found = HeldDecision()
    real = deciding.decide

    def decide(data: Any, threshold: int | None = None) -> Any:
        found.calls.append(threading.current_thread().name)
        if found.failures:
            found.failures -= 1
            raise RuntimeError("the decision failed")
        # A safety net only: the test sets the gate (a page that waits for it fails).
        assert found.gate.wait(timeout=30), "the decision was never let go"
        return real(data, threshold)

    monkeypatch.setattr(deciding, "decide", decide)
    yield found
    found.gate.set()
    wait_for_decisions(timeout=120)


def _results(client: TestClient, trust: str) -> Any:
    return parse(client.get(f"/admin/waves/w/trusts/{trust}/results").text)


def _lead_by_role(client: TestClient, trust: str) -> tuple[Any, dict[str, dict[str, str]]]:
    page = parse(client.get(f"/admin/waves/w/trusts/{trust}/monitor").text)
    rows = {
        row.attributes["data-group"] or "": {
            td.attributes["data-measure"] or "": td.text(strip=True) for td in row.css("td")
        }
        for row in page.css("#by-role tbody tr")
    }
    return page, rows


def _assert_all_withheld_while_checked(page: Any) -> None:
    """Every question withheld (no share, no count), and the page says why and when."""
    tables = page.css("table[data-question]")
    assert tables
    for table in tables:
        caption = table.css_first("caption").text(strip=True)
        assert {td.text(strip=True) for td in table.css("td")} == {"–"}, caption
        assert "answered)" not in caption and "withheld" in caption, caption
    note = page.css_first("#final-pending")
    assert note is not None
    assert "being checked" in note.text() and "reload" in note.text().lower()
    # Not the note on what the report withholds: nothing is decided yet.
    assert page.css_first("#withheld-note") is None


def test_a_page_read_while_the_decision_is_made_withholds_everything_and_says_so(
    site: Site, store: Store, held: HeldDecision
) -> None:
    """The first view after the close waited for the whole wave's decision (38 s on the
    demo's 200 trusts), in every server process. Now it answers at once with every figure
    the decision could withhold left out (the results' shares and counts, the lead's
    completions by role) and says the figures are being checked; once the decision is
    made, the same pages show its figures."""
    with TestClient(site.app()) as lead, TestClient(site.app()) as other:
        assert login(lead, "lead-a") == 303
        assert login(other, "lead-c") == 303
        # RC3 is mostly shown once decided: withheld now only because it is not yet.
        _assert_all_withheld_while_checked(_results(other, "RC3"))
        page, rows = _lead_by_role(lead, "RA1")
        assert page.css_first("#role-pending") is not None
        groups = [g for g in rows if g != "all"]
        assert groups
        for group in groups:
            assert rows[group]["completed"] == "–" and rows[group]["rate"] == "–", group
        assert held.calls == ["decision"]  # one decision, in the background

        held.gate.set()
        wait_for_decisions(timeout=120)
        assert held.calls == ["decision"]

        page = _results(other, "RC3")
        assert page.css_first("#final-pending") is None
        withheld = _withheld_in_report(store, "RC3")
        theirs = _questions(other, "RC3")
        assert withheld and len(withheld) < len(theirs)
        _shown_unless(theirs, withheld)
        page, rows = _lead_by_role(lead, "RA1")
        assert page.css_first("#role-pending") is None
        assert page.css_first("#role-final") is not None
        with store.session() as session:
            wave = session.scalar(select(Wave).where(Wave.name == "w"))
            assert wave is not None
        decision, _ = final_survey(store, wave)
        roles = list(decision.cells.roles)
        hidden = dict(zip(roles, decision.view("RA1").sizes(roles), strict=True))
        for group in groups:
            assert (rows[group]["completed"] == "–") == bool(hidden.get(group)), group
        assert held.calls == ["decision"]  # every view since read the one decision


def test_views_at_once_start_one_decision(site: Site, store: Store, held: HeldDecision) -> None:
    """Two leads opening their pages at once after the close start one decision between
    them; a report asking for it meanwhile waits for that one rather than make its own."""
    with TestClient(site.app()) as lead, TestClient(site.app()) as other:
        assert login(lead, "lead-a") == 303
        assert login(other, "lead-c") == 303
        start = threading.Barrier(2)

        def view(client: TestClient, trust: str) -> Any:
            start.wait(timeout=30)
            return _results(client, trust)

        with ThreadPoolExecutor(2) as pool:
            pages = list(pool.map(view, [lead, other], ["RA1", "RC3"]))
        for page in pages:
            assert page.css_first("#final-pending") is not None
        with store.session() as session:
            wave = session.scalar(select(Wave).where(Wave.name == "w"))
            assert wave is not None
        with ThreadPoolExecutor(2) as pool:
            start = threading.Barrier(2)
            asked = [
                pool.submit(lambda: (start.wait(timeout=30), final_survey_if_ready(store, wave)))
                for _ in range(2)
            ]
            assert [f.result()[1] for f in asked] == [None, None]
            waiting = pool.submit(final_survey, store, wave)
            held.gate.set()
            decision, key = waiting.result(timeout=120)
        assert held.calls == ["decision"]
        ready = final_survey_if_ready(store, wave)
        assert ready is not None and ready[0] is decision and ready[1] == key


def test_a_decision_that_fails_is_logged_and_made_again_on_the_next_view(
    site: Site, held: HeldDecision, caplog: pytest.LogCaptureFixture
) -> None:
    """A decision failing in the background is logged (no request waits for it to raise
    to), the page goes on withholding, and the next view starts it again."""
    held.failures = 1
    held.gate.set()
    with TestClient(site.app()) as other, caplog.at_level(logging.ERROR):
        assert login(other, "lead-c") == 303
        _assert_all_withheld_while_checked(_results(other, "RC3"))
        wait_for_decisions(timeout=120)
        failed = [r for r in caplog.records if r.exc_info and "decision" in r.getMessage()]
        assert len(failed) == 1 and "the decision failed" in str(failed[0].exc_info[1])
        _assert_all_withheld_while_checked(_results(other, "RC3"))
        wait_for_decisions(timeout=120)
        assert len(held.calls) == 2
        assert _results(other, "RC3").css_first("#final-pending") is None
