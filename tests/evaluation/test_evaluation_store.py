"""Evaluating from the store: a synthetic programme loaded into SQLite and PostgreSQL (its
survey waves as responses, its register, cohorts and pulse answers through load_programme)
gives the same tables, the same effects and the same paired tests as the scenario's own
tables (the `--from DIR` path)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from sharedground.cli import main
from sharedground.evaluation import items, summary
from sharedground.evaluation.store import initiative_tables, programme_tables, survey_waves
from sharedground.evaluation.tables import EvaluationInputError
from sharedground.initiatives import pulse
from sharedground.instrument import builtin
from sharedground.store import Response, Store
from sharedground.synth.scenario import ScenarioConfig, generate_scenario
from sharedground.synth.scenario_load import LoadedScenario, load_scenario

CONFIG = ScenarioConfig(trusts=30, waves=(2016, 2017, 2018), participants=12, non_participants=10)
GROUPING = ("paired_learning", "shadowing")  # the scenario's kinds that have a cohort


@pytest.fixture
def loaded(store: Store) -> tuple[Store, Any, LoadedScenario]:
    scenario = generate_scenario(5, CONFIG)
    return store, scenario, load_scenario(store, scenario)


def _csv_tables(scenario: Any, tmp_path: Path) -> summary.Tables:
    """The scenario through the CSV files `synth --scenario programme` writes."""
    tmp_path.mkdir(exist_ok=True)
    for name, frame in scenario.tables().items():
        frame.write_csv(tmp_path / f"{name}.csv")
    return summary.load_tables(tmp_path)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return bool(a == b)


def test_the_store_gives_the_scenarios_tables(loaded: Any) -> None:
    store, scenario, result = loaded
    assert result.waves == ["programme-2016", "programme-2017", "programme-2018"]
    assert result.responses == scenario.responses.height
    tables = programme_tables(store)
    ours = tables.responses.sort("trust", "wave", "role", "positive", "rating")
    theirs = scenario.responses.sort("trust", "wave", "role", "positive", "rating")
    cols = ["trust", "wave", "role", "positive", "rating"]
    assert (
        ours.select(cols)
        .cast({"positive": pl.Int64, "rating": pl.Int64})
        .equals(theirs.select(cols).cast({"positive": pl.Int64, "rating": pl.Int64}))
    )
    # The register's start dates put every trust in the scenario's cohort.
    assert tables.trusts.select("trust", "kind", "cohort").equals(scenario.trusts)
    # Pulse: only the kinds with a cohort; participants and non-participants kept apart.
    wanted = scenario.pulse.join(
        scenario.initiatives.select("initiative_id", "kind"), on="initiative_id"
    ).filter(pl.col("kind").is_in(GROUPING))
    assert tables.pulse is not None
    assert tables.pulse.height == wanted.height
    assert tables.pulse["participant"].sum() == wanted["participant"].sum()
    assert tables.pulse["after_rating"].null_count() == wanted["after_rating"].null_count()
    # Every initiative's monthly pulse, month by month, with its start.
    assert tables.monthly is not None
    ours_m = tables.monthly.with_columns(
        pl.col("initiative_id").replace_strict({v: k for k, v in result.ids.items()})
    ).sort("initiative_id", "month")
    assert ours_m.equals(scenario.monthly.sort("initiative_id", "month"))


def test_what_works_from_the_store_equals_from_the_csv(loaded: Any, tmp_path: Path) -> None:
    store, scenario, _ = loaded
    from_store = summary.evaluate(programme_tables(store), replicates=199)
    from_csv = summary.evaluate(_csv_tables(scenario, tmp_path), replicates=199)
    assert len(from_store["what_works"]) == len(from_csv["what_works"]) == 12
    for ours, theirs in zip(from_store["what_works"], from_csv["what_works"], strict=True):
        assert (ours["kind"], ours["measure"]) == (theirs["kind"], theirs["measure"])
        for key in ("effect", "ci_low", "ci_high", "p_value", "p_adjusted", "verdict", "trusts"):
            assert _close(ours[key], theirs[key]), (ours["kind"], ours["measure"], key)
        # Participants are counted where the register keeps a cohort.
        if ours["kind"] in GROUPING:
            assert ours["participants"] == theirs["participants"]
    for ours, theirs in zip(from_store["event_studies"], from_csv["event_studies"], strict=True):
        for a, b in zip(ours["event"], theirs["event"], strict=True):
            assert all(_close(a[k], b[k]) for k in ("att", "ci_low", "ci_high", "n_treated"))


def test_an_initiatives_paired_tests_from_the_store_equal_the_csvs(
    loaded: Any, tmp_path: Path
) -> None:
    store, scenario, result = loaded
    csv_tables = _csv_tables(scenario, tmp_path)
    numbers = scenario.initiatives.filter(pl.col("kind").is_in(GROUPING))["initiative_id"]
    assert numbers.len() >= 5
    for number in numbers.to_list():
        ident = result.ids[number]
        ours = summary.evaluate(initiative_tables(store, ident), initiative=ident)["initiative"]
        theirs = summary.evaluate(csv_tables, initiative=number)["initiative"]
        assert [b["item"] for b in ours["before_after"]] == ["agree", "rating"]
        # The monthly pulse's SPC chart: the same points, limits and signals.
        assert ours["spc"]["milestones"] == theirs["spc"]["milestones"]
        assert ours["spc"]["variation_icon"] == theirs["spc"]["variation_icon"]
        assert len(ours["spc"]["points"]) == len(theirs["spc"]["points"]) == 36
        for x, y in zip(ours["spc"]["points"], theirs["spc"]["points"], strict=True):
            assert all(_close(x[k], y[k]) for k in x), (number, x, y)
        for a, b in zip(ours["before_after"], theirs["before_after"], strict=True):
            assert len(a["tests"]) == len(b["tests"]) >= 2  # participants and the others
            for x, y in zip(a["tests"], b["tests"], strict=True):
                x = {**x, "initiative_id": number}
                assert x.keys() == y.keys()
                assert all(_close(x[k], y[k]) for k in x), (number, a["item"], x, y)
            for k in ("estimate", "ci_low", "ci_high", "p_value"):
                assert _close(a["difference"][k], b["difference"][k])


def test_non_participants_answers_stay_out_of_the_cohorts_figures(loaded: Any) -> None:
    store, scenario, result = loaded
    number = scenario.initiatives.filter(pl.col("kind") == "paired_learning")["initiative_id"][0]
    people = scenario.pulse.filter(pl.col("initiative_id") == number)
    with store.session() as session:
        figures = pulse.results(session, result.ids[number])
    assert figures.cohort == CONFIG.participants
    assert figures.responded["before"] == CONFIG.participants
    expected_after = people.filter(pl.col("participant"))["after_agree"].drop_nulls().len()
    assert figures.responded["after"] == expected_after
    assert figures.lost_after == CONFIG.participants - expected_after


def test_default_waves_leave_out_other_trusts_and_undated_waves(loaded: Any) -> None:
    store, _scenario, _ = loaded
    with store.session() as session:
        wave = store.create_wave(
            session, "national-2015", builtin("dmr-2015"), opens=dt.date(2015, 3, 1)
        )
        org = store.organisation_ids(session, ["RXX"])["RXX"]
        session.add(
            Response(wave_id=wave.id, respondent_key="r1", role="clinical_director",
                     organisation_id=org, mode="online", answers=items.answers_of(1, 4))
        )  # fmt: skip
        undated = store.create_wave(session, "undated", builtin("dmr-2015"))
        first = store.organisation_ids(session, ["T001"])["T001"]
        session.add(
            Response(wave_id=undated.id, respondent_key="r1", role="clinical_director",
                     organisation_id=first, mode="online", answers=items.answers_of(1, 4))
        )  # fmt: skip
    with store.session() as session:
        assert survey_waves(session) == ["programme-2016", "programme-2017", "programme-2018"]


def test_bad_choices_of_waves_are_refused(loaded: Any) -> None:
    store, scenario, result = loaded
    number = scenario.initiatives.filter(pl.col("kind") == "shadowing")["initiative_id"][0]
    with pytest.raises(EvaluationInputError, match="at least two survey waves"):
        programme_tables(store, ["programme-2016"])
    with pytest.raises(EvaluationInputError, match="no wave named 'nope'"):
        programme_tables(store, ["programme-2016", "nope"])
    with pytest.raises(EvaluationInputError, match="pulse, not a survey wave"):
        programme_tables(store, ["programme-2016", pulse.wave_name(result.ids[number], "before")])
    with pytest.raises(EvaluationInputError, match="no initiative 99999"):
        initiative_tables(store, 99999)
    social = scenario.initiatives.filter(pl.col("kind") == "joint_social_events")
    with pytest.raises(EvaluationInputError, match="has no cohort, so no pulse"):
        initiative_tables(store, result.ids[social["initiative_id"][0]])


def test_evaluate_database_on_the_command_line(loaded: Any, tmp_path: Path) -> None:
    store, scenario, result = loaded
    url = store.engine.url.render_as_string(hide_password=False)
    run = CliRunner().invoke(
        main,
        ["evaluate", "--register", "--database", url,
         "--waves", "programme-2016,programme-2017,programme-2018",
         "--replicates", "99", "--format", "json"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    doc = json.loads(run.output)
    expected = summary.evaluate(_csv_tables(scenario, tmp_path), replicates=99)
    assert [r["effect"] for r in doc["what_works"]] == pytest.approx(
        [r["effect"] for r in expected["what_works"]], abs=1e-9
    )
    number = scenario.initiatives.filter(pl.col("kind") == "shadowing")["initiative_id"][0]
    run = CliRunner().invoke(
        main, ["evaluate", "--register", "--database", url, "--initiative", str(result.ids[number])]
    )
    assert run.exit_code == 0, run.output
    assert "before and after" in run.output and "mcnemar" in run.output
    run = CliRunner().invoke(
        main, ["evaluate", "--register", "--database", url, "--waves", "programme-2016"]
    )
    assert run.exit_code != 0
    assert "at least two survey waves" in run.output and "Traceback" not in run.output


def test_report_what_works_from_the_database(loaded: Any, tmp_path: Path) -> None:
    """`report --what-works` evaluates the register and waves of its own database: the
    section's verdicts and trusts are those of the evaluation from the CSVs."""
    from selectolax.lexbor import LexborHTMLParser

    store, scenario, _ = loaded
    url = store.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "report"
    run = CliRunner().invoke(
        main,
        ["report", "--wave", "programme-2018", "--out", str(out), "--no-pdf", "--what-works",
         "--database", url],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    page = LexborHTMLParser((out / "report-programme-2018.html").read_text())
    rows = page.css("section#what-works > table > tbody > tr")
    expected = summary.evaluate(_csv_tables(scenario, tmp_path / "csv"))["what_works"]
    assert [r.attributes["data-verdict"] for r in rows] == [r["verdict"] for r in expected]
    assert [r.css("td")[1].text() for r in rows] == [str(r["trusts"]) for r in expected]
    both = CliRunner().invoke(
        main,
        ["report", "--wave", "programme-2018", "--out", str(out), "--what-works",
         "--trust", "T001", "--database", url],
    )  # fmt: skip
    assert both.exit_code == 2 and "national report only" in both.output


def test_a_month_with_fewer_answers_than_the_threshold_is_left_out(store: Store) -> None:
    """The monthly pulse's SPC reads no month of fewer answers than the threshold (its share
    would show those people's answers)."""
    from sharedground.evaluation.store import monthly_series
    from sharedground.initiatives.scenario import load_programme

    months = [{"month": dt.date(2026, m, 1), "n": 5 if m != 4 else 4, "positive": 2}
              for m in range(1, 9)]  # fmt: skip
    load_programme(
        store,
        [{"trust": "RA1", "kind": "joint_social_events", "title": "Cafe", "stage": "running",
          "actual_start": "2026-05-10", "monthly": months}],
    )  # fmt: skip
    with store.session() as session:
        series = monthly_series(session)
    assert series is not None
    assert series["month"].dt.month().to_list() == [1, 2, 3, 5, 6, 7, 8]
    assert series["n"].to_list() == [5] * 7 and series["positive"].to_list() == [2] * 7
    assert series["after_start"].to_list() == [False] * 3 + [True] * 4


def test_trust_report_shows_colleagues_and_the_monthly_chart(loaded: Any) -> None:
    """A programme trust's report: beside the participants' tests, the colleagues' tests,
    the difference of the changes and the SPC chart of the monthly pulse."""
    from selectolax.lexbor import LexborHTMLParser

    from sharedground.report import build
    from sharedground.report.compose import compose
    from sharedground.report.render import render_html

    store, scenario, result = loaded
    init = scenario.initiatives.filter(pl.col("kind") == "paired_learning").row(0, named=True)
    ident = result.ids[init["initiative_id"]]
    context = build.load(store, "programme-2018")
    page = LexborHTMLParser(render_html(compose(build.trust_input(context, init["trust"]))))
    assert page.css_first("table.pulse-tests") is not None  # the participants' own tests
    section = page.css_first(f"#initiative-{ident}")
    assert section is not None and section.css_first("h4") is not None
    groups = {tr.css("td")[0].text() for tr in section.css_first("table").css("tbody tr")}
    assert groups == {"non-participants"}
    assert "more than non-participants" in section.text()
    assert len(section.css("svg")) == 1  # the monthly pulse's p-chart
