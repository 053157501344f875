"""The synthetic cohort: `generate` a wave's respondents in the exchange layout, and `write` it.

`generate("2015", seed)` gives 472 respondents whose answers reproduce, group by group, every
count and valid n of the published tables 2.1-2.11 (and tables 1.1 and 1.2 within rounding);
`generate("2002", seed)` gives the 1,092 respondents of the 2002 wave, matching the 2002
percentages the 2016 report prints. Any other size keeps the proportions. The pieces:

* `synth.plan` / `synth.plan2002`: the target counts per group and cell;
* `synth.population`: groups, trusts, latent attitude, mode and dates;
* `synth.answers`: who gives which answer (exact counts, correlated through the latent attitude);
* `synth.demographics`, `synth.comments`: the "about you" items and the free text.

The same seed gives the same frame (and so a byte-identical file); another seed gives other
respondents with the same counts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from sharedground.exchange.columns import FIXED_COLUMNS, GRID_SEPARATOR, item_columns
from sharedground.exchange.csvfile import write_csv
from sharedground.instrument import (
    GridItem,
    Instrument,
    LikertItem,
    MultiItem,
    RatingItem,
    builtin,
)
from sharedground.synth import answers as ans
from sharedground.synth.coded import Coded
from sharedground.synth.comments import Answers, comments
from sharedground.synth.demographics import demographics
from sharedground.synth.plan import GROUPS, Plan, Wave, plan_2015, scale
from sharedground.synth.plan2002 import plan_2002
from sharedground.synth.population import Population, build_population, default_trusts

INSTRUMENTS: dict[str, str] = {"2015": "dmr-2015", "2002": "dmr-2002"}

Progress = Callable[[int, int], None]


@cache
def instrument_for(wave: Wave) -> Instrument:
    """The built-in instrument of a wave (dmr-2015 or dmr-2002); parsed once, it is frozen."""
    if wave not in INSTRUMENTS:
        raise ValueError(f"unknown wave {wave!r} (known: {', '.join(INSTRUMENTS)})")
    return builtin(INSTRUMENTS[wave])


def base_plan(wave: Wave) -> Plan:
    """The plan of a wave at its published size."""
    if wave == "2015":
        return plan_2015()
    if wave == "2002":
        return plan_2002()
    raise ValueError(f"unknown wave {wave!r} (known: {', '.join(INSTRUMENTS)})")


def generate(
    wave: Wave,
    seed: int,
    respondents: int | None = None,
    trusts: int | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """A synthetic cohort in the exchange layout.

    Args:
        wave: "2015" (instrument dmr-2015) or "2002" (dmr-2002).
        seed: Any integer; the same seed gives the same cohort.
        respondents: Cohort size; default the published size (472 or 1,092).
        trusts: Number of trusts; default ``round(respondents / 3.1)``, at most 10,000.
        progress: Called as ``progress(done, total)`` after each step.

    Returns:
        One row per respondent, every column of the exchange layout as a string (null = blank),
        rows in order of submission.

    Raises:
        ValueError: For an unknown wave, fewer than one respondent or fewer than one trust.
    """
    instrument = instrument_for(wave)
    base = base_plan(wave)
    plan = scale(base, base.size if respondents is None else respondents)
    n_trusts = default_trusts(plan.size) if trusts is None else trusts
    attitude = [
        item
        for item in instrument.items()
        if isinstance(item, LikertItem | RatingItem | MultiItem | GridItem)
    ]
    # Steps: the population, each attitude item, demographics, comments, assembly.
    total = len(attitude) + 4
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    population = build_population(wave, plan.group_sizes, n_trusts, seed)
    step()
    columns: dict[str, Coded] = {}
    ticks: dict[str, tuple[list[str], NDArray[np.bool_]]] = {}
    initiatives: dict[str, NDArray[np.uint8]] = {}
    for item in attitude:
        if isinstance(item, LikertItem):
            columns[item.id] = ans.likert(item, plan.likert[item.id], population, seed)
        elif isinstance(item, RatingItem):
            columns[item.id] = ans.rating(item.id, plan.ratings[item.id], population, seed)
        elif isinstance(item, MultiItem):
            coded, chosen = ans.multi(item, plan.multi[item.id], population, seed)
            columns[item.id] = coded
            ticks[item.id] = ([o.id for o in item.options], chosen)
        elif isinstance(item, GridItem):
            for option, coded in ans.grid(item, plan.grid, population, seed).items():
                columns[f"{item.id}{GRID_SEPARATOR}{option}"] = coded
                initiatives[option] = coded.codes.astype(np.uint8)
        step()
    columns.update(demographics(instrument, population, seed))
    step()
    columns.update(comments(instrument, population, Answers(ticks, initiatives), seed))
    step()
    frame = _assemble(wave, instrument, population, columns)
    step()
    return frame


def _assemble(
    wave: Wave, instrument: Instrument, population: Population, columns: dict[str, Coded]
) -> pl.DataFrame:
    """The exchange-layout frame, rows in submission order, numbered in that order."""
    order = population.order
    n = population.size
    width = max(6, len(str(n)))
    ids = pl.int_range(1, n + 1, eager=True).cast(pl.String).str.zfill(width)
    trust_width = max(3, len(str(population.n_trusts)))
    trust_codes = [f"T{t + 1:0{trust_width}d}" for t in range(population.n_trusts)]
    fixed: dict[str, pl.Series] = {
        "respondent_id": (f"S{wave}-" + ids).alias("respondent_id"),
        "role": Coded(GROUPS, population.group.astype(np.uint8)).series("role", order),
        "trust": Coded(trust_codes, population.trust).series("trust", order),
        "mode": Coded(("online", "postal"), population.postal.astype(np.uint8)).series(
            "mode", order
        ),
        "submitted": pl.Series("submitted", population.submitted[order]).cast(pl.String),
    }
    series = [fixed[name] for name in FIXED_COLUMNS]
    for column in item_columns(instrument):
        coded = columns.get(column.name, Coded.blank(n))
        series.append(coded.series(column.name, order))
    return pl.DataFrame(series)


def write(frame: pl.DataFrame, instrument: Instrument, path: str | Path) -> None:
    """Write a cohort as an exchange file (the one canonical CSV form)."""
    write_csv(frame, instrument, path)
