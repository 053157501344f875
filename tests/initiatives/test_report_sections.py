"""The register in the reports: "Your initiatives" in a trust report (stage, progress,
participation, the pulse's paired change, withheld below the threshold) and "Initiatives in
the register" in the national report (trusts per kind, 1 to threshold-1 withheld, beside
table 2.11's share computed here from the rows)."""

from __future__ import annotations

import csv
import datetime as dt
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
    # Paired: six; before all 2, after 2,3,4,2,3,4 (mean 3).
    assert rating == ["6", "2.00", "3.00", "+1.00"]
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
