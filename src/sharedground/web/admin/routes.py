"""Every route of the admin area, for `web.app` to mount."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sharedground.web.admin import (
    accounts,
    audit,
    coding,
    contacts,
    home,
    login,
    monitor,
    optout,
    paper,
    results,
)

routes: list[BaseRoute] = [
    *login.routes,
    *home.routes,
    *monitor.routes,
    *results.routes,
    *contacts.routes,
    *paper.routes,
    *audit.routes,
    *accounts.routes,
    *optout.routes,
    *coding.routes,
]
