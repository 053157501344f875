"""Benchmark: `sharedground synth` + `sharedground import` at the published size and at scale.

Each step runs as its own process, as a user would run it, with wall time and peak memory
(wait4's maximum resident set size):

* `synth` then `import` of the published 2015 cohort (472 respondents) into a fresh SQLite
  database, and of a national-scale cohort (1,000,000 by default);
* `import` of the same large file again (every row compared with the stored one, nothing
  added);
* the peer: the sqlite3 shell's `.import` of the same large file into a bare table, with no
  validation, no JSON and no de-duplication: the floor for getting those bytes into SQLite.

Targets, set here (the issue asks for the figures, not a limit): 472 respondents import in
< 5 s; 1,000,000 in < 10 minutes and < 8 GiB. Wall times include starting Python and are
only as good as the machine is idle; compare peak memory and the ratio to the peer.

    .venv/bin/python bench/bench_exchange.py                       # as `make bench` runs it
    .venv/bin/python bench/bench_exchange.py --respondents 100000 --keep /tmp/sg-exchange
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESPONDENTS = 1_000_000
GIB = 2**30
HERE = Path(__file__).resolve().parent
SHAREDGROUND = str(Path(sys.executable).with_name("sharedground"))


def _timed(args: list[str], stdin: bytes | None = None) -> tuple[float, float]:
    """Run a command; its wall time (s) and peak resident memory (bytes), from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stderr is not None
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {errors[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024.0  # Linux reports kB


def _synth_and_import(folder: Path, respondents: int | None, tag: str) -> dict[str, float]:
    path = folder / f"{tag}.csv"
    database = folder / f"{tag}.db"
    synth = [SHAREDGROUND, "synth", "--wave", "2015", "--seed", "1", "--out", str(path)]
    if respondents is not None:
        synth += ["--respondents", str(respondents)]
    figures: dict[str, float] = {}
    figures["synth_s"], figures["synth_rss"] = _timed(synth)
    _timed([SHAREDGROUND, "init", "--database", str(database)])
    command = [SHAREDGROUND, "import", str(path), "--wave", "2015", "--database", str(database)]
    figures["import_s"], figures["import_rss"] = _timed(command)
    figures["reimport_s"], figures["reimport_rss"] = _timed(command)
    figures["bytes"] = path.stat().st_size
    return figures


def _peer(folder: Path, tag: str) -> tuple[float, float]:
    """sqlite3's own CSV import of the same file into a table of text columns."""
    database = folder / f"{tag}-peer.db"
    script = f".mode csv\n.import {folder / f'{tag}.csv'} responses\n".encode()
    return _timed(["sqlite3", str(database)], stdin=script)


def run(respondents: int = RESPONDENTS, keep: Path | None = None) -> list[dict[str, Any]]:
    """Rows of figures for bench/run.py."""
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="sg-exchange-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        small = _synth_and_import(folder, None, "published")
        large = _synth_and_import(folder, respondents, "national")
        peer_s, peer_rss = _peer(folder, "national") if shutil.which("sqlite3") else (0.0, 0.0)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    n = f"{respondents:,}"
    return [
        {
            "name": "synth 472",
            "value": small["synth_s"],
            "unit": "s",
            "peak_gib": small["synth_rss"] / GIB,
        },
        {
            "name": "import 472",
            "value": small["import_s"],
            "unit": "s",
            "peak_gib": small["import_rss"] / GIB,
            "target": "< 5 s",
            "met": small["import_s"] < 5,
        },
        {
            "name": f"synth {n}",
            "value": large["synth_s"],
            "unit": "s",
            "peak_gib": large["synth_rss"] / GIB,
            "file_mb": large["bytes"] / 2**20,
        },
        {
            "name": f"import {n} (SQLite)",
            "value": large["import_s"],
            "unit": "s",
            "peak_gib": large["import_rss"] / GIB,
            "peer": "sqlite3 .import, no checks",
            "peer_value": peer_s,
            "ratio": large["import_s"] / peer_s if peer_s else None,
            "target": "< 600 s, < 8 GiB",
            "met": large["import_s"] < 600 and large["import_rss"] < 8 * GIB,
        },
        {
            "name": f"re-import {n} (adds nothing)",
            "value": large["reimport_s"],
            "unit": "s",
            "peak_gib": large["reimport_rss"] / GIB,
        },
        {"name": "peer peak memory", "value": peer_rss / GIB, "unit": "GiB"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=RESPONDENTS)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the files in this folder.")
    args = parser.parse_args()
    for row in run(args.respondents, args.keep):
        print(
            ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            )
        )


if __name__ == "__main__":
    main()
