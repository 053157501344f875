"""A wave's weights: none, design, or raked to the population, with what was done said.

`weights_for` is the pure calculation (a coded frame, the postal fractions, the population);
`wave_weights` reads those from the store. The strata of the variance are the sampling
strata of the postal phase: role (a blank role is a stratum of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sharedground.analysis.weights.design import (
    Fractions,
    design_weights,
    frame_population,
    read_targets,
    wave_fractions,
)
from sharedground.analysis.weights.margins import (
    Population,
    cross_margin,
    role_margin,
    trust_margin,
)
from sharedground.analysis.weights.raking import (
    Floats,
    Ints,
    Kish,
    Margin,
    WeightingError,
    kish,
    rake,
    trim,
)
from sharedground.exchange.columns import MODES
from sharedground.instrument import Instrument

KINDS = ("none", "design", "raked")
MARGINS = ("role", "trust", "role*trust")


@dataclass(frozen=True)
class WeightOptions:
    """How to weight. `rake_on`: margins among `MARGINS`; `cap`: largest weight allowed."""

    kind: str = "none"
    rake_on: tuple[str, ...] = ("role", "trust")
    min_cell: int = 5
    cap: float | None = None
    maxit: int = 50
    epsilon: float = 1.0
    targets: Path | None = None
    test: str = "F"


@dataclass(frozen=True)
class WaveWeights:
    kind: str
    values: Floats
    #: 0-based stratum of each respondent (role code; 0 = blank) and how many strata.
    strata: Ints
    n_strata: int
    kish: Kish
    notes: list[str] = field(default_factory=list)
    sweeps: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "respondents": self.kish.n,
            "sum_of_weights": float(self.values.sum()),
            "smallest": float(self.values.min()) if len(self.values) else None,
            "largest": float(self.values.max()) if len(self.values) else None,
            "design_effect": self.kish.deff,
            "effective_sample_size": self.kish.effective_n,
            "raking_sweeps": self.sweeps,
            "notes": list(self.notes),
        }


def check_options(options: WeightOptions) -> None:
    if options.kind not in KINDS:
        raise WeightingError(f"--weights {options.kind!r}: use one of {', '.join(KINDS)}")
    for m in options.rake_on:
        if m not in MARGINS:
            raise WeightingError(f"--rake-on {m!r}: use one of {', '.join(MARGINS)}")
    if options.cap is not None and not options.cap > 0:
        raise WeightingError(f"--trim {options.cap}: the cap must be above zero")
    if options.min_cell < 1:
        raise WeightingError("--min-cell must be at least 1")


def unit_weights(frame: pl.DataFrame, roles: int) -> WaveWeights:
    """All weights one (what `--weights none` means), with the role strata."""
    strata = frame["role"].to_numpy().astype(np.int64)
    values = np.ones(frame.height)
    return WaveWeights("none", values, strata, roles + 1, kish(values))


def weights_for(
    frame: pl.DataFrame,
    instrument: Instrument,
    options: WeightOptions,
    fractions: Fractions,
    population: Population | None,
) -> WaveWeights:
    """The weights of a coded frame."""
    check_options(options)
    roles = instrument.role_ids()
    if options.kind == "none":
        return unit_weights(frame, len(roles))
    role_codes = frame["role"].to_numpy().astype(np.int64)
    mode_codes = frame["mode"].to_numpy().astype(np.int64)
    base = design_weights(role_codes, mode_codes, roles, MODES, fractions.by_role)
    notes = [
        "Design weights: 1 for those who answered online (everyone was asked online); "
        "1 / the postal sampling fraction of their role for those reached by post. "
        f"Fractions from {fractions.source}."
    ]
    design_kish = kish(base)
    values, sweeps = base, None
    if options.kind == "raked":
        if population is None:
            raise WeightingError(
                "no population to weight to: the wave has no contacts; give --targets CSV"
            )
        role_names = frame["role"].replace_strict(
            list(range(1, len(roles) + 1)), roles, default=None, return_dtype=pl.String
        )
        trusts = frame["trust"]
        margins: list[Margin] = []
        for name in options.rake_on:
            if name == "role":
                margins.append(role_margin(role_names, population, options.min_cell))
            elif name == "trust":
                margins.append(trust_margin(trusts, population, options.min_cell))
            else:
                margins.append(cross_margin(role_names, trusts, population, options.min_cell))
        raked = rake(base, margins, maxit=options.maxit, epsilon=options.epsilon)
        values, sweeps = raked.weights, raked.sweeps
        how = "post-stratified" if len(margins) == 1 else "raked (iterative proportional fitting)"
        notes.append(
            f"Then {how} to the population by {', '.join(options.rake_on)}: converged in "
            f"{sweeps} sweep(s) (no cell of the joint table moving by {options.epsilon:g} or "
            "more, as R's rake())."
        )
        for margin in margins:
            notes.extend(margin.notes)
    if options.cap is not None:
        over = int((values > options.cap).sum())
        values = trim(values, options.cap)
        notes.append(
            f"Weights above {options.cap:g} trimmed to it ({over} respondent(s)) and the "
            "excess shared equally among the others (R's trimWeights)."
        )
    final = kish(values)
    notes.append(
        f"Design effect due to weighting (Kish): {final.deff:.3f} (design weights alone: "
        f"{design_kish.deff:.3f}); effective sample size {final.effective_n:.1f} of {final.n}."
    )
    notes.append(
        "Standard errors by linearisation with strata = role (the postal sampling strata), "
        "no clusters, treating the final weights as fixed: R's svydesign(ids = ~1, strata = "
        "~role, weights = ~w)."
    )
    return WaveWeights(options.kind, values, role_codes, len(roles) + 1, final, notes, sweeps)


def wave_weights(
    store: Any, wave_name: str, frame: pl.DataFrame, instrument: Instrument, options: WeightOptions
) -> WaveWeights:
    """The weights of a stored wave: fractions from its postal draw, population from its
    contacts (or `options.targets`)."""
    check_options(options)
    if options.kind == "none":
        return unit_weights(frame, len(instrument.role_ids()))
    fractions = wave_fractions(store, wave_name)
    population: Mapping[tuple[str, str | None], float] | None = None
    if options.kind == "raked":
        if options.targets is not None:
            population = read_targets(options.targets, instrument.role_ids())
        else:
            population = frame_population(store, wave_name) or None
    return weights_for(frame, instrument, options, fractions, population)
