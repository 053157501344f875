"""What works read from the database: stored survey waves and the register's started
initiatives (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from sqlalchemy import select

from sharedground.cli import main
from sharedground.evaluation.store import programme_tables
from sharedground.exchange.importer import import_file
from sharedground.initiatives import register
from sharedground.instrument import builtin
from sharedground.store import Store, Wave

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import write_rows
from disclosure_helpers import ROLES, composed

D = dt.date
TRUSTS = [f"R{letter}1" for letter in "ABCDEFGHIJKL"]
OPENS = {"w1": D(2016, 3, 1), "w2": D(2017, 3, 1), "w3": D(2018, 3, 1)}
SCHEMA = Path(__file__).parents[2] / "src/sharedground/evaluation/schema.json"


def _setup(store: Store, tmp_path: Path) -> list[dict[str, str]]:
    instrument = builtin("dmr-2015")
    every: list[dict[str, str]] = []
    for k, name in enumerate(OPENS):
        rows = composed(instrument, {t: dict.fromkeys(ROLES, 3) for t in TRUSTS}, seed=k + 1)
        import_file(store, write_rows(tmp_path / f"{name}.csv", instrument, rows), name, instrument)
        every += [{**r, "wave": name} for r in rows]
    with store.session() as session:
        for wave in session.scalars(select(Wave)):
            wave.opens = OPENS[wave.name]
        starts = {
            "RA1": ("paired_learning", D(2016, 9, 1)),  # before w2: cohort 2
            "RB1": ("paired_learning", D(2016, 10, 1)),
            "RC1": ("paired_learning", D(2017, 9, 1)),  # before w3: cohort 3
            "RD1": ("shadowing", D(2017, 3, 1)),  # on w2's opening day: cohort 2
            "RE1": ("shadowing", D(2019, 1, 1)),  # after the last wave: never started here
            "RF1": ("shadowing", None),  # planned only: not started
        }
        for trust, (kind, start) in starts.items():
            register.add(
                store, session, trust=trust, kind=kind, title=f"{kind} {trust}", actor="t",
                stage="running" if start else "planned", actual_start=start,
            )  # fmt: skip
    return every


def test_survey_and_register_tables(store: Store, tmp_path: Path) -> None:
    rows = _setup(store, tmp_path)
    tables = programme_tables(store, ["w1", "w2", "w3"])
    responses, trusts = tables.responses, tables.trusts
    assert sorted(set(responses["wave"].to_list())) == [2016, 2017, 2018]
    rated = [r for r in rows if r.get("local_rating", "") not in ("", None)]
    assert responses["rating"].drop_nulls().len() == len(rated)
    # positive: agreeing that doctors and managers work well as a team (evaluation.items).
    agreeing = sum(1 for r in rows if r.get("work_as_team") in ("strongly_agree", "tend_to_agree"))
    disagreeing = sum(
        1 for r in rows if r.get("work_as_team") in ("strongly_disagree", "tend_to_disagree")
    )
    assert int(responses["positive"].sum()) == agreeing
    assert responses["positive"].drop_nulls().len() == agreeing + disagreeing
    cohorts = dict(trusts.select("trust", "cohort").iter_rows())
    assert {t: c for t, c in cohorts.items() if c is not None} == {
        "RA1": 2017, "RB1": 2017, "RC1": 2018, "RD1": 2017,
    }  # fmt: skip
    kinds = dict(trusts.select("trust", "kind").iter_rows())
    assert kinds["RE1"] is None and kinds["RF1"] is None and kinds["RA1"] == "paired_learning"


def test_evaluate_what_works_from_the_database(
    store: Store, tmp_path: Path, database_url: str
) -> None:
    import jsonschema

    _setup(store, tmp_path)
    args = ["evaluate", "--register", "--waves", "w1,w2,w3", "--database", database_url]
    result = CliRunner().invoke(main, [*args, "--format", "json", "--replicates", "99"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    rows = {(r["kind"], r["measure"]): r for r in doc["what_works"]}
    assert {k for k, _ in rows} == {"paired_learning", "shadowing"}
    # 3 and 1 trusts started: fewer than 5, so no p-value, only "not enough to judge"
    for r in rows.values():
        assert r["verdict"] == "not enough to judge" and r["p_value"] is None
    assert rows[("paired_learning", "positive")]["trusts"] == 3
    assert rows[("paired_learning", "positive")]["controls"] == len(TRUSTS) - 4
    frame = pl.DataFrame(doc["what_works"])
    assert frame.height == 2 * 3
    result = CliRunner().invoke(
        main, [*args[:-2], "--database", database_url, "--waves", "w1,nope"]
    )
    assert result.exit_code == 1 and "no wave named 'nope'" in result.output
