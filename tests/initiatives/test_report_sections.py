"""The register in the reports: "Your initiatives" in a trust report (stage, progress,
participation, the pulse's paired change, withheld below the threshold) and "Initiatives in
the register" in the national report (trusts per kind, 1 to threshold-1 withheld, beside
table 2.11's share computed here from the rows)."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import sys
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground.exchange.columns import all_column_names
from sharedground.exchange.importer import import_file
from sharedground.initiatives import participants, pulse, register
from sharedground.instrument import builtin
from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.render import render_html
from sharedground.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import tally, write_rows
from disclosure_helpers import ROLES, composed

D = dt.date


def _wave(store: Store, tmp_path: Path) -> list[dict[str, str]]:
    instrument = builtin("dmr-2015")
    sizes = {t: dict.fromkeys(ROLES, 6) for t in ("RA1", "RB2")}
    rows = composed(instrument, sizes)
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)
    return rows


def _add(store: Store, trust: str, kind: str, **over: object) -> int:
    with store.session() as session:
        return register.add(
            store,
            session,
            trust=trust,
            kind=kind,
            title=f"{kind} {trust}",
            actor="t",
            **over,  # type: ignore[arg-type]
        ).id


def _html(store: Store, trust: str | None) -> HTMLParser:
    context = build.load(store, "w")
    data = build.national_input(context) if trust is None else build.trust_input(context, trust)
    return HTMLParser(render_html(compose(data)))


def test_national_section_counts_trusts_per_kind(store: Store, tmp_path: Path) -> None:
    rows = _wave(store, tmp_path)
    before = _html(store, None)
    assert before.css_first("#initiatives") is None  # nothing registered: no section
    for k in range(6):
        _add(store, f"T{k}", "paired_learning", stage="running")
    _add(store, "RA1", "paired_learning", stage="running")  # a 7th trust
    _add(store, "RA1", "paired_learning", stage="running")  # the same trust twice
    _add(store, "T0", "coaching", stage="running")
    _add(store, "T1", "coaching", stage="paused", reason="winter")
    _add(store, "T2", "shadowing")  # planned: does not run yet
    page = _html(store, None)
    cells = {
        tr.attributes["data-kind"]: [td.text().strip() for td in tr.css("td")]
        for tr in page.css("#register-kinds tbody tr")
    }
    assert cells["paired_learning"][0] == "7"
    assert cells["coaching"][0] == "fewer than 5"
    assert cells["shadowing"][0] == "0" and cells["joint_social_spaces"][0] == "0"
    count, valid = tally(rows, builtin("dmr-2015"), "initiatives", "paired_learning", "yes")
    assert cells["paired_learning"][1] == f"{100 * count / valid:.0f}%"
    assert cells["coaching"][1] == "–"  # not asked in 2015
    toc = {a.attributes["href"]: a.text().strip() for a in page.css("nav.toc a")}
    assert toc["#initiatives"] == "Initiatives in the register"
    assert "#initiatives" not in {a.attributes["href"] for a in before.css("nav.toc a")}


def _answers(path: Path, rows: list[tuple[str, int]]) -> Path:
    names = all_column_names(builtin("dmr-pulse"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for code, rating in rows:
            writer.writerow(
                {
                    "respondent_id": code,
                    "role": "other_doctor",
                    "trust": "RA1",
                    "mode": "online",
                    "submitted": "2026-01-15",
                    "local_rating": str(rating),
                }
            )
    return path


def test_trust_section_shows_its_initiatives_and_pulse(store: Store, tmp_path: Path) -> None:
    _wave(store, tmp_path)
    ident = _add(
        store, "RA1", "paired_learning", stage="running", actual_start=D(2027, 1, 5), progress=2.5
    )
    _add(store, "RB2", "coaching", stage="running")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "email,side\n"
        + "".join(f"p{k}@t.nhs.uk,{'doctor' if k < 5 else 'manager'}\n" for k in range(8))
    )
    participants.import_cohort(store, ident, cohort, actor="t")
    for point, opens in (("before", D(2027, 1, 10)), ("after", D(2027, 7, 1))):
        pulse.create_timepoint(store, ident, point, opens=opens, closes=opens, actor="t")
    with store.session() as session:
        codes = sorted(pulse._codes_by_email(session, ident).values())
    import_file(
        store,
        _answers(tmp_path / "b.csv", [(c, 2) for c in codes[:7]]),
        pulse.wave_name(ident, "before"),
        builtin("dmr-pulse"),
    )
    import_file(
        store,
        _answers(tmp_path / "a.csv", [(c, 2 + k % 3) for k, c in enumerate(codes[:6])]),
        pulse.wave_name(ident, "after"),
        builtin("dmr-pulse"),
    )
    page = _html(store, "RA1")
    heading = page.css_first("#initiatives-h")
    assert heading is not None and heading.text() == "Your initiatives"
    body = [
        [c.text().strip() for c in tr.css("th, td")]
        for tr in page.css("#your-initiatives tbody tr")
    ]
    assert body == [
        ["paired_learning RA1", "Paired learning", "running", "2027-01-05", "2.5", "5", "3"]
    ]
    pulse_rows = {
        tr.css_first("th").text(): [td.text().strip() for td in tr.css("td")]
        for tr in page.css("table.pulse tbody tr")
    }
    rating = pulse_rows[builtin("dmr-pulse").item("local_rating").text]
    # Paired: six, read in whole batches of five (issue #15, item 1: a lead can make the
    # report again after each answer), so the first five after answers: before all 2, after
    # 2,3,4,2,3 (mean 2.8). Every pair (mean 3) is the research team's (`pulse.results`).
    assert rating == ["5", "2.00", "2.80", "+0.80"]
    note = page.css_first("#pulse-1-pairs")
    assert note is not None
    assert (note.attributes["data-read"], note.attributes["data-pairs"]) == ("5", "6")
    assert pulse_rows[builtin("dmr-pulse").item("work_as_team").text] == [
        "0",
        "withheld (fewer than 5)",
    ]
    text = page.css_first("#initiatives").text()
    assert (
        "7 of 8 at before, 6 of 8 at after; 1 who answered before did not answer after"
        in " ".join(text.split())
    )
    assert "Coaching" not in text  # another trust's initiative
    assert _html(store, "RB2").css_first("table.pulse") is None


def test_no_colleagues_section_without_colleagues_or_a_monthly_pulse(
    store: Store, tmp_path: Path
) -> None:
    """The participants' tests are the `pulse-tests` table; the section beside it (colleagues
    who did not take part, the monthly chart) is left out when there is neither."""
    _wave(store, tmp_path)
    ident = _add(store, "RA1", "paired_learning", stage="running", actual_start=D(2027, 1, 5))
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "email,side\n"
        + "".join(f"p{k}@t.nhs.uk,{'doctor' if k < 5 else 'manager'}\n" for k in range(8))
    )
    participants.import_cohort(store, ident, cohort, actor="t")
    for point, opens in (("before", D(2027, 1, 10)), ("after", D(2027, 7, 1))):
        pulse.create_timepoint(store, ident, point, opens=opens, closes=opens, actor="t")
    with store.session() as session:
        codes = sorted(pulse._codes_by_email(session, ident).values())
    for point, rows in (
        ("before", [(c, 2) for c in codes[:7]]),
        ("after", [(c, 2 + k % 3) for k, c in enumerate(codes[:6])]),
    ):
        import_file(store, _answers(tmp_path / f"{point}.csv", rows),
                    pulse.wave_name(ident, point), builtin("dmr-pulse"))  # fmt: skip
    page = _html(store, "RA1")
    assert page.css_first("table.pulse-tests") is not None
    assert page.css_first(f"#initiative-{ident}") is None


def _section(context: build.WaveContext, store: Store, trust: str) -> dict[str, object]:
    """Every figure of the trust report's initiative section that is made from answers, as
    data: the pulse table, the participants' tests, the colleagues' tests, the difference
    between the two and the monthly chart's points (the register read afresh, as a report
    made after this answer would read it)."""
    from sharedground.initiatives import reporting

    context.extras["register"] = reporting.summarise(store, context.threshold)
    section = build._initiatives(context, trust)
    assert section is not None
    (mine,) = section.trust
    evaluation = mine.evaluation or {}
    return {
        "changes": mine.changes,
        "tests": section.tests[0],
        "colleagues": evaluation.get("tests"),
        "differences": evaluation.get("differences"),
        "chart": [chart.data_rows for chart in evaluation["charts"]] if evaluation else None,
    }


def test_a_lead_making_the_trust_report_after_every_answer_learns_no_ones(
    store: Store, tmp_path: Path
) -> None:
    """The trust report's initiative section read every pair: made again after each "after"
    answer, n x the new mean less (n - 1) x the old gave that participant's answers, and the
    tests, the colleagues' change and the monthly chart moved with each answer too (issue
    #15, item 1). Every figure made from answers now reads whole batches of the threshold, in
    the order the answers arrived, the pairs the initiative page shows a lead."""
    from sqlalchemy import select

    from sharedground.evaluation.items import answers_of
    from sharedground.initiatives import reporting, scenario
    from sharedground.initiatives.models import Participant, ParticipantCode
    from sharedground.store import Response, Wave

    _wave(store, tmp_path)
    agree = ("tend_to_agree", "tend_to_disagree", "strongly_agree")
    cohort = [
        {"email": f"p{k}@t.nhs.uk", "side": "doctor" if k % 2 else "manager"} for k in range(12)
    ]
    before = [
        {"email": p["email"], "local_rating": str(1 + k % 4), "work_as_team": agree[k % 3]}
        for k, p in enumerate(cohort)
    ]
    colleagues = [
        {"key": f"c{k}", "local_rating": str(2 + k % 3), "work_as_team": agree[(k + 1) % 3]}
        for k in range(12)
    ]
    months = [{"month": D(2027, m, 1), "n": 20, "positive": 8 + m} for m in range(1, 7)]
    scenario.load_programme(store, [{
        "trust": "RA1", "kind": "paired_learning", "title": "P", "stage": "running",
        "actual_start": "2027-03-05", "cohort": cohort, "monthly": months,
        "pulse": {
            "before": {"opens": "2027-01-10", "answers": before, "comparison": colleagues},
            "after": {"opens": "2027-07-01", "answers": [], "comparison": []},
        },
    }])  # fmt: skip
    with store.session() as session:
        ident = register.list_entries(session, trust="RA1")[0].id
        wave_of = dict(
            session.execute(
                select(Wave.name, Wave.id).where(Wave.name.like(f"initiative-{ident}-%"))
            ).all()
        )
        codes = dict(
            session.execute(
                select(Participant.email, ParticipantCode.code).join(
                    ParticipantCode, ParticipantCode.participant_id == Participant.id
                )
            ).all()
        )
        others = list(
            session.scalars(
                select(Response.respondent_key)
                .where(Response.wave_id == wave_of[pulse.wave_name(ident, "before")])
                .where(Response.respondent_key.like("comparison-%"))
                .order_by(Response.id)
            )
        )
    context = build.load(store, "w")

    def answer(wave: str, key: str, doc: dict[str, str], day: dt.date) -> None:
        with store.session() as session:
            session.add(
                Response(
                    wave_id=wave_of[wave], respondent_key=key, role="other_manager",
                    mode="online", submitted_on=day, answers=doc,
                )
            )  # fmt: skip

    after_wave = pulse.wave_name(ident, "after")
    # (what arrived, how many of its kind so far, the section made then)
    readings = [("nothing", 0, _section(context, store, "RA1"))]
    given = []
    for k in range(12):
        given.append({"local_rating": str(2 + k % 4), "work_as_team": agree[(k + 2) % 3]})
        answer(after_wave, codes[cohort[k]["email"]], given[-1], D(2027, 7, 2))
        readings.append(("participant", k + 1, _section(context, store, "RA1")))
        doc = {"local_rating": str(1 + k % 5), "work_as_team": agree[k % 3]}
        answer(after_wave, others[k], doc, D(2027, 7, 2))
        readings.append(("colleague", k + 1, _section(context, store, "RA1")))
        answer(pulse.monthly_wave_name(ident), f"m-{k}", answers_of(k % 2, None), D(2027, 7, 3))
        readings.append(("monthly", k + 1, _section(context, store, "RA1")))
    # Which figures each kind of answer may move (the difference: participants' change less
    # the colleagues').
    moves = {
        "participant": {"changes", "tests", "differences"},
        "colleague": {"colleagues", "differences"},
        "monthly": {"chart"},
    }
    for (_, _, old), (kind, count, new) in itertools.pairwise(readings):
        # The colleagues' part and the chart appear with the first "after" answer (whoever
        # gave it): a section appearing is no figure moving.
        moved = {name for name in old if old[name] != new[name] and old[name] is not None}
        assert moved <= moves[kind], (kind, count, moved)
        if count % 5:
            assert not moved, (kind, count, {m: (old[m], new[m]) for m in moved})
    # A batch did join: after ten participants the figures are of the first ten pairs.
    last = readings[-1][2]
    rating = next(
        c for c in last["changes"] if c[0] == pulse.instrument().item("local_rating").text
    )  # type: ignore[union-attr]
    mean_after = sum(int(g["local_rating"]) for g in given[:10]) / 10
    mean_before = sum(1 + k % 4 for k in range(10)) / 10
    assert rating[1:4] == (10, mean_before, mean_after)
    assert [t["pairs"] for t in last["tests"]] == ["10", "10", "10"]  # type: ignore[index]
    assert {t["pairs"] for t in last["colleagues"]} == {10}  # type: ignore[union-attr]
    # The July points read 10 of the 12 monthly answers (5 of them agreeing: 50%).
    assert last["chart"][0][-1][:2] == ["2027-07-01", "50.0%"]  # type: ignore[index]
    # The section says how many pairs it reads, of how many.
    context.extras["register"] = reporting.summarise(store, context.threshold)
    (mine,) = build._initiatives(context, "RA1").trust  # type: ignore[union-attr]
    assert (mine.pairs_read, mine.pairs) == (10, 12)
    page = HTMLParser(render_html(compose(build.trust_input(context, "RA1"))))
    note = page.css_first("#pulse-1-pairs")
    assert note is not None
    assert (note.attributes["data-read"], note.attributes["data-pairs"]) == ("10", "12")
    assert (
        "the first 10 of the 12 who answered both times"
        in page.css_first(f"#initiative-{ident}").text()
    )  # the colleagues' pairs read
    # The research team's own figures (the initiative page, `evaluate --initiative`) keep
    # every pair.
    with store.session() as session:
        assert pulse.results(session, ident).pairs["after"] == 12
