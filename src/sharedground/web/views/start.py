"""The start page: what the survey is, and the way in (or back in) for a started one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.web import flow
from sharedground.web.context import WebContext
from sharedground.web.survey import open_visit


def _load(connection: Connection, ctx: WebContext, token: str) -> dict[str, Any]:
    visit = open_visit(connection, token, ctx.today())
    instrument = ctx.instrument(connection, visit.instrument_id)
    started = visit.started or bool(visit.sections_done)
    return {
        "title": instrument.title,
        "total": len(instrument.sections),
        "anonymous": visit.anonymous,
        "closes": visit.closes.strftime("%-d %B %Y") if visit.closes else None,
        "started": started,
        "start_url": flow.resume_url(token, instrument, visit.sections_done),
    }


async def start(request: Request) -> Response:
    """`/s/{token}`: the start page for a new link; a started one resumes where it stopped."""
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    token = request.path_params["token"]
    page = await ctx.run(_load, ctx, token, plain=True)
    if page["started"]:
        return RedirectResponse(page["start_url"], status_code=303)
    return ctx.render(request, "start.html", **page)


async def intro(request: Request) -> Response:
    """`/s/{token}/intro`: the start page again (the first section's back link)."""
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    page = await ctx.run(_load, ctx, request.path_params["token"], plain=True)
    return ctx.render(request, "start.html", **page)


routes = [
    Route("/s/{token}", start, methods=["GET"]),
    Route("/s/{token}/intro", intro, methods=["GET"]),
]
