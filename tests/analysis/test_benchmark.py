"""Benchmarks per trust: figures, comparisons with everyone else, funnels, suppression."""

from __future__ import annotations

from math import comb

import pytest
from analysis_helpers import attack, make_rows, newcombe, tally, wave_from_rows, where

from sharedground.analysis.benchmark import benchmark
from sharedground.instrument import builtin
from sharedground.reference import ROLES, published_2015

TRUSTS = ["RA1", "RB2", "RC3", "RD4"]


@pytest.fixture(scope="module")
def hand_rows() -> list[dict[str, str]]:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 400, seed=31, trusts=TRUSTS)
    rows += make_rows(instrument, 3, seed=32, trusts=["RZ9"])  # too small to show
    return rows


def test_each_trust_against_everyone_else(hand_rows: list[dict[str, str]]) -> None:
    instrument = builtin("dmr-2015")
    result = benchmark(wave_from_rows(instrument, hand_rows))
    compared = 0
    for table in result.tables:
        for row in table.rows:
            spec = row.spec
            for trust in TRUSTS:
                cell = row.trusts[trust]
                mine = tally(
                    hand_rows,
                    instrument,
                    spec.item,
                    spec.option,
                    spec.measure,
                    keep=where("trust", trust),
                )
                rest = tally(
                    hand_rows,
                    instrument,
                    spec.item,
                    spec.option,
                    spec.measure,
                    keep=where("trust", trust, equal=False),
                )
                if cell.cell.suppressed:
                    # The tiny trust RZ9 is withheld, so one more must be (secondary).
                    withheld = [t for t, c in row.trusts.items() if c.cell.suppressed]
                    assert "RZ9" in withheld and len(withheld) == 2
                    continue
                assert (cell.cell.count, cell.cell.valid) == mine
                versus = cell.versus_rest
                assert versus is not None
                assert (versus.rest.count, versus.rest.valid) == rest
                diff, low, high = newcombe(*mine, *rest)
                assert (versus.diff, versus.ci_low, versus.ci_high) == pytest.approx(
                    (diff, low, high), abs=1e-9
                )
                significant = versus.p_value is not None and versus.p_value < 0.05
                expected_flag = "similar" if not significant else "above" if diff > 0 else "below"
                assert versus.flag == expected_flag
                compared += 1
    # One of the four trusts is withheld beside RZ9 on each row; the rest are compared.
    assert compared == (len(TRUSTS) - 1) * sum(len(t.rows) for t in result.tables)


def _tails(count: int, n: int, p0: float) -> tuple[float, float]:
    """P(R >= count) and P(R <= count) for R ~ Binomial(n, p0), summed term by term."""
    terms = [comb(n, r) * p0**r * (1 - p0) ** (n - r) for r in range(n + 1)]
    return sum(terms[count:]), sum(terms[: count + 1])


def test_funnel_limits_and_bands(hand_rows: list[dict[str, str]]) -> None:
    instrument = builtin("dmr-2015")
    result = benchmark(wave_from_rows(instrument, hand_rows))
    banded = set()
    for table in result.tables:
        for row in table.rows:
            limits = {entry["n"]: entry for entry in row.funnel["limits"]}
            p0 = row.funnel["p0_pct"]
            assert p0 == pytest.approx(row.national.pct)
            ordered = [limits[n] for n in sorted(limits)]
            for entry in ordered:
                assert entry["lower_998"] <= entry["lower_95"] <= p0 + 1e-9
                assert p0 - 1e-9 <= entry["upper_95"] <= entry["upper_998"]
            widths = [e["upper_95"] - e["lower_95"] for e in ordered]
            assert widths[0] >= widths[-1]  # the funnel narrows as the denominator grows
            for trust in TRUSTS:
                cell = row.trusts[trust]
                if cell.cell.suppressed:
                    continue
                assert cell.cell.valid in limits  # every trust's denominator is tabulated
                up, low = _tails(cell.cell.count, cell.cell.valid, p0 / 100)  # type: ignore[arg-type]
                expected = "within"
                if up < 0.025:
                    expected = "above_95"
                if low < 0.025:
                    expected = "below_95"
                if up < 0.001:
                    expected = "above_998"
                if low < 0.001:
                    expected = "below_998"
                assert cell.funnel == expected, (row.spec.item, trust, up, low)
                banded.add(expected)
    assert {"within", "above_95"} <= banded or {"within", "below_95"} <= banded


def test_published_national_figure_is_beside_each_row(hand_rows: list[dict[str, str]]) -> None:
    instrument = builtin("dmr-2015")
    result = benchmark(wave_from_rows(instrument, hand_rows))
    tables = {t["id"]: t for t in published_2015()["tables"]}
    power = next(t for t in result.tables if t.id == "table_2.2")
    row = next(r for r in power.rows if r.spec.item == "power_balance_right")
    printed = next(r for r in tables["table_2.2"]["rows"] if r["item"] == "power_balance_right")
    count = sum(printed["groups"][g]["count"] for g in ROLES)
    valid = sum(printed["inferred_valid_n"][g] for g in ROLES)
    assert row.published_pct == pytest.approx(100 * count / valid)
    assert all(
        c.versus_published is not None
        for r in power.rows
        for c in r.trusts.values()
        if not c.cell.suppressed
    )


def test_small_trusts_cannot_be_recovered_from_the_national_figure(
    hand_rows: list[dict[str, str]],
) -> None:
    instrument = builtin("dmr-2015")
    result = benchmark(wave_from_rows(instrument, hand_rows))
    document = result.to_json()
    trusts = [t["id"] for t in document["trusts"]]
    assert next(t for t in document["trusts"] if t["id"] == "RZ9")["respondents"] is None
    for table in document["tables"]:
        for row in table["rows"]:
            shown = [row["trusts"][t]["valid"] for t in trusts]
            assert attack(shown, row["national"]["valid"], 5) is None
            for t in trusts:
                cell = row["trusts"][t]
                if cell.get("suppressed"):
                    # "everyone else" is the national figure minus the trust: withheld too
                    assert cell["versus_rest"] is None and cell["funnel"] is None
            assert row["trusts"]["RZ9"].get("suppressed") is True


def test_other_instruments_have_no_published_figure() -> None:
    instrument = builtin("dmr-2002")
    rows = make_rows(instrument, 60, seed=33, trusts=["RA1", "RB2"])
    result = benchmark(wave_from_rows(instrument, rows))
    assert all(r.published_pct is None for t in result.tables for r in t.rows)
