"""The ASGI app: routes from the views modules, static files, security, error pages.

An `/admin` area can be added later as one more views module whose routes are mounted
here; nothing in the respondent pages assumes it is alone.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Callable
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from sharedground.fieldwork.links import SURVEY_PATH
from sharedground.store import Store
from sharedground.web.admin.routes import routes as admin_routes
from sharedground.web.context import STATIC_PATH, WebContext
from sharedground.web.security import Csrf, RateLimiter, SecurityHeaders, secret_key
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
    today: Callable[[], dt.date] = dt.date.today,
) -> Starlette:
    """The survey app for a store (which must hold the current schema).

    Args:
        store: Where waves, links, drafts and responses are.
        key: The CSRF signing key; by default $SHAREDGROUND_SECRET_KEY or the one kept in
            the database.
        limiter: The token-guessing limit (default 20 failures per client in 10 minutes).
        today: The date the app works with (tests move it to check opening and closing).
    """
    store.check()
    context = WebContext(
        store=store,
        csrf=Csrf(key if key is not None else secret_key(store)),
        limiter=limiter or RateLimiter(),
        today=today,
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
