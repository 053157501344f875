"""Benchmark: proposing pairs for a cohort of 2,000 doctors and 2,000 managers (issue #11).

The figure is `pairs.propose_for` whole (building the 2,000 x 2,000 cost matrix from
directorates, line managers and wishes, solving, and explaining every pair and everyone
left out), beside the floor measured in the same run: the bare
`scipy.optimize.linear_sum_assignment` call on the same matrix, which no pairing can beat.
The ratio says what the rules and explanations cost on top of the solver. Median of RUNS,
in turn (A B A B ...), since the machine is shared.

    .venv/bin/python bench/bench_pairs.py
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from scipy.optimize import linear_sum_assignment

from sharedground.initiatives.pairs import build, propose_for
from sharedground.initiatives.participants import Member

SIZE = 2000
RUNS = 3
DIRECTORATES = [f"Directorate {k}" for k in range(12)]


def cohort(size: int, seed: int = 11) -> tuple[list[Member], list[Member]]:
    rng = random.Random(seed)
    doctors = [f"d{i}@trust.nhs.uk" for i in range(size)]
    managers = [f"m{j}@trust.nhs.uk" for j in range(size)]

    def member(k: int, email: str, side: str, others: list[str]) -> Member:
        boss = rng.choice(others) if rng.random() < 0.05 else None
        wants = tuple(rng.sample(others, 2)) if rng.random() < 0.3 else ()
        return Member(k, None, email, side, None, rng.choice(DIRECTORATES), None, boss, wants)

    return (
        [member(i, e, "doctor", managers) for i, e in enumerate(doctors)],
        [member(size + j, e, "manager", doctors) for j, e in enumerate(managers)],
    )


def run() -> list[dict[str, Any]]:
    doctors, managers = cohort(SIZE)
    cost = build(doctors, managers, cross_directorate=True).cost
    ours: list[float] = []
    floor: list[float] = []
    pairs = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        proposal = propose_for(doctors, managers, cross_directorate=True)
        ours.append(time.perf_counter() - started)
        pairs = len(proposal.pairs)
        started = time.perf_counter()
        linear_sum_assignment(cost)
        floor.append(time.perf_counter() - started)
    value, peer = statistics.median(ours), statistics.median(floor)
    return [
        {
            "name": f"pairs propose {SIZE}x{SIZE} ({pairs} pairs)",
            "value": value,
            "unit": "s",
            "peer": "bare linear_sum_assignment, same matrix",
            "peer_value": peer,
            "ratio": value / peer,
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
