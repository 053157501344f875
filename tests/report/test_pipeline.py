"""The real pipeline: synthetic cohort -> import -> analysis -> report, on SQLite and PostgreSQL.

Figures in the rendered tables are checked against counts taken straight from the generated
cohort (not from the analysis engine); a trust with three clinical directors checks that
small groups vanish from every part of its report.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from report_support import parse_tables, text_of
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground import synth
from sharedground.cli import main
from sharedground.exchange.importer import import_file
from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.render import render_html
from sharedground.report.write import write_report
from sharedground.store import Store

SMALL = "TSMALL"
MARKER = "CD-ONLY-MARKER"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}")


def _cohort() -> pl.DataFrame:
    frame = synth.generate("2015", seed=11, respondents=600, trusts=6)
    # A trust with 3 clinical directors (below the threshold of 5) and enough of the others.
    wanted = {
        "clinical_director": 3,
        "chief_executive": 6,
        "medical_director": 7,
        "directorate_manager": 8,
    }
    picked = pl.concat(
        frame.filter(pl.col("role") == role).head(n).select("respondent_id")
        for role, n in wanted.items()
    )["respondent_id"]
    small = pl.col("respondent_id").is_in(picked.implode())
    return frame.with_columns(
        pl.when(small).then(pl.lit(SMALL)).otherwise(pl.col("trust")).alias("trust"),
        pl.when(small & (pl.col("role") == "clinical_director"))
        .then(pl.lit(f"{MARKER}: only three of us here."))
        .otherwise(pl.col("comments_final"))
        .alias("comments_final"),
    )


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Path, Path]:
    folder = tmp_path_factory.mktemp("cohorts")
    frame = _cohort()
    now, then = folder / "2015.csv", folder / "2002.csv"
    synth.write(frame, synth.instrument_for("2015"), now)
    synth.write(synth.generate("2002", seed=11), synth.instrument_for("2002"), then)
    return frame, now, then


@pytest.fixture
def loaded(store: Store, cohorts: tuple[pl.DataFrame, Path, Path]) -> Store:
    _, now, then = cohorts
    import_file(store, now, "2015", synth.instrument_for("2015"))
    import_file(store, then, "2002", synth.instrument_for("2002"))
    return store


def _positive_rating(frame: pl.DataFrame, role: str) -> str:
    """Table 2.1's first cell for a group, counted straight from the cohort."""
    rated = frame.filter((pl.col("role") == role) & pl.col("local_rating").is_not_null())
    positive = rated.filter(pl.col("local_rating").is_in(["4", "5"])).height
    pct = 100 * positive / rated.height
    return f"{int(pct + 0.5)}% ({positive})"


def test_national_report_from_the_store(
    loaded: Store, cohorts: tuple[pl.DataFrame, Path, Path], tmp_path: Path
) -> None:
    frame = cohorts[0]
    context = build.load(loaded, "2015", compare="2002")
    data = build.national_input(context)
    files = write_report(data, tmp_path, "national", pdf=loaded.backend == "sqlite")
    html = files.html.read_text(encoding="utf-8")
    tables = {t["id"]: t for t in parse_tables(html)}
    assert len(tables) == 13
    first = tables["table_2-1"]["rows"][0]
    roles = ["chief_executive", "medical_director", "directorate_manager", "clinical_director"]
    assert first[1:5] == [_positive_rating(frame, role) for role in roles]
    tree = HTMLParser(html)
    kinds = {n.attributes.get("data-kind") for n in tree.css("figure.chart")}
    assert kinds == {"likert", "bars", "dots", "funnel"}
    assert tree.css_first("#trend table") is not None
    points = [text_of(li) for li in tree.css("ul.key-points li")]
    assert any(p.startswith("Most and least positive") for p in points)
    assert any(p.startswith("Top barriers") for p in points)
    assert any(p.startswith("Largest changes since 2002") for p in points)
    # Comments: printed with their role group only, and with no contact details left.
    comments = tree.css_first("#comments")
    assert comments is not None
    written = text_of(comments)
    assert not EMAIL.search(written)
    assert SMALL not in written and "T00" not in written
    raw = " ".join(
        v for c in frame.columns if c.startswith("comments_") for v in frame[c].drop_nulls()
    )
    assert EMAIL.search(raw), "the cohort should contain e-mail addresses to remove"
    if files.pdf is not None:
        assert files.pdf.stat().st_size > 50_000


def test_trust_report_leaves_out_a_group_of_three(loaded: Store) -> None:
    context = build.load(loaded, "2015")
    data = build.trust_input(context, SMALL)
    hidden = {g.id for g in data.groups if not g.shown}
    # The three clinical directors, and (secondary suppression) the next smallest group, so
    # that "trust minus the groups shown" cannot give the three away.
    assert "clinical_director" in hidden and len(hidden) >= 2
    html = render_html(compose(data))
    tree = HTMLParser(html)
    headers = [text_of(th) for th in tree.css("section.table-block thead th")]
    assert headers and not any("Clinical director" in h for h in headers)
    assert any("Medical director" in h for h in headers)
    assert MARKER not in html
    body = text_of(tree.css_first("main"))
    assert "clinical director" not in text_of(tree.css_first("#key-points")).lower()
    for chart in tree.css("svg.chart"):
        assert "Clinical director" not in text_of(chart)
    assert "Other trusts" in body and "Published national 2015" in body
    funnels = tree.css("figure.chart[data-kind=funnel]")
    assert funnels and "This trust" in text_of(funnels[0])
    # The suppressed group is named once, on the cover, as left out.
    cover = text_of(tree.css_first("header.cover"))
    assert "Not shown in this report:" in cover and "Clinical director" in cover


def test_report_command(loaded: Store, tmp_path: Path) -> None:
    url = loaded.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "report",
            "--wave",
            "2015",
            "--out",
            str(tmp_path / "n"),
            "--compare",
            "2002",
            "--no-pdf",
            "--database",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "n" / "report-2015.html").exists()
    result = runner.invoke(
        main,
        [
            "report",
            "--wave",
            "2015",
            "--out",
            str(tmp_path / "t"),
            "--trust",
            "NOPE",
            "--no-pdf",
            "--database",
            url,
        ],
    )
    assert result.exit_code == 1
    assert "no responses from trust 'NOPE'" in result.output
    result = runner.invoke(
        main,
        [
            "report",
            "--wave",
            "2015",
            "--out",
            str(tmp_path / "t"),
            "--compare",
            "1999",
            "--no-pdf",
            "--database",
            url,
        ],
    )
    assert result.exit_code == 1 and "--compare 1999" in result.output


@pytest.mark.slow
def test_all_trust_reports_in_parallel(loaded: Store, tmp_path: Path) -> None:
    if loaded.backend != "sqlite":
        pytest.skip("the parallel writer is the same on both backends; SQLite suffices")
    url = loaded.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--wave",
            "2015",
            "--out",
            str(tmp_path),
            "--all-trusts",
            "--no-pdf",
            "--workers",
            "2",
            "--database",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.glob("trust-*.html"))
    assert written == [
        f"trust-{c}.html" for c in ["T001", "T002", "T003", "T004", "T005", "T006", SMALL]
    ]


def test_methods_from_the_fieldwork_records(store: Store, tmp_path: Path) -> None:
    """Invitations, reminders, postal sample and response rates come from the store."""
    import datetime as dt

    from sharedground.store import Contact
    from sharedground.store.schema import Message

    frame = synth.generate("2015", seed=3, respondents=60, trusts=2)
    path = tmp_path / "wave.csv"
    synth.write(frame, synth.instrument_for("2015"), path)
    import_file(store, path, "fw", synth.instrument_for("2015"))
    sent = dt.datetime(2015, 5, 11, 9, 0)
    with store.session() as session:
        wave = store.get_wave(session, "fw")
        wave.opens, wave.closes = dt.date(2015, 5, 11), dt.date(2015, 6, 30)
        people = []
        for i in range(40):
            role = "chief_executive" if i < 10 else "clinical_director"
            done = i % 4 == 0  # 3 of 10 chief executives, 7 of 30 clinical directors
            people.append(
                Contact(
                    wave_id=wave.id,
                    name=f"P{i}",
                    email=f"p{i}@example.org",
                    role=role,
                    completed_on=dt.date(2015, 5, 20) if done else None,
                    completed_mode=("postal" if i == 0 else "online") if done else None,
                    serial=f"S{i:04d}" if i < 8 else None,
                )
            )
        session.add_all(people)
        session.flush()
        for person in people:
            session.add(
                Message(
                    wave_id=wave.id,
                    contact_id=person.id,
                    kind="invitation",
                    status="sent",
                    address=person.email,
                    message_id=f"<i{person.id}>",
                    attempts=1,
                    started_at=sent,
                    finished_at=sent,
                )
            )
        for person in people[:25]:
            session.add(
                Message(
                    wave_id=wave.id,
                    contact_id=person.id,
                    kind="reminder-1",
                    status="sent",
                    address=person.email,
                    message_id=f"<r{person.id}>",
                    attempts=1,
                    started_at=sent + dt.timedelta(days=9),
                    finished_at=sent + dt.timedelta(days=9),
                )
            )
    methods = compose(build.national_input(build.load(store, "fw"))).methods
    facts = {f.label: f.value for f in methods.facts}
    assert facts["Sample frame"] == "40 contacts"
    assert facts["Invitations sent"] == "40"
    assert facts["Reminders"] == "reminder 1: 25 on 20 May 2015"
    assert facts["Postal sample"].startswith("8 questionnaires posted")
    assert facts["Fieldwork dates"] == "11 May 2015 to 30 June 2015"
    assert facts["Response rate"] == "25%"  # 10 of 40
    rates = {row[0]: row[2] for row in methods.groups_rows}
    assert rates["Chief executive"] == "30%" and rates["Clinical director (or similar)"] == "23%"
    modes = {row[0]: row[2] for row in methods.modes_rows}
    assert modes["Online"] == "23%" and modes["Postal"] == "13%"  # 9 of 40, 1 of 8: halves up
