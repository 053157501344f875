"""Weighted trends: weighted percentages both sides, Wald change with the SEs added."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps
from weights_cohort import cohort_frame, cohort_weights

from sharedground.analysis.encoding import encode
from sharedground.analysis.source import WaveData
from sharedground.analysis.tables import Options, analyse
from sharedground.analysis.trend import against_published, against_wave
from sharedground.analysis.weights.raking import kish
from sharedground.analysis.weights.weighting import WaveWeights
from sharedground.synth.cohort import generate


def _weights(frame, instrument) -> WaveWeights:  # type: ignore[no-untyped-def]
    values = cohort_weights(frame, instrument)
    strata = frame["role"].to_numpy().astype(np.int64)
    return WaveWeights("design", values, strata, len(instrument.role_ids()) + 1, kish(values))


def test_against_a_stored_wave_adds_the_variances() -> None:
    frame, instrument = cohort_frame()
    then_frame = encode(generate("2015", 2), instrument)
    now = WaveData("now", instrument, 0, frame, "uncached")
    then = WaveData("then", instrument, 0, then_frame, "uncached")
    w_now, w_then = _weights(frame, instrument), _weights(then_frame, instrument)
    trend = against_wave(now, then, "role", 0, weights=w_now, weights_then=w_then)
    a_now = analyse(now, Options(by="role", suppression_threshold=0), w_now)
    a_then = analyse(then, Options(by="role", suppression_threshold=0), w_then)
    checked = 0
    for table_now, table_then in zip(a_now.tables, a_then.tables, strict=True):
        for r_now, r_then in zip(table_now.rows, table_then.rows, strict=True):
            row = trend.row(r_now.spec.item, r_now.spec.measure, r_now.spec.option)
            for group in ("medical_director", "overall"):
                change = row.cells[group]
                c_now = r_now.overall if group == "overall" else r_now.groups[group]
                c_then = r_then.overall if group == "overall" else r_then.groups[group]
                assert change is not None and c_now.weighted and c_then.weighted
                assert c_now.weighted.se and c_then.weighted.se
                diff = c_now.weighted.pct - c_then.weighted.pct
                se = math.hypot(c_now.weighted.se, c_then.weighted.se)
                assert change.method == "wald"
                assert math.isclose(change.diff, diff, rel_tol=1e-12, abs_tol=1e-12)
                assert math.isclose(change.ci_high - change.ci_low, 2 * 1.959963984540054 * se)
                assert change.p_value is not None
                assert math.isclose(change.p_value, 2 * sps.norm.sf(abs(diff) / se), rel_tol=1e-9)
                checked += 1
            break  # first row of each table is enough
    assert checked >= 20
    assert any("Wald 95% interval" in n for n in trend.notes)


def test_against_published_uses_the_binomial_se_of_the_published_side() -> None:
    frame, instrument = cohort_frame()
    now = WaveData("now", instrument, 0, frame, "uncached")
    trend = against_published(now, "2002", 0, _weights(frame, instrument))
    changes = [c for r in trend.rows for c in r.cells.values() if c is not None]
    assert changes and all(c.method == "wald" for c in changes)
    c = changes[0]
    p = c.then.count / c.then.valid
    assert c.then.se is not None
    assert math.isclose(c.then.se, 100 * math.sqrt(p * (1 - p) / c.then.valid))
