"""The scenario's monthly pulse series per initiative's trust, for SPC charts.

Each month about `monthly_respondents` people of the trust answer one agree/not item. The
share moves with the common trend (per month, a twelfth of the yearly trend) and steps up by
the kind's planted effect from the initiative's start month on.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from sharedground.synth.scenario import ScenarioConfig

from sharedground.synth.scenario import ROLE_SHARES, ROLE_SHIFTS


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def monthly_series(
    rng: np.random.Generator,
    config: ScenarioConfig,
    initiatives: pl.DataFrame,
    u: np.ndarray,
    codes: list[str],
    effects: np.ndarray,
    names: list[str],
) -> pl.DataFrame:
    """initiative_id, trust, month (first day), n, positive (count), after_start."""
    index_of = {c: i for i, c in enumerate(codes)}
    mix = float(np.dot(ROLE_SHARES, ROLE_SHIFTS))
    rows: dict[str, list[object]] = {
        k: [] for k in ("initiative_id", "trust", "month", "n", "positive", "after_start")
    }
    offsets = np.arange(-config.months_before, config.months_after)
    for init_id, trust, kind, start in initiatives.select(
        "initiative_id", "trust", "kind", "start_date"
    ).iter_rows():
        first = dt.date(start.year, start.month, 1)
        effect = effects[names.index(kind)]
        p = (
            config.base
            + u[index_of[trust]]
            + mix
            + config.trend * (offsets + config.months_before) / 12
            + np.where(offsets >= 0, effect, 0.0)
        )
        n = np.maximum(1, rng.poisson(config.monthly_respondents, size=offsets.size))
        positive = rng.binomial(n, p)
        rows["initiative_id"] += [init_id] * offsets.size
        rows["trust"] += [trust] * offsets.size
        rows["month"] += [_add_months(first, int(o)) for o in offsets]
        rows["n"] += n.tolist()
        rows["positive"] += positive.tolist()
        rows["after_start"] += (offsets >= 0).tolist()
    return pl.DataFrame(
        rows,
        schema={
            "initiative_id": pl.Int64,
            "trust": pl.String,
            "month": pl.Date,
            "n": pl.Int64,
            "positive": pl.Int64,
            "after_start": pl.Boolean,
        },
    )
