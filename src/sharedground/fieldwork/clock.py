"""The study's clock: instants kept in UTC, days and times shown in the study's time zone.

Three kinds of value, one rule each:

* Instants (a message sent, a sign-in, an audit entry) are kept in UTC, as naive datetimes
  to the second (the columns have no zone; `stored_now`, `as_stored`). Whatever zone the
  server's clock is set to, every row then means the same instant.
* Days (a link made, started or completed, a response's day, a wave's opening) are dates
  in the study's zone (`study_today`, `study_day`): a server kept in UTC would otherwise
  open a UK wave at 01:00 in summer, and date a response sent at 00:30 the day before.
* An instant shown to a person is converted to the study's zone and says which zone it is
  in (`shown`): "2027-07-15 00:30:00 BST", never a bare time that means UTC.

The zone is $SHAREDGROUND_TIMEZONE (`serve --timezone` sets it), an IANA name, default
Europe/London; its rules come from the `tzdata` package where the system has none.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIMEZONE_ENV = "SHAREDGROUND_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/London"


def utc_now() -> dt.datetime:
    """The current instant (time-zone aware)."""
    return dt.datetime.now(dt.UTC)


def study_zone(name: str | None = None) -> ZoneInfo:
    """The zone called `name`, else $SHAREDGROUND_TIMEZONE, else Europe/London.

    Raises ValueError naming the setting when the name is not a zone.
    """
    source = "time zone"
    if name is None:
        name = os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
        if TIMEZONE_ENV in os.environ:
            source = f"${TIMEZONE_ENV}"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: a name that is not even a path in the zone database ("../x", "").
        raise ValueError(
            f"{source} {name!r} is not a time zone: use an IANA name such as Europe/London"
        ) from None


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise ValueError("the clock gave a naive datetime: give it a time zone")
    return instant


@dataclass(frozen=True)
class StudyCalendar:
    """Today's date in the study's zone.

    Attributes:
        zone: Where the respondents are.
        now: The current instant, time-zone aware (tests move it across midnight).
    """

    zone: ZoneInfo
    now: Callable[[], dt.datetime] = utc_now

    def today(self) -> dt.date:
        return _aware(self.now()).astimezone(self.zone).date()


def as_stored(instant: dt.datetime) -> dt.datetime:
    """An aware instant as the database keeps instants: UTC, no zone, to the second."""
    return _aware(instant).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def stored_now(now: Callable[[], dt.datetime] | None = None) -> dt.datetime:
    """The current instant (`now()`, default `utc_now()`) as the database keeps instants."""
    return as_stored((now or utc_now)())


def study_today(
    zone: ZoneInfo | None = None, now: Callable[[], dt.datetime] | None = None
) -> dt.date:
    """Today's date in `zone` (by default the study's, from the setting)."""
    return StudyCalendar(zone or study_zone(), now or utc_now).today()


def _from_stored(stored: dt.datetime) -> dt.datetime:
    # A stored instant is UTC without a zone; an aware one (from a caller) is taken as is.
    return stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored


def study_day(stored: dt.datetime, zone: ZoneInfo | None = None) -> dt.date:
    """The date in `zone` (default the study's) at an instant as the database keeps it."""
    return _from_stored(stored).astimezone(zone or study_zone()).date()


def shown(stored: dt.datetime, zone: ZoneInfo | None = None) -> str:
    """A stored instant for a person to read: the time in `zone`, the zone named.

    "2027-07-15 00:30:00 BST". Where a zone has no abbreviation the offset stands in its
    place ("+03").
    """
    local = _from_stored(stored).astimezone(zone or study_zone())
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
