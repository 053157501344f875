"""The programme scenario as the initiative register loads it (`initiatives.scenario.
load_programme`): one mapping per initiative with its participants and pulse answers.

Kinds that bring people together (paired learning, shadowing) get their participants as the
cohort and their pulse answers before and after (the pulse's `local_rating`, 1-5, from the
scenario's rating; `work_as_team`, tend to agree or disagree, from its agree/not answer; no
second answer for those lost to follow-up). Kinds without participants are registered with
their start only. Non-participants are not in the register (its pulse is its cohort's).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from sharedground.synth.scenario import Scenario

#: Kinds whose initiatives have participants in the register (its `groups_people`).
GROUPS_PEOPLE = {"paired_learning", "buddying_mentoring", "shadowing", "coaching"}
SIDE_OF_ROLE = {
    "medical_director": "doctor",
    "clinical_director": "doctor",
    "chief_executive": "manager",
    "directorate_manager": "manager",
}
AGREE = {1: "tend_to_agree", 0: "tend_to_disagree"}


def email(trust: str, person: int) -> str:
    return f"person{person}@{trust.lower()}.example.org"


def programme_specs(scenario: Scenario, *, after_days: int = 365) -> list[dict[str, Any]]:
    """One `load_programme` mapping per initiative of the scenario, in initiative order."""
    people = scenario.pulse.filter(pl.col("participant"))
    by_initiative = people.partition_by("initiative_id", as_dict=True)
    specs = []
    for init_id, trust, kind, start in scenario.initiatives.select(
        "initiative_id", "trust", "kind", "start_date"
    ).iter_rows():
        spec: dict[str, Any] = {
            "trust": trust,
            "kind": kind,
            "title": f"{kind.replace('_', ' ').capitalize()} {start.year}",
            "stage": "running",
            "planned_start": start,
            "actual_start": start,
        }
        rows = by_initiative.get((init_id,))
        if kind in GROUPS_PEOPLE and rows is not None:
            spec["cohort"] = [
                {"email": email(trust, p), "side": SIDE_OF_ROLE[r], "role": r}
                for p, r in rows.select("person", "role").iter_rows()
            ]
            before, after = [], []
            for p, ba, aa, br, ar in rows.select(
                "person", "before_agree", "after_agree", "before_rating", "after_rating"
            ).iter_rows():
                before.append(
                    {"email": email(trust, p), "local_rating": str(br), "work_as_team": AGREE[ba]}
                )
                if aa is not None and ar is not None:
                    after.append(
                        {"email": email(trust, p), "local_rating": str(ar),
                         "work_as_team": AGREE[aa]}
                    )  # fmt: skip
            later = start + dt.timedelta(days=after_days)
            spec["pulse"] = {
                "before": {"opens": start, "answers": before},
                "after": {"opens": later, "answers": after},
            }
        specs.append(spec)
    return specs
