"""The groups a table's columns compare: roles, trusts, modes, or any single-choice item."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sharedground.exchange.columns import MODES
from sharedground.instrument import Instrument, SingleItem

FIXED_GROUPINGS = ("role", "trust", "mode")
MODE_LABELS = {"online": "Online", "postal": "Postal", "paper": "Paper entry"}


class GroupingError(ValueError):
    """A grouping that this wave's instrument cannot provide."""


@dataclass(frozen=True)
class Grouping:
    """How to split respondents: an expression over the coded frame and its values."""

    by: str
    expr: pl.Expr
    #: Values of `expr`, in column order, and the id and label each stands for.
    keys: list[object]
    ids: list[str]
    labels: list[str]


def groupings(instrument: Instrument) -> list[str]:
    """Every grouping a wave on this instrument can be analysed by."""
    singles = [
        item.id for item in instrument.items() if isinstance(item, SingleItem) and item.id != "role"
    ]
    return [*FIXED_GROUPINGS, *singles]


def grouping(instrument: Instrument, by: str, frame: pl.DataFrame) -> Grouping:
    """The grouping `by` (role, trust, mode, or a single-choice item id such as country)."""
    if by == "trust":
        codes = sorted(c for c in frame["trust"].unique().to_list() if c is not None)
        return Grouping(by, pl.col("trust"), list(codes), codes, codes)
    if by == "mode":
        return Grouping(
            by,
            pl.col("mode"),
            list(range(1, len(MODES) + 1)),
            list(MODES),
            [MODE_LABELS.get(m, m) for m in MODES],
        )
    try:
        item = instrument.item(by)
    except KeyError:
        item = None
    if not isinstance(item, SingleItem):
        allowed = ", ".join(groupings(instrument))
        raise GroupingError(
            f"cannot group wave answers by {by!r}: instrument {instrument.key} allows {allowed}"
        )
    options = item.options
    return Grouping(
        by,
        pl.col(by),
        list(range(1, len(options) + 1)),
        [o.id for o in options],
        [o.label for o in options],
    )
