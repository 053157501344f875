"""Sending what is due: the invitation, then reminders to those who have not answered.

The rule that nothing is sent twice rests on the `message` table, where (contact, kind)
is unique, and on the order of writes:

1. the row is written with status `sending` and committed *before* the SMTP transaction;
2. the outcome (`sent`, `failed`, `bounced`, `unknown`) is committed after it.

A process killed between the two leaves `sending`. The next run sends every message not
yet attempted, never one recorded `sent`, and reports the `sending`/`unknown` ones: their
SMTP transaction was interrupted, so the server may or may not have accepted them. They
are sent again only with `retry_unknown` (a person may then get two copies; leaving them
may mean they get none: the choice is the operator's). A message `failed` before DATA was
certainly not accepted and is tried again on the next run, up to MAX_ATTEMPTS times.

Step 2 of one message and step 1 of the next share a commit: it halves the commits of a
large batch and weakens nothing, since a crash at any point still leaves every message
whose transaction may have started marked `sending` or later.

One sender per wave at a time: a lock row in `setting` names the host and process; a
lock left by a process that no longer exists on this host is taken over.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharedground.fieldwork.clock import stored_now, study_day, study_today, study_zone
from sharedground.fieldwork.mail import Letter, Sender, Templates, build_message, message_id
from sharedground.fieldwork.personal import Sealer, ensure_links
from sharedground.fieldwork.smtp import Outcome, ServerUnavailable, SmtpTransport
from sharedground.store import Contact, Store, StoreError, Wave
from sharedground.store.schema import Link, Message, PersonalLink, Setting

DEFAULT_REMINDER_DAYS = (9, 21)
MAX_ATTEMPTS = 3
IN_DOUBT = ("sending", "unknown")


class SendBusy(StoreError):
    """Another sender holds the wave's lock."""


@dataclass(frozen=True)
class Due:
    """One message to send now."""

    contact_id: int
    kind: str  # invitation | reminder-1 | reminder-2 ...
    retry: bool = False  # a row exists (failed, or in doubt and retry_unknown)


@dataclass
class SendReport:
    """What a run did, and what it could not know."""

    planned: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    unknown: int = 0
    in_doubt: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None
    dry_run: bool = False
    examples: list[str] = field(default_factory=list)


def kind_of(name: str) -> str:
    """The template kind of a message kind (`reminder-2` -> `reminder`)."""
    return name.split("-", 1)[0]


def plan(
    session: Session,
    wave: Wave,
    today: dt.date,
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
    *,
    retry_unknown: bool = False,
    zone: ZoneInfo | None = None,
) -> list[Due]:
    """The messages due today, in contact order.

    Invitations go out once the wave has opened; reminder k goes `reminder_days[k-1]` days
    after that contact's invitation was sent. A contact who missed a reminder (the sender
    was not run that day) gets only the latest one due. Nobody who has completed (online or
    on paper), opted out or bounced gets anything. Days are the study's (`zone`, by
    default the setting's), both `today` and the day an invitation was sent.
    """
    zone = zone or study_zone()
    if wave.opens is not None and today < wave.opens:
        return []
    if wave.closes is not None and today > wave.closes:
        return []
    days = sorted(reminder_days)
    rows = session.execute(
        select(
            Contact.id,
            Contact.completed_on,
            Link.completed_on,
        )
        .outerjoin(PersonalLink, PersonalLink.contact_id == Contact.id)
        .outerjoin(Link, Link.id == PersonalLink.link_id)
        .where(
            Contact.wave_id == wave.id,
            Contact.email.is_not(None),
            Contact.opted_out_at.is_(None),
            Contact.bounced_at.is_(None),
        )
        .order_by(Contact.id)
    ).all()
    messages: dict[int, dict[str, Message]] = {}
    for message in session.scalars(select(Message).where(Message.wave_id == wave.id)):
        messages.setdefault(message.contact_id, {})[message.kind] = message
    due: list[Due] = []
    for contact_id, contact_done, link_done in rows:
        if contact_done is not None or link_done is not None:
            continue
        sent = messages.get(contact_id, {})
        pending = _retryable(sent, retry_unknown)
        if pending is not None:
            due.append(Due(contact_id, pending.kind, retry=True))
            continue
        if any(m.status in IN_DOUBT for m in sent.values()):
            continue  # reported, not guessed at
        invitation = sent.get("invitation")
        if invitation is None:
            due.append(Due(contact_id, "invitation"))
            continue
        if invitation.status != "sent":
            continue
        elapsed = (today - study_day(invitation.started_at, zone)).days
        reached = [k for k, d in enumerate(days, start=1) if elapsed >= d]
        if not reached:
            continue
        latest = reached[-1]
        if any(f"reminder-{k}" in sent for k in range(latest, len(days) + 1)):
            continue
        due.append(Due(contact_id, f"reminder-{latest}"))
    return due


def _retryable(sent: dict[str, Message], retry_unknown: bool) -> Message | None:
    for message in sent.values():
        if message.status == "failed" and message.attempts < MAX_ATTEMPTS:
            return message
        if retry_unknown and message.status in IN_DOUBT:
            return message
    return None


def in_doubt(session: Session, wave: Wave) -> list[tuple[str, str]]:
    """(address, kind) of every message whose outcome is unknown."""
    return [
        (address, kind)
        for address, kind in session.execute(
            select(Message.address, Message.kind)
            .where(Message.wave_id == wave.id, Message.status.in_(IN_DOUBT))
            .order_by(Message.id)
        )
    ]


@dataclass
class Mailer:
    """Everything a run needs besides the database."""

    transport: SmtpTransport | None
    sender: Sender
    base_url: str
    templates: Templates
    sealer: Sealer
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS
    connections: int = 4  # SMTP connections used at once


def send_due(
    store: Store,
    wave_name: str,
    mailer: Mailer,
    *,
    today: dt.date | None = None,
    dry_run: bool = False,
    retry_unknown: bool = False,
    break_lock: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send every message due now for a wave (see the module docstring for the guarantees)."""
    today = today or study_today()
    report = SendReport(dry_run=dry_run)
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        wave_id = wave.id
        due = plan(session, wave, today, mailer.reminder_days, retry_unknown=retry_unknown)
        for item in due:
            report.planned[item.kind] = report.planned.get(item.kind, 0) + 1
        if dry_run:
            report.in_doubt = in_doubt(session, wave)
            report.examples = _examples(session, wave, due, mailer)
            return report
    if not due:
        with store.session() as session:
            report.in_doubt = in_doubt(session, store.get_wave(session, wave_name))
        return report
    lock = _acquire(store, wave_id, break_lock)
    try:
        _run(store, wave_id, due, mailer, report, progress)
    finally:
        _release(store, wave_id, lock)
    with store.session() as session:
        report.in_doubt = in_doubt(session, store.get_wave(session, wave_name))
    return report


def _run(
    store: Store,
    wave_id: int,
    due: list[Due],
    mailer: Mailer,
    report: SendReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    with store.session() as session:
        wave = session.get(Wave, wave_id)
        assert wave is not None
        mailer.sealer.check(session)
        contacts = {
            c.id: c
            for c in session.scalars(
                select(Contact).where(Contact.id.in_([d.contact_id for d in due]))
            )
        }
        tokens = ensure_links(session, wave, list(contacts.values()), mailer.sealer)
        title = store.instrument_of(wave).title
        facts = (wave.name, wave.closes, wave.anonymous)
    domain = mailer.sender.address.rsplit("@", 1)[-1].strip(">") or "localhost"
    assert mailer.transport is not None
    queue = deque(due)
    lock = threading.Lock()
    stop = threading.Event()
    done = [0]

    def work(transport: SmtpTransport) -> None:
        # Each connection claims, sends and records its own messages; with several, the
        # waits for the server's replies overlap (most of the time of a transaction).
        pending: tuple[int, Outcome, str] | None = None
        try:
            transport.connect()  # a server that is down: stop before claiming anything
        except ServerUnavailable as exc:
            with lock:
                report.stopped = str(exc)
            stop.set()
            return
        while not stop.is_set():
            with lock:
                if not queue:
                    break
                item = queue.popleft()
            contact = contacts[item.contact_id]
            assert contact.email is not None
            mid = message_id(wave_id, contact.id, item.kind, domain)
            with store.session() as session:
                if pending is not None:
                    _record(session, *pending)
                    pending = None
                row_id = _claim(session, wave_id, item, contact.email, mid)
            if row_id is None:
                continue  # another run claimed it (only possible with --break-lock)
            letter = Letter(
                kind=kind_of(item.kind),
                to=contact.email,
                name=contact.name,
                token=tokens[contact.id],
                reminder=int(item.kind.split("-")[1]) if "-" in item.kind else 0,
            )
            message = build_message(
                mailer.templates,
                letter,
                sender=mailer.sender,
                base_url=mailer.base_url,
                title=title,
                wave=facts[0],
                closes=facts[1],
                anonymous=facts[2],
                message_id=mid,
            )
            try:
                outcome, detail = transport.send(message.data, mailer.sender.address, contact.email)
            except ServerUnavailable as exc:
                # Nothing of this message reached the server: mark it failed, stop the batch.
                with store.session() as session:
                    _record(session, row_id, Outcome.FAILED, str(exc))
                with lock:
                    report.failed += 1
                    report.stopped = str(exc)
                stop.set()
                break
            pending = (row_id, outcome, detail)
            with lock:
                setattr(report, outcome.value, getattr(report, outcome.value) + 1)
                done[0] += 1
                if progress is not None:
                    progress(done[0], len(due))
        if pending is not None:
            with store.session() as session:
                _record(session, *pending)

    count = max(1, min(mailer.connections, len(due)))
    transports = [mailer.transport] + [
        SmtpTransport(mailer.transport.settings) for _ in range(count - 1)
    ]
    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in transports]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for extra in transports[1:]:
            extra.close()


def _claim(session: Session, wave_id: int, item: Due, address: str, mid: str) -> int | None:
    now = stored_now()
    if item.retry:
        row = session.scalar(
            select(Message).where(Message.contact_id == item.contact_id, Message.kind == item.kind)
        )
        if row is None or row.status == "sent":
            return None
        row.status = "sending"
        row.attempts += 1
        row.started_at = now
        row.finished_at = None
        session.flush()
        return row.id
    row = Message(
        wave_id=wave_id,
        contact_id=item.contact_id,
        kind=item.kind,
        status="sending",
        address=address,
        message_id=mid,
        attempts=1,
        started_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return row.id


def _record(session: Session, row_id: int, outcome: Outcome, detail: str) -> None:
    now = stored_now()
    session.execute(
        update(Message)
        .where(Message.id == row_id)
        .values(status=outcome.value, finished_at=now, detail=detail[:1000])
    )
    if outcome is Outcome.BOUNCED:
        contact_id = session.scalar(select(Message.contact_id).where(Message.id == row_id))
        session.execute(
            update(Contact)
            .where(Contact.id == contact_id, Contact.bounced_at.is_(None))
            .values(bounced_at=now)
        )


def record_bounce(
    session: Session, contact: Contact, detail: str, message: Message | None = None
) -> bool:
    """Record a bounce reported after the server accepted a message (a delivery report).

    The contact is marked bounced (nothing more is sent to them), and so is the message:
    the one given, else their latest one the server may have accepted. A report about a
    message whose outcome was unknown settles it: the server had accepted it. Returns
    False, changing nothing, when the contact was already marked bounced.
    """
    now = stored_now()
    marked = session.execute(
        update(Contact)
        .where(Contact.id == contact.id, Contact.bounced_at.is_(None))
        .values(bounced_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if not marked.rowcount:  # type: ignore[attr-defined]
        return False
    if message is None:
        message = session.scalar(
            select(Message)
            .where(Message.contact_id == contact.id, Message.status.in_(("sent", *IN_DOUBT)))
            .order_by(Message.id.desc())
        )
    if message is not None:
        message.status = "bounced"
        message.detail = detail[:1000]
        message.finished_at = message.finished_at or now
    session.flush()
    return True


def _examples(session: Session, wave: Wave, due: list[Due], mailer: Mailer) -> list[str]:
    """The first message of each kind, rendered with a placeholder link (for --dry-run)."""
    shown: list[str] = []
    seen: set[str] = set()
    for item in due:
        if item.kind in seen:
            continue
        seen.add(item.kind)
        contact = session.get(Contact, item.contact_id)
        assert contact is not None and contact.email is not None
        letter = Letter(kind_of(item.kind), contact.email, contact.name, "X" * 32)
        message = build_message(
            mailer.templates,
            letter,
            sender=mailer.sender,
            base_url=mailer.base_url,
            title=wave.instrument.title,
            wave=wave.name,
            closes=wave.closes,
            anonymous=wave.anonymous,
            message_id="<dry-run@localhost>",
        )
        shown.append(f"To: {contact.email}\nSubject: {message.subject}\n\n{message.text}")
    return shown


# -- the lock ---------------------------------------------------------------------------------


def _lock_name(wave_id: int) -> str:
    return f"send-lock:{wave_id}"


def _acquire(store: Store, wave_id: int, force: bool) -> str:
    me = f"{socket.gethostname()}:{os.getpid()}"
    name = _lock_name(wave_id)
    try:
        with store.session() as session:
            row = session.get(Setting, name)
            if row is None:
                session.add(Setting(name=name, value=me))
                session.flush()
                return me
            holder = row.value
            if force or _dead(holder):
                taken = session.execute(
                    update(Setting)
                    .where(Setting.name == name, Setting.value == holder)
                    .values(value=me)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return me
    except IntegrityError:
        holder = "another process"
    raise SendBusy(
        f"another sender ({holder}) is sending for this wave; wait for it to finish, or if it "
        "runs on another machine that died, rerun with --break-lock"
    )


def _dead(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _release(store: Store, wave_id: int, me: str) -> None:
    with store.session() as session:
        session.execute(
            delete(Setting).where(Setting.name == _lock_name(wave_id), Setting.value == me)
        )
