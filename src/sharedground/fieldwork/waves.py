"""Creating and changing waves, for the admin pages (the CLI's `wave create` does the same).

What may change once a wave exists: its opening date until it has opened, its closing
date until it has closed, its reminder days, and its suppression threshold (raised at any
time; lowered only while no response is stored, since a reader could otherwise subtract
figures shown before from figures shown after). Its name, questionnaire and anonymity are
fixed: links, messages and the promise made to respondents depend on them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharedground.fieldwork.sending import DEFAULT_REMINDER_DAYS
from sharedground.instrument import Instrument
from sharedground.store import Response, Store, StoreError, Wave
from sharedground.store.schema import Setting

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_THRESHOLD = 100
RESERVED = ("new",)  # /admin/waves/new is the page that creates one


class WaveError(StoreError):
    """A wave's settings cannot be used; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class WaveSettings:
    opens: dt.date | None
    closes: dt.date | None
    reminder_days: tuple[int, ...]
    suppression_threshold: int
    #: Send invitations and reminders when due without anyone starting it (the worker
    #: checks every few minutes).
    auto_send: bool = False


def parse_days(text: str) -> tuple[int, ...]:
    """`9, 21` -> (9, 21): days after the invitation, each 1 or more."""
    try:
        days = tuple(sorted({int(part) for part in re.split(r"[,\s]+", text) if part}))
    except ValueError:
        raise WaveError(
            f"{text!r}: give reminder days as numbers, like 9, 21", "reminder_days"
        ) from None
    if any(d < 1 or d > 365 for d in days):
        raise WaveError("reminder days count from the invitation: 1 to 365", "reminder_days")
    return days


def _key(wave_id: int) -> str:
    return f"reminder-days:{wave_id}"


def reminder_days(session: Session, wave_id: int) -> tuple[int, ...]:
    row = session.get(Setting, _key(wave_id))
    if row is None:
        return tuple(DEFAULT_REMINDER_DAYS)
    return tuple(int(d) for d in row.value.split(",") if d)


def _set_reminder_days(session: Session, wave_id: int, days: Sequence[int]) -> None:
    row = session.get(Setting, _key(wave_id))
    value = ",".join(str(d) for d in days)
    if row is None:
        session.add(Setting(name=_key(wave_id), value=value))
    else:
        row.value = value


def _auto_key(wave_id: int) -> str:
    return f"auto-send:{wave_id}"


def auto_send(session: Session, wave_id: int) -> bool:
    row = session.get(Setting, _auto_key(wave_id))
    return row is not None and row.value == "1"


def _set_auto_send(session: Session, wave_id: int, on: bool) -> None:
    row = session.get(Setting, _auto_key(wave_id))
    if row is None:
        session.add(Setting(name=_auto_key(wave_id), value="1" if on else "0"))
    else:
        row.value = "1" if on else "0"


def auto_send_waves(session: Session) -> list[int]:
    """The ids of the waves that send by themselves."""
    names = session.scalars(
        select(Setting.name).where(Setting.name.like("auto-send:%"), Setting.value == "1")
    )
    return sorted(int(n.split(":", 1)[1]) for n in names)


def _check(settings: WaveSettings) -> None:
    if settings.opens and settings.closes and settings.closes < settings.opens:
        raise WaveError(
            f"the closing date ({settings.closes}) is before the opening date ({settings.opens})",
            "closes",
        )
    if not 1 <= settings.suppression_threshold <= MAX_THRESHOLD:
        raise WaveError(
            f"the suppression threshold must be 1 to {MAX_THRESHOLD}", "suppression_threshold"
        )


def create(
    session: Session,
    store: Store,
    name: str,
    instrument: Instrument,
    settings: WaveSettings,
    *,
    anonymous: bool,
) -> Wave:
    if not NAME.match(name):
        raise WaveError(
            "a wave's name is letters, digits, '.', '_' or '-' (up to 100), starting with a "
            "letter or digit",
            "name",
        )
    if name in RESERVED or store.find_wave(session, name) is not None:
        raise WaveError(f"a wave called {name!r} exists already", "name")
    _check(settings)
    wave = store.create_wave(
        session,
        name,
        instrument,
        opens=settings.opens,
        closes=settings.closes,
        anonymous=anonymous,
        suppression_threshold=settings.suppression_threshold,
    )
    _set_reminder_days(session, wave.id, settings.reminder_days)
    _set_auto_send(session, wave.id, settings.auto_send)
    return wave


def is_open(wave: Wave, today: dt.date) -> bool:
    return (wave.opens is None or wave.opens <= today) and not is_closed(wave, today)


def is_closed(wave: Wave, today: dt.date) -> bool:
    return wave.closes is not None and wave.closes < today


def has_responses(session: Session, wave: Wave) -> bool:
    query = select(func.count()).select_from(Response).where(Response.wave_id == wave.id)
    return bool(session.scalar(query))


def update(session: Session, wave: Wave, settings: WaveSettings, today: dt.date) -> list[str]:
    """Change what may still change; returns what changed ("closes 2027-03-31", ...)."""
    changed: list[str] = []
    _check(settings)
    if settings.opens != wave.opens:
        if wave.opens is None or wave.opens <= today:
            raise WaveError("the wave has opened: its opening date can no longer change", "opens")
        if settings.opens is not None and settings.opens < today:
            raise WaveError("a new opening date cannot be in the past", "opens")
        wave.opens = settings.opens
        changed.append(f"opens {settings.opens or 'now'}")
    if settings.closes != wave.closes:
        if is_closed(wave, today):
            raise WaveError("the wave has closed: its closing date can no longer change", "closes")
        if settings.closes is not None and settings.closes < today:
            raise WaveError(
                "a new closing date cannot be in the past (to end fieldwork now, close the wave)",
                "closes",
            )
        wave.closes = settings.closes
        changed.append(f"closes {settings.closes or 'never'}")
    if settings.suppression_threshold != wave.suppression_threshold:
        if settings.suppression_threshold < wave.suppression_threshold and has_responses(
            session, wave
        ):
            raise WaveError(
                "the wave has responses: its suppression threshold can be raised, not lowered",
                "suppression_threshold",
            )
        wave.suppression_threshold = settings.suppression_threshold
        changed.append(f"suppression threshold {settings.suppression_threshold}")
    if tuple(settings.reminder_days) != reminder_days(session, wave.id):
        _set_reminder_days(session, wave.id, settings.reminder_days)
        changed.append("reminder days " + ", ".join(map(str, settings.reminder_days)))
    if settings.auto_send != auto_send(session, wave.id):
        _set_auto_send(session, wave.id, settings.auto_send)
        changed.append("sending " + ("automatic" if settings.auto_send else "by hand"))
    session.flush()
    return changed


def close(session: Session, wave: Wave, today: dt.date) -> None:
    """End fieldwork now: the wave's last day becomes yesterday (the study's days)."""
    if is_closed(wave, today):
        raise WaveError(f"wave {wave.name} closed on {wave.closes}")
    yesterday = today - dt.timedelta(days=1)
    wave.closes = yesterday
    if wave.opens is not None and wave.opens > yesterday:
        wave.opens = yesterday  # never opened: it opens and closes on the same past day
    session.flush()
