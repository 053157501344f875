"""The ASGI app: routes from the views modules, static files, security, error pages.

An `/admin` area can be added later as one more views module whose routes are mounted
here; nothing in the respondent pages assumes it is alone.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Callable
from importlib import resources
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from sharedground.fieldwork.links import SURVEY_PATH
from sharedground.store import Store
from sharedground.web.admin.routes import routes as admin_routes
from sharedground.web.clock import DEFAULT_TIMEZONE, StudyCalendar, study_zone, utc_now
from sharedground.web.context import STATIC_PATH, WebContext
from sharedground.web.security import (
    SIGNIN_LIMIT,
    Csrf,
    DatabaseLedger,
    RateLimit,
    RateLimiter,
    SecurityHeaders,
    secret_key,
)
from sharedground.web.views import check, done, errors, home, section, start

# Python's table lacks .mjs on some systems; with `nosniff` a module script must be typed.
mimetypes.add_type("text/javascript", ".mjs")


def _no_store(path: str) -> bool:
    # Survey pages hold answers: never keep them in a shared browser's or proxy's cache.
    return path.startswith(SURVEY_PATH)


def create_app(
    store: Store,
    *,
    key: bytes | None = None,
    limiter: RateLimiter | None = None,
    rate_limit: RateLimit | None = None,
    signin_limit: RateLimit | None = None,
    timezone: ZoneInfo | str = DEFAULT_TIMEZONE,
    now: Callable[[], dt.datetime] = utc_now,
    today: Callable[[], dt.date] | None = None,
) -> Starlette:
    """The survey app for a store (which must hold the current schema).

    Args:
        store: Where waves, links, drafts and responses are.
        key: The CSRF signing key; by default $SHAREDGROUND_SECRET_KEY or the one kept in
            the database. The rate limit's keyed hash of client addresses derives from it.
        limiter: The token-guessing limit; by default one counted in the database, shared
            by every app (worker) on the same database.
        rate_limit: Failures and window of the default limiter (20 in 600 seconds).
        signin_limit: Failed admin sign-ins allowed per client address in a window, across
            usernames (default SIGNIN_LIMIT, 10 in 900 seconds), counted in the database
            like the token-guessing limit.
        timezone: The study's time zone: waves open and close, and links and responses are
            dated, by the date there, and admin pages show times there (default
            Europe/London).
        now: The current instant, time-zone aware (tests move it across midnight); the
            default limiter's clock too.
        today: The date the app works with, overriding `timezone` and `now` (tests move it
            to check opening and closing).
    """
    store.check()
    secret = key if key is not None else secret_key(store)
    if limiter is None:
        rate_limit = rate_limit or RateLimit()
        limiter = RateLimiter(
            rate_limit.failures,
            rate_limit.seconds,
            ledger=DatabaseLedger(store, secret),
            clock=lambda: now().timestamp(),
        )
        limiter.prune()  # failures older than the window, left by servers that have stopped
    signin_limit = signin_limit or SIGNIN_LIMIT
    signin = RateLimiter(
        signin_limit.failures,
        signin_limit.seconds,
        ledger=DatabaseLedger(store, secret, scope="signin:"),
        clock=lambda: now().timestamp(),
        recheck=0.0,  # sign-ins are rare: always read the shared count
    )
    signin.prune()
    zone = study_zone(timezone) if isinstance(timezone, str) else timezone
    if today is None:
        today = StudyCalendar(zone, now).today
    context = WebContext(
        store=store,
        csrf=Csrf(secret),
        limiter=limiter,
        zone=zone,
        now=now,
        today=today,
        signin=signin,
    )
    static = StaticFiles(directory=str(resources.files("sharedground.web") / "static"))
    routes: list[BaseRoute] = [
        *home.routes,
        *start.routes,
        *section.routes,
        *check.routes,
        *done.routes,
        *admin_routes,  # /admin and /optout (fieldwork)
        Mount(STATIC_PATH, app=static, name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, no_store=_no_store)],
        exception_handlers=errors.handlers,
    )
    app.state.web = context
    return app
