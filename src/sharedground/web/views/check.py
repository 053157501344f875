""" "Check your answers", and submitting them: atomic and idempotent."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork import anonymity
from sharedground.instrument import Instrument
from sharedground.web import flow
from sharedground.web.context import WebContext
from sharedground.web.questions import Problem, field_id, missing_required, names_of, summary_rows
from sharedground.web.survey import Visit, open_visit, submit
from sharedground.web.views.section import RETURN_TO_CHECK, fixed_role

log = logging.getLogger(__name__)


def _context(
    token: str, instrument: Instrument, visit: Visit, problems: list[Problem]
) -> dict[str, Any]:
    role = fixed_role(instrument, visit)
    blocks = [
        {
            "title": section.title,
            "rows": summary_rows(section, visit.answers, role),
            "change_url": f"{flow.section_url(token, section.id)}?return={RETURN_TO_CHECK}",
        }
        for section in instrument.sections
    ]
    last = instrument.sections[-1]
    return {
        "title": "Check your answers",
        "blocks": blocks,
        "problems": problems,
        "back_url": flow.section_url(token, last.id),
        "action": flow.survey_url(token, "check"),
    }


def _problems(token: str, instrument: Instrument, visit: Visit) -> list[Problem]:
    """Required answers still missing (normally caught page by page), as change links."""
    problems = []
    for section, item in missing_required(instrument, visit.answers, visit.role):
        name = names_of(item)[0]
        url = f"{flow.section_url(token, section.id)}?return={RETURN_TO_CHECK}"
        problems.append(Problem(name, f"{url}#{field_id(name)}", f"Answer ‘{item.text}’"))
    return problems


def _show(connection: Connection, ctx: WebContext, token: str) -> tuple[str | None, dict[str, Any]]:
    visit = open_visit(connection, token, ctx.today())
    instrument = ctx.instrument(connection, visit.instrument_id)
    if flow.first_unanswered(instrument, visit.sections_done) is not None:
        return flow.resume_url(token, instrument, visit.sections_done), {}
    return None, _context(token, instrument, visit, [])


def _submit(session: Session, ctx: WebContext, token: str) -> tuple[str | None, dict[str, Any]]:
    visit = open_visit(session, token, ctx.today(), allow_completed=True)
    done_url = flow.survey_url(token, "done")
    if visit.completed:
        # A double click, a retried POST or the back button: the first one counted.
        return done_url, {}
    instrument = ctx.instrument(session, visit.instrument_id)
    if flow.first_unanswered(instrument, visit.sections_done) is not None:
        return flow.resume_url(token, instrument, visit.sections_done), {}
    problems = _problems(token, instrument, visit)
    if problems:
        return None, _context(token, instrument, visit, problems)
    submit(session, visit, ctx.today())
    return done_url, {"released_wave": visit.wave_id} if visit.anonymous else {}


def _release(session: Session, wave_id: int) -> int:
    return anonymity.release(session, wave_id)


async def show(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    redirect, context = await ctx.run(_show, ctx, request.path_params["token"], plain=True)
    if redirect:
        return RedirectResponse(redirect, status_code=303)
    return ctx.render(request, "check.html", **context)


async def send(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    await ctx.check_csrf(request)
    redirect, context = await ctx.run(_submit, ctx, request.path_params["token"], write=True)
    if "released_wave" in context:
        # A transaction of its own, after the one that completed the link (anonymity.py).
        # The answers are already safe in the hold: if this fails, the next submission or
        # `sharedground wave release` moves them, so the respondent still sees "done".
        try:
            await ctx.run(_release, context["released_wave"], write=True)
        except SQLAlchemyError as error:
            log.warning("releasing held anonymous responses failed (%s)", type(error).__name__)
    if redirect:
        return RedirectResponse(redirect, status_code=303)
    return ctx.render(request, "check.html", 422, **context)


routes = [
    Route("/s/{token}/check", show, methods=["GET"]),
    Route("/s/{token}/check", send, methods=["POST"]),
]
