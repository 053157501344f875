"""Benchmark: how fast the command line answers (issue #16).

Every figure is the median wall time of several runs of a fresh process, beside two peers
measured in the same run, in turn with it: `python -c pass` (the interpreter's own start)
and `python -c "import click"` (the floor of any Click command line). The machine is shared,
so the ratio to `import click` is the figure to read; CPU seconds are printed too.

Targets (issue #16):
* `sharedground --help` and every `sharedground COMMAND --help`: < 0.3 s wall and at most
  3x `python -c "import click"`;
* `instrument list`, `status --wave 2015`, `analyse --wave 2015 --format json` on the demo's
  database (warm cache): < 1 s each (the two peers are timed again beside them).
(`analyse` at a million respondents, warm, is timed by bench_analysis beside the same two
peers: target < 2 s.)

    .venv/bin/python bench/bench_cli.py
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNS = 5
HELP_LIMIT = 0.3
HELP_RATIO = 3.0
COMMAND_LIMIT = 1.0


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of argv (its output thrown away)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode()[-1500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _medians(
    commands: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """Each command's median wall and CPU time, the commands run in turn (A B C A B C ...)."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # one warm-up each: the page cache, .pyc files
        _time(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            wall, cpu = _time(argv, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in commands}


def _help_paths() -> list[list[str]]:
    import click

    from sharedground.cli import main

    paths: list[list[str]] = [[]]

    def walk(group: click.Group, path: list[str]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            paths.append([*path, name])
            if isinstance(command, click.Group):
                walk(command, [*path, name])

    walk(main, [])
    return paths


def _demo_database(folder: Path, env: dict[str, str]) -> str:
    url = str(folder / "demo.db")
    subprocess.run(
        [sys.executable, "-m", "sharedground", "demo", "--out", str(folder), "--database", url],
        env=env,
        capture_output=True,
        check=True,
    )
    return url


def measure(runs: int = RUNS) -> list[dict[str, Any]]:
    env = {**os.environ, "COLUMNS": "100"}
    py = sys.executable
    cli = [py, "-m", "sharedground"]
    peers = {"python -c pass": [py, "-c", "pass"], "import click": [py, "-c", "import click"]}
    rows: list[dict[str, Any]] = []

    helps = {" ".join(["sharedground", *p, "--help"]): [*cli, *p, "--help"] for p in _help_paths()}
    timed = _medians({**peers, **helps}, env, runs)
    click_wall = timed["import click"][0]
    for name in peers:
        rows.append({"name": name, "value": timed[name][0], "unit": "s", "cpu_s": timed[name][1]})
    worst = max(helps, key=lambda n: timed[n][0])
    # The top-level help, and the slowest of the others unless that is the same one.
    for name in dict.fromkeys(["sharedground --help", worst]):
        wall, cpu = timed[name]
        ratio = wall / click_wall
        rows.append(
            {
                "name": name if name == "sharedground --help" else f"slowest help: {name}",
                "value": wall,
                "unit": "s",
                "cpu_s": cpu,
                "peer": "import click",
                "peer_value": click_wall,
                "ratio": ratio,
                "target": f"< {HELP_LIMIT} s, <= {HELP_RATIO}x",
                "met": wall < HELP_LIMIT and ratio <= HELP_RATIO,
            }
        )
    over = [n for n in helps if timed[n][0] >= HELP_LIMIT or timed[n][0] / click_wall > HELP_RATIO]
    rows.append(
        {
            "name": f"help of all {len(helps)} commands",
            "value": len(helps) - len(over),
            "unit": "within target",
            "target": f"all {len(helps)}",
            "met": not over,
        }
    )

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sg-bench-cli-") as tmp:
        database = _demo_database(Path(tmp), env)
        commands = {
            "instrument list": [*cli, "instrument", "list"],
            "status --wave 2015": [*cli, "status", "--wave", "2015", "--database", database],
            "analyse --wave 2015 --format json": [
                *cli,
                "analyse",
                "--wave",
                "2015",
                "--format",
                "json",
                "--database",
                database,
            ],
        }
        # The peers again, in turn with the commands: the machine may be busier now.
        timed = _medians({**peers, **commands}, env, runs)
        for name in peers:
            rows.append(
                {
                    "name": f"{name} (beside the demo commands)",
                    "value": timed[name][0],
                    "unit": "s",
                    "cpu_s": timed[name][1],
                }
            )
        for name in commands:
            wall, cpu = timed[name]
            rows.append(
                {
                    "name": f"sharedground {name} (demo)",
                    "value": wall,
                    "unit": "s",
                    "cpu_s": cpu,
                    "peer": "import click",
                    "peer_value": timed["import click"][0],
                    "ratio": wall / timed["import click"][0],
                    "target": f"< {COMMAND_LIMIT} s",
                    "met": wall < COMMAND_LIMIT,
                }
            )
    rows.append(
        {
            "name": "machine load, 1-minute average, before / after (2 cores, shared)",
            "value": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
        }
    )
    return rows


def run() -> list[dict[str, Any]]:
    """The `make bench` entry point."""
    return measure()


if __name__ == "__main__":
    for row in measure():
        print(row)
