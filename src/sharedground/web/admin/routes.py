"""Every route of the admin area, for `web.app` to mount."""

from __future__ import annotations

from starlette.routing import BaseRoute

from sharedground.web.admin import (
    accounts,
    audit,
    coding,
    contacts,
    data,
    frame,
    home,
    initiatives,
    jobs,
    login,
    messages,
    monitor,
    optout,
    paper,
    results,
    waves,
)

routes: list[BaseRoute] = [
    *login.routes,
    *home.routes,
    *waves.routes,
    *jobs.routes,
    *monitor.routes,
    *results.routes,
    *contacts.routes,
    *frame.routes,
    *data.routes,
    *messages.routes,
    *paper.routes,
    *audit.routes,
    *accounts.routes,
    *optout.routes,
    *initiatives.routes,
    *coding.routes,
]
