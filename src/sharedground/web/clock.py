"""What day it is for the study: dates in the study's time zone, not the server's.

Waves open and close on dates, and an anonymous response keeps only the day it was sent.
Both mean the date where the respondents are: a server kept in UTC would otherwise open a
UK wave at 01:00 in summer, and stamp a response sent at 00:30 with the day before.
$SHAREDGROUND_TIMEZONE names the zone (an IANA name, default Europe/London); the zone rules
come from the `tzdata` package where the system has none (Windows, slim containers).
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
        instant = self.now()
        if instant.tzinfo is None:
            raise ValueError("the clock gave a naive datetime: give it a time zone")
        return instant.astimezone(self.zone).date()
