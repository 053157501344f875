"""Benchmark: loading a 200-trust synthetic programme into a fresh database (issue #11).

Two programmes: `synth`'s (`generate_scenario(1)`: 200 trusts, the initiatives with cohorts
of 20 and their before/after pulse, through `synth.scenario_load.programme_specs`), and a
heavier one made here (every trust registers two initiatives, every other trust runs paired
learning for a cohort of 40). The figure is `scenario.load_programme` whole (checking every
row, then writing by the batch); the floor beside it, measured in the same run, is plain `sqlite3`
`executemany` of the same participant, contact and response rows into the same tables of
another fresh database, with no checks at all.

    .venv/bin/python bench/bench_programme.py
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from sharedground.initiatives import scenario
from sharedground.initiatives.participants import SIDE_OF_ROLE
from sharedground.store import Store

TRUSTS = 200
COHORT = 40


def programme(seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    specs: list[dict[str, Any]] = []
    for t in range(TRUSTS):
        code = f"T{t:03d}"
        specs.append(
            {
                "trust": code,
                "kind": "joint_discussion_events",
                "title": "Forum",
                "stage": "running",
                "actual_start": "2025-09-01",
                "progress": 1.5,
            }
        )
        if t % 2:
            continue
        cohort = [
            {
                "email": f"p{k}@{code.lower()}.nhs.uk",
                "side": "doctor" if k % 2 else "manager",
                "directorate": f"D{k % 6}",
            }
            for k in range(COHORT)
        ]
        before = [
            {
                "email": p["email"],
                "local_rating": str(rng.randint(1, 5)),
                "work_as_team": rng.choice(["tend_to_agree", "tend_to_disagree"]),
            }
            for p in cohort
        ]
        after = [
            dict(b, local_rating=str(min(5, int(b["local_rating"]) + rng.randint(0, 1))))
            for b in before
            if rng.random() < 0.8
        ]
        specs.append(
            {
                "trust": code,
                "kind": "paired_learning",
                "title": "Pairs",
                "stage": "running",
                "planned_start": "2026-01-05",
                "cohort": cohort,
                "pulse": {
                    "before": {"opens": "2026-01-05", "answers": before},
                    "after": {"opens": "2026-07-01", "answers": after},
                },
            }
        )
    return specs  # fmt: skip


def _floor(path: Path, specs: list[dict[str, Any]]) -> float:
    """Plain executemany of the cohort, contact and response rows (no checks, no ORM)."""
    people, contacts, answers = [], [], []
    for i, s in enumerate(specs, start=1):
        for p in s.get("cohort", []):
            side = p.get("side") or SIDE_OF_ROLE[p["role"]]
            people.append((i, p["email"], side, p.get("directorate"), "[]"))
        for w, (_point, content) in enumerate(s.get("pulse", {}).items()):
            for p in s["cohort"]:
                contacts.append(
                    (w + 1, p["email"], "other_" + (p.get("side") or SIDE_OF_ROLE[p["role"]]))
                )
            for k, a in enumerate(content["answers"] + content.get("comparison", [])):
                doc = {x: y for x, y in a.items() if x not in ("email", "key")}
                answers.append((w + 1, f"{i}-{w}-{k}", "other_doctor", "online", json.dumps(doc)))
        # The monthly pulse (SPC): one anonymous answer of one item per person and month.
        for entry in s.get("monthly", []):
            for k in range(entry["n"]):
                doc = {
                    "work_as_team": "tend_to_agree" if k < entry["positive"] else "tend_to_disagree"
                }
                key = f"{i}-m-{entry['month']}-{k}"
                answers.append((3, key, "monthly", "online", json.dumps(doc)))
    connection = sqlite3.connect(path)
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "INSERT INTO participant (initiative_id, email, side, directorate, prefers) "
            "VALUES (?, ?, ?, ?, ?)",
            people,
        )
        connection.executemany(
            "INSERT INTO contact (wave_id, email, role) VALUES (?, ?, ?)", contacts
        )
        connection.executemany(
            "INSERT INTO response (wave_id, respondent_key, role, mode, answers) "
            "VALUES (?, ?, ?, ?, ?)",
            answers,
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def run() -> list[dict[str, Any]]:
    from sharedground.synth.scenario import generate_scenario
    from sharedground.synth.scenario_load import programme_specs

    synthetic = programme_specs(generate_scenario(1))
    _row("warm-up", synthetic[:2])  # imports and first-use costs, not counted
    return [_row("synth's", synthetic), _row("heavier", programme())]


def _row(label: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        ours_db = Store(f"sqlite:///{folder}/ours.db")
        ours_db.init()
        floor_db = Store(f"sqlite:///{folder}/floor.db")
        floor_db.init()
        floor_db.dispose()
        # The floor's rows need parents; foreign keys are not enforced by plain sqlite3.
        started = time.perf_counter()
        loaded = scenario.load_programme(ours_db, specs)
        ours = time.perf_counter() - started
        ours_db.dispose()
        floor = _floor(Path(folder) / "floor.db", specs)
    return {
        "name": f"load {label} 200-trust programme ({loaded.initiatives} initiatives, "
        f"{loaded.participants} participants, {loaded.answers} answers)",
        "value": ours,
        "unit": "s",
        "peer": "plain sqlite3 executemany of the cohort, contact and answer rows",
        "peer_value": floor,
        "ratio": ours / floor,
        "rows": loaded.participants + loaded.answers,
    }


if __name__ == "__main__":
    for row in run():
        print(row)
