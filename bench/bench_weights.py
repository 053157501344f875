"""Benchmark: weights and weighted tables at national scale, beside the unweighted analysis.

A synthetic 2015 cohort of 1,000,000 respondents in 200 trusts (coded in memory, no
database) with a frame whose response rates differ by role (34% of chief executives, 25%
of medical directors, 11% of the directorate leaders, varying by trust). Measured in the
same process, CPU-bound, best of `--repeat`:

* (a) raking: design weights, then IPF to role and trust (R's rake() rules);
* (b) every table of the report by role, weighted, with logit/beta CIs and Rao-Scott F;
* (c) the same, by trust (200 groups: Rao-Scott on 200 x 2 tables);
* (u) the unweighted analysis of the same tables, by role and by trust (the peer);
* (r) when Rscript exists: R's survey (svyby + svyciprop + svychisq) on `--r-rows` rows by
  role on a 100,000-respondent subset, per row, beside ours per row on the same subset.

Target (issue 14): (a + b) within 3x of (u) by role, and (c) within 3x of (u) by trust.

    .venv/bin/python bench/bench_weights.py --respondents 20000     # while developing
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESPONDENTS = 1_000_000
TRUSTS = 200
R_SUBSET = 100_000
RATES = {
    "chief_executive": 0.34,
    "medical_director": 0.25,
    "clinical_director": 0.11,
    "directorate_manager": 0.10,
}


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()
        result = fn()
        times.append(time.process_time() - started)
    return min(times), result


def _cohort(respondents: int, trusts: int) -> Any:
    from sharedground.analysis.encoding import encode
    from sharedground.analysis.source import WaveData
    from sharedground.synth.cohort import generate, instrument_for

    instrument = instrument_for("2015")
    frame = encode(generate("2015", 7, respondents=respondents, trusts=trusts), instrument)
    return WaveData("bench", instrument, 10, frame, "uncached")


def _population(data: Any) -> dict[tuple[str, str | None], float]:
    import polars as pl

    roles = data.instrument.role_ids()
    cells = data.frame.group_by("role", "trust").agg(pl.len()).rows()
    rng = np.random.Generator(np.random.PCG64(3))
    population: dict[tuple[str, str | None], float] = {}
    for role_code, trust, n in cells:
        if role_code == 0 or trust is None:
            continue
        role = roles[role_code - 1]
        rate = RATES.get(role, 0.2) * rng.uniform(0.7, 1.3)
        population[(role, trust)] = float(np.ceil(n / min(rate, 1.0)))
    return population


def run(
    respondents: int = RESPONDENTS, trusts: int = TRUSTS, repeat: int = 2, r_rows: int = 5
) -> list[dict[str, Any]]:
    from sharedground.analysis.tables import Options, analyse
    from sharedground.analysis.weights.design import Fractions
    from sharedground.analysis.weights.weighting import WeightOptions, weights_for
    from sharedground.fieldwork.postal import DEFAULT_FRACTIONS

    data = _cohort(respondents, trusts)
    population = _population(data)
    fractions = Fractions(dict(DEFAULT_FRACTIONS), "the 2015 design")
    options = WeightOptions(kind="raked", rake_on=("role", "trust"))

    def make() -> Any:
        return weights_for(data.frame, data.instrument, options, fractions, population)

    rake_s, weights = _best(make, repeat)
    rows: list[dict[str, Any]] = []
    figures: dict[str, float] = {}
    for by in ("role", "trust"):
        plain_s, _ = _best(lambda by=by: analyse(data, Options(by=by)), repeat)
        weighted_s, _ = _best(lambda by=by: analyse(data, Options(by=by), weights), repeat)
        figures[by] = weighted_s
        total = weighted_s + (rake_s if by == "role" else 0.0)
        ratio = total / plain_s
        rows.append(
            {
                "name": f"weighted tables by {by}" + (" + raking" if by == "role" else ""),
                "value": total,
                "unit": "s CPU",
                "peer": f"unweighted tables by {by}",
                "peer_value": plain_s,
                "ratio": ratio,
                "target": "<= 3x",
                "met": ratio <= 3.0,
                "respondents": respondents,
            }
        )
    rows.append(
        {
            "name": "raking (design weights, IPF to role and trust)",
            "value": rake_s,
            "unit": "s CPU",
            "sweeps": weights.sweeps,
            "deff": round(weights.kish.deff, 3),
        }
    )
    if shutil.which("Rscript") and r_rows > 0:
        rows.append(_against_r(data, weights, min(R_SUBSET, respondents), r_rows))
    return rows


_R = r"""
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1])
des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = df)
k <- as.integer(args[2])
t0 <- proc.time()[["elapsed"]]
for (i in seq_len(k)) {
  df$y <- df[[paste0("c", i)]]; df$valid <- df[[paste0("v", i)]]
  d <- update(des, y = df$y, valid = df$valid, g = factor(df$group), yy = factor(df$y))
  sub <- subset(d, valid == 1)
  svyby(~y, ~g, sub, svyciprop, method = "logit", vartype = c("se", "ci"))
  svyby(~y, ~g, sub, svyciprop, method = "beta", vartype = c("se", "ci"))
  try(svychisq(~g + yy, sub))
}
cat((proc.time()[["elapsed"]] - t0) / k, "\n")
"""


def _against_r(data: Any, weights: Any, size: int, k: int) -> dict[str, Any]:
    import polars as pl

    from sharedground.analysis.rows import all_rows
    from sharedground.analysis.tables import Options, analyse
    from sharedground.analysis.weights.weighting import WaveWeights

    frame = data.frame.head(size)
    sub = type(data)(data.name, data.instrument, 0, frame, "uncached")
    w = WaveWeights(
        "raked", weights.values[:size], weights.strata[:size], weights.n_strata, weights.kish
    )
    specs = all_rows(data.instrument)
    ours, _ = _best(lambda: analyse(sub, Options(by="role", suppression_threshold=0), w), 1)
    per_row_ours = ours / len(specs)
    flags = frame.select(
        *(
            s.counted.fill_null(False).cast(pl.Int8).alias(f"c{i + 1}")
            for i, s in enumerate(specs[:k])
        ),
        *(
            s.valid.fill_null(False).cast(pl.Int8).alias(f"v{i + 1}")
            for i, s in enumerate(specs[:k])
        ),
    ).with_columns(
        stratum=pl.Series(w.strata),
        weight=pl.Series(w.values),
        group=frame["role"].cast(pl.Int64),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "subset.csv"
        flags.write_csv(path)
        script = Path(tmp) / "bench.R"
        script.write_text(_R)
        out = subprocess.run(
            ["Rscript", str(script), str(path), str(k)], capture_output=True, text=True, check=True
        )
    per_row_r = float(out.stdout.split()[-1])
    return {
        "name": f"weighted rows by role at {size:,} (per row)",
        "value": per_row_ours,
        "unit": "s",
        "peer": "R survey: svyby svyciprop logit+beta, svychisq",
        "peer_value": per_row_r,
        "ratio": per_row_r / per_row_ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=RESPONDENTS)
    parser.add_argument("--trusts", type=int, default=TRUSTS)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--r-rows", type=int, default=5)
    args = parser.parse_args()
    for row in run(args.respondents, args.trusts, args.repeat, args.r_rows):
        print(row)


if __name__ == "__main__":
    sys.exit(main())
