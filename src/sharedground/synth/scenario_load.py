"""Putting the synthetic programme into a store: its survey waves as responses, its register,
cohorts and pulse answers through `initiatives.scenario.load_programme`.

What goes in, from the scenario's tables (`scenario.Scenario`):

- each survey wave (year Y) becomes a `dmr-2015` wave named `<prefix>Y`, fielded from 1 March
  to 30 April of Y; each respondent a response of their trust with their role, their rating as
  `local_rating` and their positive answer as agreement with `work_as_team` (the mapping is
  `evaluation.items`, the one place that also reads them back);
- each initiative a register entry (running since its start date), titled with its scenario
  number; for the kinds that group people (paired learning, shadowing) its participants are
  its cohort (synthetic addresses) and their pulse answers go in at the `before` (its start)
  and `after` (a year later) timepoints, keyed by participant code; the same trust's
  non-participants go in as the pulse's comparison answers. The other kinds have no cohort in
  the register, so their scenario pulse answers are not loaded;
- each initiative's monthly pulse of its trust (for SPC) as its monthly wave: each month's
  answers to `work_as_team`, as many agreeing as the scenario's count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from sharedground.store import Store
    from sharedground.synth.scenario import Scenario

WAVE_PREFIX = "programme-"
AFTER_DAYS = 365


@dataclass(frozen=True)
class LoadedScenario:
    waves: list[str]
    responses: int
    initiatives: int
    participants: int
    pulse_answers: int
    #: scenario initiative number -> the register's id.
    ids: dict[int, int]


def wave_opens(year: int) -> dt.date:
    return dt.date(year, 3, 1)


def _email(person: int, trust: str) -> str:
    return f"person{person}@{trust.lower()}.programme.example"


def _rows(frame: pl.DataFrame) -> Iterator[dict[str, Any]]:
    yield from frame.iter_rows(named=True)


def programme_specs(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's initiatives as the mappings `load_programme` takes, in number order."""
    import polars as pl

    from sharedground.evaluation.items import answers_of
    from sharedground.initiatives.kinds import BUILTIN

    pulse = scenario.pulse
    specs = []
    for init in _rows(scenario.initiatives.sort("initiative_id")):
        number, start = init["initiative_id"], init["start_date"]
        spec: dict[str, Any] = {
            "trust": init["trust"],
            "kind": init["kind"],
            "title": f"{BUILTIN[init['kind']].label} (programme {number})",
            "stage": "running",
            "planned_start": start,
            "actual_start": start,
        }
        series = scenario.monthly.filter(pl.col("initiative_id") == number)
        spec["monthly"] = [
            {"month": m["month"], "n": m["n"], "positive": m["positive"]} for m in _rows(series)
        ]
        if BUILTIN[init["kind"]].groups_people:
            people = pulse.filter(pl.col("initiative_id") == number)
            cohort, before, after, other_before, other_after = [], [], [], [], []
            for p in _rows(people):
                b = answers_of(p["before_agree"], p["before_rating"])
                a = answers_of(p["after_agree"], p["after_rating"])
                if p["participant"]:
                    email = _email(p["person"], init["trust"])
                    cohort.append({"email": email, "role": p["role"]})
                    if b:
                        before.append({"email": email, **b})
                    if a:
                        after.append({"email": email, **a})
                else:
                    key = str(p["person"])
                    if b:
                        other_before.append({"key": key, "role": p["role"], **b})
                    if a:
                        other_after.append({"key": key, "role": p["role"], **a})
            spec["cohort"] = cohort
            spec["pulse"] = {
                "before": {"opens": start, "answers": before, "comparison": other_before},
                "after": {
                    "opens": start + dt.timedelta(days=AFTER_DAYS),
                    "answers": after,
                    "comparison": other_after,
                },
            }
        specs.append(spec)
    return specs


def with_trust_prefix(scenario: Scenario, prefix: str) -> Scenario:
    """The scenario with `prefix` before every trust code (T001 -> PT001 for "P"), so that its
    trusts are not taken for those of another synthetic wave in the same database."""
    from dataclasses import replace

    import polars as pl

    if not prefix:
        return scenario
    renamed = (pl.lit(prefix) + pl.col("trust")).alias("trust")
    return replace(
        scenario,
        trusts=scenario.trusts.with_columns(renamed),
        initiatives=scenario.initiatives.with_columns(renamed),
        responses=scenario.responses.with_columns(renamed),
        pulse=scenario.pulse.with_columns(renamed),
        monthly=scenario.monthly.with_columns(renamed),
    )


def load_scenario(
    store: Store,
    scenario: Scenario,
    *,
    prefix: str = WAVE_PREFIX,
    trust_prefix: str = "",
    threshold: int = 5,
) -> LoadedScenario:
    """Load the scenario's survey waves and programme into `store` (initialised), all of it or
    (for the programme) nothing; returns what went in. `trust_prefix` goes before every
    trust code (see `with_trust_prefix`)."""
    from sqlalchemy import insert, select

    from sharedground.evaluation.items import answers_of
    from sharedground.initiatives.models import Initiative
    from sharedground.initiatives.scenario import load_programme
    from sharedground.instrument import builtin
    from sharedground.store import Response

    scenario = with_trust_prefix(scenario, trust_prefix)
    instrument = builtin("dmr-2015")
    responses = scenario.responses
    names = []
    count = 0
    with store.session() as session:
        orgs = store.organisation_ids(session, scenario.trusts["trust"].to_list())
        for year in sorted(set(responses["wave"].to_list())):
            name = f"{prefix}{year}"
            wave = store.create_wave(
                session,
                name,
                instrument,
                opens=wave_opens(year),
                closes=dt.date(year, 4, 30),
                anonymous=False,
                suppression_threshold=threshold,
            )
            rows = [
                {"wave_id": wave.id, "respondent_key": f"programme-{r['respondent_id']}",
                 "role": r["role"], "organisation_id": orgs[r["trust"]], "mode": "online",
                 "submitted_on": wave_opens(year),
                 "answers": answers_of(r["positive"], r["rating"])}
                for r in _rows(responses.filter(responses["wave"] == year))
            ]  # fmt: skip
            for start in range(0, len(rows), 5000):
                session.execute(insert(Response), rows[start : start + 5000])
            names.append(name)
            count += len(rows)
        first = session.scalar(select(Initiative.id).order_by(Initiative.id.desc()).limit(1)) or 0
    specs = programme_specs(scenario)
    loaded = load_programme(store, specs, threshold=threshold)
    ids = {}
    with store.session() as session:
        # The scenario's number is in the title: the register's ids need not follow load order.
        for ident, title in session.execute(
            select(Initiative.id, Initiative.title).where(Initiative.id > first)
        ):
            ids[int(title.rsplit("(programme ", 1)[1].rstrip(")"))] = ident
    return LoadedScenario(
        names, count, loaded.initiatives, loaded.participants, loaded.answers, ids
    )
