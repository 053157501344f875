"""The text tables in the wave's one disclosure decision, and their audit (issues #13, #15).

Before, each text table was suppressed on its own: a trust's table of themes by role, the
national table by role and the table by trust. On waves built to be hard (a small group
coded in one trust, in two, in every trust) the national count of a group minus the other
trusts' printed counts gave a trust's withheld count back; the audit's linear programmes
find that pattern too narrow. The wave-wide decision withholds the same group across trusts
together, and the audit passes. Here the old pattern is rebuilt from the old rules (still in
`themes.row_cells` and `analysis.suppression.suppress`), so the test shows both.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from sharedground.analysis.disclosure.decide import decide
from sharedground.analysis.source import load_wave
from sharedground.analysis.suppression import suppress
from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin as instrument_of
from sharedground.store import Store
from sharedground.text import coding, frames, quotations, sources, themes
from sharedground.text.disclosure import (
    TextCells,
    TextDecision,
    TextTable,
    audit_text,
    decide_text,
    text_decision,
)

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from disclosure_helpers import ROLES
from text_helpers import in_group_order, ready_to_code, sized_wave

TRUSTS = ("RA1", "RB2", "RC3", "RD4")
CD = "clinical_director"
THEME = "public_esteem"


def _text(i: int) -> str:
    return f"Public regard for managers fell again this year, at meeting {i}. Nothing else."


def _hard(store: Store, tmp_path: Path, small: dict[str, int], others: int = 12) -> None:
    """Four trusts of `others` per role (one group of each trust one fewer, a different
    role from trust to trust), `small[trust]` clinical directors; everyone writes a
    comment. The team codes THEME on half of every group and on every small group's
    clinical directors: the small groups' counts are the cells to protect."""
    sizes = {trust: dict.fromkeys(ROLES, others) for trust in TRUSTS}
    for j, trust in enumerate(TRUSTS):
        # Each table suppressed on its own takes the smallest group as the partner of a
        # small one: a different role in each trust.
        sizes[trust][ROLES[j % 3]] = others - 1
    for trust, n in small.items():
        sizes[trust][CD] = n
    sized_wave(store, tmp_path, sizes, name="w", texts=_text)
    with store.session() as session:
        setup = ready_to_code(store, session, "w")
        cells = in_group_order(
            setup.sources, lambda s: (s.attributes["trust"], s.attributes["role"])
        )
        for i, source in cells:
            trust, role = source.attributes["trust"], source.attributes["role"]
            if (role == CD and trust in small) or i < others // 2:
                coding.add(session, source, setup.codes[THEME], setup.team)


def _decision(store: Store) -> TextDecision:
    survey = decide(load_wave(store, "w"))
    with store.session() as session:
        wave = store.get_wave(session, "w")
        return text_decision(
            store, session, wave, frames.get(session, "dmr-themes"), "team", survey
        )


def _before(decision: TextDecision) -> TextDecision:
    """The pattern the text tables printed before: each trust's table by role, the national
    table by role and the table by trust, each suppressed on its own by the old rules."""
    cells: TextCells = decision.cells
    k = decision.threshold
    c = cells.commenters
    n_trusts, n_roles = len(cells.trusts), len(cells.roles)
    x = decision.survey.cells.respondents

    def present(totals: np.ndarray, grand: int) -> tuple[np.ndarray, bool]:
        hidden = np.ones(len(totals), dtype=bool)
        overall = grand < k
        if (totals > 0).any():
            found, overall = suppress(totals[totals > 0], grand, k)
            hidden[totals > 0] = found
        return hidden, bool(overall)

    withheld = np.zeros(c.shape, dtype=bool)
    withheld[-1, :-1] = c[-1, :-1] > 0
    own_total = np.zeros(n_trusts, dtype=bool)
    for t in range(n_trusts):
        withheld[t, :-1], own_total[t] = present(c[t, :-1], int(c[t].sum()))
    roles, role_total = present(c.sum(axis=0)[:-1], int(c.sum()))
    by_trust, trust_total = present(c.sum(axis=1)[:-1], int(c[:-1].sum()))
    primary = (x > 0) & (c < k)
    primary[:, -1] = False
    commenters = TextTable(
        withheld, primary & withheld, roles, by_trust & own_total, role_total, trust_total
    )
    tables = []
    for i in range(len(cells.codes)):
        counts = cells.coded[i]
        held = withheld.copy()
        totals = np.zeros(n_trusts, dtype=bool)
        for t in range(n_trusts):
            found, total = themes.row_cells(
                counts[t, :-1].tolist(), c[t, :-1].tolist(), list(~withheld[t, :-1]), k
            )
            held[t, :-1] = found
            totals[t] = total or own_total[t]
        national, national_total = themes.row_cells(
            counts.sum(axis=0)[:-1].tolist(), c.sum(axis=0)[:-1].tolist(), list(~roles), k
        )
        trusts, all_trusts = themes.row_cells(
            counts.sum(axis=1)[:-1].tolist(), c.sum(axis=1)[:-1].tolist(), list(~by_trust), k
        )
        small = (c > 0) & ((counts < k) | (c - counts < k))
        small[:, -1] = False
        tables.append(
            TextTable(
                held,
                small & held,
                np.array(national, dtype=bool),
                np.array(trusts, dtype=bool) & totals,
                national_total or role_total,
                all_trusts or trust_total,
            )
        )
    assert n_roles == len(roles)
    return TextDecision(decision.survey, cells, k, commenters, tables)


def _subtract(decision: TextDecision, i: int, trust: str, role: str) -> int | None:
    """The attack: the national count of a role minus the other trusts' printed counts."""
    cells = decision.cells
    table = decision.codes[i]
    r = cells.roles.index(role)
    if table.roles[r]:
        return None
    left = int(cells.coded[i][:, r].sum())
    for t, other in enumerate(cells.trusts):
        if other == trust:
            continue
        if table.withheld[t, r]:
            return None
        left -= int(cells.coded[i][t, r])
    return left - int(cells.coded[i][-1, r])


@pytest.mark.parametrize(
    "small",
    [
        pytest.param({"RA1": 3}, id="one-small-group-in-one-trust"),
        pytest.param({"RA1": 3, "RC3": 2}, id="in-two-trusts"),
        pytest.param(dict.fromkeys(TRUSTS, 3), id="in-every-trust"),
    ],
)
def test_the_audit_failed_before_and_passes_now(
    store: Store, tmp_path: Path, small: dict[str, int]
) -> None:
    _hard(store, tmp_path, small)
    decision = _decision(store)
    cells = decision.cells
    i = cells.codes.index(THEME)
    old = _before(decision)
    failed = audit_text(old, "w").failures
    assert failed, "the old pattern should have been found too narrow"
    # A cell fails only after the whole wave's programme (every code, every trust free):
    # not a weakness of the quicker checks. The small groups are pinned exactly.
    assert all(i.how == "lp" for c in failed for i in c.intervals.values())
    assert any(i.width == 0 for c in failed for i in c.intervals.values())
    exact = len(small) == 1  # every cell by the whole programme, once (about 10 s)
    if exact:
        pinned = audit_text(old, "w", exact=True).failures
        assert {(c.table, c.trust, c.role) for c in pinned} == {
            (c.table, c.trust, c.role) for c in failed
        }
    narrowed = {(c.table, c.trust, c.role) for c in failed}
    if len(small) == 1:
        # National minus the other trusts gave RA1's clinical directors back, exactly.
        assert _subtract(old, i, "RA1", CD) == 3
        assert ("text public_esteem", "RA1", CD) in narrowed
        assert ("text commenters", "RA1", CD) in narrowed
    result = audit_text(decision, "w")
    assert result.cells and not result.failures, [
        (c.table, c.trust, c.role, c.intervals) for c in result.failures[:5]
    ]
    # Each small group is among the cells audited, with width to spare.
    for trust in small:
        mine = [c for c in result.cells if c.trust == trust and c.role == CD]
        assert {c.table for c in mine} >= {"text commenters", "text public_esteem"}
        assert all(c.intervals["commenters"].width >= 5 for c in mine if "commenters" in c.required)
        assert _subtract(decision, i, trust, CD) is None
    if exact:
        solved = audit_text(decision, "w", exact=True)
        assert not solved.failures
        assert all(i.how == "lp" for c in solved.cells for i in c.intervals.values())


def test_a_group_the_survey_withholds_in_a_trust_is_withheld_in_its_text(
    store: Store, tmp_path: Path
) -> None:
    _hard(store, tmp_path, {"RA1": 3})
    decision = _decision(store)
    people = decision.survey.respondents
    for table in [decision.commenters, *decision.codes]:
        assert not (people.withheld[:-1, :-1] & ~table.withheld[:-1, :-1]).any()
        # National role totals the survey withholds are withheld in the text too.
        assert not (people.roles & ~table.roles).any()
    t, r = decision.cells.trusts.index("RA1"), decision.cells.roles.index(CD)
    assert people.withheld[t, r] and decision.commenters.withheld[t, r]
    # The complement the survey chose for RA1's clinical directors is hidden in the text.
    partners = np.flatnonzero(people.withheld[t, :-1])
    assert len(partners) >= 2
    assert all(decision.codes[0].withheld[t, p] for p in partners)


def test_a_trust_report_never_shows_what_the_decision_withholds(
    store: Store, tmp_path: Path
) -> None:
    from sharedground.report import build
    from sharedground.report.compose import compose
    from sharedground.report.render import render_html

    _hard(store, tmp_path, {"RA1": 3, "RC3": 2})
    context = build.load(store, "w")
    decision = _decision(store)
    cells = decision.cells
    survey = context.disclosure
    labels = {
        o.id: o.label
        for o in instrument_of("dmr-2015").item("role").options  # type: ignore[union-attr]
    }
    shown_anything = False
    for trust in TRUSTS:
        page = build.trust_input(context, trust)
        said = page.said
        assert said is not None and said.trust == trust
        t = cells.trusts.index(trust)
        for r, role in enumerate(cells.roles):
            hidden_group = bool(survey.respondents.withheld[t, r])
            if hidden_group or decision.commenters.withheld[t, r]:
                assert said.commenters[r] == "–", (trust, role)
            else:
                assert said.commenters[r] == str(cells.commenters[t, r])
            for theme in said.themes:
                i = cells.codes.index(theme.code)
                if hidden_group or decision.codes[i].withheld[t, r]:
                    assert theme.cells[r] == "–", (trust, role, theme.code)
                else:
                    shown_anything = True
                    assert theme.cells[r].startswith(f"{cells.coded[i][t, r]} (")
                # A quotation is attributed only to a group whose count is shown.
                quoted = {q.role for q in theme.quotations}
                if theme.cells[r] == "–":
                    assert labels[role] not in quoted, (trust, role, theme.code)
        html = render_html(compose(page))
        assert "Themes in this trust" in html
    assert shown_anything
    # Before, a trust's quotations came from every group of the trust with enough
    # respondents, whatever the survey withheld: RA1's complement group was quoted.
    t = cells.trusts.index("RA1")
    complement = [
        role
        for r, role in enumerate(cells.roles)
        if survey.respondents.withheld[t, r] and role != CD
    ]
    with store.session() as session:
        wave = store.get_wave(session, "w")
        frame = frames.get(session, "dmr-themes")
        organisation = sources.trust_id(session, "RA1")
        old = quotations.pick(
            store, session, wave, frame, THEME, count=8, organisation_id=organisation
        )
    assert {labels[role] for role in complement} & {q.role for q in old}
    ra1 = build.trust_input(context, "RA1").said
    assert ra1 is not None
    quoted = {q.role for theme in ra1.themes for q in theme.quotations}
    assert not quoted & {labels[role] for role in [*complement, CD]}


def _small_trusts(store: Store, tmp_path: Path, n_trusts: int = 80) -> None:
    """A wave shaped like the demo's 2015 one: many trusts of one to three respondents
    (every cell small), everyone writes a comment. The team codes THEME on every second
    comment and "variation within trust" on every fifth, never "variation between trusts"
    (its parent, "variation", is then exactly the code beside it, as with a keyword script).
    """
    rng = random.Random(2015)
    sizes: dict[str, dict[str, int]] = {}
    for t in range(n_trusts):
        group = sizes[f"S{t:03d}"] = dict.fromkeys(ROLES, 0)
        for _ in range(rng.choice([1, 2, 3])):
            group[rng.choice(ROLES)] += 1
    sized_wave(store, tmp_path, sizes, name="w", texts=_text)
    with store.session() as session:
        setup = ready_to_code(store, session, "w")
        codes, team = setup.codes, setup.team
        for i, source in enumerate(setup.sources):
            if i % 2 == 0:
                coding.add(session, source, codes[THEME], team)
            if i % 5 == 0:
                coding.add(session, source, codes["variation_within_trust"], team)


def test_a_wave_of_small_trusts_prints_its_national_margins(store: Store, tmp_path: Path) -> None:
    """Issue #13: on the demo's wave every trust's cells are withheld, and the decision
    withheld every national figure too. "Variation between trusts", never coded, can rise
    in a cell only with its parent, which moves only with the code beside it; the moves
    tried missed that, the cells went to the programmes, their budget ran out, no cell
    was left to be a partner, and the national totals went, of every table. The national
    figures of the commenters and of a common code must print, and the audit pass."""
    _small_trusts(store, tmp_path)
    decision = _decision(store)
    cells = decision.cells
    c = cells.commenters
    assert (c[:-1, :-1] < decision.threshold).all()  # every trust's cell is small
    assert len(cells.trusts) == 80 and (c[:-1, :-1] > 0).sum() > 120
    between = cells.codes.index("variation_between_trusts")
    assert cells.coded[between].sum() == 0
    # Every group's comments in a trust are withheld, as they must be ...
    assert decision.commenters.withheld[:-1, :-1][c[:-1, :-1] > 0].all()
    # ... but the national figures print: the commenters per role and in all,
    assert not decision.commenters.roles.any() and not decision.commenters.role_total
    assert not decision.commenters.trust_total
    # and the common code's per role and in all (half coded: far from small).
    i = cells.codes.index(THEME)
    national = cells.coded[i].sum(axis=0)[:-1]
    assert (national >= 3).all() and (c.sum(axis=0)[:-1] - national >= 3).all()
    assert not decision.codes[i].roles.any() and not decision.codes[i].role_total
    # A code the team never used is withheld nationally (0 is small), nothing else.
    assert decision.codes[between].roles.all()
    result = audit_text(decision, "w")
    assert result.cells and not result.failures, [
        (c.table, c.trust, c.role, c.intervals) for c in result.failures[:5]
    ]


def test_cells_the_budget_left_unsolved_cost_no_national_figure() -> None:
    """Where no certified move settles a cell and no partner is left, the decision withheld
    the national totals as soon as its budget of programmes was spent, proven or not.

    Fifty trusts of one to three respondents, everyone comments; a frame three levels deep:
    a theme with two codes, one of them with two codes under it, "never" (never applied)
    and "some" (every fifth commenter, with its parent and the theme, and so with "wide",
    the theme's other code, applied to every third as well). "Never" rises in a cell only
    if its parent and "some" come from another trust, and the theme with them, which
    then takes "wide" along: no certified move does that. Every cell is proven by the
    programmes around its trust (those that hold the family's codes in its role), and the
    audit passes, so no national figure need go."""
    from sharedground.analysis.disclosure.cells import WaveCells
    from sharedground.analysis.disclosure.decide import decide_cells

    rng = random.Random(7)
    n_trusts = 50
    shape = (n_trusts + 1, len(ROLES) + 1)
    codes = ["theme", "wide", "narrow", "never", "some"]
    x = np.zeros(shape, dtype=np.int64)
    coded = np.zeros((len(codes), *shape), dtype=np.int64)
    n = 0
    for t in range(n_trusts):
        for _ in range(rng.choice([1, 2, 3])):
            r = rng.randrange(len(ROLES))
            x[t, r] += 1
            have = set()
            if n % 5 == 0:
                have |= {"some", "narrow", "theme", "wide"}
            if n % 3 == 0:
                have |= {"wide", "theme"}
            for code in have:
                coded[codes.index(code), t, r] += 1
            n += 1
    trusts = [f"T{t}" for t in range(n_trusts)]
    empty = np.zeros((0, *shape), dtype=np.int64)
    survey = decide_cells(WaveCells(trusts, ROLES, [], empty, empty, x), 3)
    cells = TextCells(
        trusts,
        ROLES,
        codes,
        codes,
        [0, 1, 1, 2, 2],
        [None, 0, 0, 2, 2],
        x.copy(),  # everyone comments
        coded,
        coded.copy(),  # one comment each
        items=1,
    )
    decision = decide_text(survey, cells)
    c = decision.commenters
    assert c.withheld[:-1, :-1][x[:-1, :-1] > 0].all()  # every trust's cell is small
    assert not c.roles.any() and not c.role_total and not c.trust_total
    for i, code in enumerate(codes):
        table = decision.codes[i]
        if code == "never":
            assert table.roles.all()  # 0 is small
        else:
            assert (coded[i].sum(axis=0)[:-1] >= 3).all()
            assert not table.roles.any() and not table.role_total, code
    result = audit_text(decision, "w")
    assert result.cells and not result.failures


def test_the_demo_wave_passes_with_its_comments_coded(sqlite_url: str, tmp_path: Path) -> None:
    """The demo's 2015 wave (`sharedground demo` codes no comment: a sample is coded here,
    as a team would, 70% of the comments with one or two codes each).

    `make test` audits the text tables with the trust x role table and the charts (`--by
    none`, seconds); `make soak` adds the national tables by every attribute (minutes: 7 of
    the suite's 44 went on them), which tests/analysis/test_disclosure_attributes.py covers
    on the hard-built waves in `make test`.
    """
    from click.testing import CliRunner

    from sharedground import synth
    from sharedground.cli import main

    store = Store(sqlite_url)
    store.init()
    try:
        cohort = synth.generate("2015", seed=2015)
        path = tmp_path / "cohort.csv"
        synth.write(cohort, synth.instrument_for("2015"), path)
        import_file(store, path, "2015", synth.instrument_for("2015"))
        with store.session() as session:
            added = sources.add_comments(store, session, store.get_wave(session, "2015"))
            frame = frames.save(session, frames.builtin("dmr-themes"))
            codes = list(coding.codes_of(session, frame).values())
            leaves = [c for c in codes if not any(d.parent_id == c.id for d in codes)]
            team = coding.get_coder(session, "team")
            rng = random.Random(0)
            for source in sources.list_sources(session):
                if rng.random() < 0.7:
                    for code in rng.sample(leaves, rng.choice([1, 1, 2])):
                        coding.add(session, source, code, team)
        assert added.added > 500
    finally:
        store.dispose()
    every = [] if os.environ.get("SHAREDGROUND_SOAK") else ["--by", "none"]
    result = CliRunner().invoke(
        main, ["disclosure", "audit", "--wave", "2015", "--database", sqlite_url, *every]
    )
    assert result.exit_code == 0, result.output
    assert "Comments coded with dmr-themes@1" in result.output
    assert "PASS" in result.output


def _random_cells(
    rng: random.Random, n_trusts: int, *, pinned: bool = False
) -> tuple[object, TextCells]:
    """A small wave made up at the level of the counts: respondents per trust x role, the
    commenters among them, and a frame of three codes (a theme with two codes under it).
    `pinned`: the first code under the theme is never applied, and the theme is exactly the
    second (as when a script codes only it)."""
    from sharedground.analysis.disclosure.cells import WaveCells

    shape = (n_trusts + 1, 4 + 1)
    x = np.zeros(shape, dtype=np.int64)
    x[:-1, :-1] = [
        [rng.choice([0, 1, 2, 3, 4, 6, 9, 12]) for _ in range(4)] for _ in range(n_trusts)
    ]
    x[-1, :-1] = [rng.choice([0, 0, 1, 2]) for _ in range(4)]
    c = np.array([[rng.randint(0, int(v)) for v in row] for row in x], dtype=np.int64)
    c[:, -1] = 0
    children = [
        np.array([[rng.randint(0, int(v)) for v in row] for row in c], dtype=np.int64)
        for _ in range(2)
    ]
    parent = np.minimum(
        c, np.maximum(*children) + np.array([[rng.randint(0, 2) for _ in row] for row in c])
    )
    coded = np.stack([parent, *children])

    def more(k: np.ndarray) -> np.ndarray:
        return np.array([[rng.randint(0, int(v)) for v in row] for row in k], dtype=np.int64)

    # Comments: each respondent coded wrote one to three (items=3); a theme's comments are
    # those of the codes under it and perhaps more.
    low = [k + more(k) for k in children]
    top = np.minimum(3 * parent, np.maximum(np.maximum(*low), parent) + more(parent))
    comments = np.stack([top, *low])
    if pinned:
        for counts in (coded, comments):
            counts[1] = 0
            counts[0] = counts[2]
    trusts = [f"T{i}" for i in range(n_trusts)]
    survey = WaveCells(
        trusts,
        ROLES,
        [],
        np.zeros((0, *shape), dtype=np.int64),
        np.zeros((0, *shape), dtype=np.int64),
        x,
    )
    cells = TextCells(
        trusts,
        ROLES,
        ["theme", "one", "two"],
        ["Theme", "One", "Two"],
        [0, 1, 1],
        [None, 0, 0],
        c,
        coded,
        comments,
        items=3,
    )
    return survey, cells


# 200 seeds pass (8 min); these include the two that found faults while this was written
# (a paired move into a printed cell; flows reading the trusts' total without the whole).
# The pinned waves (60 seeds run once, 4 kept) are where a code is certified to rise under
# its parent raised first (`_under_raised_parents`): 763 of 1057 cells asked in 60 seeds.
@pytest.mark.parametrize(
    ("seed", "pinned"),
    [*((s, False) for s in [*range(12), 15, 127]), *((s, True) for s in range(4))],
)
def test_certified_intervals_lie_inside_the_exact_ones(seed: int, pinned: bool) -> None:
    """What the quicker checks certify must be possible: every certified (or partly
    solved) interval lies inside the interval the whole wave's programme finds, and so
    the audit never passes a cell the programmes would fail."""
    from sharedground.analysis.disclosure.decide import decide_cells

    rng = random.Random(seed)
    survey_cells, cells = _random_cells(rng, rng.choice([3, 4, 6]), pinned=pinned)
    decision = decide_text(decide_cells(survey_cells, 5), cells)  # type: ignore[arg-type]
    quick = audit_text(decision, "r")
    exact = audit_text(decision, "r", exact=True)
    assert len(quick.cells) == len(exact.cells)
    for one, other in zip(quick.cells, exact.cells, strict=True):
        assert (one.table, one.trust, one.role) == (other.table, other.trust, other.role)
        for name, interval in one.intervals.items():
            truth = other.intervals[name]
            assert truth.low - 1e-6 <= interval.low and interval.high <= truth.high + 1e-6, (
                one.table,
                one.trust,
                one.role,
                name,
                interval,
                truth,
            )
    assert not exact.failures, [(c.table, c.trust, c.role, c.intervals) for c in exact.failures]
