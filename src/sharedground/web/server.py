"""The app factory uvicorn imports (`sharedground.web.server:app`, factory=True).

Each worker process builds its own app from the environment `serve` sets up
($SHAREDGROUND_DATABASE_URL, $SHAREDGROUND_RATE_LIMIT, $SHAREDGROUND_SIGNIN_LIMIT,
$SHAREDGROUND_TIMEZONE), so `serve --workers N` and the load benchmark run exactly what
production runs.
"""

from __future__ import annotations

from starlette.applications import Starlette

from sharedground.store import Store
from sharedground.web.app import create_app
from sharedground.web.clock import study_zone
from sharedground.web.security import (
    SIGNIN_LIMIT,
    SIGNIN_LIMIT_ENV,
    RateLimit,
    install_log_redaction,
)


def app() -> Starlette:
    """A fresh app on the database, rate limit and time zone named by the environment."""
    install_log_redaction()
    rate_limit, zone = RateLimit.from_env(), study_zone()  # a bad setting fails before connecting
    signin_limit = RateLimit.from_env(SIGNIN_LIMIT_ENV, SIGNIN_LIMIT)
    return create_app(Store(), rate_limit=rate_limit, signin_limit=signin_limit, timezone=zone)
