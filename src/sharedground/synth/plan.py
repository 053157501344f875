"""Target counts of the synthetic cohort: what every group must answer, cell by cell.

A *plan* fixes, per role group and per question cell, how many respondents fall in each
ordered block of answers; the assignment step (`synth.assign`) then decides *who*. Blocks run
from the end of the scale the published row counts to the other end, then the non-valid
answers:

=====================  =============================================  ===========================
cell                   blocks                                         published figure
=====================  =============================================  ===========================
Likert statement       ``counted, other, nonvalid``                   count, ``inferred_valid_n``
``local_rating``       ``high (4-5), mid (3), low (1-2), missing``    both rows share valid n
``nurture_satisfaction`` ``rest (3-5), low (1-2), missing``           count = dissatisfied
grid row (2.11)        ``yes, no, nonvalid``                          count = yes
pick up to three       count per option, capacity 3 x group           whole group = denominator
=====================  =============================================  ===========================

"counted" is the answer the published row counts, in the wording *as asked*: for reverse-scored
items (``reverse: true``) that is disagreement. Non-valid Likert answers are later split into
blanks and "don't know"; non-valid ratings are all blank (the scale has no "don't know").

The 2015 plan is read from the reference data and reproduces every row of tables 2.1-2.11
exactly at the published size (472). ``scale`` gives any other size: group sizes by largest
remainder, then each cell's partition of its group by largest remainder of the exact 2015
fractions, so that scaling to the published size is the identity. The 2002 plan is derived in
``synth.plan2002``.

``barriers`` also gets an unpublished ``other`` option: ``OTHER_BARRIER_SHARE`` of the group,
never more than the free slots left by the published options (so nobody exceeds three).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cache
from typing import Any, Literal

from sharedground.reference import ROLES, published_2015

Wave = Literal["2015", "2002"]

#: Role groups in report order; rows of the cohort are laid out group by group.
GROUPS: tuple[str, ...] = ROLES

#: Everybody picks at most this many options in tables 2.8-2.10.
MAX_CHOICES = 3

#: Share of each group that ticks the unpublished barrier "something else" (capped by the slots
#: the published options leave free).
OTHER_BARRIER_SHARE = Fraction(3, 100)

LIKERT_BLOCKS = ("counted", "other", "nonvalid")
GRID_BLOCKS = ("yes", "no", "nonvalid")
LOCAL_RATING_BLOCKS = ("high", "mid", "low", "missing")
NURTURE_BLOCKS = ("rest", "low", "missing")

#: Tables of agreement statements (table 2.1 mixes ratings and statements).
LIKERT_TABLES = ("table_2.2", "table_2.3", "table_2.4", "table_2.5", "table_2.6", "table_2.7")
_MULTI_TABLES = {
    "table_2.8": "barriers",
    "table_2.9": "factors_positive",
    "table_2.10": "factors_negative",
}


def round_half_up(value: Fraction) -> int:
    """Round a non-negative fraction to the nearest integer, halves up (as reports do)."""
    return int(value + Fraction(1, 2))


def apportion(quotas: Sequence[Fraction], total: int) -> tuple[int, ...]:
    """Integers near `quotas` summing to `total` (largest-remainder method).

    Every part is the floor or the ceiling of its quota when the quotas sum to `total`; when they
    do not (published percentages that add to 99 or 101), the difference goes to (or comes from)
    the parts with the largest (smallest) remainders. Ties go to the earlier part, so the result
    is deterministic.
    """
    floors = [int(q) for q in quotas]
    missing = total - sum(floors)
    remainders = [q - f for q, f in zip(quotas, floors, strict=True)]
    parts = list(floors)
    if missing > 0:
        order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
        for i in order[:missing]:
            parts[i] += 1
    elif missing < 0:
        order = sorted(range(len(parts)), key=lambda i: (remainders[i], -i))
        for i in [j for j in order if parts[j] > 0][:-missing]:
            parts[i] -= 1
    return tuple(parts)


def rescale(parts: Sequence[int], total: int) -> tuple[int, ...]:
    """Integer parts (summing to anything) rescaled to sum to `total`; identity when equal."""
    base = sum(parts)
    if base == 0:
        return apportion([Fraction(total, len(parts))] * len(parts), total)
    return apportion([Fraction(p * total, base) for p in parts], total)


@dataclass(frozen=True)
class Blocks:
    """Per group, the sizes of the ordered answer blocks of one question cell."""

    labels: tuple[str, ...]
    sizes: Mapping[str, tuple[int, ...]]

    def get(self, group: str, label: str) -> int:
        """The size of one block in one group."""
        return self.sizes[group][self.labels.index(label)]

    def scaled(self, group_sizes: Mapping[str, int]) -> Blocks:
        """The same partition of each group, for new group sizes."""
        return Blocks(self.labels, {g: rescale(self.sizes[g], group_sizes[g]) for g in GROUPS})


@dataclass(frozen=True)
class Choices:
    """Per group, how many respondents tick each option of a pick-up-to-three question."""

    options: tuple[str, ...]
    counts: Mapping[str, tuple[int, ...]]

    def get(self, group: str, option: str) -> int:
        """Respondents of one group ticking one option."""
        return self.counts[group][self.options.index(option)]

    def scaled(self, base_sizes: Mapping[str, int], group_sizes: Mapping[str, int]) -> Choices:
        """The same shares of each group, never more ticks than `MAX_CHOICES` per head."""
        counts: dict[str, tuple[int, ...]] = {}
        for g in GROUPS:
            old = self.counts[g]
            # The free slots are one more part, so the rescaled total stays within capacity.
            parts = [*old, MAX_CHOICES * base_sizes[g] - sum(old)]
            counts[g] = rescale(parts, MAX_CHOICES * group_sizes[g])[:-1]
        return Choices(self.options, counts)


@dataclass(frozen=True)
class Plan:
    """Every target count of one cohort (see the module docstring)."""

    wave: Wave
    group_sizes: Mapping[str, int]
    likert: Mapping[str, Blocks]
    ratings: Mapping[str, Blocks]
    multi: Mapping[str, Choices]
    grid: Mapping[str, Blocks]
    #: Departures from the published figures, in words (empty for an exact plan).
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Respondents in all."""
        return sum(self.group_sizes.values())


def group_sizes_for(base: Mapping[str, int], respondents: int) -> dict[str, int]:
    """Group sizes for `respondents` in the proportions of `base` (largest remainder)."""
    if respondents < 1:
        raise ValueError(f"respondents must be at least 1 (got {respondents})")
    return dict(zip(GROUPS, rescale([base[g] for g in GROUPS], respondents), strict=True))


def scale(plan: Plan, respondents: int) -> Plan:
    """The plan for another number of respondents, keeping every proportion."""
    sizes = group_sizes_for(plan.group_sizes, respondents)
    if sizes == dict(plan.group_sizes):
        return plan
    return replace(
        plan,
        group_sizes=sizes,
        likert={k: b.scaled(sizes) for k, b in plan.likert.items()},
        ratings={k: b.scaled(sizes) for k, b in plan.ratings.items()},
        multi={k: c.scaled(plan.group_sizes, sizes) for k, c in plan.multi.items()},
        grid={k: b.scaled(sizes) for k, b in plan.grid.items()},
    )


# -- the 2015 plan from the reference data ------------------------------------------------------


def published_rows(table_id: str) -> list[dict[str, Any]]:
    """The rows of one published table (reference data)."""
    for t in published_2015()["tables"]:
        if t["id"] == table_id:
            rows: list[dict[str, Any]] = t["rows"]
            return rows
    raise KeyError(f"no published table {table_id!r}")


def _counted(row: Mapping[str, Any], group: str) -> tuple[int, int]:
    """(count, valid n) of one group in one published row."""
    return int(row["groups"][group]["count"]), int(row["inferred_valid_n"][group])


def _likert_blocks(row: Mapping[str, Any], sizes: Mapping[str, int]) -> Blocks:
    out: dict[str, tuple[int, ...]] = {}
    for g in GROUPS:
        count, valid = _counted(row, g)
        out[g] = (count, valid - count, sizes[g] - valid)
    return Blocks(LIKERT_BLOCKS, out)


def other_barrier_count(group_size: int, ticked: int) -> int:
    """Respondents ticking "something else": a small share, within the free slots."""
    free = MAX_CHOICES * group_size - ticked
    return max(0, min(round_half_up(OTHER_BARRIER_SHARE * group_size), free))


@cache
def plan_2015() -> Plan:
    """The exact plan of the published 2015 survey (472 respondents)."""
    sizes: dict[str, int] = {
        g: int(n) for g, n in published_2015()["study"]["respondents"]["by_group"].items()
    }
    likert: dict[str, Blocks] = {}
    ratings: dict[str, Blocks] = {}
    rating_rows = published_rows("table_2.1")
    local_high, local_low = rating_rows[0], rating_rows[1]
    local: dict[str, tuple[int, ...]] = {}
    for g in GROUPS:
        high, valid = _counted(local_high, g)
        low, valid_low = _counted(local_low, g)
        if valid != valid_low:
            raise ValueError(f"local_rating: the two rows disagree on the valid n of {g}")
        local[g] = (high, valid - high - low, low, sizes[g] - valid)
    ratings["local_rating"] = Blocks(LOCAL_RATING_BLOCKS, local)
    for row in rating_rows[2:]:
        if row["item"] == "nurture_satisfaction":
            nurture: dict[str, tuple[int, ...]] = {}
            for g in GROUPS:
                low, valid = _counted(row, g)
                nurture[g] = (valid - low, low, sizes[g] - valid)
            ratings["nurture_satisfaction"] = Blocks(NURTURE_BLOCKS, nurture)
        else:
            likert[row["item"]] = _likert_blocks(row, sizes)
    for table_id in LIKERT_TABLES:
        for row in published_rows(table_id):
            likert[row["item"]] = _likert_blocks(row, sizes)

    multi: dict[str, Choices] = {}
    for table_id, item in _MULTI_TABLES.items():
        rows = published_rows(table_id)
        options = tuple(r["option"] for r in rows)
        counts: dict[str, tuple[int, ...]] = {}
        for g in GROUPS:
            per_option = []
            for r in rows:
                count, valid = _counted(r, g)
                if valid != sizes[g]:
                    raise ValueError(f"{table_id}: expected the whole group as denominator")
                per_option.append(count)
            counts[g] = tuple(per_option)
        multi[item] = Choices(options, counts)
    barriers = multi["barriers"]
    multi["barriers"] = Choices(
        (*barriers.options, "other"),
        {
            g: (*barriers.counts[g], other_barrier_count(sizes[g], sum(barriers.counts[g])))
            for g in GROUPS
        },
    )

    grid: dict[str, Blocks] = {}
    for row in published_rows("table_2.11"):
        yes: dict[str, tuple[int, ...]] = {}
        for g in GROUPS:
            count, valid = _counted(row, g)
            yes[g] = (count, valid - count, sizes[g] - valid)
        grid[row["option"]] = Blocks(GRID_BLOCKS, yes)
    return Plan("2015", sizes, likert, ratings, multi, grid)
