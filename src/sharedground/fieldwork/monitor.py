"""Monitoring a wave: who was invited, reminded, opted out, bounced, started, completed.

Everything is counted per contact, from the contact and its personal link (never from the
responses, which in an anonymous wave cannot be tied to anyone): completion is the
contact's own mark (a paper return) or their link's (an online submission), whichever
came first, so a person is counted once whatever they did.

The postal figures include the online drafts superseded by paper: people completed by
post whose personal link had been started online (a half-finished survey, deleted when
the paper claimed them; see `paper`). Counted from the contact and the link alone, this
says nothing about any response, in an anonymous wave too.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.fieldwork.clock import study_day, study_today, study_zone
from sharedground.instrument import loads
from sharedground.store import Contact, Organisation, Wave
from sharedground.store.schema import Link, Message, PaperReturn, PersonalLink

MEASURES = ("contacts", "invited", "reminded", "opted_out", "bounced", "started", "completed")


@dataclass
class Counts:
    """One row of the monitoring table."""

    group: str
    contacts: int = 0
    invited: int = 0
    reminded: int = 0
    opted_out: int = 0
    bounced: int = 0
    started: int = 0
    completed: int = 0

    @property
    def rate(self) -> float | None:
        """Completed as a share of contacts (None for an empty group)."""
        return self.completed / self.contacts if self.contacts else None


@dataclass
class WaveStatus:
    """The monitoring figures of a wave (or of one trust in it)."""

    wave: str
    trust: str | None
    total: Counts
    by_role: list[Counts]
    by_trust: list[Counts]
    by_mode: dict[str, int]
    postal: dict[str, int]
    daily: list[tuple[dt.date, int, int]]  # day, cumulative online, cumulative postal
    reminders: list[tuple[dt.date, str, int]]  # day, kind, messages sent
    in_doubt: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Person:
    role: str
    trust: str
    invited: bool = False
    reminded: bool = False
    opted_out: bool = False
    bounced: bool = False
    started: bool = False
    started_online: bool = False
    completed_on: dt.date | None = None
    mode: str | None = None


def wave_status(
    session: Session,
    wave: Wave,
    trust: str | None = None,
    today: dt.date | None = None,
    zone: ZoneInfo | None = None,
) -> WaveStatus:
    """Count a wave's fieldwork, for every trust or for the one named.

    Days are the study's (`zone`, by default the setting's): a message sent at 23:30 UTC
    in summer counts on the next day in London, as the completions do.
    """
    zone = zone or study_zone()
    today = today or study_today(zone)
    query = (
        select(
            Contact.id,
            Contact.role,
            Organisation.code,
            Contact.opted_out_at,
            Contact.bounced_at,
            Contact.completed_on,
            Contact.completed_mode,
            Link.started_on,
            Link.completed_on,
        )
        .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
        .outerjoin(PersonalLink, PersonalLink.contact_id == Contact.id)
        .outerjoin(Link, Link.id == PersonalLink.link_id)
        .where(Contact.wave_id == wave.id)
    )
    if trust is not None:
        query = query.where(Organisation.code == trust)
    people: dict[int, _Person] = {}
    for ident, role, code, opted, bounced, done, mode, started, link_done in session.execute(query):
        person = _Person(role, code or "(none)", opted_out=opted is not None)
        person.bounced = bounced is not None
        person.started = started is not None or done is not None
        person.started_online = started is not None
        if done is not None:
            person.completed_on, person.mode = done, mode or "postal"
        elif link_done is not None:
            person.completed_on, person.mode = link_done, "online"
        people[ident] = person
    reminders: Counter[tuple[dt.date, str]] = Counter()
    in_doubt = 0
    first_sent: dt.date | None = None
    messages = select(Message.contact_id, Message.kind, Message.status, Message.started_at).where(
        Message.wave_id == wave.id
    )
    for contact_id, kind, status, started_at in session.execute(messages):
        who = people.get(contact_id)
        if who is None:
            continue
        if status in ("sending", "unknown"):
            in_doubt += 1
        if status != "sent":
            continue
        sent_on = study_day(started_at, zone)
        if kind == "invitation":
            who.invited = True
            first_sent = min(first_sent or sent_on, sent_on)
        else:
            who.reminded = True
            reminders[(sent_on, kind)] += 1
    roles = loads(wave.instrument.definition).role_ids()
    by_role = {role: Counts(role) for role in roles}
    by_trust: dict[str, Counts] = {}
    total = Counts("all")
    modes: Counter[str] = Counter()
    per_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for person in people.values():
        rows = [total, by_role.setdefault(person.role, Counts(person.role))]
        rows.append(by_trust.setdefault(person.trust, Counts(person.trust)))
        for row in rows:
            row.contacts += 1
            row.invited += person.invited
            row.reminded += person.reminded
            row.opted_out += person.opted_out
            row.bounced += person.bounced
            row.started += person.started
            row.completed += person.completed_on is not None
        if person.completed_on is not None and person.mode is not None:
            modes[person.mode] += 1
            per_day[person.completed_on][person.mode] += 1
    return WaveStatus(
        wave=wave.name,
        trust=trust,
        total=total,
        by_role=list(by_role.values()),
        by_trust=[by_trust[k] for k in sorted(by_trust)],
        by_mode={"online": modes.get("online", 0), "postal": modes.get("postal", 0)},
        postal=_postal(session, wave, people),
        daily=_cumulative(per_day, reminders, today, first_sent),
        reminders=sorted((day, kind, n) for (day, kind), n in reminders.items()),
        in_doubt=in_doubt,
    )


def _postal(session: Session, wave: Wave, people: dict[int, _Person]) -> dict[str, int]:
    sampled = session.scalars(
        select(Contact.id).where(Contact.wave_id == wave.id, Contact.serial.is_not(None))
    ).all()
    statuses: Counter[str] = Counter()
    for contact_id, status in session.execute(
        select(PaperReturn.contact_id, PaperReturn.status).where(PaperReturn.wave_id == wave.id)
    ):
        if contact_id in people:
            statuses[status] += 1
    return {
        "sampled": sum(1 for c in sampled if c in people),
        "returned": sum(statuses.values()),
        "reconciled": statuses.get("reconciled", 0),
        "awaiting_keying": statuses.get("keying", 0),
        "discrepant": statuses.get("discrepant", 0),
        "duplicates": statuses.get("duplicate", 0),
        "online_drafts_superseded": sum(
            1 for p in people.values() if p.mode == "postal" and p.started_online
        ),
    }


def _cumulative(
    per_day: dict[dt.date, Counter[str]],
    reminders: Counter[tuple[dt.date, str]],
    today: dt.date,
    first_sent: dt.date | None,
) -> list[tuple[dt.date, int, int]]:
    days = set(per_day) | {day for day, _kind in reminders}
    if first_sent is not None:
        days.add(first_sent)
    if not days:
        return []
    start, end = min(days), max(max(days), min(today, max(days) + dt.timedelta(days=60)))
    online = postal = 0
    series = []
    day = start
    while day <= end:
        online += per_day.get(day, Counter()).get("online", 0)
        postal += per_day.get(day, Counter()).get("postal", 0)
        series.append((day, online, postal))
        day += dt.timedelta(days=1)
    return series
