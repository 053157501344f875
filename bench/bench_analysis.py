"""Benchmark: `sharedground analyse` on a national-scale wave, beside `tableone` on the same data.

1,000,000 synthetic respondents across 200 trusts are generated, written as an exchange file
and imported into a fresh SQLite database. Then:

* (a) `sharedground analyse --format json` end to end, as a separate process: once cold
  (the first analysis after the import builds the wave's columnar cache) and then warm;
* (b) the computation alone (every table, test and summary from the coded frame, to JSON),
  in this process;
* (c) the peer: the same grouped rows (counted / not counted among valid answers, by role)
  with p-values from the `tableone` package on the same respondents, in this process.

Targets (issue 3): (a) < 5 s, (b) < 1 s, (c) / (b) >= 20, peak memory < 2 GiB.

    .venv/bin/python bench/bench_analysis.py                    # as `make bench` runs it
    .venv/bin/python bench/bench_analysis.py --respondents 100000 --keep /tmp/sg-bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

RESPONDENTS = 1_000_000
TRUSTS = 200
WAVE = "bench"
GIB = 2**30


def _timed_process(args: list[str]) -> tuple[float, float]:
    """Run a command; its wall time (s) and peak resident memory (bytes), from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        raise RuntimeError(f"{' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    if process.stderr is not None:
        process.stderr.close()
    return elapsed, usage.ru_maxrss * 1024.0  # Linux reports kB


def _prepare(folder: Path, respondents: int, trusts: int) -> tuple[str, dict[str, float]]:
    """A database holding the synthetic wave (reused when `folder` already has one)."""
    from sharedground import synth
    from sharedground.exchange.importer import import_file
    from sharedground.store import Store

    database = folder / "bench.db"
    url = f"sqlite:///{database}"
    figures: dict[str, float] = {}
    if database.exists():
        return url, figures
    started = time.perf_counter()
    frame = synth.generate("2015", seed=2015, respondents=respondents, trusts=trusts)
    path = folder / "cohort.csv"
    synth.write(frame, synth.instrument_for("2015"), path)
    del frame
    figures["generate_s"] = time.perf_counter() - started
    store = Store(url)
    try:
        store.init()
        started = time.perf_counter()
        import_file(store, path, WAVE, synth.instrument_for("2015"))
        figures["import_s"] = time.perf_counter() - started
    finally:
        store.dispose()
    path.unlink()
    return url, figures


def _indicators(frame: Any, instrument: Any) -> Any:
    """The rows as 0/1 columns (None where the answer is not valid) and the role, in pandas."""
    import pandas as pd
    import polars as pl

    from sharedground.analysis.rows import all_rows

    roles = {i + 1: r for i, r in enumerate(instrument.role_ids())}
    columns = {
        f"row{i}": pl.when(spec.valid).then(spec.counted.cast(pl.Int8)).otherwise(None)
        for i, spec in enumerate(all_rows(instrument))
    }
    wide = frame.select(
        pl.col("role").replace_strict(roles, default=None, return_dtype=pl.String), **columns
    )
    return pd.DataFrame({c: wide[c].to_numpy() for c in wide.columns}), list(columns)


def measure(
    respondents: int = RESPONDENTS, trusts: int = TRUSTS, keep: Path | None = None, repeat: int = 3
) -> list[dict[str, Any]]:
    """Prepare the wave, take every measurement, and return the rows of figures."""
    from tableone import TableOne

    from sharedground.analysis.render import to_json_bytes
    from sharedground.analysis.source import load_wave
    from sharedground.analysis.tables import analyse
    from sharedground.store import Store

    with tempfile.TemporaryDirectory(prefix="sg-bench-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url, setup = _prepare(folder, respondents, trusts)
        cache = folder / "cache"
        out = folder / "analysis.json"
        command = [
            sys.executable,
            "-m",
            "sharedground",
            "analyse",
            "--wave",
            WAVE,
            "--format",
            "json",
            "--out",
            str(out),
            "--database",
            url,
            "--cache-dir",
            str(cache),
        ]
        cold_s, cold_rss = _timed_process([*command, "--refresh"])
        warm = [_timed_process(command) for _ in range(repeat)]
        warm_s = statistics.median(s for s, _ in warm)
        warm_rss = max(r for _, r in warm)

        store = Store(url)
        try:
            data = load_wave(store, WAVE, cache)
        finally:
            store.dispose()
        computation: list[float] = []
        for _ in range(max(repeat, 5)):
            started = time.perf_counter()
            to_json_bytes(analyse(data))
            computation.append(time.perf_counter() - started)
        compute_s = statistics.median(computation)

        table, columns = _indicators(data.frame, data.instrument)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tableone warns about its own defaults
            TableOne(
                table,
                columns=columns,
                categorical=columns,
                groupby="role",
                pval=True,
                include_null=False,
            )
        peer_s = time.perf_counter() - started

    n = f"{respondents:,} respondents, {trusts} trusts"
    rows: list[dict[str, Any]] = [
        {
            "name": f"(a) analyse → JSON, warm cache ({n})",
            "value": warm_s,
            "unit": "s",
            "target": "< 5 s",
            "met": warm_s < 5,
        },
        {
            "name": "(a) analyse → JSON, cold (first run after import builds the cache)",
            "value": cold_s,
            "unit": "s",
            "target": "(no target; once per import)",
        },
        {
            "name": "(b) computation alone (all tables, tests, JSON)",
            "value": compute_s,
            "unit": "s",
            "peer": "(c) tableone, same rows, by role, p-values",
            "peer_value": peer_s,
            "ratio": peer_s / compute_s,
            "target": "< 1 s, ratio >= 20",
            "met": compute_s < 1 and peer_s / compute_s >= 20,
        },
        {
            "name": "peak memory of analyse (cold / warm)",
            "value": max(cold_rss, warm_rss) / GIB,
            "unit": "GiB",
            "peer": "warm only",
            "peer_value": warm_rss / GIB,
            "target": "< 2 GiB",
            "met": max(cold_rss, warm_rss) < 2 * GIB,
        },
    ]
    for key, value in setup.items():
        rows.append({"name": f"setup: {key.removesuffix('_s')}", "value": value, "unit": "s"})
    return rows


def run() -> list[dict[str, Any]]:
    """The `make bench` entry point."""
    return measure()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=RESPONDENTS)
    parser.add_argument("--trusts", type=int, default=TRUSTS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="work in this folder and reuse its database on the next run",
    )
    args = parser.parse_args()
    for row in measure(args.respondents, args.trusts, args.keep, args.repeat):
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
