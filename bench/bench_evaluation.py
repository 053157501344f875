"""Benchmark (#12): the whole evaluation of the 200-trust, three-wave programme with a million
respondents, beside the `differences` package's plain calls for the same estimates.

Ours: `kind_effects` (trust means of every measure, Callaway & Sant'Anna for every kind and
measure, 999 bootstrap replicates) and the what-works table. Peer, in the same run: for every
kind and measure, the trust means by a Polars group_by, `differences.ATTgt(...).fit(...,
boot_iterations=999)` and its simple and event-time aggregates with 999 replicates. Both
compute the same point estimates (printed: their largest difference). Target: under 30 s, and
no slower than the peer. Scenario generation is timed apart (it is not the evaluation).

    .venv/bin/python bench/bench_evaluation.py
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

TARGET_SECONDS = 30.0


def _best(fn: Callable[[], Any], repeat: int = 2) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _peer(responses: Any, trusts: Any, measures: Any) -> dict[tuple[str, str], float]:
    import numpy as np
    import pandas as pd
    import polars as pl
    from differences import ATTgt

    out = {}
    kinds = sorted(trusts["kind"].drop_nulls().unique().to_list())
    for measure in measures:
        frame = responses
        if measure.roles:
            frame = frame.filter(pl.col("role").is_in(list(measure.roles)))
        means = frame.group_by("trust", "wave").agg(pl.col(measure.column).mean().alias("y"))
        means = means.join(trusts, on="trust")
        for kind in kinds:
            d = means.filter((pl.col("kind") == kind) | pl.col("kind").is_null())
            cohort = [np.nan if c is None else c for c in d["cohort"].to_list()]
            data = pd.DataFrame(
                {
                    "trust": d["trust"].to_list(),
                    "wave": d["wave"].to_list(),
                    "y": d["y"].to_list(),
                    "cohort": cohort,
                }
            ).set_index(["trust", "wave"])
            model = ATTgt(data=data, cohort_column="cohort")
            model.fit(formula="y", boot_iterations=999, progress_bar=False, random_state=1)
            simple = model.aggregate("simple", boot_iterations=999, random_state=1)
            model.aggregate("event", boot_iterations=999, random_state=1)
            out[(kind, measure.name)] = float(simple.iloc[0, 0])
    return out


def run() -> list[dict[str, Any]]:
    from sharedground.evaluation.kinds import DEFAULT_MEASURES, kind_effects
    from sharedground.evaluation.works import what_works
    from sharedground.synth.scenario import ScenarioConfig, generate_scenario

    warnings.simplefilter("ignore")  # the peer's pandas deprecation notices
    config = replace(ScenarioConfig(), waves=(2016, 2017, 2018))
    generation, scenario = _best(
        lambda: generate_scenario(1, config, respondents=1_000_000, survey_only=True), 1
    )

    def ours() -> Any:
        effects = kind_effects(scenario.responses, scenario.trusts, replicates=999)
        what_works(effects)
        return effects

    ours_s, effects = _best(ours)
    with contextlib.redirect_stderr(io.StringIO()):  # the peer's progress bars
        peer_s, peer = _best(
            lambda: _peer(scenario.responses, scenario.trusts, DEFAULT_MEASURES), 1
        )
    gap = max(
        abs(e.result.overall.att - peer[(e.kind, e.measure.name)])
        for e in effects
        if e.result.overall is not None
    )
    return [
        {
            "name": f"evaluation, 200 trusts x 3 waves, {scenario.responses.height:,} respondents, "
            f"{len(effects)} kind x measure, 999 replicates",
            "value": round(ours_s, 2),
            "unit": "s",
            "peer": "differences.ATTgt fit + simple + event, 999 replicates each",
            "peer_value": round(peer_s, 2),
            "ratio": round(ours_s / peer_s, 3),
            "target": f"< {TARGET_SECONDS:g} s and <= peer",
            "met": ours_s < TARGET_SECONDS and ours_s <= peer_s,
            "max |ATT ours - peer|": f"{gap:.1e}",
        },
        {
            "name": "programme scenario generation, 1,000,000 respondents (not timed above)",
            "value": round(generation, 2),
            "unit": "s",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
