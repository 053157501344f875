"""Themes by role group: counts from the team's coding, suppression at the wave's threshold,
and the survey tables' test, checked against counts and an exact test made here."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from text_helpers import FINANCE, SIZES, in_group_order, ready_to_code, role_wave

from sharedground.store import Store
from sharedground.text import coding, frames, sources, themes

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import exact_r_by_2

VARIATION = {
    "chief_executive": 0,
    "medical_director": 5,
    "directorate_manager": 5,
    "clinical_director": 5,
}


def _coded_wave(store: Store, tmp_path: Path) -> None:
    role_wave(store, tmp_path, SIZES)
    with store.session() as session:
        setup = ready_to_code(store, session, "r")
        codes, team = setup.codes, setup.team
        ann = coding.get_coder(session, "ann")
        for i, source in in_group_order(setup.sources, lambda s: s.role):
            assert source.role is not None
            if i < FINANCE[source.role]:
                coding.add(session, source, codes["external_finance"], team, start=0, end=7)
            if i < VARIATION[source.role]:
                coding.add(session, source, codes["variation"], team)
            coding.add(session, source, codes["public_esteem"], ann)


def test_counts_percentages_and_suppression(store: Store, tmp_path: Path) -> None:
    _coded_wave(store, tmp_path)
    with store.session() as session:
        result = themes.table(
            store, session, store.get_wave(session, "r"), frames.get(session, "dmr-themes")
        )
    assert result.groups == list(SIZES) and result.threshold == 5
    assert result.commenters == [6, 12, 12, 12] and result.total_commenters == 42
    rows = {row.code: row for row in result.rows}
    finance = rows["external_finance"]
    # CE 3 (< 5) and CD 10 (2 did not say it: < 5) withheld; together 13, so no more.
    assert [c.respondents for c in finance.cells] == [None, 7, 6, None]
    assert finance.cells[1].percent == pytest.approx(100 * 7 / 12)
    assert finance.total.respondents == 26 and finance.total.comments == 26
    # The parent theme counts its sub-codes.
    assert [c.respondents for c in rows["external_context"].cells] == [None, 7, 6, None]
    # CE 0 withheld alone; the smallest shown (MD's 5) goes with it.
    assert [c.respondents for c in rows["variation"].cells] == [None, None, 5, 5]
    assert rows["variation"].total.respondents == 15
    # Nobody in the team's coding: every cell and the total withheld.
    assert all(c.withheld for c in rows["public_esteem"].cells)
    assert rows["public_esteem"].total.withheld
    # The survey tables' test on coded / not coded by role, over the groups whose cell is
    # shown (as the survey's tables do: a withheld count would move the p-value): MD 7 of
    # 12, DM 6 of 12, every expected count at least 5, so Pearson's chi-squared, 1 df.
    test = finance.test
    assert test is not None and test.test == "chi2"
    a, b, c, d = 7, 12 - 7, 6, 12 - 6
    statistic = 24 * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert test.statistic == pytest.approx(statistic)
    assert test.p_value == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-9)
    # With the threshold at 2 every cell is shown: four groups, expected CE counts under 5, so
    # the exact test, checked against an enumeration made here.
    with store.session() as session:
        wave = store.get_wave(session, "r")
        wave.suppression_threshold = 2
    with store.session() as session:
        low = themes.table(
            store, session, store.get_wave(session, "r"), frames.get(session, "dmr-themes")
        )
    finance = next(row for row in low.rows if row.code == "external_finance")
    assert all(not c.withheld for c in finance.cells)
    test = finance.test
    assert test is not None and test.test == "fisher"
    table = [(FINANCE[r], SIZES[r] - FINANCE[r]) for r in SIZES]
    assert test.p_value == pytest.approx(exact_r_by_2(table), rel=1e-6)


def test_another_coder_and_small_groups(store: Store, tmp_path: Path) -> None:
    _coded_wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "r")
        frame = frames.get(session, "dmr-themes")
        ann = themes.table(store, session, wave, frame, coder="ann")
        # ann put public_esteem on every comment: no one is left uncoded (complement 0 < 5).
        row = next(r for r in ann.rows if r.code == "public_esteem")
        assert all(c.withheld for c in row.cells)
        # One trust's table: about half of each group; CE has 3 commenters there.
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
        trust = themes.table(store, session, wave, frame, organisation_id=ra1)
    assert trust.commenters[0] is None  # 3 chief executives in RA1
    assert sum(c or 0 for c in trust.commenters) < 42


def test_case_matrix_and_csv(store: Store, tmp_path: Path) -> None:
    import csv

    _coded_wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "r")
        frame = frames.get(session, "dmr-themes")
        keys, cases = themes.case_matrix(session, wave, frame)
        table = themes.table(store, session, wave, frame)
    assert len(cases) == 42 and keys[0] == "variation"
    first = cases[0]  # the first chief executive: finance (i=0 < 3), no variation (CE 0)
    assert first.case == 1 and first.role == "chief_executive"
    assert len(first.sources["external_finance"]) == 1
    assert first.sources["external_context"] == first.sources["external_finance"]
    assert first.sources["variation"] == []
    assert sum(1 for c in cases if c.sources["external_finance"]) == sum(FINANCE.values())
    path = tmp_path / "m.csv"
    themes.write_matrix(path, (keys, cases))
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["case", "role", "trust"] and len(rows) == 43
    grouped = tmp_path / "g.csv"
    themes.write_matrix(grouped, table)
    with grouped.open(encoding="utf-8", newline="") as handle:
        by_code = {r[0]: r for r in csv.reader(handle)}
    # withheld cells are empty: CE and CD for finance (see the first test)
    assert by_code["external_finance"][2:10] == ["", "", "7", "7", "6", "6", "", ""]


def test_withheld_cells_also_protect_those_not_coded() -> None:
    # Two groups of 5 commenters, all coded (complements 0): withheld, but with the total
    # (10 coded) printed a reader would learn that every one of them was coded. A third
    # group of 20 with 8 coded (12 not) is withheld with them: 12 not coded >= 5.
    withheld, total = themes.row_cells([5, 5, 8], [5, 5, 20], [True, True, True], 5)
    assert withheld == [True, True, True] and total is False
    # With only the two small groups nothing can protect them: the total goes too.
    withheld, total = themes.row_cells([5, 5], [5, 5], [True, True], 5)
    assert withheld == [True, True] and total is True
    # Counts short: the smallest count joins (the module's first rule, unchanged).
    withheld, total = themes.row_cells([2, 7, 6], [12, 12, 12], [True, True, True], 5)
    assert withheld == [True, False, True] and total is False


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda p: (min(p), max(p))),
        min_size=2,
        max_size=5,
    ),
    st.integers(2, 6),
)
@settings(max_examples=300, deadline=None)
def test_no_withheld_cell_is_pinned_by_what_is_printed(
    cells: list[tuple[int, int]], k: int
) -> None:
    """Enumerate every row consistent with the printed figures: each withheld count (and
    each count of those not coded) must be able to take at least two values."""
    import itertools

    counts = [c for c, _ in cells]
    denominators = [d for _, d in cells]
    shown = [d >= k for d in denominators]  # groups under k commenters are withheld whole
    withheld, total_withheld = themes.row_cells(counts, denominators, shown, k)
    hidden = [i for i, w in enumerate(withheld) if w]
    if total_withheld or not hidden:
        return
    remaining = sum(counts[i] for i in hidden)  # the printed total minus the cells shown
    # A reader knows the commenters of shown groups; a withheld group's only lies between
    # its count and the commenters the printed total leaves unexplained.
    spare = sum(denominators[i] for i in hidden if not shown[i])
    ranges = [range(0, (denominators[i] if shown[i] else spare) + 1) for i in hidden]
    possible: list[set[int]] = [set() for _ in hidden]
    for combo in itertools.product(*ranges):
        if sum(combo) == remaining:
            for slot, value in enumerate(combo):
                possible[slot].add(value)
    for slot, i in enumerate(hidden):
        if denominators[i] == 0:
            continue  # a group nobody is in: knowing its count is knowing about no one
        assert len(possible[slot]) >= 2, (i, counts, denominators, k, withheld)


def test_an_empty_role_is_no_partner_for_a_small_one(store: Store, tmp_path: Path) -> None:
    # No chief executive commented; 3 medical directors did. The empty group cannot hide
    # them, so the next smallest group is withheld with them and the total gives none away.
    role_wave(
        store,
        tmp_path,
        {"medical_director": 3, "directorate_manager": 12, "clinical_director": 20},
    )
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "r"))
        frame = frames.save(session, frames.builtin("dmr-themes"))
        result = themes.table(store, session, store.get_wave(session, "r"), frame)
    assert result.commenters == [None, None, None, 20]
    assert result.total_commenters == 35
