"""SPC rules on hand-built series (the cases follow NHSRplotthedots' own rule tests), limits
computed by hand, rebasing, icons, and the scenario's planted step."""

from __future__ import annotations

import numpy as np
import pytest

from sharedground.evaluation.spc import (
    initiative_chart,
    p_chart,
    run_one_side,
    trend,
    two_in_three,
    xmr_chart,
)
from sharedground.synth.scenario import generate_scenario


def _flags(a: np.ndarray) -> list[int]:
    return a.astype(int).tolist()


def test_run_of_seven_on_one_side() -> None:
    assert _flags(run_one_side(np.ones(6))) == [0] * 6
    assert _flags(run_one_side(np.array([1] * 6 + [-1]))) == [0] * 7
    assert _flags(run_one_side(np.array([1] * 8 + [-1]))) == [1] * 8 + [0]
    assert _flags(run_one_side(np.array([-1] + [1] * 8 + [-1]))) == [0] + [1] * 8 + [0]
    # a point on the mean breaks the run
    assert _flags(run_one_side(np.array([1, 1, 1, 0, 1, 1, 1, 1]))) == [0] * 8
    assert _flags(run_one_side(np.array([], dtype=float))) == []


def test_trend_of_seven() -> None:
    assert _flags(trend(np.arange(1.0, 7.0))) == [0] * 6
    assert _flags(trend(np.array([1, 2, 3, 3, 4, 5, 6.0]))) == [0] * 7  # a tie breaks it
    assert _flags(trend(np.arange(1.0, 8.0))) == [1] * 7
    assert _flags(trend(np.array([2, 1, 2, 3, 4, 5, 6, 7, 3.0]))) == [0] + [1] * 7 + [0]
    assert _flags(trend(np.arange(7.0, 0.0, -1))) == [1] * 7
    assert _flags(trend(np.array([5.0]))) == [0]


def test_two_of_three_beyond_two_sigma() -> None:
    same = np.ones(3)
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert _flags(two_in_three(same, np.array(close, bool))) == close
    seven = np.ones(7)
    close = np.array([0, 0, 1, 0, 1, 0, 0], bool)
    assert _flags(two_in_three(seven, close)) == [0, 0, 1, 0, 1, 0, 0]
    # two close points further apart than a window of three: nothing
    assert _flags(two_in_three(np.ones(4), np.array([1, 0, 0, 1], bool))) == [0, 0, 0, 0]
    assert _flags(two_in_three(np.ones(5), np.array([1, 0, 0, 1, 1], bool))) == [0, 0, 0, 1, 1]
    # points on opposite sides of the mean do not make a pattern (NHSRplotthedots #143)
    sides = np.array([1, -1, 1.0])
    assert _flags(two_in_three(sides, np.array([1, 0, 1], bool))) == [0, 0, 0]


def test_xmr_limits_by_hand_and_outlier_screening() -> None:
    chart = xmr_chart([10, 12, 11, 13, 12])
    # mean 11.6; moving ranges 2, 1, 2, 1: mean 1.5; limits 11.6 -/+ 2.66 * 1.5
    assert chart.centre[0] == pytest.approx(11.6)
    assert chart.upper[0] == pytest.approx(11.6 + 2.66 * 1.5)
    assert chart.lower[0] == pytest.approx(11.6 - 2.66 * 1.5)
    assert not chart.special.any() and chart.variation_icon == "common_cause"
    # a spike: its moving ranges (29, 30) exceed 3.267 x mean MR and are left out
    values = [10, 13, 9, 12, 11, 40, 10, 12, 9, 13]
    screened = xmr_chart(values)
    ranges = np.abs(np.diff(values))
    kept = ranges[ranges < 3.267 * ranges.mean()]
    assert screened.upper[0] == pytest.approx(np.mean(values) + 2.66 * kept.mean())
    assert _flags(screened.outside) == [0] * 5 + [1] + [0] * 4
    assert screened.point_type[5] == "special_cause_improvement"
    plain = xmr_chart(values, screen_outliers=False)
    assert plain.upper[0] == pytest.approx(np.mean(values) + 2.66 * ranges.mean())


def test_point_types_and_icons() -> None:
    rising = xmr_chart([5, 6, 5, 6, 5, 6, 5, 6, 7, 8, 9, 10, 11, 12], improvement="increase")
    assert rising.trend[-7:].all()
    assert rising.variation_icon == "improvement_high"
    falling_is_better = xmr_chart(
        [5, 6, 5, 6, 5, 6, 5, 6, 7, 8, 9, 10, 11, 12], improvement="decrease"
    )
    assert falling_is_better.variation_icon == "concern_high"
    neutral = xmr_chart([5, 6, 5, 6, 5, 6, 5, 6, 7, 8, 9, 10, 11, 12], improvement="neutral")
    assert neutral.variation_icon == "neutral_high"
    stable = xmr_chart([10, 12, 11, 13, 12, 11], target=30.0)
    assert stable.assurance_icon == "consistent_fail"
    assert xmr_chart([10, 12, 11, 13, 12, 11], target=1.0).assurance_icon == "consistent_pass"
    assert xmr_chart([10, 12, 11, 13, 12, 11], target=11.5).assurance_icon == "inconsistent"
    assert xmr_chart([10, 12, 11], target=11.5, improvement="neutral").assurance_icon is None


def test_baseline_and_rebasing() -> None:
    values = [10, 11, 10, 11, 10, 11, 20, 21, 20, 21, 20, 21]
    fixed = xmr_chart(values, baseline=6)
    assert fixed.centre[-1] == pytest.approx(10.5)  # limits from the first six only
    assert fixed.outside[6:].all()
    rebased = xmr_chart(values, rebase_at=[6])
    assert _flags(rebased.segment) == [0] * 6 + [1] * 6
    assert rebased.centre[0] == pytest.approx(10.5) and rebased.centre[-1] == pytest.approx(20.5)
    assert not rebased.special.any()
    with pytest.raises(ValueError, match="rebase point"):
        xmr_chart(values, rebase_at=[12])


def test_p_chart_limits_by_hand() -> None:
    counts, sizes = [10, 12, 9, 30], [20, 25, 20, 40]
    chart = p_chart(counts, sizes)
    pbar = sum(counts) / sum(sizes)
    for i, n in enumerate(sizes):
        half = 3 * np.sqrt(pbar * (1 - pbar) / n)
        assert chart.upper[i] == pytest.approx(pbar + half)
        assert chart.lower[i] == pytest.approx(pbar - half)
    assert chart.values.tolist() == pytest.approx([0.5, 0.48, 0.45, 0.75])
    with pytest.raises(ValueError, match="p-chart"):
        p_chart([5, 30], [20, 20])


def test_initiative_chart_sees_the_planted_step() -> None:
    """Monthly pulse of the scenario, limits fixed on the 18 months before the start: an
    effective kind's months after it run above the baseline mean far more often than a kind
    with no effect's; rebased, the start begins a new segment."""
    s = generate_scenario(6)
    kinds = dict(s.initiatives.select("initiative_id", "kind").iter_rows())
    flagged: dict[str, list[float]] = {"paired_learning": [], "shadowing": []}
    for init, kind in kinds.items():
        if kind not in flagged:
            continue
        chart = initiative_chart(s.monthly, init)
        assert chart.milestones and chart.milestones[0][1] == "initiative starts"
        assert chart.segment.max() == 0
        assert np.all(chart.centre == chart.centre[0])
        baseline = s.monthly.filter(
            (s.monthly["initiative_id"] == init) & ~s.monthly["after_start"]
        )
        assert chart.centre[0] == pytest.approx(baseline["positive"].sum() / baseline["n"].sum())
        flagged[kind].append(float(chart.run[18:].mean()))
        rebased = initiative_chart(s.monthly, init, rebase=True)
        assert rebased.segment.tolist() == [0] * 18 + [1] * 18
    assert np.mean(flagged["paired_learning"]) > 3 * np.mean(flagged["shadowing"])
