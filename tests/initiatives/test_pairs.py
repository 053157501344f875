"""Pairing: the solver's pairs are the lexicographic optimum (most allowed pairs, then most
wishes honoured), checked against brute-force enumeration; the rules are never broken; and
cases that cannot all be met say who is left out and why."""

from __future__ import annotations

import itertools
import random

import pytest

from sharedground.initiatives.pairs import build, propose_for
from sharedground.initiatives.participants import Member


def person(
    ident: int,
    side: str,
    directorate: str | None = None,
    reports_to: str | None = None,
    prefers: tuple[str, ...] = (),
) -> Member:
    return Member(
        ident,
        f"{side[0]}{ident}",
        f"{side[0]}{ident}@x.nhs.uk",
        side,
        None,
        directorate,
        None,
        reports_to,
        prefers,
    )


def brute_force(doctors: list[Member], managers: list[Member], cross: bool) -> tuple[int, int]:
    """(allowed pairs, wishes honoured) of the best assignment, by trying every one."""
    nd, nm = len(doctors), len(managers)
    best = (-1, -1)

    def allowed(d: Member, m: Member) -> bool:
        if d.reports_to == m.email or m.reports_to == d.email:
            return False
        return not (cross and d.directorate and d.directorate == m.directorate)

    def wishes(d: Member, m: Member) -> int:
        return int(m.email in d.prefers) + int(d.email in m.prefers)

    if nd <= nm:
        choices = ([(i, j) for i, j in enumerate(p)] for p in itertools.permutations(range(nm), nd))
    else:
        choices = ([(i, j) for j, i in enumerate(p)] for p in itertools.permutations(range(nd), nm))
    for assignment in choices:
        ok = [(i, j) for i, j in assignment if allowed(doctors[i], managers[j])]
        score = (len(ok), sum(wishes(doctors[i], managers[j]) for i, j in ok))
        best = max(best, score)
    return best


def random_cohort(rng: random.Random, nd: int, nm: int) -> tuple[list[Member], list[Member]]:
    dirs = ["Surgery", "Medicine", "Women's", None]
    doctors = [person(i, "doctor", rng.choice(dirs)) for i in range(nd)]
    managers = [person(100 + j, "manager", rng.choice(dirs)) for j in range(nm)]
    out_d, out_m = [], []
    for d in doctors:
        boss = rng.choice(managers).email if rng.random() < 0.3 else None
        wants = tuple(m.email for m in managers if rng.random() < 0.3)
        out_d.append(Member(d.id, d.name, d.email, d.side, None, d.directorate, None, boss, wants))
    for m in managers:
        boss = rng.choice(doctors).email if rng.random() < 0.2 else None
        wants = tuple(d.email for d in doctors if rng.random() < 0.3)
        out_m.append(Member(m.id, m.name, m.email, m.side, None, m.directorate, None, boss, wants))
    return out_d, out_m


@pytest.mark.parametrize("seed", range(60))
def test_solver_matches_brute_force_on_small_cohorts(seed: int) -> None:
    rng = random.Random(seed)
    nd, nm = rng.randint(1, 6), rng.randint(1, 6)
    doctors, managers = random_cohort(rng, nd, nm)
    cross = seed % 3 != 0
    proposal = propose_for(doctors, managers, cross)
    matrix = build(doctors, managers, cross)
    made = [(doctors.index(p.doctor), managers.index(p.manager)) for p in proposal.pairs]
    honoured = sum(
        int(matrix.doctor_wants[i, j]) + int(matrix.manager_wants[i, j]) for i, j in made
    )
    assert (len(made), honoured) == brute_force(doctors, managers, cross)
    for p in proposal.pairs:  # the rules hold for every pair made
        assert p.doctor.reports_to != p.manager.email and p.manager.reports_to != p.doctor.email
        if cross and p.doctor.directorate:
            assert p.doctor.directorate != p.manager.directorate
    everyone = {m.email for m in doctors + managers}
    paired = [x.email for p in proposal.pairs for x in (p.doctor, p.manager)]
    assert len(paired) == len(set(paired))  # nobody in two pairs
    assert set(paired) | {m.email for m, _ in proposal.unpaired} == everyone


def test_a_hand_made_cohort_whose_best_pairing_is_known() -> None:
    # Three doctors, three managers; the only pairing honouring every wish without a
    # same-directorate pair is d1-m3, d2-m1, d3-m2.
    d = [
        person(1, "doctor", "Surgery", prefers=("m3@x.nhs.uk",)),
        person(2, "doctor", "Medicine", prefers=("m1@x.nhs.uk",)),
        person(3, "doctor", "Surgery"),
    ]
    m = [
        person(1, "manager", "Surgery", prefers=("d2@x.nhs.uk",)),
        person(2, "manager", "Medicine", prefers=("d3@x.nhs.uk",)),
        person(3, "manager", "Estates", reports_to="d2@x.nhs.uk"),
    ]
    proposal = propose_for(d, m, cross_directorate=True)
    got = {(p.doctor.email[:2], p.manager.email[:2]) for p in proposal.pairs}
    assert got == {("d1", "m3"), ("d2", "m1"), ("d3", "m2")}
    reasons = {p.doctor.email[:2]: p.reasons for p in proposal.pairs}
    assert reasons["d2"] == (
        "different directorates (Medicine / Surgery)",
        "both asked for each other",
    )
    assert proposal.feasible and proposal.unmet_wishes == []


def test_constraints_that_cannot_all_be_met_are_explained() -> None:
    d = [person(1, "doctor", "Surgery"), person(2, "doctor", "Surgery")]
    m = [
        person(1, "manager", "Surgery"),
        person(2, "manager", "Medicine", prefers=("d1@x.nhs.uk",)),
    ]
    proposal = propose_for(d, m, cross_directorate=True)
    # Only m2 may be paired with a Surgery doctor: one pair of the two wanted.
    assert len(proposal.pairs) == 1 and not proposal.feasible
    assert "only 1 of 2 pairs" in proposal.message()
    alone = {who.email: why for who, why in proposal.unpaired}
    assert "every one is in the same directorate" in alone["m1@x.nhs.uk"]
    assert set(alone) == {"m1@x.nhs.uk", "d1@x.nhs.uk"} or set(alone) == {
        "m1@x.nhs.uk",
        "d2@x.nhs.uk",
    }
    # The wish m2 gave is honoured, since it costs nothing in pairs.
    assert proposal.pairs[0].doctor.email == "d1@x.nhs.uk"
    boss = [person(1, "doctor", reports_to="m1@x.nhs.uk")]
    only = propose_for(boss, [person(1, "manager")], cross_directorate=False)
    assert only.pairs == [] and only.unpaired[0][1] == "the only manager is their line manager"
    assert propose_for([], [person(1, "manager")], False).message().startswith("no pairs")


@pytest.mark.parametrize("seed", range(5))
def test_solver_matches_an_integer_program_on_larger_cohorts(seed: int) -> None:
    """Cohorts too large to enumerate, against SciPy's MILP (HiGHS) on the same objective
    written independently: most allowed pairs first, then most wishes."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    rng = random.Random(100 + seed)
    nd, nm = rng.randint(15, 30), rng.randint(15, 30)
    doctors, managers = random_cohort(rng, nd, nm)
    proposal = propose_for(doctors, managers, cross_directorate=True)
    pairs_ = [
        (i, j, int(m.email in d.prefers) + int(d.email in m.prefers))
        for i, d in enumerate(doctors)
        for j, m in enumerate(managers)
        if d.reports_to != m.email
        and m.reports_to != d.email
        and not (d.directorate and d.directorate == m.directorate)
    ]
    weight = 2 * min(nd, nm) + 1
    cost = np.array([-(weight + w) for _, _, w in pairs_], dtype=float)
    rows = np.zeros((nd + nm, len(pairs_)))
    for k, (i, j, _) in enumerate(pairs_):
        rows[i, k] = 1
        rows[nd + j, k] = 1
    solved = milp(
        cost,
        constraints=LinearConstraint(rows, 0, 1),
        integrality=np.ones(len(pairs_)),
        bounds=Bounds(0, 1),
    )
    chosen = [pairs_[k] for k, x in enumerate(solved.x) if x > 0.5]
    expected = (len(chosen), sum(w for _, _, w in chosen))
    matrix = build(doctors, managers, True)
    made = [(doctors.index(p.doctor), managers.index(p.manager)) for p in proposal.pairs]
    got = (
        len(made),
        sum(int(matrix.doctor_wants[i, j]) + int(matrix.manager_wants[i, j]) for i, j in made),
    )
    assert got == expected
