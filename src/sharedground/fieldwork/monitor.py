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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sharedground.fieldwork.clock import study_day, study_today, study_zone
from sharedground.store.quick import as_date, as_datetime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store import Wave

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


#: Runs one SQL query with :named parameters and returns its rows.
Query = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]

# The queries are SQL text, not ORM statements, so that `current_status` can run them on an
# SQLite file without SQLAlchemy (issue #16) and `wave_status` through a session: one set of
# queries for both. Dates come back as the driver gives them (ISO text from SQLite) and go
# through `as_date` / `as_datetime`.
_PEOPLE = (
    "SELECT contact.id, contact.role, organisation.code, contact.opted_out_at, "
    "contact.bounced_at, contact.completed_on, contact.completed_mode, link.started_on, "
    "link.completed_on FROM contact "
    "LEFT OUTER JOIN organisation ON organisation.id = contact.organisation_id "
    "LEFT OUTER JOIN personal_link ON personal_link.contact_id = contact.id "
    "LEFT OUTER JOIN link ON link.id = personal_link.link_id "
    "WHERE contact.wave_id = :wave"
)
_MESSAGES = (
    "SELECT message.contact_id, message.kind, message.status, message.started_at "
    "FROM message WHERE message.wave_id = :wave"
)
_SAMPLED = (
    "SELECT contact.id FROM contact WHERE contact.wave_id = :wave AND contact.serial IS NOT NULL"
)
_RETURNS = (
    "SELECT paper_return.contact_id, paper_return.status FROM paper_return "
    "WHERE paper_return.wave_id = :wave"
)


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
    from sqlalchemy import text

    from sharedground.instrument import loads

    if session.autoflush:
        session.flush()  # as an ORM query would: pending changes are counted

    def query(sql: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        return session.execute(text(sql), params).all()

    roles = loads(wave.instrument.definition).role_ids()
    return count_status(query, wave.id, wave.name, roles, trust, today, zone)


@dataclass(frozen=True)
class QuickStatus:
    """A wave's figures read without SQLAlchemy (`current_status`)."""

    figures: WaveStatus
    #: Completed questionnaires held for anonymity (0 unless the wave is anonymous).
    held: int


def current_status(
    database: str | None,
    wave_name: str,
    trust: str | None = None,
    today: dt.date | None = None,
    zone: ZoneInfo | None = None,
) -> QuickStatus | None:
    """`wave_status` of an SQLite file, read with sqlite3 (no SQLAlchemy); else None.

    For `sharedground status`, which would otherwise spend longer importing SQLAlchemy
    than counting. None for anything but a plain SQLite file at the current schema holding
    the wave (`sharedground.store.quick`): the caller then asks the store, which also
    reports what is wrong.
    """
    from sharedground.store import quick

    target = quick.sqlite_file(database)
    if target is None:
        return None
    with quick.reading(target) as connection:
        if connection is None:
            return None
        found = connection.execute(
            "SELECT w.id, w.anonymous, i.definition FROM wave w "
            "JOIN instrument i ON i.id = w.instrument_id WHERE w.name = :name",
            {"name": wave_name},
        ).fetchone()
        if found is None:
            return None
        wave_id, anonymous, definition = found

        def query(sql: str, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
            return connection.execute(sql, params).fetchall()

        roles = quick.role_ids(definition)
        figures = count_status(query, wave_id, wave_name, roles, trust, today, zone)
        held = 0
        if anonymous:
            (held,) = connection.execute(
                "SELECT count(*) FROM held_response WHERE wave_id = :wave", {"wave": wave_id}
            ).fetchone()
    return QuickStatus(figures, int(held))


def count_status(
    query: Query,
    wave_id: int,
    wave_name: str,
    roles: list[str],
    trust: str | None = None,
    today: dt.date | None = None,
    zone: ZoneInfo | None = None,
) -> WaveStatus:
    """The figures of `wave_status`, from the rows `query` returns; `roles` in order."""
    zone = zone or study_zone()
    today = today or study_today(zone)
    sql = _PEOPLE
    params: dict[str, Any] = {"wave": wave_id}
    if trust is not None:
        sql, params = sql + " AND organisation.code = :trust", {**params, "trust": trust}
    people: dict[int, _Person] = {}
    for ident, role, code, opted, bounced, done_on, mode, started, link_on in query(sql, params):
        done, link_done = as_date(done_on), as_date(link_on)
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
    for contact_id, kind, status, started_at in query(_MESSAGES, {"wave": wave_id}):
        who = people.get(contact_id)
        if who is None:
            continue
        if status in ("sending", "unknown"):
            in_doubt += 1
        if status != "sent":
            continue
        sent_on = study_day(cast(dt.datetime, as_datetime(started_at)), zone)  # never null
        if kind == "invitation":
            who.invited = True
            first_sent = min(first_sent or sent_on, sent_on)
        else:
            who.reminded = True
            reminders[(sent_on, kind)] += 1
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
        wave=wave_name,
        trust=trust,
        total=total,
        by_role=list(by_role.values()),
        by_trust=[by_trust[k] for k in sorted(by_trust)],
        by_mode={"online": modes.get("online", 0), "postal": modes.get("postal", 0)},
        postal=_postal(query, wave_id, people),
        daily=_cumulative(per_day, reminders, today, first_sent),
        reminders=sorted((day, kind, n) for (day, kind), n in reminders.items()),
        in_doubt=in_doubt,
    )


def _postal(query: Query, wave_id: int, people: dict[int, _Person]) -> dict[str, int]:
    sampled = [row[0] for row in query(_SAMPLED, {"wave": wave_id})]
    statuses: Counter[str] = Counter()
    for contact_id, status in query(_RETURNS, {"wave": wave_id}):
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
