"""What day and time it is for the study (see sharedground.fieldwork.clock).

Waves open and close on the study's dates, an anonymous response keeps only the study's
day it was sent, and admin pages show times in the study's zone; the fieldwork commands
keep to the same rules, so the clock lives with them and the web app uses it from here.
"""

from __future__ import annotations

from sharedground.fieldwork.clock import (
    DEFAULT_TIMEZONE,
    TIMEZONE_ENV,
    StudyCalendar,
    as_stored,
    shown,
    stored_now,
    study_day,
    study_today,
    study_zone,
    utc_now,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "TIMEZONE_ENV",
    "StudyCalendar",
    "as_stored",
    "shown",
    "stored_now",
    "study_day",
    "study_today",
    "study_zone",
    "utc_now",
]
