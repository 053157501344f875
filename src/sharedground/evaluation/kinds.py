"""Trusts that started a kind of initiative against trusts that did not, on each key measure.

The survey's respondents are averaged per trust and wave (each trust counts once, whatever its
number of respondents), then for each kind the trusts that started one are compared with the
trusts that never started any initiative (and, with `control="notyet"`, with the kind's later
starters before they start) by `did.callaway_santanna`. Trusts that started another kind are
left out of that kind's comparison: their own initiative would blur the controls.

`trusts` has `trust`, `kind` (null: never started) and `cohort`: the first wave fielded after
the trust's start (null: never).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sharedground.evaluation.did import Control, DidResult, Panel, callaway_santanna
from sharedground.evaluation.tables import as_polars


@dataclass(frozen=True)
class Measure:
    """A key measure: a column of the responses, over all roles or some."""

    name: str
    column: str
    label: str
    roles: tuple[str, ...] | None = None


DEFAULT_MEASURES: tuple[Measure, ...] = (
    # "Positive" is agreement that doctors and managers work well together as a team
    # (`evaluation.items`: the survey's `work_as_team`, the pulse's "agree"); the label says
    # so, as the measure read from a stored wave is exactly that.
    Measure(
        "positive",
        "positive",
        "Share agreeing doctors and managers work well as a team (all roles)",
    ),
    Measure("rating", "rating", "Mean rating of the relationship, 1-5 (all roles)"),
    Measure(
        "positive_cd",
        "positive",
        "Share agreeing doctors and managers work well as a team (clinical directors)",
        ("clinical_director",),
    ),
)


@dataclass(frozen=True)
class KindEffect:
    """The difference-in-differences of one kind on one measure."""

    kind: str
    measure: Measure
    result: DidResult


def trust_means(responses: Any, measure: Measure) -> pl.DataFrame:
    """trust, wave, value (the trust's mean in the wave), n (respondents)."""
    columns = ["trust", "wave", measure.column] + (["role"] if measure.roles else [])
    frame = as_polars(responses, "responses", columns)
    if measure.roles:
        frame = frame.filter(pl.col("role").is_in(list(measure.roles)))
    frame = frame.drop_nulls(measure.column)
    # Sums by bincount over codes: a few times faster than a group_by and a join back to
    # the register's order, which the coverage test pays hundreds of times.
    trust_codes, trusts = _factorize(frame["trust"])
    wave_codes, waves = _factorize(frame["wave"])
    cell = trust_codes * waves.size + wave_codes
    size = trusts.size * waves.size
    n = np.bincount(cell, minlength=size)
    total = np.bincount(
        cell, weights=frame[measure.column].to_numpy().astype(float), minlength=size
    )
    seen = np.flatnonzero(n)
    return pl.DataFrame(
        {
            "trust": trusts[seen // waves.size],
            "wave": waves[seen % waves.size],
            "value": total[seen] / n[seen],
            "n": n[seen],
        }
    )


def _factorize(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    # dense ranks are codes in the order of the sorted distinct values (fast for strings)
    codes = series.rank("dense").to_numpy().astype(np.int64) - 1
    return codes, series.unique().sort().to_numpy()


def wide_means(means: pl.DataFrame, trusts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The waves and a trusts x waves matrix of the means (NaN where a trust has none)."""
    waves = np.sort(means["wave"].unique().to_numpy()).astype(np.int64)
    index = {t: i for i, t in enumerate(trusts)}
    y = np.full((len(trusts), waves.size), np.nan)
    rows = np.array([index.get(t, -1) for t in means["trust"].to_list()], dtype=np.int64)
    cols = np.searchsorted(waves, means["wave"].to_numpy())
    keep = rows >= 0
    y[rows[keep], cols[keep]] = means["value"].to_numpy()[keep]
    return waves, y


def kind_panel(
    register: pl.DataFrame, waves: np.ndarray, y: np.ndarray, kind: str
) -> tuple[Panel, np.ndarray]:
    """The balanced panel of the kind's trusts and the never-starters (rows of `register`,
    whose order `y` follows), and the register rows it uses."""
    kinds = register["kind"]
    chosen = ((kinds == kind).fill_null(False) | kinds.is_null()).to_numpy()
    complete = chosen & ~np.isnan(y).any(axis=1)
    rows = np.flatnonzero(complete)
    panel = Panel(
        units=register["trust"].to_numpy()[rows],
        periods=waves,
        y=y[rows],
        cohort=register["cohort"].fill_null(0).to_numpy().astype(np.int64)[rows],
        dropped=int(chosen.sum() - complete.sum()),
    )
    return panel, rows


def kind_effects(
    responses: Any,
    trusts: Any,
    *,
    measures: tuple[Measure, ...] = DEFAULT_MEASURES,
    kinds: list[str] | None = None,
    control: Control = "never",
    replicates: int = 999,
    seed: int = 0,
) -> list[KindEffect]:
    """The difference-in-differences of every kind (or `kinds`) on every measure."""
    from sharedground.evaluation.did import mammen_multipliers

    register = as_polars(trusts, "trusts", ["trust", "kind", "cohort"])
    names = kinds or sorted(register["kind"].drop_nulls().unique().to_list())
    # One weight per trust and replicate, shared by every kind and measure (see did).
    multipliers = mammen_multipliers(replicates, register.height, seed)
    out = []
    with _one_blas_thread():
        for measure in measures:
            out += _measure_effects(register, responses, measure, names, control, multipliers)
    return out


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread: the bootstrap's products are small (999 x 200 by 200 x 30), and on
    a busy machine a threaded BLAS spent 20 times as long on them (7.5 ms against 0.33 ms)
    waiting for its threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up only
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _measure_effects(
    register: pl.DataFrame,
    responses: Any,
    measure: Measure,
    names: list[str],
    control: Control,
    multipliers: np.ndarray,
) -> list[KindEffect]:
    """Every kind's effect on one measure."""
    out = []
    waves, y = wide_means(trust_means(responses, measure), register["trust"].to_list())
    for kind in names:
        panel, rows = kind_panel(register, waves, y, kind)
        result = callaway_santanna(panel, control=control, multipliers=multipliers[:, rows])
        out.append(KindEffect(kind, measure, result))
    return out


def trusts_from_register(
    initiatives: Any, wave_dates: dict[int, Any], trusts: list[str]
) -> pl.DataFrame:
    """The `trusts` table from a register of initiatives: each trust's kind and cohort (the
    first wave fielded on or after its start date; null for trusts that never started).

    `initiatives` has trust, kind and start_date; `wave_dates` maps each wave to the date its
    fieldwork opened. A trust that started several initiatives is given its first (earliest
    start): its later ones cannot be told apart from the first's effect, so `other_kinds`
    lists them for the reader.
    """
    frame = as_polars(initiatives, "initiatives", ["trust", "kind", "start_date"])
    waves = sorted(wave_dates)
    first = (
        frame.sort("start_date")
        .group_by("trust", maintain_order=True)
        .agg(
            pl.col("kind").first(),
            pl.col("start_date").first(),
            pl.col("kind").slice(1).unique().sort().alias("other_kinds"),
        )
    )
    cohorts = []
    for start in first["start_date"].to_list():
        later = [w for w in waves if wave_dates[w] >= start]
        # started after the last wave: no wave to see it in, so never started here
        cohorts.append(later[0] if later else None)
    first = first.with_columns(pl.Series("cohort", cohorts, dtype=pl.Int64))
    base = pl.DataFrame({"trust": trusts}, schema={"trust": pl.String})
    out = base.join(first.drop("start_date"), on="trust", how="left")
    return out.with_columns(
        pl.when(pl.col("cohort").is_null()).then(None).otherwise(pl.col("kind")).alias("kind")
    ).select("trust", "kind", "cohort", "other_kinds")
