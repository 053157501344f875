"""The register: add, list, show, update and end a trust's initiatives.

Every change is checked whole before anything is written (a bad date order, an unknown
kind or a score off the IHI scale is refused with what and where), keeps its history (each
stage with its reason, each progress score with its day) and writes one line to the audit
log in the same transaction, so a refused change leaves neither a row nor an audit entry.

`trust` arguments restrict a look-up to one organisation (an organisation lead's view):
an initiative of another trust is then reported exactly as a missing one, so its existence
is not revealed (the admin pages answer 404 to both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.fieldwork.accounts import audit
from sharedground.fieldwork.clock import stored_now
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.kinds import BUILTIN, Kind
from sharedground.initiatives.models import (
    Initiative,
    InitiativeKind,
    InitiativeProgress,
    InitiativeStage,
)
from sharedground.store import Organisation, Store

STAGES = ("planned", "running", "paused", "ended")
# Which stage may follow which: an ended initiative stays ended (start a new one instead),
# so its history and any before/after measures keep meaning what they meant.
NEXT_STAGES = {
    "planned": ("running", "paused", "ended"),
    "running": ("paused", "ended"),
    "paused": ("running", "ended"),
    "ended": (),
}
#: The IHI progress scale: 0.5 (intent to participate) to 5.0 (outstanding sustainable
#: results), in steps of one half.
PROGRESS_SCALE = tuple(x / 2 for x in range(1, 11))
MAX_TITLE = 300
MAX_OWNER = 200
MAX_DIRECTORATE = 200


@dataclass(frozen=True)
class Entry:
    """An initiative as the register shows it, with its history."""

    id: int
    trust: str
    kind: str
    kind_label: str
    title: str
    description: str | None
    directorates: tuple[str, ...]
    owner: str | None
    planned_start: dt.date | None
    actual_start: dt.date | None
    ended_on: dt.date | None
    stage: str
    stage_reason: str | None
    progress: float | None
    stages: tuple[tuple[dt.date, str, str | None], ...] = field(default=())
    scores: tuple[tuple[dt.date, float, str | None], ...] = field(default=())

    @property
    def scope(self) -> str:
        return ", ".join(self.directorates) if self.directorates else "whole trust"


def progress_score(value: object, where: str = "progress") -> float:
    """A score on the IHI scale, or InitiativeError saying what is allowed."""
    try:
        score = float(str(value).strip())
    except ValueError:
        raise InitiativeError(f"{where}: {value!r} is not a number; use 0.5 to 5.0") from None
    if score not in PROGRESS_SCALE:
        raise InitiativeError(
            f"{where}: {value} is not on the IHI scale; use 0.5 to 5.0 in steps of 0.5"
        )
    return score


# -- kinds -------------------------------------------------------------------------------------


def kinds_for(session: Session, organisation_id: int | None) -> dict[str, Kind]:
    """The built-in kinds and the ones the organisation added."""
    found = dict(BUILTIN)
    if organisation_id is not None:
        rows = session.execute(
            select(InitiativeKind, Organisation.code)
            .join(Organisation, Organisation.id == InitiativeKind.organisation_id)
            .where(InitiativeKind.organisation_id == organisation_id)
            .order_by(InitiativeKind.key)
        )
        for row, code in rows:
            found[row.key] = Kind(row.key, row.label, row.groups_people, source=code)
    return found


def add_kinds(store: Store, session: Session, trust: str, kinds: list[Kind], actor: str) -> int:
    """Store an organisation's own kinds; a kind it added before has its label updated."""
    org = store.organisation_ids(session, [trust])[trust]
    existing = {
        row.key: row
        for row in session.scalars(
            select(InitiativeKind).where(InitiativeKind.organisation_id == org)
        )
    }
    for kind in kinds:
        row = existing.get(kind.id)
        if row is None:
            session.add(
                InitiativeKind(
                    organisation_id=org,
                    key=kind.id,
                    label=kind.label,
                    groups_people=kind.groups_people,
                )
            )
        else:
            row.label, row.groups_people = kind.label, kind.groups_people
    audit(session, actor, "initiative kinds", trust, {"kinds": [k.id for k in kinds]})
    session.flush()
    return len(kinds)


# -- checks ------------------------------------------------------------------------------------


def _check_dates(
    planned: dt.date | None, actual: dt.date | None, ended: dt.date | None, where: str
) -> None:
    # A scheme may start earlier or later than planned, but nothing ends before it started
    # (or, never started, before it was planned to start).
    start, name = (actual, "actual_start") if actual else (planned, "planned_start")
    if ended is not None and start is not None and ended < start:
        raise InitiativeError(f"{where}: end {ended} is before {name} {start}")


def _check_text(value: str | None, name: str, limit: int, where: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > limit:
        raise InitiativeError(f"{where}: {name} has {len(text)} characters, at most {limit}")
    return text or None


def _check_directorates(values: list[str] | tuple[str, ...], where: str) -> list[str]:
    cleaned = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        if len(text) > MAX_DIRECTORATE:
            raise InitiativeError(f"{where}: directorate {text[:40]!r}... is too long")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _kind(session: Session, organisation_id: int | None, kind: str, where: str) -> Kind:
    known = kinds_for(session, organisation_id)
    if kind not in known:
        raise InitiativeError(
            f"{where}: unknown kind {kind!r}; use one of {', '.join(sorted(known))} "
            "(or add it to the organisation's kinds file)"
        )
    return known[kind]


def organisation_id(session: Session, trust: str) -> int | None:
    return session.scalar(select(Organisation.id).where(Organisation.code == trust))


# -- writing -----------------------------------------------------------------------------------


def add(
    store: Store,
    session: Session,
    *,
    trust: str,
    kind: str,
    title: str,
    actor: str,
    description: str | None = None,
    directorates: list[str] | tuple[str, ...] = (),
    owner: str | None = None,
    planned_start: dt.date | None = None,
    actual_start: dt.date | None = None,
    stage: str = "planned",
    reason: str | None = None,
    progress: float | None = None,
    today: dt.date | None = None,
    where: str = "initiative",
) -> Initiative:
    """Register an initiative; returns it (flushed, with its id)."""
    today = today or dt.date.today()
    title_text = _check_text(title, "title", MAX_TITLE, where)
    if not title_text:
        raise InitiativeError(f"{where}: title is missing")
    if stage not in STAGES or stage == "ended":
        raise InitiativeError(
            f"{where}: stage {stage!r} cannot start an initiative; use planned, running or "
            "paused (end it afterwards with `initiative end`)"
        )
    if stage == "running" and actual_start is None:
        actual_start = today
    _check_dates(planned_start, actual_start, None, where)
    score = None if progress is None else progress_score(progress, f"{where}: progress")
    org_id = organisation_id(session, trust)
    _kind(session, org_id, kind, where)
    if org_id is None:
        org_id = store.organisation_ids(session, [trust])[trust]
    now = stored_now()
    row = Initiative(
        organisation_id=org_id,
        kind=kind,
        title=title_text,
        description=_check_text(description, "description", 20_000, where),
        directorates=_check_directorates(directorates, where),
        owner=_check_text(owner, "owner", MAX_OWNER, where),
        planned_start=planned_start,
        actual_start=actual_start,
        ended_on=None,
        stage=stage,
        stage_reason=reason,
        progress=score,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        InitiativeStage(
            initiative_id=row.id, stage=stage, reason=reason, on=today, actor=actor, at=now
        )
    )
    if score is not None:
        session.add(
            InitiativeProgress(
                initiative_id=row.id, score=score, on=today, note=None, actor=actor, at=now
            )
        )
    audit(
        session,
        actor,
        "initiative add",
        f"initiative {row.id} ({trust})",
        {"kind": kind, "title": title_text, "stage": stage},
    )
    return row


_UNSET: Any = object()


def update(
    session: Session,
    ident: int,
    *,
    actor: str,
    trust: str | None = None,
    today: dt.date | None = None,
    title: str | None = _UNSET,
    description: str | None = _UNSET,
    kind: str = _UNSET,
    directorates: list[str] | tuple[str, ...] = _UNSET,
    owner: str | None = _UNSET,
    planned_start: dt.date | None = _UNSET,
    actual_start: dt.date | None = _UNSET,
    stage: str = _UNSET,
    reason: str | None = None,
    progress: float = _UNSET,
    note: str | None = None,
) -> Initiative:
    """Change an initiative; only the fields given are changed, and each is audited.

    A new stage is recorded with `reason` in the stage history (moving to `ended` is
    `end`'s work, which asks for the end date); a new progress score joins the progress
    history with `note`.
    """
    today = today or dt.date.today()
    row = get(session, ident, trust)
    where = f"initiative {ident}"
    if row.stage == "ended":
        raise InitiativeError(f"{where} has ended ({row.ended_on}); it can no longer change")
    changed: dict[str, object] = {}

    def set_(name: str, value: object) -> None:
        if getattr(row, name) != value:
            changed[name] = value
            setattr(row, name, value)

    if title is not _UNSET:
        text = _check_text(title, "title", MAX_TITLE, where)
        if not text:
            raise InitiativeError(f"{where}: title cannot be empty")
        set_("title", text)
    if description is not _UNSET:
        set_("description", _check_text(description, "description", 20_000, where))
    if kind is not _UNSET:
        _kind(session, row.organisation_id, kind, where)
        set_("kind", kind)
    if directorates is not _UNSET:
        set_("directorates", _check_directorates(directorates, where))
    if owner is not _UNSET:
        set_("owner", _check_text(owner, "owner", MAX_OWNER, where))
    if planned_start is not _UNSET:
        set_("planned_start", planned_start)
    if actual_start is not _UNSET:
        set_("actual_start", actual_start)
    now = stored_now()
    if stage is not _UNSET and stage != row.stage:
        if stage == "ended":
            raise InitiativeError(f"{where}: use `initiative end` (it asks for the end date)")
        if stage not in NEXT_STAGES[row.stage]:
            allowed = ", ".join(NEXT_STAGES[row.stage])
            raise InitiativeError(
                f"{where}: stage {stage!r} cannot follow {row.stage!r}; use {allowed}"
                if stage in STAGES
                else f"{where}: unknown stage {stage!r}; use {', '.join(STAGES)}"
            )
        if stage == "paused" and not (reason and reason.strip()):
            raise InitiativeError(f"{where}: give the reason it is paused")
        if stage == "running" and row.actual_start is None:
            set_("actual_start", today)
        set_("stage", stage)
        row.stage_reason = reason
        session.add(
            InitiativeStage(
                initiative_id=row.id, stage=stage, reason=reason, on=today, actor=actor, at=now
            )
        )
    _check_dates(row.planned_start, row.actual_start, row.ended_on, where)
    if progress is not _UNSET:
        score = progress_score(progress, f"{where}: progress")
        changed["progress"] = score
        row.progress = score
        session.add(
            InitiativeProgress(
                initiative_id=row.id, score=score, on=today, note=note, actor=actor, at=now
            )
        )
    if not changed:
        return row
    row.updated_at = now
    detail = {k: v for k, v in changed.items()}
    if "stage" in changed:
        detail["reason"] = reason
    audit(session, actor, "initiative update", f"initiative {row.id}", detail)
    session.flush()
    return row


def end(
    session: Session,
    ident: int,
    *,
    actor: str,
    on: dt.date,
    reason: str,
    trust: str | None = None,
) -> Initiative:
    """End an initiative on a day, with the reason (completed, stopped, merged, ...)."""
    row = get(session, ident, trust)
    where = f"initiative {ident}"
    if row.stage == "ended":
        raise InitiativeError(f"{where} has ended already ({row.ended_on})")
    if not reason or not reason.strip():
        raise InitiativeError(f"{where}: give the reason it ended")
    _check_dates(row.planned_start, row.actual_start, on, where)
    now = stored_now()
    row.stage, row.stage_reason, row.ended_on, row.updated_at = "ended", reason.strip(), on, now
    session.add(
        InitiativeStage(
            initiative_id=row.id, stage="ended", reason=reason.strip(), on=on, actor=actor, at=now
        )
    )
    audit(session, actor, "initiative end", f"initiative {row.id}", {"on": on, "reason": reason})
    session.flush()
    return row


# -- reading -----------------------------------------------------------------------------------


def get(session: Session, ident: int, trust: str | None = None) -> Initiative:
    """The initiative with this id; with `trust`, only if it belongs to that trust."""
    query = select(Initiative).where(Initiative.id == ident)
    if trust is not None:
        query = query.join(Organisation, Organisation.id == Initiative.organisation_id).where(
            Organisation.code == trust
        )
    row = session.scalar(query)
    if row is None:
        scope = f" of trust {trust}" if trust is not None else ""
        raise InitiativeError(f"no initiative {ident}{scope} (see `initiative list`)")
    return row


def entry(
    session: Session,
    row: Initiative,
    *,
    history: bool = False,
    code: str | None = None,
    kinds: dict[str, Kind] | None = None,
) -> Entry:
    """The register's view of a row (`code` and `kinds` spare the look-ups in a list)."""
    if code is None:
        code = session.scalar(
            select(Organisation.code).where(Organisation.id == row.organisation_id)
        )
    if kinds is None:
        kinds = kinds_for(session, row.organisation_id)
    kind = kinds.get(row.kind)
    stages: tuple[tuple[dt.date, str, str | None], ...] = ()
    scores: tuple[tuple[dt.date, float, str | None], ...] = ()
    if history:
        stages = tuple(
            (s.on, s.stage, s.reason)
            for s in session.scalars(
                select(InitiativeStage)
                .where(InitiativeStage.initiative_id == row.id)
                .order_by(InitiativeStage.id)
            )
        )
        scores = tuple(
            (p.on, p.score, p.note)
            for p in session.scalars(
                select(InitiativeProgress)
                .where(InitiativeProgress.initiative_id == row.id)
                .order_by(InitiativeProgress.id)
            )
        )
    return Entry(
        id=row.id,
        trust=code or "?",
        kind=row.kind,
        kind_label=kind.label if kind else row.kind,
        title=row.title,
        description=row.description,
        directorates=tuple(row.directorates or ()),
        owner=row.owner,
        planned_start=row.planned_start,
        actual_start=row.actual_start,
        ended_on=row.ended_on,
        stage=row.stage,
        stage_reason=row.stage_reason,
        progress=row.progress,
        stages=stages,
        scores=scores,
    )


def show(session: Session, ident: int, trust: str | None = None) -> Entry:
    return entry(session, get(session, ident, trust), history=True)


def list_entries(
    session: Session,
    *,
    trust: str | None = None,
    kind: str | None = None,
    stage: str | None = None,
) -> list[Entry]:
    """The register, by trust then id, optionally only one trust, kind or stage."""
    query = (
        select(Initiative, Organisation.code)
        .join(Organisation, Organisation.id == Initiative.organisation_id)
        .order_by(Organisation.code, Initiative.id)
    )
    if trust is not None:
        query = query.where(Organisation.code == trust)
    if kind is not None:
        query = query.where(Initiative.kind == kind)
    if stage is not None:
        if stage not in STAGES:
            raise InitiativeError(f"unknown stage {stage!r}; use {', '.join(STAGES)}")
        query = query.where(Initiative.stage == stage)
    rows = session.execute(query).all()
    labels: dict[int, dict[str, Kind]] = {}
    found = []
    for row, code in rows:
        if row.organisation_id not in labels:
            labels[row.organisation_id] = kinds_for(session, row.organisation_id)
        found.append(entry(session, row, code=code, kinds=labels[row.organisation_id]))
    return found
