"""The 2002 plan: target counts from the 2002 percentages the 2016 report prints.

The 2002 survey (1,092 postal respondents: 103 / 168 / 376 / 445) is known only through the
percentages the 2016 report quotes (`y2002` in the reference rows) and a handful of exact
2002 fractions in `study.y2002_sample.note`. The plan is built per published row:

* **Exact 2002 fractions** (``KNOWN_2002``, from that note) are used as they are.
* **Group percentage published**: valid n = the group minus a small missing share, count such
  that ``count / valid`` is strictly within half a point of the percentage (never exactly on
  .5, so the figure rounds back the same under any rounding rule). Table 2.1 rows use a missing
  share of ``MISSING_TABLE_2_1`` (1.5%, what the exact fractions show: 102/103, 439/445 and
  443/445); other rows keep their 2015 valid fraction.
* **Only the overall percentage published** (or some groups only): the unpublished groups keep
  the 2015 between-group pattern, shifted by one common amount on the log-odds scale until the
  overall figure comes back; then the combination of counts nearest to that (and to the default
  valid n) whose overall percentage rounds to the published one is chosen.
* **Nothing published**: the 2015 group proportions (count / group and valid / group) scaled to
  the 2002 group sizes. These are placeholders, not 2002 evidence.
* ``pressure_early_discharge``: 2002 is published as agreement with the wording as asked (48%
  overall, 45% of clinical directors), so those are targets on the complement of the counted
  (reverse-scored) answer.
* ``barriers``: the whole group is the denominator. Where the published 2002 options (insufficient
  resources at 76%) would leave no room under three choices each, the placeholder options are
  scaled down until the question fills at most ``BARRIER_FILL_2002`` of the available slots.

Two published 2002 overall figures cannot be reproduced from their own group percentages and the
exact fractions above; they are recorded in ``Plan.notes`` (and the tests) rather than forced:
``local_rating`` positive (47%: the exact chief-executive and clinical-director fractions allow at
most 46%) and ``outlook_deteriorate`` (13%: the four group figures give 15-16% with any plausible
valid n).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sharedground.reference import group_sizes
from sharedground.synth.plan import (
    GROUPS,
    LIKERT_BLOCKS,
    LIKERT_TABLES,
    LOCAL_RATING_BLOCKS,
    MAX_CHOICES,
    NURTURE_BLOCKS,
    Blocks,
    Choices,
    Plan,
    other_barrier_count,
    plan_2015,
    published_rows,
    rescale,
    round_half_up,
)

#: Non-valid share of the table 2.1 questions in 2002 (see the module docstring).
MISSING_TABLE_2_1 = Fraction(15, 1000)

#: How far (in respondents) a valid n may move from its default to reproduce a percentage.
VALID_SLACK = 3

#: Candidate (valid n, counts) per group kept for the search over the four groups (12^4
#: combinations at most, searched at once with numpy).
CANDIDATES_PER_GROUP = 12

#: Pick-up-to-three questions fill at most this share of the 3 x group slots in 2002.
BARRIER_FILL_2002 = Fraction(9, 10)

#: Exact 2002 (count, valid n) pairs quoted in the reference `study.y2002_sample.note`.
KNOWN_2002: dict[tuple[str, str], dict[str, tuple[int, int]]] = {
    ("local_rating", "high"): {"chief_executive": (78, 103), "clinical_director": (164, 443)},
    ("outlook_improve", "counted"): {
        "chief_executive": (80, 102),
        "clinical_director": (123, 439),
    },
    ("outlook_deteriorate", "counted"): {"clinical_director": (113, 439)},
}


@dataclass(frozen=True)
class _Measure:
    """One published 2002 percentage series on a cell: groups and/or overall."""

    name: str
    pct: Mapping[str, int]  # group or "overall" -> published %
    p2015: Mapping[str, float]  # 2015 share per group (the pattern kept where unpublished)


@dataclass(frozen=True)
class _Candidate:
    valid: int
    counts: tuple[int, ...]
    cost: float


def _count(candidate: _Candidate, index: int) -> float:
    return candidate.counts[index]


def _fits(count: int, valid: int, pct: int) -> bool:
    """`count / valid` rounds to `pct` under any rounding rule (never exactly on a half)."""
    return valid > 0 and abs(200 * count - 2 * pct * valid) < valid


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _shift(measure: _Measure, valid: Mapping[str, int]) -> float:
    """Log-odds shift of the 2015 pattern so that the groups give the overall figure."""
    target = measure.pct.get("overall")
    if target is None:
        return 0.0
    share = Fraction(target, 100)

    def overall(delta: float) -> float:
        total = 0.0
        for g in GROUPS:
            p = (
                measure.pct[g] / 100
                if g in measure.pct
                else _expit(_logit(measure.p2015[g]) + delta)
            )
            total += p * valid[g]
        return total / sum(valid.values())

    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if overall(mid) < float(share) else (lo, mid)
    return (lo + hi) / 2


def _candidates(
    group: str,
    measures: Sequence[_Measure],
    default_valid: int,
    size: int,
    deltas: Sequence[float],
    known: Mapping[int, tuple[int, int]],
    slack: int,
) -> list[_Candidate]:
    """Possible (valid, counts) of one group, cheapest first."""
    fixed_valid = {v for _, v in known.values()}
    if len(fixed_valid) > 1:
        raise ValueError(f"{group}: exact 2002 fractions disagree on the valid n")
    valids = (
        sorted(fixed_valid)
        if fixed_valid
        else range(max(1, default_valid - slack), min(size, default_valid + slack) + 1)
    )
    out: list[_Candidate] = []
    for valid in valids:
        options: list[list[tuple[int, float]]] = []
        for i, m in enumerate(measures):
            if i in known:
                options.append([(known[i][0], 0.0)])
            elif group in m.pct:
                options.append(
                    [
                        (c, abs(100 * c / valid - m.pct[group]) / 100)
                        for c in range(valid + 1)
                        if _fits(c, valid, m.pct[group])
                    ]
                )
            else:
                expected = _expit(_logit(m.p2015[group]) + deltas[i]) * valid
                centre = round(expected)
                options.append(
                    [
                        (c, abs(c - expected))
                        for c in range(centre - 1, centre + 2)
                        if 0 <= c <= valid
                    ]
                )
        for combo in itertools.product(*options):
            counts = tuple(c for c, _ in combo)
            if sum(counts) > valid:
                continue
            cost = abs(valid - default_valid) + sum(x for _, x in combo)
            out.append(_Candidate(valid, counts, cost))
    out.sort(key=lambda c: (c.cost, c.valid, c.counts))
    return out[:CANDIDATES_PER_GROUP]


def _solve(
    label: str,
    measures: Sequence[_Measure],
    default_valid: Mapping[str, int],
    known: Mapping[str, Mapping[int, tuple[int, int]]],
    slack: int = VALID_SLACK,
) -> tuple[dict[str, _Candidate], list[str]]:
    """The cheapest group figures reproducing every published percentage of a cell.

    Counts returned are of the published measure itself (complements are not undone here).
    """
    sizes = group_sizes(2002)
    deltas = [_shift(m, default_valid) for m in measures]
    per_group = [
        _candidates(g, measures, default_valid[g], sizes[g], deltas, known.get(g, {}), slack)
        for g in GROUPS
    ]
    # Every combination of the groups' candidates at once: a 4-d grid, one axis per group.
    grids = np.meshgrid(*[np.arange(len(c)) for c in per_group], indexing="ij")
    picks = [g.ravel() for g in grids]

    def per_combination(value: Callable[[_Candidate], float]) -> NDArray[np.float64]:
        """`value` summed over the four groups, for every combination."""
        total: NDArray[np.float64] = np.zeros(picks[0].shape)
        for cands, pick in zip(per_group, picks, strict=True):
            total += np.array([value(c) for c in cands], dtype=np.float64)[pick]
        return total

    valid = per_combination(lambda c: c.valid).astype(np.int64)
    cost = per_combination(lambda c: c.cost)
    miss = np.zeros(valid.shape, dtype=np.int64)
    for i, m in enumerate(measures):
        if "overall" in m.pct:
            count = per_combination(partial(_count, index=i)).astype(np.int64)
            # Integer test of |100 x count / valid - pct| < 1/2, as in `_fits`.
            gap = np.abs(200 * count - 2 * m.pct["overall"] * valid)
            miss += np.where(gap < valid, 0, gap)
    best = int(np.lexsort((cost, miss))[0])
    chosen = tuple(cands[int(pick[best])] for cands, pick in zip(per_group, picks, strict=True))
    notes: list[str] = []
    total_valid = sum(c.valid for c in chosen)
    for i, m in enumerate(measures):
        if "overall" in m.pct:
            got = 100 * sum(c.counts[i] for c in chosen) / total_valid
            if not _fits(sum(c.counts[i] for c in chosen), total_valid, m.pct["overall"]):
                notes.append(
                    f"2002 {label} {m.name}: published overall {m.pct['overall']}% is not "
                    f"reproducible from the group figures; the cohort gives {got:.1f}%"
                )
    return dict(zip(GROUPS, chosen, strict=True)), notes


def _pct_of(y2002: Mapping[str, Any], prefix: str = "") -> dict[str, int]:
    keys = [*GROUPS, "overall"]
    return {k: int(y2002[prefix + k]) for k in keys if prefix + k in y2002}


def _share(blocks: Blocks, group: str, label: str, valid_labels: Sequence[str]) -> float:
    valid = sum(blocks.get(group, lab) for lab in valid_labels)
    return blocks.get(group, label) / valid if valid else 0.5


@cache
def plan_2002() -> Plan:
    """The plan of the 2002 wave at its published size (1,092 respondents)."""
    sizes = group_sizes(2002)
    base = plan_2015()
    notes: list[str] = []
    likert = {k: b.scaled(sizes) for k, b in base.likert.items()}
    ratings = {k: b.scaled(sizes) for k, b in base.ratings.items()}
    table_2_1_valid = {g: sizes[g] - round_half_up(MISSING_TABLE_2_1 * sizes[g]) for g in GROUPS}

    def known_for(cell: str, *blocks: str) -> dict[str, dict[int, tuple[int, int]]]:
        out: dict[str, dict[int, tuple[int, int]]] = {}
        for i, block in enumerate(blocks):
            for g, pair in KNOWN_2002.get((cell, block), {}).items():
                out.setdefault(g, {})[i] = pair
        return out

    rows_2_1 = published_rows("table_2.1")
    # local_rating: positive and negative rows share one valid n per group.
    local = base.ratings["local_rating"]
    measures = [
        _Measure(
            "high",
            _pct_of(rows_2_1[0]["y2002"]),
            {g: _share(local, g, "high", ("high", "mid", "low")) for g in GROUPS},
        ),
        _Measure(
            "low",
            _pct_of(rows_2_1[1]["y2002"]),
            {g: _share(local, g, "low", ("high", "mid", "low")) for g in GROUPS},
        ),
    ]
    solved, found = _solve(
        "local_rating", measures, table_2_1_valid, known_for("local_rating", "high", "low")
    )
    notes += found
    ratings["local_rating"] = Blocks(
        LOCAL_RATING_BLOCKS,
        {
            g: (c.counts[0], c.valid - c.counts[0] - c.counts[1], c.counts[1], sizes[g] - c.valid)
            for g, c in solved.items()
        },
    )

    nurture = base.ratings["nurture_satisfaction"]
    row = next(r for r in rows_2_1 if r["item"] == "nurture_satisfaction")
    solved, found = _solve(
        "nurture_satisfaction",
        [
            _Measure(
                "low",
                _pct_of(row["y2002"]),
                {g: _share(nurture, g, "low", ("rest", "low")) for g in GROUPS},
            )
        ],
        table_2_1_valid,
        {},
    )
    notes += found
    ratings["nurture_satisfaction"] = Blocks(
        NURTURE_BLOCKS,
        {g: (c.valid - c.counts[0], c.counts[0], sizes[g] - c.valid) for g, c in solved.items()},
    )

    likert_rows = [r for r in rows_2_1 if r["item"] in base.likert]
    likert_rows += [r for t in LIKERT_TABLES for r in published_rows(t) if "y2002" in r]
    for row in likert_rows:
        item = row["item"]
        blocks_2015 = base.likert[item]
        p2015 = {g: _share(blocks_2015, g, "counted", ("counted", "other")) for g in GROUPS}
        y = row["y2002"]
        complement = "overall_agree_with_original_wording" in y
        if complement:
            pct = {
                k.removesuffix("_agree_with_original_wording"): int(v)
                for k, v in y.items()
                if k.endswith("_agree_with_original_wording")
            }
            p2015 = {g: 1 - p for g, p in p2015.items()}
        else:
            pct = _pct_of(y)
        in_2_1 = row in rows_2_1
        default_valid = (
            table_2_1_valid
            if in_2_1
            else {g: likert[item].get(g, "counted") + likert[item].get(g, "other") for g in GROUPS}
        )
        solved, found = _solve(
            item, [_Measure("agree", pct, p2015)], default_valid, known_for(item, "counted")
        )
        notes += found
        likert[item] = Blocks(
            LIKERT_BLOCKS,
            {
                g: _likert_parts(c.counts[0], c.valid, sizes[g], complement)
                for g, c in solved.items()
            },
        )

    return Plan(
        "2002", sizes, likert, ratings, {"barriers": _barriers_2002(sizes, notes)}, {}, tuple(notes)
    )


def _likert_parts(count: int, valid: int, size: int, complement: bool) -> tuple[int, int, int]:
    counted = valid - count if complement else count
    return (counted, valid - counted, size - valid)


def _barriers_2002(sizes: Mapping[str, int], notes: list[str]) -> Choices:
    """Barriers in 2002: the published options solved, the others 2015 placeholders."""
    base = plan_2015()
    base_choices = base.multi["barriers"]
    published = [r for r in published_rows("table_2.8") if "y2002" in r]
    options = tuple(o for o in base_choices.options if o != "other")
    placeholders = Choices(
        options, {g: tuple(base_choices.get(g, o) for o in options) for g in GROUPS}
    ).scaled(base.group_sizes, sizes)
    counts = {g: list(placeholders.counts[g]) for g in GROUPS}
    for row in published:
        option = row["option"]
        p2015 = {g: base_choices.get(g, option) / base.group_sizes[g] for g in GROUPS}
        solved, found = _solve(
            f"barriers:{option}",
            [_Measure("chosen", _pct_of(row["y2002"]), p2015)],
            dict(sizes),
            {},
            slack=0,
        )
        notes += found
        for g, c in solved.items():
            counts[g][options.index(option)] = c.counts[0]
    fixed = {options.index(r["option"]) for r in published}
    out: dict[str, tuple[int, ...]] = {}
    for g in GROUPS:
        room = int(BARRIER_FILL_2002 * MAX_CHOICES * sizes[g])
        free = [i for i in range(len(options)) if i not in fixed]
        used_fixed = sum(counts[g][i] for i in fixed)
        used_free = sum(counts[g][i] for i in free)
        if used_fixed + used_free > room:
            shrunk = rescale([counts[g][i] for i in free], room - used_fixed)
            for i, value in zip(free, shrunk, strict=True):
                counts[g][i] = value
        ticked = sum(counts[g])
        out[g] = (*counts[g], other_barrier_count(sizes[g], ticked))
    return Choices((*options, "other"), out)
