"""`analyse`: every cell against a plain count, every test against an independent computation."""

from __future__ import annotations

import json
import math
from importlib import resources

import jsonschema
import pytest
from analysis_helpers import (
    AGREE,
    DISAGREE,
    HandMade,
    attack,
    benjamini_hochberg,
    exact_r_by_2,
    holm,
    make_rows,
    tally,
    wave_from_rows,
    where,
)
from scipy.stats import chi2_contingency

from sharedground.analysis.render import to_json_bytes
from sharedground.analysis.source import load_wave
from sharedground.analysis.tables import Options, analyse
from sharedground.instrument import builtin
from sharedground.store import Store

SCHEMA = json.loads(
    resources.files("sharedground.analysis").joinpath("schema.json").read_text(encoding="utf-8")
)


def _stars(p: float | None) -> str:
    assert p is not None
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def test_every_cell_from_the_store_matches_a_plain_count(store: Store, loaded: HandMade) -> None:
    result = analyse(load_wave(store, "w"))
    roles = loaded.instrument.role_ids()
    assert [g.id for g in result.groups] == roles
    assert [t.id for t in result.tables] == [t.id for t in loaded.instrument.tables]
    for table in result.tables:
        for row in table.rows:
            spec = row.spec
            for role in roles:
                count, valid = tally(
                    loaded.rows,
                    loaded.instrument,
                    spec.item,
                    spec.option,
                    spec.measure,
                    keep=where("role", role),
                )
                assert (row.groups[role].count, row.groups[role].valid) == (count, valid)
            overall = tally(loaded.rows, loaded.instrument, spec.item, spec.option, spec.measure)
            assert (row.overall.count, row.overall.valid) == overall


def test_tests_agree_with_scipy_and_an_exact_enumeration() -> None:
    instrument = builtin("dmr-2015")
    # Small groups, so that some rows need the exact test and others do not.
    rows = make_rows(instrument, 80, seed=3)
    result = analyse(wave_from_rows(instrument, rows, threshold=0))
    seen = set()
    for table in result.tables:
        for row in table.rows:
            cells = [(c.count or 0, (c.valid or 0) - (c.count or 0)) for c in row.groups.values()]
            cells = [c for c in cells if sum(c)]
            test = row.test
            if test.name == "none":
                assert sum(a for a, _ in cells) in (0, sum(map(sum, cells))) or len(cells) < 2
                continue
            seen.add(test.name)
            statistic, p_chi2, dof, expected = chi2_contingency(cells, correction=False)
            if (expected >= 5).all():
                assert test.name == "chi2", row.spec.key
                assert test.statistic == pytest.approx(statistic, rel=1e-9)
                assert test.df == dof
                assert test.p_value == pytest.approx(p_chi2, rel=1e-7, abs=1e-12)
            else:
                assert test.name == "fisher", row.spec.key
                assert test.p_value == pytest.approx(exact_r_by_2(cells), rel=1e-6, abs=1e-12)
            assert test.stars == _stars(test.p_value)
    assert seen == {"chi2", "fisher"}  # the data must exercise both paths


@pytest.mark.parametrize("method,reference", [("bh", benjamini_hochberg), ("holm", holm)])
def test_q_values_are_adjusted_within_each_table(method: str, reference: object) -> None:
    instrument = builtin("dmr-2015")
    result = analyse(
        wave_from_rows(instrument, make_rows(instrument, 300, seed=11)), Options(adjust=method)
    )
    for table in result.tables:
        tested = [r for r in table.rows if r.test.p_value is not None]
        expected = reference([r.test.p_value for r in tested])  # type: ignore[operator]
        for row, q in zip(tested, expected, strict=True):
            assert row.q_value == pytest.approx(q, rel=1e-9)
            assert row.test.stars == _stars(row.test.p_value)  # stars stay on raw p


def test_reverse_scored_rows_count_disagreement_under_the_printed_wording() -> None:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 120, seed=4)
    result = analyse(wave_from_rows(instrument, rows))
    item = "financial_over_clinical"
    row = next(r for r in result.table("table_2.4").rows if r.spec.item == item)
    assert row.spec.reverse and row.spec.label == instrument.item(item).reported_as  # type: ignore[union-attr]
    disagreeing = sum(1 for r in rows if r["financial_over_clinical"] in DISAGREE)
    answered = sum(1 for r in rows if r["financial_over_clinical"] in AGREE | DISAGREE)
    assert (row.overall.count, row.overall.valid) == (disagreeing, answered)
    assert row.to_json()["reverse_scored"] is True


def test_denominator_rules_follow_the_question_type() -> None:
    instrument = builtin("dmr-2015")
    result = analyse(wave_from_rows(instrument, make_rows(instrument, 60, seed=5)))
    rules = {t.id: {r.spec.denominator_rule for r in t.rows} for t in result.tables}
    assert rules["table_2.1"] == {"valid_answers"}
    assert rules["table_2.2"] == {"valid_answers"}
    assert rules["table_2.8"] == {"answered_question"}
    assert rules["table_2.11"] == {"valid_yes_no"}
    assert rules["table_1.1"] == {"answered_question"}
    document = result.to_json()
    assert set(document["denominators"]) == {
        "valid_answers",
        "answered_question",
        "valid_yes_no",
        "all_respondents",
    }


def test_grid_rows_also_give_the_overall_over_everyone() -> None:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 90, seed=6)
    result = analyse(wave_from_rows(instrument, rows))
    for row in result.table("table_2.11").rows:
        everyone = row.overall_all_respondents
        assert everyone is not None
        assert everyone.count == row.overall.count and everyone.valid == len(rows)
        assert everyone.valid > (row.overall.valid or 0)  # the fixture has don't knows


def test_distribution_tables_give_every_option_per_group() -> None:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 150, seed=8)
    result = analyse(wave_from_rows(instrument, rows))
    table = result.table("table_1.1")
    options = [o.id for o in instrument.item("appointment_route").options]  # type: ignore[union-attr]
    assert [r.spec.option for r in table.rows] == options
    for role in instrument.role_ids():
        counts = [r.groups[role].count for r in table.rows]
        valid = {r.groups[role].valid for r in table.rows}
        assert len(valid) == 1 and sum(counts) == valid.pop()  # type: ignore[arg-type]


def test_summaries_are_computed_by_rule() -> None:
    instrument = builtin("dmr-2015")
    result = analyse(
        wave_from_rows(instrument, make_rows(instrument, 200, seed=9)),
        Options(agreement=40, disagreement=55),
    )
    agree_rows = [(t.id, r) for t in result.tables for r in t.rows if r.spec.measure == "agree"]
    agreed, disagreed = result.summaries
    expected_agreed = {r.spec.item for _, r in agree_rows if r.overall.pct >= 40}  # type: ignore[operator]
    expected_disagreed = {
        r.spec.item
        for _, r in agree_rows
        if 100 - r.overall.pct >= 55  # type: ignore[operator]
    }
    assert {line.item for line in agreed.lines} == expected_agreed
    assert {line.item for line in disagreed.lines} == expected_disagreed
    assert expected_agreed and expected_disagreed  # thresholds chosen so both lists are used
    shares = [line.pct for line in agreed.lines]
    assert shares == sorted(shares, reverse=True)


def test_json_follows_the_documented_schema(store: Store, loaded: HandMade) -> None:
    document = json.loads(to_json_bytes(analyse(load_wave(store, "w"), Options(adjust="bh"))))
    jsonschema.validate(document, SCHEMA)
    assert {"wave", "instrument", "generated_at", "tables"} <= set(document)
    assert document["instrument"] == "dmr-2015@1"
    row = document["tables"][2]["rows"][0]
    assert set(row) >= {"item", "label", "denominator_rule", "groups", "overall", "test"}
    assert set(row["groups"]["chief_executive"]) == {"count", "valid", "pct"}
    assert set(row["test"]) >= {"name", "statistic", "df", "p_value", "stars"}
    assert "q_value" in row


def test_schema_rejects_a_cell_without_its_denominator(store: Store, loaded: HandMade) -> None:
    document = json.loads(to_json_bytes(analyse(load_wave(store, "w"))))
    del document["tables"][3]["rows"][0]["groups"]["medical_director"]["valid"]
    with pytest.raises(jsonschema.ValidationError, match="valid"):
        jsonschema.validate(document, SCHEMA)


def test_small_trusts_are_withheld_beyond_recovery_by_subtraction() -> None:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 70, seed=12, trusts=["RA1", "RB2", "RC3"])
    rows += make_rows(instrument, 3, seed=13, trusts=["RZ9"])  # one tiny trust
    rows += make_rows(instrument, 6, seed=14, trusts=["RY8"])  # one on the edge
    result = analyse(wave_from_rows(instrument, rows), Options(by="trust"))
    document = result.to_json()
    groups = [g["id"] for g in document["groups"]]
    assert next(g for g in document["groups"] if g["id"] == "RZ9")["respondents"] is None
    withheld_somewhere = False
    for table in document["tables"]:
        for row in table["rows"]:
            shown = [row["groups"][g]["valid"] for g in groups]
            overall = row["overall"]["valid"]
            assert attack(shown, overall, 5) is None, (table["id"], row["item"])
            for g in groups:
                cell = row["groups"][g]
                assert cell["valid"] is None or cell["valid"] >= 5
                withheld_somewhere |= cell.get("suppressed", False)
    assert withheld_somewhere


def test_p_values_are_finite_and_tests_named() -> None:
    instrument = builtin("dmr-2015")
    result = analyse(wave_from_rows(instrument, make_rows(instrument, 400, seed=15)))
    for table in result.tables:
        for row in table.rows:
            assert row.test.name in {"chi2", "fisher", "none"}
            if row.test.p_value is not None:
                assert 0 <= row.test.p_value <= 1 and math.isfinite(row.test.p_value)


def test_unknown_adjustment_is_refused() -> None:
    instrument = builtin("dmr-2015")
    with pytest.raises(ValueError, match="use one of bh, holm"):
        analyse(wave_from_rows(instrument, make_rows(instrument, 5, seed=1)), Options(adjust="x"))
