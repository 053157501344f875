"""Pairing doctors with managers: an assignment problem solved by SciPy.

Each pair is one doctor and one manager. Hard rules: never a person with their own line
manager (either way round), and, when the lead asks for cross-directorate pairs, never two
people of the same directorate (a person whose directorate is not given can be paired with
anyone). Soft wishes: the people each person said they would like to be paired with.

The cost of pairing doctor i with manager j is 0 when both asked for each other, 1 when one
did, 2 when neither; a pair the rules forbid costs BIG = 2k + 1, where k = min(doctors,
managers) is the number of pairs any full assignment makes. Every assignment's preference
costs sum to at most 2k < BIG, so minimising the total first makes as many allowed pairs as
can be made and only then honours as many wishes as it can: the lexicographic optimum,
which `tests/initiatives/test_pairs.py` checks against brute-force enumeration.
`scipy.optimize.linear_sum_assignment` (the Jonker–Volgenant algorithm) solves it in
O(n^3); the matrix is built with NumPy whole, never cell by cell in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sharedground.fieldwork.accounts import audit
from sharedground.fieldwork.clock import stored_now
from sharedground.initiatives import participants
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Pair, PairActivity, Participant
from sharedground.initiatives.participants import Member
from sharedground.store import Store

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

ACTIVITY_KINDS = ("meeting", "shadowing_day", "workshop", "joint_project")
STALE_AFTER = dt.timedelta(weeks=6)


# -- the solver --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """The pairing problem as arrays: cost, which pairs are allowed, and why not."""

    cost: NDArray[np.float64]
    allowed: NDArray[np.bool_]
    same_directorate: NDArray[np.bool_]
    line_managed: NDArray[np.bool_]
    doctor_wants: NDArray[np.bool_]
    manager_wants: NDArray[np.bool_]
    big: float


def build(doctors: Sequence[Member], managers: Sequence[Member], cross_directorate: bool) -> Matrix:
    """The cost matrix (doctors by managers) and the rules behind it."""
    import numpy as np

    nd, nm = len(doctors), len(managers)
    names: dict[str, int] = {}
    d_dir = np.array(
        [names.setdefault(d.directorate, len(names)) if d.directorate else -1 for d in doctors],
        dtype=np.int64,
    )
    m_dir = np.array(
        [names.setdefault(m.directorate, len(names)) if m.directorate else -1 for m in managers],
        dtype=np.int64,
    )
    same = (d_dir[:, None] == m_dir[None, :]) & (d_dir[:, None] >= 0)
    d_index = {d.email: i for i, d in enumerate(doctors)}
    m_index = {m.email: j for j, m in enumerate(managers)}
    line = np.zeros((nd, nm), dtype=bool)
    for i, d in enumerate(doctors):
        if d.reports_to in m_index:
            line[i, m_index[d.reports_to]] = True
    for j, m in enumerate(managers):
        if m.reports_to in d_index:
            line[d_index[m.reports_to], j] = True
    d_wants = np.zeros((nd, nm), dtype=bool)
    m_wants = np.zeros((nd, nm), dtype=bool)
    for i, d in enumerate(doctors):
        for email in d.prefers:
            if email in m_index:
                d_wants[i, m_index[email]] = True
    for j, m in enumerate(managers):
        for email in m.prefers:
            if email in d_index:
                m_wants[d_index[email], j] = True
    allowed = ~line
    if cross_directorate:
        allowed &= ~same
    big = 2.0 * min(nd, nm) + 1.0
    cost = 2.0 - d_wants.astype(np.float64) - m_wants.astype(np.float64)
    cost = np.where(allowed, cost, big)
    return Matrix(cost, allowed, same, line, d_wants, m_wants, big)


def solve(matrix: Matrix) -> list[tuple[int, int]]:
    """The allowed pairs of an optimal assignment, as (doctor index, manager index)."""
    from scipy.optimize import linear_sum_assignment

    if matrix.cost.size == 0:
        return []
    rows, cols = linear_sum_assignment(matrix.cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if matrix.allowed[i, j]]


@dataclass(frozen=True)
class Proposed:
    doctor: Member
    manager: Member
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    """Pairs with the reasons for each, and what could not be met."""

    pairs: list[Proposed]
    unpaired: list[tuple[Member, str]] = field(default_factory=list)
    unmet_wishes: list[str] = field(default_factory=list)
    possible: int = 0

    @property
    def feasible(self) -> bool:
        """Whether everyone on the smaller side has a partner."""
        return len(self.pairs) == self.possible

    def message(self) -> str:
        if self.possible == 0:
            return "no pairs can be made: the cohort needs at least one doctor and one manager"
        if self.feasible:
            return f"{len(self.pairs)} pairs: everyone on the smaller side has a partner"
        return (
            f"only {len(self.pairs)} of {self.possible} pairs can be made under the rules; "
            "the people left without a partner are listed with the reason"
        )


def propose_for(
    doctors: Sequence[Member], managers: Sequence[Member], cross_directorate: bool
) -> Proposal:
    """Solve and explain: each pair's reasons, who is left out and why, unmet wishes."""
    matrix = build(doctors, managers, cross_directorate)
    chosen = solve(matrix)
    partner_of_d = {i: j for i, j in chosen}
    partner_of_m = {j: i for i, j in chosen}
    made = []
    for i, j in chosen:
        d, m = doctors[i], managers[j]
        reasons = []
        if cross_directorate and d.directorate and m.directorate:
            reasons.append(f"different directorates ({d.directorate} / {m.directorate})")
        if matrix.doctor_wants[i, j] and matrix.manager_wants[i, j]:
            reasons.append("both asked for each other")
        elif matrix.doctor_wants[i, j]:
            reasons.append("the doctor asked for this manager")
        elif matrix.manager_wants[i, j]:
            reasons.append("the manager asked for this doctor")
        made.append(Proposed(d, m, tuple(reasons)))
    unpaired: list[tuple[Member, str]] = []
    for i, d in enumerate(doctors):
        if i not in partner_of_d:
            unpaired.append(
                (
                    d,
                    _why_alone(
                        matrix.allowed[i, :],
                        matrix.line_managed[i, :],
                        "manager",
                        len(doctors),
                        len(managers),
                    ),
                )
            )
    for j, m in enumerate(managers):
        if j not in partner_of_m:
            unpaired.append(
                (
                    m,
                    _why_alone(
                        matrix.allowed[:, j],
                        matrix.line_managed[:, j],
                        "doctor",
                        len(managers),
                        len(doctors),
                    ),
                )
            )
    unmet = []
    d_index = {d.email: i for i, d in enumerate(doctors)}
    m_index = {m.email: j for j, m in enumerate(managers)}
    for i, d in enumerate(doctors):
        unmet += _unmet(d, partner_of_d.get(i), m_index, managers, matrix.allowed[i, :])
    for j, m in enumerate(managers):
        unmet += _unmet(m, partner_of_m.get(j), d_index, doctors, matrix.allowed[:, j])
    return Proposal(made, unpaired, unmet, min(len(doctors), len(managers)))


def _why_alone(
    allowed: NDArray[np.bool_], line: NDArray[np.bool_], other: str, mine: int, theirs: int
) -> str:
    if theirs == 0:
        return f"there is no {other} in the cohort"
    if not allowed.any():
        if line.all():
            return f"the only {other} is their line manager"
        return (
            f"no {other} can be paired with them: every one is in the same directorate "
            "or in a line-management relation with them"
        )
    if mine > theirs:
        return f"there are fewer {other}s than people to pair with them ({theirs} for {mine})"
    return (
        f"each {other} they could be paired with is needed for someone who has no other "
        "allowed partner"
    )


def _unmet(
    person: Member,
    partner: int | None,
    index: dict[str, int],
    others: Sequence[Member],
    allowed: NDArray[np.bool_],
) -> list[str]:
    wishes = [index[e] for e in person.prefers if e in index]
    if not wishes or (partner is not None and partner in wishes):
        return []
    who = person.name or person.email
    asked = ", ".join(others[k].name or others[k].email for k in wishes)
    if not any(allowed[k] for k in wishes):
        return [f"{who} asked for {asked}: the rules forbid that pairing"]
    return [f"{who} asked for {asked}: not possible without leaving someone else worse off"]


# -- stored pairs ------------------------------------------------------------------------------


def _people(session: Session, initiative_id: int) -> dict[int, Member]:
    return {m.id: m for m in participants.members(session, initiative_id)}


def propose(
    store: Store,
    initiative_id: int,
    *,
    cross_directorate: bool,
    actor: str,
    trust: str | None = None,
) -> Proposal:
    """Propose pairs for everyone not in a confirmed pair; earlier proposals are replaced."""
    with store.session() as session:
        return propose_in(
            session, initiative_id, cross_directorate=cross_directorate, actor=actor, trust=trust
        )


def propose_in(
    session: Session,
    initiative_id: int,
    *,
    cross_directorate: bool,
    actor: str,
    trust: str | None = None,
) -> Proposal:
    """`propose` in the caller's transaction."""
    participants.cohort_initiative(session, initiative_id, trust)
    session.execute(
        delete(Pair).where(Pair.initiative_id == initiative_id, Pair.status == "proposed")
    )
    taken = set()
    for pair in session.scalars(select(Pair).where(Pair.initiative_id == initiative_id)):
        taken |= {pair.doctor_id, pair.manager_id}
    people = [m for m in _people(session, initiative_id).values() if m.id not in taken]
    doctors = [m for m in people if m.side == "doctor"]
    managers = [m for m in people if m.side == "manager"]
    proposal = propose_for(doctors, managers, cross_directorate)
    now = stored_now()
    session.add_all(
        Pair(
            initiative_id=initiative_id,
            doctor_id=p.doctor.id,
            manager_id=p.manager.id,
            status="proposed",
            reasons="; ".join(p.reasons) or None,
            created_at=now,
        )
        for p in proposal.pairs
    )
    audit(
        session,
        actor,
        "pairs propose",
        f"initiative {initiative_id}",
        {"pairs": len(proposal.pairs), "cross_directorate": cross_directorate},
    )
    session.flush()
    return proposal


@dataclass(frozen=True)
class PairView:
    id: int
    doctor: Member
    manager: Member
    status: str
    reasons: str | None
    last_activity: dt.date | None
    activities: int
    stale: bool


def list_pairs(
    session: Session, initiative_id: int, today: dt.date | None = None
) -> list[PairView]:
    """The initiative's pairs with their activity; confirmed pairs with nothing logged for
    six weeks (since confirmation or their last activity) are flagged stale."""
    today = today or dt.date.today()
    people = _people(session, initiative_id)
    found = []
    for pair in session.scalars(
        select(Pair).where(Pair.initiative_id == initiative_id).order_by(Pair.id)
    ):
        days = list(session.scalars(select(PairActivity.on).where(PairActivity.pair_id == pair.id)))
        last = max(days) if days else None
        since = last or pair.created_at.date()
        found.append(
            PairView(
                pair.id,
                people[pair.doctor_id],
                people[pair.manager_id],
                pair.status,
                pair.reasons,
                last,
                len(days),
                pair.status == "confirmed" and today - since > STALE_AFTER,
            )
        )
    return found


def _member(session: Session, initiative_id: int, email: str) -> Participant:
    person = session.scalar(
        select(Participant).where(
            Participant.initiative_id == initiative_id,
            Participant.email == email.strip().lower(),
        )
    )
    if person is None:
        raise InitiativeError(f"{email} is not in the cohort of initiative {initiative_id}")
    return person


def set_pair(
    session: Session,
    initiative_id: int,
    doctor_email: str,
    manager_email: str,
    *,
    actor: str,
    trust: str | None = None,
) -> Pair:
    """Pair two people by hand (replacing proposals that involve either of them)."""
    participants.cohort_initiative(session, initiative_id, trust)
    doctor = _member(session, initiative_id, doctor_email)
    manager = _member(session, initiative_id, manager_email)
    if doctor.side == manager.side:
        raise InitiativeError(
            f"{doctor.email} and {manager.email} are both {doctor.side}s; "
            "a pair is one doctor and one manager"
        )
    if doctor.side != "doctor":
        doctor, manager = manager, doctor
    if doctor.reports_to == manager.email or manager.reports_to == doctor.email:
        raise InitiativeError(
            f"{doctor.email} and {manager.email}: one is the other's line manager"
        )
    for person in (doctor, manager):
        other = session.scalar(
            select(Pair).where(
                Pair.initiative_id == initiative_id,
                (Pair.doctor_id == person.id) | (Pair.manager_id == person.id),
            )
        )
        if other is not None and other.status == "confirmed":
            raise InitiativeError(
                f"{person.email} is in confirmed pair {other.id} already; "
                "a person is in one pair of an initiative"
            )
        if other is not None:
            session.delete(other)
    session.flush()
    pair = Pair(
        initiative_id=initiative_id,
        doctor_id=doctor.id,
        manager_id=manager.id,
        status="proposed",
        reasons="set by hand",
        created_at=stored_now(),
    )
    session.add(pair)
    session.flush()
    audit(session, actor, "pairs set", f"initiative {initiative_id}", {"pair": pair.id})
    return pair


def confirm(session: Session, initiative_id: int, *, actor: str, trust: str | None = None) -> int:
    """Confirm every proposed pair of the initiative; returns how many."""
    participants.cohort_initiative(session, initiative_id, trust)
    pending = list(
        session.scalars(
            select(Pair).where(Pair.initiative_id == initiative_id, Pair.status == "proposed")
        )
    )
    now = stored_now()
    for pair in pending:
        pair.status, pair.created_at = "confirmed", now
    audit(session, actor, "pairs confirm", f"initiative {initiative_id}", {"pairs": len(pending)})
    session.flush()
    return len(pending)


def log_activity(
    session: Session,
    initiative_id: int,
    pair_id: int,
    *,
    on: dt.date,
    kind: str,
    attended: Sequence[str],
    minutes: str | None,
    actor: str,
    trust: str | None = None,
) -> PairActivity:
    """Log a meeting, shadowing day, workshop or joint-project step of a confirmed pair."""
    participants.cohort_initiative(session, initiative_id, trust)
    pair = session.get(Pair, pair_id)
    if pair is None or pair.initiative_id != initiative_id:
        raise InitiativeError(f"no pair {pair_id} in initiative {initiative_id}")
    if pair.status != "confirmed":
        raise InitiativeError(f"pair {pair_id} is not confirmed yet; confirm it first")
    if kind not in ACTIVITY_KINDS:
        raise InitiativeError(f"unknown activity {kind!r}; use {', '.join(ACTIVITY_KINDS)}")
    who = sorted({a.strip().lower() for a in attended if a.strip()})
    if not who or any(a not in ("doctor", "manager") for a in who):
        raise InitiativeError("attended: give doctor, manager or both")
    if on > dt.date.today():
        raise InitiativeError(f"{on} is in the future; log what has happened")
    row = PairActivity(
        pair_id=pair_id,
        on=on,
        kind=kind,
        attended=who,
        minutes=minutes,
        actor=actor,
        at=stored_now(),
    )
    session.add(row)
    session.flush()
    audit(session, actor, "pairs log", f"pair {pair_id}", {"kind": kind, "on": on})
    return row
