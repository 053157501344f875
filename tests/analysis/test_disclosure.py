"""Coordinated disclosure control: one decision for every output of a wave, and its audit.

The attack of issue #15: a trust's report hides its 3 clinical directors (and a
complement), but the national figures by role minus the other trusts' reports gave their
counts back exactly, row after row. Here the reports are made as the report builder makes
them, the attack is run on them, and the audit's linear programmes check that nothing
withheld can be narrowed below the threshold on waves built to be hard.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from analysis_helpers import wave_from_rows, write_rows
from disclosure_helpers import ROLES, composed, hard_wave, subtract

from sharedground.analysis.disclosure.audit import audit
from sharedground.analysis.disclosure.decide import decide
from sharedground.analysis.disclosure.intervals import Published, intervals
from sharedground.analysis.tables import Options, analyse
from sharedground.exchange.importer import import_file
from sharedground.instrument import Instrument, builtin
from sharedground.report import build
from sharedground.store import Store

CD = "clinical_director"


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return builtin("dmr-2015")


def _sizes(small: int) -> dict[str, dict[str, int]]:
    sizes = {t: {r: 12 for r in ROLES} for t in ("RA1", "RB2", "RC3", "RD4", "RE5")}
    sizes["RA1"][CD] = small
    return sizes


def test_the_subtraction_attack_worked_on_reports_suppressed_one_by_one(
    instrument: Instrument,
) -> None:
    """Before: each trust's analysis suppressed on its own; national minus others = RA1."""
    rows = composed(instrument, _sizes(3))
    data = wave_from_rows(instrument, rows)
    national = analyse(data).to_json()
    trusts = {
        t: analyse(wave_from_rows(instrument, [r for r in rows if r["trust"] == t])).to_json()
        for t in ("RA1", "RB2", "RC3", "RD4", "RE5")
    }
    recovered = subtract(national, trusts, "RA1", CD)
    truth = _truth(rows, "RA1", CD, national)
    exposed = [(r, t) for r, t in zip(recovered, truth, strict=True) if r is not None]
    # Nearly every row of the 3 clinical directors, exactly (the rest: a row where some
    # other trust's clinical directors were themselves too few to show).
    assert len(exposed) >= 0.9 * len(truth)
    assert all(r == t for r, t in exposed)


def _truth(
    rows: list[dict[str, str]], trust: str, role: str, national: dict[str, object]
) -> list[tuple[int, int]]:
    """RA1's clinical directors' (count, valid) per row, counted by the engine on them alone."""
    mine = [r for r in rows if r["trust"] == trust and r["role"] == role]
    own = analyse(wave_from_rows(builtin("dmr-2015"), mine), Options(suppression_threshold=0))
    found = []
    for table in own.tables:
        for row in table.rows:
            cell = row.groups[role]
            found.append((int(cell.count or 0), int(cell.valid or 0)))
    return found


def test_the_attack_fails_on_the_reports_the_builder_makes(
    store: Store, instrument: Instrument, tmp_path: Path
) -> None:
    rows = composed(instrument, _sizes(3))
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)
    context = build.load(store, "w")
    reports = {t: build.trust_input(context, t).analysis for t in context.trusts}
    # The trust's own report still hides its 3 clinical directors.
    own = reports["RA1"]
    assert all(row["groups"][CD]["count"] is None for t in own["tables"] for row in t["rows"])
    # Every output reads the one decision: each trust's role cells, the national role
    # totals (whose own rule the decision keeps).
    decision = context.disclosure
    roles = decision.cells.roles
    for trust, document in [*reports.items(), (None, context.national)]:
        index = 0
        for table in document["tables"]:
            for row in table["rows"]:
                decided = decision.tables[index]
                for role, cell in row["groups"].items():
                    r = roles.index(role)
                    hidden = (
                        decided.roles[r]
                        if trust is None
                        else decided.withheld[decision.trust_index(trust), r]
                    )
                    assert (cell["count"] is None) == bool(hidden), (trust, index, role)
                index += 1
    recovered = subtract(context.national, reports, "RA1", CD)
    # National minus the other trusts' reports: some other trust's clinical directors are
    # withheld too on every row, so subtraction recovers nothing.
    assert recovered and all(r is None for r in recovered)
    # And nothing else can narrow them either: the audit's programmes over every figure.
    result = audit(context.disclosure, "w")
    assert result.cells and not result.failures
    ra1 = [c for c in result.cells if c.trust == "RA1" and c.role == CD]
    assert len(ra1) == len(context.disclosure.tables) + 1
    assert min(c.intervals.get("total", c.intervals.get("respondents")).width for c in ra1) >= 5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "small",
    [
        pytest.param({"RA1": 3}, id="one-small-group-in-one-trust"),
        pytest.param({"RA1": 3, "RC3": 2}, id="in-two-trusts"),
        pytest.param({t: 3 for t in ("RA1", "RB2", "RC3", "RD4")}, id="in-every-trust"),
        pytest.param({"RA1": 1, "RB2": 4}, id="one-and-four"),
    ],
)
def test_the_audit_passes_on_waves_built_to_be_hard(
    instrument: Instrument, small: dict[str, int]
) -> None:
    data = hard_wave(instrument, small)
    decision = decide(data)
    # Every interval by linear programming for the first wave; the others certified first.
    exact = small == {"RA1": 3}
    result = audit(decision, "hard", exact=exact)
    assert not result.failures, [(c.table, c.trust, c.role) for c in result.failures[:5]]
    trusts = decision.cells.trusts
    cd = decision.cells.roles.index(CD)
    for trust in small:
        t = trusts.index(trust)
        assert decision.respondents.withheld[t, cd]
        assert all(table.withheld[t, cd] for table in decision.tables)
    # Some complement is withheld in every table: a lone small cell cannot hide.
    assert all(table.secondary.any() for table in decision.tables)
    if exact:
        assert all(i.how == "lp" for c in result.cells for i in c.intervals.values())


def _two_small_trusts() -> dict[str, dict[str, int]]:
    """Three trusts of 8 per role; RA1 only 2 chief executives and 3 clinical directors,
    RE5 only 2 chief executives and 2 medical directors: both trusts withheld whole."""
    sizes = {t: {r: 8 for r in ROLES} for t in ("RB2", "RC3", "RD4")}
    sizes["RA1"] = {"chief_executive": 2, CD: 3}
    sizes["RE5"] = {"chief_executive": 2, "medical_director": 2}
    return sizes


def test_the_audit_passes_when_two_small_trusts_are_withheld_whole(
    instrument: Instrument,
) -> None:
    """RA1 and RE5 withhold every cell and their trust totals; the nation less the three
    trusts printed gave the two together, and on 8 rows none of their 9 people had chosen
    the option, so each of their 4 groups was exactly 0 (16 cells failed at width 0)."""
    data = wave_from_rows(instrument, composed(instrument, _two_small_trusts()))
    decision = decide(data)
    result = audit(decision, "mixed")
    assert not result.failures, [(c.table, c.trust, c.role) for c in result.failures[:5]]
    # Wherever the withheld trust totals together hold answers of one kind only, a third
    # trust's total is withheld with them.
    cells = decision.cells
    for i, table in enumerate(decision.tables):
        hidden = np.append(table.trusts, False)
        counted = int(cells.counted[i][hidden].sum())
        valid = int(cells.valid[i][hidden].sum())
        if table.trusts[[cells.trusts.index(t) for t in ("RA1", "RE5")]].all():
            assert 0 < counted < valid or not table.trusts[1:4].any(), i
    # The benchmarks print exactly the trust totals the decision leaves printed (the
    # audit reads them from the decision), and `analyse` by role its role totals.
    from sharedground.analysis.benchmark import benchmark

    rows = [r for t in benchmark(data).tables for r in t.rows]
    national = [r for t in analyse(data).tables for r in t.rows]
    assert len(rows) == len(national) == len(decision.tables)
    for row, by_role, table in zip(rows, national, decision.tables, strict=True):
        shown = [row.trusts[t].cell.suppressed for t in cells.trusts]
        assert shown == table.trusts.tolist()
        roles = [by_role.groups[r].suppressed for r in cells.roles if r in by_role.groups]
        assert roles == [bool(table.roles[cells.roles.index(r)]) for r in by_role.groups]


def _mixed_sizes(trusts: int, seed: int = 0) -> dict[str, dict[str, int]]:
    """Per trust and role a size drawn from 2 to 40, as in a wave of trusts of every size."""
    rng = np.random.default_rng(seed)
    return {
        f"T{i:03d}": {role: int(rng.choice([2, 4, 8, 15, 25, 40])) for role in ROLES}
        for i in range(trusts)
    }


def test_the_audit_passes_on_a_wave_of_mixed_sizes(instrument: Instrument) -> None:
    """17 trusts (the fewest of this draw that failed): a trust's 2 chief executives took
    as partner its cheapest group, 6 clinical directors, none of whom agreed either; the
    trust's printed total gave both as 0, and the audit's fix-ups went to the column."""
    data = wave_from_rows(instrument, composed(instrument, _mixed_sizes(17)))
    decision = decide(data)
    result = audit(decision, "mixed")
    assert not result.failures, [(c.table, c.trust, c.role) for c in result.failures[:5]]
    # A printed trust line never withholds a small group with partners that hold none of
    # an answer the group's row and column both hold (it would be 0, and exactly known).
    cells = decision.cells
    for i, table in enumerate(decision.tables):
        counted, valid = cells.counted[i], cells.valid[i]
        for part in (counted, valid - counted):
            for t, r in np.argwhere(table.primary[:-1, :-1] & table.withheld[:-1, :-1]):
                if table.trusts[t] or not part[t].sum() or not part[:, r].sum():
                    continue
                assert part[t][table.withheld[t]].sum() > 0, (i, t, r)


def test_the_audit_fails_on_a_pattern_that_subtraction_undoes() -> None:
    """The audit itself: a lone withheld cell in a table with printed margins is exact."""
    values = np.array([[3, 10, 0], [12, 9, 0], [0, 0, 0]])
    withheld = np.zeros((3, 3), dtype=bool)
    withheld[0, 0] = True
    table = Published(
        quantities={"respondents": values},
        withheld=withheld,
        rows_printed=np.array([True, True, False]),
        cols_printed=np.array([True, True, False]),
        grand_printed=True,
        real_rows_printed=True,
        cap=np.full((3, 3), -1),
    )
    need = {(0, 0): {"respondents": 5.0}}
    for exact in (False, True):
        found = intervals(table, [(0, 0)], need, exact=exact)[(0, 0)]["respondents"]
        assert (found.low, found.high) == (3, 3)
    # A rectangle of withheld cells: 3 can move down by min(3, 9) and up by min(10, 12).
    withheld[:2, :2] = True
    found = intervals(table, [(0, 0)], need, exact=True)[(0, 0)]["respondents"]
    assert (found.low, found.high, found.how) == (0, 13, "lp")
    # The quick path certifies part of it (its flows stop once the width asked for is
    # reached) and never claims more than is true.
    quick = intervals(table, [(0, 0)], need)[(0, 0)]["respondents"]
    assert quick.how == "certified" and quick.low == 0 and 8 <= quick.high <= 13


def test_a_total_needs_no_more_width_than_the_printed_totals_leave() -> None:
    """The demo wave's 68 cells: a trust of five whose one "rotating" answer came from a
    clinical director, where no chief executive in the country answered so, pins its chief
    executive's answers to 0-4 by its printed totals alone. With every cell of the trust
    withheld that width is reached, and it is all the audit may ask; a pattern that leaves
    less still fails.
    """
    from sharedground.analysis.disclosure.decide import required_widths

    # Rows: the small trust, a large one, no trust. Columns: CE, CD, no role.
    counted = np.array([[0, 1, 0], [0, 9, 0], [0, 0, 0]])
    valid = np.array([[1, 4, 0], [20, 30, 0], [0, 0, 0]])
    withheld = np.zeros((3, 3), dtype=bool)
    withheld[:2, :2] = True
    primary = np.zeros((3, 3), dtype=bool)
    primary[0, :2] = True
    table = Published(
        quantities={"counted": counted, "not_counted": valid - counted},
        withheld=withheld,
        rows_printed=np.array([True, True, False]),
        cols_printed=np.array([True, True, False]),
        grand_printed=True,
        real_rows_printed=True,
        cap=np.full((3, 3), -1),
    )
    need = required_widths(table, primary, 5)
    # counted: row 1, column 0 -> 0; not counted: row 4, column 20 -> 4; together 4 < 5.
    assert need[(0, 0)] == {"counted": 0.0, "not_counted": 1.0, "total": 4.0}
    assert need[(0, 1)]["total"] == 5.0  # the CD cell: 1 + 4 reachable
    found = intervals(table, [(0, 0)], need, exact=True)[(0, 0)]
    assert (found["total"].low, found["total"].high) == (0, 4)
    # The large trust's cells printed: the small trust's row then gives CE exactly.
    withheld[1, :] = False
    narrow = intervals(table, [(0, 0)], need, exact=True)[(0, 0)]
    assert narrow["total"].width < need[(0, 0)]["total"]


def test_a_trust_charts_hide_the_other_trusts_where_its_own_figure_is_withheld(
    store: Store, instrument: Instrument, tmp_path: Path
) -> None:
    """The "Other trusts" bars are the nation less this trust: beside the national chart
    their exact shares would give back the trust's withheld answers, so they go with it."""
    from sharedground.report.compose import compose

    sizes = {t: {r: 12 for r in ROLES} for t in ("RA1", "RB2", "RC3", "RD4")}
    sizes["RS9"] = {"chief_executive": 1, "medical_director": 1, "clinical_director": 2}
    rows = composed(instrument, sizes)
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)
    context = build.load(store, "w")
    for trust, hidden in (("RS9", True), ("RA1", False)):
        page = compose(build.trust_input(context, trust))
        likert = [c for c in page.charts if "likert" in c.id]
        assert likert
        others = [r for c in likert for r in c.data_rows if r[0].endswith("— Other trusts")]
        mine = [r for c in likert for r in c.data_rows if r[0].endswith("— This trust")]
        assert others and len(others) == len(mine)
        for own, rest in zip(mine, others, strict=True):
            if hidden:
                assert own[1:] == rest[1:] == ["–"] * 4
            # Wherever this trust's bar is withheld, so is the others'.
            assert (own[1:] == ["–"] * 4) == (rest[1:] == ["–"] * 4)
