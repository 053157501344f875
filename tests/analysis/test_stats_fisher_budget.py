"""The exact test never hangs: known answers are not enumerated, and work is bounded.

Issue #15 item 5 found a 4 x 2 table of 344,000 answers that ran 182 s before returning
0.0, a small group among a million answers that took 5.3 s, and a 6 x 4 table of 88 answers
refused after 5.8 s. These tests check *work counts* (see ``fisher_budget``), which do not
depend on the machine; time checks are only generous guards (in CPU seconds, which a
busy machine does not inflate). The seconds are in
``make bench`` (bench/bench_stats.py).
"""

from __future__ import annotations

import math
import time

import pytest

from sharedground.analysis.stats import compare_groups, fisher_exact, stars
from sharedground.analysis.stats.fisher import FEXACT_LOG_TOL, ExactTestTooLarge, fisher_test
from sharedground.analysis.stats.fisher_bounds import P_FLOOR, log_table_count
from sharedground.analysis.stats.fisher_budget import ANALYSIS_MAX_WORK, DEFAULT_MAX_WORK

# CPU seconds of this process: a hang, not a busy shared machine, should trip it.
CPU_GUARD = 15.0


def _log_p_observed(table: list[list[int]]) -> float:
    """log P(observed table) from log-factorials (independent of the module's bound)."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    lf = math.lgamma
    return (
        sum(lf(v + 1) for v in rows)
        + sum(lf(v + 1) for v in cols)
        - lf(sum(rows) + 1)
        - sum(lf(v + 1) for r in table for v in r)
    )


def _tuple(table: list[list[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(r) for r in table)


# -- p-values below the smallest double ---------------------------------------------------

STRONG_4X2 = [[35_000, 51_000], [43_000, 43_000], [47_000, 39_000], [43_000, 43_000]]
SMALL_GROUP_1E6 = [[3, 1], [300_000, 200_000], [250_000, 240_000], [4, 0]]


@pytest.mark.parametrize("table", [STRONG_4X2, SMALL_GROUP_1E6], ids=["344k", "1e6"])
def test_p_value_below_the_floor_is_zero_without_enumeration(table: list[list[int]]) -> None:
    # Every table that counts is at most P_obs (1 + 3.5e-7) probable; a 4 x 2 table's
    # tables number at most the product of (min(row, column totals) + 1) over three rows.
    rows = sorted(sum(r) for r in table)
    cols = [sum(c) for c in zip(*table, strict=True)]
    log_count = sum(math.log(min(r, *cols) + 1) for r in rows[:-1])
    assert _log_p_observed(table) + 1e-6 + log_count < math.log(P_FLOOR)

    started = time.process_time()
    outcome = fisher_test(_tuple(table))
    assert (outcome.p_value, outcome.kind, outcome.work) == (0.0, "below_floor", 0)
    result = fisher_exact(table)
    assert result.p_value == 0.0
    assert result.stars == "***"
    assert "below 1e-300" in result.reason
    # The observed table's probability, far below the smallest double, as a power of ten.
    exponent = math.floor(_log_p_observed(table) / math.log(10))
    assert f"× 10^{exponent}" in result.reason
    assert compare_groups(table).p_value in (0.0, None) or compare_groups(table).test == "chi2"
    assert time.process_time() - started < CPU_GUARD


def test_table_count_bound_is_an_upper_bound() -> None:
    # Brute-force counts of tables with given margins (small enough to list).
    def count(rows: list[int], cols: list[int]) -> int:
        if len(rows) == 1:
            return 1
        total = 0

        def fill(j: int, left: int, rest: list[int]) -> None:
            nonlocal total
            if j == len(cols) - 1:
                if left <= rest[j]:
                    total += count(rows[1:], [*rest[:j], rest[j] - left])
                return
            for x in range(min(left, rest[j]) + 1):
                fill(j + 1, left - x, [*rest[:j], rest[j] - x, *rest[j + 1 :]])

        fill(0, rows[0], cols)
        return total

    for rows, cols in [([3, 4, 5], [6, 6]), ([2, 3, 4], [3, 3, 3]), ([5, 1, 2, 4], [4, 4, 4])]:
        exact = count(rows, cols)
        assert exact <= math.exp(log_table_count(rows, cols)) * (1 + 1e-12)


# -- bounds that settle the stars ---------------------------------------------------------


def test_bound_reported_when_exact_sum_is_over_budget_and_bound_settles_stars() -> None:
    table = _tuple([[40_500, 45_500], [43_000, 43_000], [3, 1]])
    exact = fisher_test(table)
    assert exact.kind == "exact"
    assert exact.p_value < 1e-30
    bounded = fisher_test(table, max_work=1_000)
    assert bounded.kind == "bound"
    assert bounded.work <= 1_000
    assert bounded.p_low <= exact.p_value <= bounded.p_value < 1e-3
    assert stars(bounded.p_value) == stars(exact.p_value) == "***"
    result = fisher_exact(table, max_work=1_000)
    assert result.p_value == bounded.p_value
    assert "upper bound is reported" in result.reason


def test_refused_when_over_budget_and_bound_does_not_settle() -> None:
    table = _tuple([[2, 1, 0, 1], [0, 1, 2, 0], [1, 0, 1, 1], [0, 2, 0, 1], [1, 1, 0, 0]])
    with pytest.raises(ExactTestTooLarge):
        fisher_test(table, max_work=100)
    result = fisher_exact(table, max_work=100)
    assert result.p_value is None
    assert "do not settle its significance" in result.reason


# -- tables the analysis builds: groups x (counted, not counted) --------------------------

ANALYSIS_TABLES = [
    # a small group among a million answers, at several strengths of effect
    [[3, 1], [250_000, 250_000], [250_000, 249_000], [4, 0]],
    [[3, 1], [250_000, 250_000], [250_000, 250_300], [4, 0]],
    [[1, 3], [125_000, 125_000], [124_000, 126_000], [125_000, 125_000], [2, 2]],
    # three large roles and one of four people
    [[165_000, 165_000], [164_000, 166_000], [165_500, 164_500], [2, 2]],
    [[165_000, 165_000], [164_700, 165_300], [165_100, 164_900], [2, 2]],
    # a rare answer among a million
    [[3, 249_997], [1, 249_999], [0, 250_000], [2, 249_998]],
    # many trusts with a handful of respondents each
    [[k % 4, 20 - k % 4] for k in range(12)],
    [[k % 3, 40 - k % 3] for k in range(20)],
    [[k % 5, 30 - k % 5] for k in range(150)],
    [[(7 * k) % 4, 6000 - (7 * k) % 4] for k in range(150)],
    # not built by the analysis, but compare_groups takes any table: three answer options
    [[3, 1, 2], [300_000, 300_000, 1_000], [300_000, 300_100, 900]],
    [[30, 10, 20], [3_000, 2_000, 10], [2_500, 2_400, 9]],
]


@pytest.mark.parametrize(
    "table", ANALYSIS_TABLES, ids=lambda t: f"{len(t)}x{len(t[0])}-N{sum(map(sum, t))}"
)
def test_analysis_tables_answer_or_refuse_within_the_analysis_budget(
    table: list[list[int]],
) -> None:
    started = time.process_time()
    try:
        outcome = fisher_test(_tuple(table), ANALYSIS_MAX_WORK)
    except ExactTestTooLarge:
        outcome = None
    result = compare_groups(table)
    assert time.process_time() - started < CPU_GUARD
    if outcome is None:
        assert result.p_value is None
        assert "too large to compute exactly" in result.reason
    else:
        assert outcome.work <= ANALYSIS_MAX_WORK
        if result.test == "fisher":
            assert result.p_value == outcome.p_value


def test_small_group_among_a_million_is_cheap() -> None:
    # Was 5.3 s; the small rows now form the outer group, so a handful of slices suffice.
    outcome = fisher_test(_tuple([[3, 1], [250_000, 250_000], [250_000, 249_000], [4, 0]]))
    assert outcome.kind == "exact"
    assert outcome.work < 500_000
    # Same table, rows in another order: same p-value.
    again = fisher_test(_tuple([[4, 0], [250_000, 249_000], [3, 1], [250_000, 250_000]]))
    assert again.p_value == pytest.approx(outcome.p_value, rel=1e-12)


# -- 6 x 4 tables of about 90 answers, against R ------------------------------------------

# R 4.x, with a workspace large enough for the hardest (the default 2e5 fails on them):
#   m <- matrix(c(...), nrow = 6)            # filled by column, the vectors below
#   system.time(p <- fisher.test(m, workspace = 2e8)$p.value); print(p, digits = 15)
# R's user times on the development machine are noted; ours are in `make bench`.
R_6X4 = [
    # (column-major cells, R's p-value, R's user seconds)
    ("4,1,2,2,3,2,5,5,0,1,2,5,6,7,5,3,5,0,2,6,7,3,8,4", 0.115452314321126, 4.37),
    ("3,5,5,6,2,6,6,4,9,3,2,2,1,3,3,2,0,2,1,2,6,4,8,9", 0.157228513146038, 3.30),
    ("6,2,5,7,1,2,3,6,3,3,1,3,5,2,2,7,5,6,3,2,4,5,2,3", 0.643316799722612, 0.51),
]


def _six_by_four(cells: str) -> list[list[int]]:
    values = [int(v) for v in cells.split(",")]
    return [[values[i + 6 * j] for j in range(4)] for i in range(6)]


@pytest.mark.parametrize("cells,r_value,_r_seconds", R_6X4, ids=["N88", "N94", "N88-easy"])
def test_six_by_four_matches_r_within_the_default_budget(
    cells: str, r_value: float, _r_seconds: float
) -> None:
    table = _six_by_four(cells)
    started = time.process_time()
    outcome = fisher_test(_tuple(table))
    assert time.process_time() - started < CPU_GUARD * 2
    assert outcome.kind == "exact"
    assert outcome.work <= DEFAULT_MAX_WORK
    assert outcome.p_value == pytest.approx(r_value, rel=1e-9)


def test_log_tolerance_is_fexacts() -> None:
    assert FEXACT_LOG_TOL == 3.45254e-7


# -- r x c tables up to 6 x 4 and 100 answers, against R -----------------------------------

# Near-uniform tables of each shape with p-values between 0.01 and 0.2 (the threshold cuts
# through the bulk of the tables: the hardest kind for their size), cells by column. R 4.2.2:
#   m <- matrix(c(...), nrow = rows)
#   print(fisher.test(m)$p.value, digits = 15)            # default workspace
#   print(fisher.test(m, workspace = 2e8)$p.value, digits = 15)   # where FEXACT refuses it
R_RC = [
    # (rows, column-major cells, R's p-value, R's workspace)
    (3, "1,7,2,0,0,5,1,3,1", 0.0229275368594252, 2e5),
    (3, "11,11,6,12,5,11,20,3,21", 0.0143616898599366, 2e5),
    (2, "7,8,15,8,4,11,1,6", 0.0396686003574906, 2e5),
    (3, "11,6,7,7,3,16,8,8,8,11,11,4", 0.0257401781953323, 2e5),
    (4, "2,1,1,1,8,13,22,2,6,8,9,10,3,2,8,4", 0.0631371121842439, 2e5),
    (5, "3,1,6,2,7,8,7,4,4,3,19,16,9,7,4", 0.0507455597241562, 2e8),
    (5, "2,2,2,3,0,2,0,0,0,2,0,0,0,0,2,0,2,0,2,1", 0.1055712777075, 2e5),
    (6, "2,0,0,0,0,3,0,0,3,1,0,1,1,3,3,0,1,2", 0.156006532167521, 2e5),
    (6, "6,5,12,10,3,10,3,1,8,7,3,10,5,6,2,2,4,3", 0.127303919604352, 2e8),
    (6, "5,0,0,2,3,2,4,0,2,5,4,1,1,1,4,1,0,0,0,0,0,1,2,2", 0.0608072317877707, 2e5),
    (6, "3,6,0,4,8,0,3,2,0,5,3,1,0,1,0,1,0,2,7,6,2,5,1,0", 0.0405859709066902, 2e8),
    (3, "3,3,7,7,4,10,6,8,2,2,7,9,8,11,5,4,3,1", 0.0760714736604442, 2e8),
]


def _by_column(rows: int, cells: str) -> list[list[int]]:
    values = [int(v) for v in cells.split(",")]
    cols = len(values) // rows
    return [[values[i + rows * j] for j in range(cols)] for i in range(rows)]


@pytest.mark.parametrize(
    "rows,cells,r_value,_workspace",
    R_RC,
    ids=[f"{r}x{len(c.split(',')) // r}-N{sum(map(int, c.split(',')))}" for r, c, _, _ in R_RC],
)
def test_r_by_c_tables_match_r(rows: int, cells: str, r_value: float, _workspace: float) -> None:
    table = _by_column(rows, cells)
    outcome = fisher_test(_tuple(table))
    assert outcome.kind == "exact"
    assert outcome.p_value == pytest.approx(r_value, rel=1e-9)
    # Either way round, the same p-value.
    transposed = [list(col) for col in zip(*table, strict=True)]
    assert fisher_test(_tuple(transposed)).p_value == pytest.approx(r_value, rel=1e-9)
