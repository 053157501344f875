"""Before and after, per initiative: the paired change of participants and of non-participants
of the same trust, and the difference between the two.

A change among participants alone cannot tell the initiative from what happened to everyone at
the same time (a secular change); the same change among the trust's non-participants is the
comparison that can, and the difference of the two mean changes is reported with its 95%
interval (Welch). Each result carries that caveat in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from sharedground.evaluation.paired import (
    MIN_PAIRS,
    PairedResult,
    mcnemar,
    sign_test,
    signed_rank,
)
from sharedground.evaluation.tables import as_polars

ItemKind = Literal["agree", "rating"]

CAVEAT = (
    "A before/after change alone cannot separate the initiative from what happened to "
    "everyone over the same time (secular change): read it beside the non-participants' change "
    "and the comparison of trusts that started with those that did not."
)


@dataclass(frozen=True)
class GroupChange:
    """The paired tests of one group (participants or non-participants) on one item."""

    group: str
    tests: list[PairedResult]


@dataclass(frozen=True)
class Difference:
    """Participants' mean change minus non-participants' mean change (Welch 95% CI)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    note: str


@dataclass(frozen=True)
class BeforeAfter:
    """One initiative's before/after evaluation of one pulse item."""

    initiative_id: Any
    item: str
    kind: ItemKind
    participants: GroupChange
    non_participants: GroupChange | None
    difference: Difference | None
    caveat: str = field(default=CAVEAT)

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (one per group and test) for printing and export."""
        out = []
        for group in (self.participants, self.non_participants):
            if group is None:
                continue
            for t in group.tests:
                out.append(
                    {"initiative_id": self.initiative_id, "item": self.item, "group": group.group}
                    | t.as_dict()
                )
        return out


def _tests(kind: ItemKind, before: np.ndarray, after: np.ndarray, min_pairs: int) -> list[Any]:
    if kind == "agree":
        return [mcnemar(before, after, min_pairs=min_pairs)]
    return [
        signed_rank(before, after, min_pairs=min_pairs),
        sign_test(before, after, min_pairs=min_pairs),
    ]


def _difference(p: np.ndarray, q: np.ndarray, min_pairs: int) -> Difference:
    from scipy.stats import t as t_dist

    if p.size < min_pairs or q.size < min_pairs:
        return Difference(None, None, None, None, "not enough to judge")
    vp, vq = p.var(ddof=1) / p.size, q.var(ddof=1) / q.size
    est = float(p.mean() - q.mean())
    se = float(np.sqrt(vp + vq))
    if se == 0:
        return Difference(est, est, est, None, "no variation in the changes")
    df = (vp + vq) ** 2 / (vp**2 / (p.size - 1) + vq**2 / (q.size - 1))
    crit = float(t_dist.ppf(0.975, df))
    pval = float(2 * t_dist.sf(abs(est) / se, df))
    return Difference(
        est, est - crit * se, est + crit * se, pval,
        f"difference of mean changes, Welch t ({df:.0f} df)",
    )  # fmt: skip


def before_after(
    pulse: Any,
    items: dict[str, ItemKind],
    *,
    initiative_id: Any | None = None,
    min_pairs: int = MIN_PAIRS,
) -> list[BeforeAfter]:
    """Evaluate each initiative (or just `initiative_id`) on each item.

    `pulse` has one row per person: `initiative_id`, `participant` (bool), and for each item
    `before_<item>` and `after_<item>` (null when not answered).
    """
    columns = ["initiative_id", "participant"]
    columns += [f"{w}_{i}" for i in items for w in ("before", "after")]
    frame = as_polars(pulse, "pulse", columns)
    if initiative_id is not None:
        frame = frame.filter(pl.col("initiative_id") == initiative_id)
    out = []
    for (init,), part in frame.sort("initiative_id").group_by("initiative_id", maintain_order=True):
        for item, kind in items.items():
            changes = {}
            groups: dict[bool, GroupChange] = {}
            for flag in (True, False):
                rows = part.filter(pl.col("participant") == flag)
                if rows.height == 0:
                    continue
                b = rows[f"before_{item}"].cast(pl.Float64).to_numpy()
                a = rows[f"after_{item}"].cast(pl.Float64).to_numpy()
                name = "participants" if flag else "non_participants"
                groups[flag] = GroupChange(name, _tests(kind, b, a, min_pairs))
                both = ~np.isnan(a) & ~np.isnan(b)
                changes[flag] = a[both] - b[both]
            if True not in groups:
                continue
            diff = (
                _difference(changes[True], changes[False], min_pairs) if False in groups else None
            )
            out.append(BeforeAfter(init, item, kind, groups[True], groups.get(False), diff))
    return out
