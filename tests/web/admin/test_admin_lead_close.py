"""What a lead reads once fieldwork is over prints nothing the trust's report withholds,
and nothing split by role moves by one late return (issue #15, items 1 and 2).

The wave's disclosure decision (`analysis.disclosure`) is taken over every trust at once:
where one trust answered a question fewer times than the threshold, another trust's
figure for it ("This trust" in its report) is withheld too, or the national figure less
the other trusts' would give the small one back. The results page shows a trust's
figures for every question, so it must leave out those its report leaves out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from adminhelpers import PASSWORD, Site, login, make_site
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import parse

from sharedground import synth
from sharedground.exchange.importer import import_file
from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import study_today
from sharedground.instrument import GridItem, loads
from sharedground.store import Contact, Organisation, Response, Store, Wave
from sharedground.text.disclosure import final_survey

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
    with store.session() as session:
        wave = session.scalar(select(Wave).where(Wave.name == "w"))
        assert wave is not None
        wave.opens = study_today() - dt.timedelta(days=30)
        wave.closes = study_today() - dt.timedelta(days=1)
    with store.session() as session:
        accounts.create_user(session, "lead-c", PASSWORD, "lead", "RC3")
    return made


def _questions(client: TestClient, trust: str) -> dict[str, tuple[str, list[str]]]:
    """Each question's caption and shares on the trust's results page."""
    page = parse(client.get(f"/admin/waves/w/trusts/{trust}/results").text)
    return {
        table.attributes["data-question"] or "": (
            table.css_first("caption").text(strip=True),
            [td.text(strip=True) for td in table.css("td")],
        )
        for table in page.css("table[data-question]")
    }


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
        note = parse(lead.get("/admin/waves/w/trusts/RA1/results").text).css_first("#withheld-note")
        assert note is not None and note.attributes["data-questions"] == str(len(mine))
        # RC3's report withholds its figure in a few rows (where RA1's partners it), and
        # its page those questions alone.
        theirs = _questions(other, "RC3")
        assert theirs.keys() == mine.keys()
        assert others and len(others) < len(withheld)
        for column, (caption, shares) in theirs.items():
            if column in others:
                assert set(shares) == {"–"}, column
            else:
                assert set(shares) != {"–"} and "answered)" in caption, column


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
    results = parse(client.get(f"/admin/waves/w/trusts/{trust}/results").text)
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
    people: dict[str, dict[str, list[int]]] = {}
    with store.session() as session:
        for contact in session.scalars(select(Contact).order_by(Contact.id)):
            code = session.get(Organisation, contact.organisation_id)
            assert code is not None
            people.setdefault(code.code, {}).setdefault(contact.role, []).append(contact.id)
    for groups in people.values():
        assert sorted(len(ids) for ids in groups.values()) == [10, 10]
        for ids in groups.values():
            for contact_id in ids[:5]:
                _complete(store, contact_id)
    with store.session() as session:
        wave = session.scalar(select(Wave).where(Wave.name == "w"))
        assert wave is not None
        wave.opens = study_today() - dt.timedelta(days=30)
        wave.closes = study_today() - dt.timedelta(days=1)
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
