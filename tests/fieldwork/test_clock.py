"""The study's clock: instants kept in UTC, days and shown times in the study's zone.

Every case sits either side of midnight in London: in summer (BST, UTC+1) London's
midnight is 23:00 UTC the day before, so a server that used its own (UTC) clock would put
the hour before it on the wrong day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fieldhelpers import Frame
from sqlalchemy import select

from sharedground.fieldwork import clock
from sharedground.fieldwork.contacts import opt_out
from sharedground.fieldwork.links import create_links, hash_token
from sharedground.fieldwork.monitor import wave_status
from sharedground.fieldwork.sending import plan
from sharedground.store import Contact
from sharedground.store.schema import Link, Message

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")


def stored(text: str) -> dt.datetime:
    """An instant as the database keeps it: UTC, no zone."""
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("instant", "day", "text"),
    [
        ("2027-06-30T22:59:59", "2027-06-30", "2027-06-30 23:59:59 BST"),
        ("2027-06-30T23:00:00", "2027-07-01", "2027-07-01 00:00:00 BST"),
        ("2027-01-14T23:59:59", "2027-01-14", "2027-01-14 23:59:59 GMT"),
        ("2027-01-15T00:00:00", "2027-01-15", "2027-01-15 00:00:00 GMT"),
        # The clocks go forward at 01:00 UTC on 28 March 2027: 00:59:59 GMT, then 02:00 BST.
        ("2027-03-28T00:59:59", "2027-03-28", "2027-03-28 00:59:59 GMT"),
        ("2027-03-28T01:00:00", "2027-03-28", "2027-03-28 02:00:00 BST"),
    ],
)
def test_a_stored_instant_is_dated_and_shown_in_london(instant: str, day: str, text: str) -> None:
    assert clock.study_day(stored(instant), LONDON) == dt.date.fromisoformat(day)
    assert clock.shown(stored(instant), LONDON) == text
    # The same instant given with its zone means the same.
    aware = stored(instant).replace(tzinfo=UTC)
    assert clock.shown(aware, LONDON) == text
    assert clock.shown(stored(instant), ZoneInfo("UTC")) == f"{instant.replace('T', ' ')} UTC"


def test_the_shown_zone_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Pacific/Auckland")
    assert clock.shown(stored("2027-06-30T12:00:00")) == "2027-07-01 00:00:00 NZST"
    assert clock.study_day(stored("2027-06-30T11:59:59")) == dt.date(2027, 6, 30)
    assert clock.study_day(stored("2027-06-30T12:00:00")) == dt.date(2027, 7, 1)


def test_instants_are_stored_in_utc_to_the_second() -> None:
    london = dt.datetime(2027, 7, 1, 0, 30, 15, 999_999, tzinfo=LONDON)
    assert clock.as_stored(london) == dt.datetime(2027, 6, 30, 23, 30, 15)
    assert clock.stored_now(lambda: london) == dt.datetime(2027, 6, 30, 23, 30, 15)
    with pytest.raises(ValueError, match="naive"):
        clock.as_stored(dt.datetime(2027, 7, 1))


def test_today_is_londons_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAREDGROUND_TIMEZONE", raising=False)
    before = dt.datetime(2027, 6, 30, 22, 59, 59, tzinfo=UTC)
    after = dt.datetime(2027, 6, 30, 23, 0, 0, tzinfo=UTC)
    assert clock.study_today(now=lambda: before) == dt.date(2027, 6, 30)
    assert clock.study_today(now=lambda: after) == dt.date(2027, 7, 1)
    assert clock.study_today(ZoneInfo("UTC"), now=lambda: after) == dt.date(2027, 6, 30)


def _at(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Set the clock every fieldwork function reads by default to a UTC instant."""
    instant = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
    monkeypatch.setattr(clock, "utc_now", lambda: instant)


@pytest.mark.parametrize(
    ("instant", "zone", "day"),
    [
        ("2027-06-30T22:59:59", "Europe/London", "2027-06-30"),
        ("2027-06-30T23:00:00", "Europe/London", "2027-07-01"),
        ("2027-06-30T23:00:00", "UTC", "2027-06-30"),
    ],
)
def test_a_link_is_created_on_the_studys_day(
    frame: Frame, monkeypatch: pytest.MonkeyPatch, instant: str, zone: str, day: str
) -> None:
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", zone)
    _at(monkeypatch, instant)
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        [token] = create_links(session, wave, 1)
        made = session.scalars(select(Link).where(Link.token_hash == hash_token(token))).one()
        assert made.created_on == dt.date.fromisoformat(day)


def test_an_opt_out_is_stored_at_the_utc_instant(
    frame: Frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Europe/London")
    _at(monkeypatch, "2027-06-30T23:30:00")  # 00:30 on 1 July in London
    contact_id = frame.contacts()[0].id
    with frame.store.session() as session:
        assert opt_out(session, contact_id)
    with frame.store.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.opted_out_at == dt.datetime(2027, 6, 30, 23, 30)


def _sent(frame: Frame, kind: str, contact_id: int, at: str) -> None:
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        session.add(
            Message(
                wave_id=wave.id,
                contact_id=contact_id,
                kind=kind,
                status="sent",
                address="someone@example.org",
                message_id=f"<{kind}-{contact_id}@example.org>",
                attempts=1,
                started_at=stored(at),
                finished_at=stored(at),
            )
        )


def test_monitoring_counts_messages_on_the_studys_day(frame: Frame) -> None:
    first, second = (c.id for c in frame.contacts()[:2])
    _sent(frame, "invitation", first, "2027-07-13T23:30:00")  # 14 July in London
    _sent(frame, "invitation", second, "2027-07-14T12:00:00")
    _sent(frame, "reminder-1", first, "2027-07-20T22:59:59")  # 20 July, 23:59:59 BST
    _sent(frame, "reminder-1", second, "2027-07-20T23:00:00")  # 21 July, midnight BST
    today = dt.date(2027, 7, 22)
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        london = wave_status(session, wave, today=today, zone=LONDON)
        utc = wave_status(session, wave, today=today, zone=ZoneInfo("UTC"))
    assert london.reminders == [
        (dt.date(2027, 7, 20), "reminder-1", 1),
        (dt.date(2027, 7, 21), "reminder-1", 1),
    ]
    assert london.daily[0][0] == dt.date(2027, 7, 14)
    assert utc.reminders == [(dt.date(2027, 7, 20), "reminder-1", 2)]
    assert utc.daily[0][0] == dt.date(2027, 7, 13)


def test_reminders_fall_due_by_the_studys_days(frame: Frame) -> None:
    """An invitation sent at 00:30 London time is a day old at the next London midnight."""
    contact = frame.contacts()[0].id
    _sent(frame, "invitation", contact, "2027-07-14T23:30:00")  # 15 July, 00:30 BST

    def due(today: str, zone: str) -> list[str]:
        with frame.store.session() as session:
            wave = frame.store.get_wave(session, frame.wave)
            found = plan(session, wave, dt.date.fromisoformat(today), (7,), zone=ZoneInfo(zone))
        return [d.kind for d in found if d.contact_id == contact]

    assert due("2027-07-21", "Europe/London") == []  # six London days after 15 July
    assert due("2027-07-22", "Europe/London") == ["reminder-1"]
    assert due("2027-07-21", "UTC") == ["reminder-1"]  # sent on 14 July by UTC's calendar
