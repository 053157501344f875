"""Benchmark: time and peak memory of `synth.generate` (472 and 1,000,000 respondents).

Every measurement runs in a fresh Python process, so that its peak resident memory (ru_maxrss)
belongs to that run alone. Each process first builds a tiny cohort (to parse the built-in YAML
once, a cost paid once per process), records its resident memory, then times one cohort.

Beside it, a *peer* in the same process: materialising a frame of the same shape from random
codes, the floor any generator of this output pays (on a busy machine both move together, so
the ratio is steadier than either figure).

    .venv/bin/python bench/bench_synth.py                      # 472 and 1,000,000, 3 runs each
    .venv/bin/python bench/bench_synth.py --sizes 10000 --repeat 5 --write
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _child(respondents: int, seed: int, write: bool) -> dict[str, Any]:
    import numpy as np
    import polars as pl

    from sharedground.synth import generate, instrument_for
    from sharedground.synth import write as write_csv

    generate("2015", seed=seed, respondents=10)  # parse the YAML once, as any process does
    baseline = _current_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    frame = generate("2015", seed=seed, respondents=respondents)
    result: dict[str, Any] = {
        "respondents": respondents,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "baseline_mb": baseline,
        "peak_mb": _rss_mb(),
        "frame_mb": frame.estimated_size() / 2**20,
        "columns": frame.width,
    }
    if write:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "cohort.csv"
            started = time.perf_counter()
            write_csv(frame, instrument_for("2015"), path)
            result["write_seconds"] = time.perf_counter() - started
            result["file_mb"] = path.stat().st_size / 2**20
            result["peak_mb"] = _rss_mb()
    # Peer: the same shape from random codes (one gather per column, nothing else).
    del frame
    rng = np.random.default_rng(seed)
    lookup = pl.Series(["strongly_agree", "tend_to_agree", "tend_to_disagree", None])
    started = time.perf_counter()
    pl.DataFrame(
        [
            lookup.gather(pl.Series(rng.integers(0, 4, respondents, dtype=np.uint32))).alias(
                f"c{i}"
            )
            for i in range(result["columns"])
        ]
    )
    result["peer_seconds"] = time.perf_counter() - started
    return result


def _run(respondents: int, seed: int, write: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(respondents), "--seed", str(seed)]
        + (["--write"] if write else []),
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the benchmark and print one line per size (median of the runs, and the range)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[472, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="also time writing the CSV")
    parser.add_argument("--json", action="store_true", help="print the raw runs as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(_child(args.child, args.seed, args.write)))
        return
    runs = {n: [_run(n, args.seed + i, args.write) for i in range(args.repeat)] for n in args.sizes}
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    print("synth.generate('2015'): median of", args.repeat, "fresh processes")
    for n, results in runs.items():
        seconds = [r["seconds"] for r in results]
        line = (
            f"  {n:>9,} respondents: {statistics.median(seconds):7.2f} s "
            f"(range {min(seconds):.2f}-{max(seconds):.2f}; cpu "
            f"{statistics.median(r['cpu_seconds'] for r in results):.2f} s), "
            f"peak RSS {statistics.median(r['peak_mb'] for r in results):,.0f} MB "
            f"(+{statistics.median(r['peak_mb'] - r['baseline_mb'] for r in results):,.0f} MB "
            f"over the warm process; frame {results[0]['frame_mb']:,.0f} MB); "
            f"peer {statistics.median(r['peer_seconds'] for r in results):.2f} s"
        )
        if args.write:
            line += (
                f"; write {statistics.median(r['write_seconds'] for r in results):.2f} s, "
                f"{results[0]['file_mb']:,.0f} MB"
            )
        print(line)


if __name__ == "__main__":
    main()
