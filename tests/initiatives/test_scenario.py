"""Loading a synthetic programme: everything or nothing, answers keyed by code only, and the
pulse's paired change equal to the change planted in the scenario."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from sharedground.initiatives import pulse, register, scenario
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Initiative, Participant
from sharedground.store import Response, Store, Wave

D = dt.date


def programme(trusts: int, seed: int = 1) -> tuple[list[dict[str, Any]], dict[int, float]]:
    """Paired learning in every other trust, with a planted rating change; the change by
    scenario index, computed from the answers written."""
    rng = random.Random(seed)
    specs: list[dict[str, Any]] = []
    planted: dict[int, float] = {}
    for t in range(trusts):
        code = f"T{t:03d}"
        if t % 2:
            specs.append(
                {
                    "trust": code,
                    "kind": "joint_social_spaces",
                    "title": "Cafe",
                    "stage": "running",
                    "actual_start": "2026-03-01",
                }
            )
            continue
        cohort = [
            {"email": f"p{k}@{code.lower()}.nhs.uk", "side": "doctor" if k % 2 else "manager"}
            for k in range(10)
        ]
        before = [{"email": p["email"], "local_rating": str(rng.randint(1, 4))} for p in cohort]
        after = [
            {"email": p["email"], "local_rating": str(min(5, int(b["local_rating"]) + 1))}
            for p, b in zip(cohort[:8], before, strict=False)
        ]
        planted[len(specs)] = sum(
            int(a["local_rating"]) - int(b["local_rating"])
            for a, b in zip(after, before[:8], strict=True)
        ) / len(after)
        specs.append({
            "trust": code, "kind": "paired_learning", "title": "Pairs", "stage": "running",
            "planned_start": D(2026, 1, 5), "progress": 2.0, "cohort": cohort,
            "pulse": {"before": {"opens": "2026-01-05", "answers": before},
                      "after": {"opens": "2026-07-01", "answers": after}},
        })  # fmt: skip
    return specs, planted


def test_a_programme_loads_and_its_planted_change_comes_back(store: Store) -> None:
    specs, planted = programme(6)
    loaded = scenario.load_programme(store, specs)
    assert loaded == scenario.Loaded(6, 30, 6, 54)
    with store.session() as session:
        ids = list(session.scalars(select(Initiative.id).order_by(Initiative.id)))
        keys = set(session.scalars(select(Response.respondent_key)))
        emails = set(session.scalars(select(Participant.email)))
        for index, change in planted.items():
            found = pulse.results(session, ids[index])
            rating = next(c for c in found.changes["after"] if c.item == "local_rating")
            assert rating.paired == 8 and rating.change == pytest.approx(change)
            assert found.lost_after == 2
        shown = register.show(session, ids[0])
    assert not keys & emails and all(len(k) == 24 for k in keys)
    assert [s[1] for s in shown.stages] == ["planned", "running"] and shown.progress == 2.0


def test_a_bad_programme_loads_nothing(store: Store) -> None:
    specs, _ = programme(4)
    specs[1]["kind"] = "astrology"
    specs[2]["pulse"]["before"]["answers"][0]["local_rating"] = "9"
    specs[2]["pulse"]["after"]["answers"][0]["email"] = "stranger@x.nhs.uk"
    specs[3]["stage"] = "ended"
    with pytest.raises(InitiativeError) as refused:
        scenario.load_programme(store, specs)
    text = str(refused.value)
    assert "5 problem(s)" in text and "initiatives[3].reason: give the reason it is ended" in text
    assert "initiatives[1].kind: unknown kind 'astrology'" in text
    assert "initiatives[2].pulse.before.answers[0].local_rating: '9'" in text
    assert "initiatives[2].pulse.after.answers[0]: 'stranger@x.nhs.uk' is not in the cohort" in text
    assert "initiatives[3].ended_on: an ended initiative needs its end date" in text
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Initiative)) == 0
        assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_non_participants_answers_go_in_under_their_own_codes(store: Store) -> None:
    """The comparison answers (a trust's non-participants): one fresh `comparison-` code per
    person, the same before and after, never counted in the cohort's figures; bad ones are
    refused with the rest."""
    specs, planted = programme(2)
    others = [{"key": f"c{k}", "role": "clinical_director", "local_rating": "3"} for k in range(6)]
    specs[0]["pulse"]["before"]["comparison"] = others
    specs[0]["pulse"]["after"]["comparison"] = others[:4]
    loaded = scenario.load_programme(store, specs)
    assert loaded.answers == 18 + 10
    with store.session() as session:
        ident = session.scalars(select(Initiative.id).order_by(Initiative.id)).first()
        assert ident is not None
        keys = {
            point: set(
                session.scalars(
                    select(Response.respondent_key)
                    .join(Wave, Wave.id == Response.wave_id)
                    .where(Wave.name == pulse.wave_name(ident, point))
                )
            )
            for point in ("before", "after")
        }
        found = pulse.results(session, ident)
    before = {k for k in keys["before"] if k.startswith(pulse.COMPARISON_PREFIX)}
    after = {k for k in keys["after"] if k.startswith(pulse.COMPARISON_PREFIX)}
    assert len(before) == 6 and after < before and len(after) == 4
    assert found.cohort == 10 and found.responded == {"before": 10, "after": 8}
    rating = next(c for c in found.changes["after"] if c.item == "local_rating")
    assert rating.paired == 8 and rating.change == pytest.approx(planted[0])

    bad, _ = programme(2)
    bad[0]["pulse"]["before"]["comparison"] = [{"key": "c1"}, {"key": "c1", "local_rating": "9"}]
    with pytest.raises(InitiativeError) as refused:
        scenario.load_programme(store, bad)
    text = str(refused.value)
    assert "initiatives[0].pulse.before.comparison[1].key: missing or given twice" in text
    assert "initiatives[0].pulse.before.comparison[1].local_rating: '9'" in text


def test_synths_programme_loads_and_its_pulse_comes_back(store: Store) -> None:
    from sharedground.synth.scenario import ScenarioConfig, generate_scenario

    made = generate_scenario(
        3,
        ScenarioConfig(trusts=30, participants=10, non_participants=4, months_before=3,
                       months_after=3, respondents_per_trust_wave=2.0),
    )  # fmt: skip
    tables = made.tables()
    from sharedground.synth.scenario_load import programme_specs

    loaded = scenario.load_programme(store, programme_specs(made))
    assert loaded.initiatives == made.initiatives.height
    people = tables["pulse"].filter(tables["pulse"]["participant"])
    cohorts = {"paired_learning", "shadowing"}
    kinds = dict(zip(made.initiatives["initiative_id"], made.initiatives["kind"], strict=True))
    in_cohorts = [r for r in people.iter_rows(named=True) if kinds[r["initiative_id"]] in cohorts]
    assert loaded.participants == len(in_cohorts)
    with store.session() as session:
        entries = register.list_entries(session)
        by_title = {e.title: e.id for e in entries}
        checked = 0
        for row in made.initiatives.iter_rows(named=True):
            if row["kind"] not in cohorts:
                continue
            ident = next(
                i for t, i in by_title.items() if t.endswith(f"(programme {row['initiative_id']})")
            )
            mine = [r for r in in_cohorts if r["initiative_id"] == row["initiative_id"]]
            paired = [r for r in mine if r["after_rating"] is not None]
            found = {c.item: c for c in pulse.results(session, ident).changes["after"]}
            rating = found["local_rating"]
            assert rating.paired == len(paired)
            if len(paired) >= 5:
                expected = sum(r["after_rating"] - r["before_rating"] for r in paired) / len(paired)
                agree = sum(r["after_agree"] - r["before_agree"] for r in paired) / len(paired)
                assert rating.change == pytest.approx(expected)
                assert found["work_as_team"].change == pytest.approx(agree)
                checked += 1
    assert checked >= 3
