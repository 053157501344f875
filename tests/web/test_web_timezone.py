"""Dates in the study's time zone: waves open and close, and answers are dated, by its day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from webhelpers import Survey, answer_sections, make_survey, parse, submit, text_of

from sharedground.fieldwork.links import find_link
from sharedground.instrument import builtin
from sharedground.store import Response, Store
from sharedground.store.schema import Draft
from sharedground.web import create_app
from sharedground.web.clock import StudyCalendar, study_zone

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
SECTIONS = [s.id for s in builtin("dmr-2015").sections]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Summer (BST, UTC+1): London's midnight is 23:00 UTC the day before.
        ("2027-06-30T22:59:59", "2027-06-30"),
        ("2027-06-30T23:00:00", "2027-07-01"),
        # Winter (GMT): London's midnight is UTC's.
        ("2027-01-14T23:59:59", "2027-01-14"),
        ("2027-01-15T00:00:00", "2027-01-15"),
        # The night the clocks go forward (01:00 UTC on 28 March 2027).
        ("2027-03-28T00:30:00", "2027-03-28"),
    ],
)
def test_today_is_the_date_in_london(instant: str, day: str) -> None:
    calendar = StudyCalendar(LONDON, now=lambda: at(instant))
    assert calendar.today() == dt.date.fromisoformat(day)


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        StudyCalendar(LONDON, now=lambda: dt.datetime(2027, 1, 1)).today()


def test_zone_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAREDGROUND_TIMEZONE", raising=False)
    assert study_zone().key == "Europe/London"
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Pacific/Auckland")
    assert study_zone().key == "Pacific/Auckland"
    assert study_zone("UTC").key == "UTC"
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Europe/Londno")
    with pytest.raises(ValueError, match=r"^\$SHAREDGROUND_TIMEZONE 'Europe/Londno' is not a"):
        study_zone()
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "/abs"):
        with pytest.raises(ValueError, match="is not a time zone: use an IANA name"):
            study_zone(bad)


class Clock:
    def __init__(self, instant: str) -> None:
        self.at = at(instant)

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, instant: str) -> None:
        self.at = at(instant)


def _app(store: Store, clock: Clock, timezone: str = "Europe/London") -> Starlette:
    return create_app(store, key=b"test-key", timezone=timezone, now=clock)


def _heading(client: TestClient, url: str) -> tuple[int, str]:
    response = client.get(url, follow_redirects=False)
    return response.status_code, text_of(parse(response.text), "h1")


def test_a_wave_opens_and_closes_at_midnight_in_london(store: Store) -> None:
    survey = make_survey(store, "summer", opens=dt.date(2027, 7, 1), closes=dt.date(2027, 7, 31))
    start = f"/s/{survey.link()}"
    clock = Clock("2027-06-30T22:59:59")  # 23:59:59 on 30 June in London
    with TestClient(_app(store, clock)) as client:
        assert _heading(client, start) == (403, "This survey has not opened yet")
        clock.set("2027-06-30T23:00:00")  # midnight in London, still 30 June in UTC
        assert _heading(client, start)[0] == 200
        clock.set("2027-07-31T22:59:59")
        assert _heading(client, start)[0] == 200
        clock.set("2027-07-31T23:00:00")  # 1 August in London
        assert _heading(client, start) == (410, "This survey has closed")


def test_the_zone_is_a_setting(store: Store) -> None:
    survey = make_survey(store, "kiwi", opens=dt.date(2027, 7, 1))
    start = f"/s/{survey.link()}"
    clock = Clock("2027-06-30T12:00:00")  # midnight in Auckland (NZST, UTC+12)
    with TestClient(_app(store, clock, "Pacific/Auckland")) as client:
        assert _heading(client, start)[0] == 200
    with TestClient(_app(store, clock)) as client:
        assert _heading(client, start)[0] == 403


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_answers_sent_after_london_midnight_carry_londons_date(
    store: Store, anonymous: bool
) -> None:
    survey = make_survey(store, "late", anonymous=anonymous)
    token = survey.link()
    clock = Clock("2027-07-14T22:50:00")
    with TestClient(_app(store, clock)) as client:
        answer_sections(client, token, SECTIONS)
        clock.set("2027-07-14T23:30:00")  # 00:30 on 15 July in London
        assert submit(client, token).status_code == 303
    london_day = dt.date(2027, 7, 15)
    with store.session() as session:
        link = find_link(session, token)
        assert link is not None
        assert link.started_on == dt.date(2027, 7, 14)
        assert link.completed_on == london_day
        if not anonymous:
            response = session.scalars(select(Response)).one()
            assert response.submitted_on == london_day


def test_the_server_factory_reads_the_settings(
    survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sharedground.web import server

    monkeypatch.setenv("SHAREDGROUND_DATABASE_URL", survey.store.url)
    monkeypatch.setenv("SHAREDGROUND_SECRET_KEY", "factory-test")
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Pacific/Auckland")
    monkeypatch.setenv("SHAREDGROUND_RATE_LIMIT", "7/90")
    app = server.app()
    web = app.state.web
    try:
        assert (web.limiter.limit, web.limiter.window) == (7, 90)
        assert web.today.__self__.zone.key == "Pacific/Auckland"
        assert web.today() == dt.datetime.now(ZoneInfo("Pacific/Auckland")).date()
    finally:
        web.store.dispose()
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "Nowhere/Special")
    with pytest.raises(ValueError, match="SHAREDGROUND_TIMEZONE"):
        server.app()
    monkeypatch.setenv("SHAREDGROUND_TIMEZONE", "UTC")
    monkeypatch.setenv("SHAREDGROUND_RATE_LIMIT", "7")
    with pytest.raises(ValueError, match="SHAREDGROUND_RATE_LIMIT"):
        server.app()


def test_a_draft_is_stamped_with_the_utc_instant_of_the_apps_clock(store: Store) -> None:
    """Kept in UTC whatever the server's zone: 00:30 in London on 15 July is 23:30 UTC."""
    survey = make_survey(store, "stamp")
    token = survey.link()
    clock = Clock("2027-07-14T23:30:00")
    with TestClient(_app(store, clock)) as client:
        answer_sections(client, token, SECTIONS[:1])
    with store.session() as session:
        link = find_link(session, token)
        assert link is not None
        assert link.started_on == dt.date(2027, 7, 15)  # London's day
        draft = session.scalars(select(Draft).where(Draft.link_id == link.id)).one()
        assert draft.updated_at == dt.datetime(2027, 7, 14, 23, 30)  # the UTC instant
