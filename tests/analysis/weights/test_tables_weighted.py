"""`analyse` with weights: the synthetic 2015 cohort with the 2015 postal design equals R,
and with all weights one every figure equals the unweighted analysis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from weights_cohort import cohort_frame, cohort_weights
from weights_reference import case, close

from sharedground.analysis.source import WaveData
from sharedground.analysis.tables import Options, analyse
from sharedground.analysis.weights.raking import kish
from sharedground.analysis.weights.weighting import WaveWeights


def _data() -> tuple[WaveData, Any]:
    frame, instrument = cohort_frame()
    return WaveData("2015", instrument, 0, frame, "uncached"), instrument


def _postal(frame: Any, instrument: Any) -> WaveWeights:
    values = cohort_weights(frame, instrument)
    strata = frame["role"].to_numpy().astype(np.int64)
    return WaveWeights("design", values, strata, len(instrument.role_ids()) + 1, kish(values))


@pytest.mark.parametrize("by", ["role", "mode"])
def test_cohort_with_postal_design_matches_r(by: str) -> None:
    data, instrument = _data()
    weights = _postal(data.frame, instrument)
    reference = case(f"cohort-2015-by-{by}")["r"]["rows"]
    analyses = {
        m: analyse(data, Options(by=by, suppression_threshold=0, weighted_test=m), weights)
        for m in ("F", "Chisq", "Wald")
    }
    rows = [r for t in analyses["F"].tables for r in t.rows]
    others = {m: [r for t in a.tables for r in t.rows] for m, a in analyses.items()}
    assert len(rows) == len(reference)
    ids = [g.id for g in analyses["F"].groups]
    compared = tests = 0
    for i, (row, theirs) in enumerate(zip(rows, reference, strict=True)):
        for g in theirs["groups"]:
            cell = row.groups[ids[g["group"]]]
            assert cell.weighted is not None
            where = f"row {i} ({row.spec.label}) group {ids[g['group']]}"
            assert close(cell.weighted.pct / 100, g["estimate"]), where
            assert close(cell.weighted.se / 100, g["se"]) if cell.weighted.se else g["se"] == 0
            if 0 < g["estimate"] < 1:
                assert cell.weighted.ci_logit is not None, where
                assert cell.weighted.ci_beta is not None, where
                assert close(cell.weighted.ci_logit[0] / 100, g["logit"][0]), where
                assert close(cell.weighted.ci_logit[1] / 100, g["logit"][1]), where
                assert close(cell.weighted.ci_beta[0] / 100, g["beta"][0]), where
                assert close(cell.weighted.ci_beta[1] / 100, g["beta"][1]), where
            compared += 1
        overall = row.overall.weighted
        assert overall is not None and close(overall.pct / 100, theirs["overall"]["estimate"])
        for method, r in theirs["tests"].items():
            test = others[method][i].test
            assert test.name == f"rao-scott-{method}", f"row {i} {method}: {test.reason}"
            assert close(test.statistic, r["statistic"]), f"row {i} {method}"
            assert close(test.p_value, r["p"]), f"row {i} {method}"
            tests += 1
        if not theirs["tests"]:
            assert row.test.name == "none"
    assert compared >= 2 * len(rows) and tests >= 2 * len(rows)


@pytest.mark.parametrize("by", ["role", "mode"])
def test_unit_weights_change_nothing(by: str) -> None:
    """All weights one: every weighted percentage is today's, bit for bit."""
    data, _ = _data()
    plain = analyse(data, Options(by=by))
    ones = np.ones(data.frame.height)
    strata = data.frame["role"].to_numpy().astype(np.int64)
    unit = WaveWeights("design", ones, strata, 5, kish(ones))
    weighted = analyse(data, Options(by=by, weighted_test="Chisq"), unit)
    checked = 0
    for t_plain, t_weighted in zip(plain.tables, weighted.tables, strict=True):
        for a, b in zip(t_plain.rows, t_weighted.rows, strict=True):
            for gid, cell in a.groups.items():
                other = b.groups[gid]
                assert (cell.count, cell.valid) == (other.count, other.valid)
                if cell.pct is not None:
                    assert other.weighted is not None
                    assert other.weighted.pct == cell.pct  # exactly
                    assert other.weighted.weighted_count == cell.count
                    checked += 1
            if a.overall.pct is not None:
                assert b.overall.weighted is not None
                assert b.overall.weighted.pct == a.overall.pct
            if a.test.name == "chi2":
                # R's Chisq reports Pearson's X^2 of the weighted table: here, the same table
                assert b.test.statistic is not None and a.test.statistic is not None
                assert math.isclose(b.test.statistic, a.test.statistic, rel_tol=1e-12)
    assert checked > 100


def test_summary_lists_use_the_weighted_figures() -> None:
    data, instrument = _data()
    weighted = analyse(data, Options(by="role"), _postal(data.frame, instrument))
    overall = {
        (t.id, r.spec.item): r.overall.weighted.pct
        for t in weighted.tables
        for r in t.rows
        if r.overall.weighted is not None
    }
    lines = [line for s in weighted.summaries for line in s.lines]
    assert lines
    for summary in weighted.summaries:
        for line in summary.lines:
            pct = overall[(line.table, line.item)]
            assert line.pct in (pct, 100.0 - pct)
