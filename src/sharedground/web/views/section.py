"""A section of the questionnaire: one page, saved each time the respondent continues."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.instrument import Instrument, Section, SingleItem
from sharedground.web import flow
from sharedground.web.context import WebContext
from sharedground.web.questions import (
    ROLE,
    Problem,
    Raw,
    raw_from_answers,
    read_section,
    section_names,
)
from sharedground.web.survey import Visit, open_visit, save_section

RETURN_TO_CHECK = "check"


@dataclass
class Outcome:
    """What a section request leads to: a redirect, or a page to draw."""

    redirect: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


def fixed_role(instrument: Instrument, visit: Visit) -> tuple[str, str] | None:
    """(id, label) of the role the link carries, or None when the respondent is asked."""
    if visit.role is None:
        return None
    item = instrument.item(ROLE)
    assert isinstance(item, SingleItem)
    labels = {o.id: o.label for o in item.options}
    return visit.role, labels.get(visit.role, visit.role)


def _page(
    ctx: WebContext,
    token: str,
    instrument: Instrument,
    visit: Visit,
    index: int,
    raw: Raw,
    problems: list[Problem],
    return_to: str | None,
) -> dict[str, Any]:
    section = instrument.sections[index]
    if return_to == RETURN_TO_CHECK:
        back = flow.survey_url(token, "check")
    elif index == 0:
        back = flow.survey_url(token, "intro")
    else:
        back = flow.section_url(token, instrument.sections[index - 1].id)
    action = flow.section_url(token, section.id)
    return {
        "title": section.title,
        "section": section,
        "number": index + 1,
        "total": len(instrument.sections),
        "fields_html": ctx.fields.html(
            visit.instrument_id, section, raw, problems, fixed_role(instrument, visit)
        ),
        "problems": problems,
        "back_url": back,
        "action": action,
        "return_to": return_to,
    }


def _locate(
    db: Session | Connection, ctx: WebContext, token: str, section_id: str
) -> tuple[Visit, Instrument, int, str | None]:
    """The visit, its instrument, the section's index, and a redirect if it is not open yet."""
    visit = open_visit(db, token, ctx.today())
    instrument = ctx.instrument(db, visit.instrument_id)
    index = flow.position(instrument, section_id)
    if index is None:
        raise HTTPException(404)
    first = flow.first_unanswered(instrument, visit.sections_done)
    ahead = first is not None and index > flow.position(instrument, first.id)  # type: ignore[operator]
    redirect = flow.section_url(token, first.id) if ahead and first else None
    return visit, instrument, index, redirect


def _show(
    connection: Connection, ctx: WebContext, token: str, section_id: str, return_to: str | None
) -> Outcome:
    visit, instrument, index, redirect = _locate(connection, ctx, token, section_id)
    if redirect:
        return Outcome(redirect=redirect)
    section = instrument.sections[index]
    raw = raw_from_answers(section, visit.answers)
    return Outcome(context=_page(ctx, token, instrument, visit, index, raw, [], return_to))


def _save(
    connection: Connection,
    ctx: WebContext,
    token: str,
    section_id: str,
    raw: Raw,
    return_to: str | None,
) -> Outcome:
    visit, instrument, index, redirect = _locate(connection, ctx, token, section_id)
    if redirect:
        return Outcome(redirect=redirect)
    section: Section = instrument.sections[index]
    answers, problems = read_section(section, raw, visit.role)
    # Whatever was answered correctly is saved even when the page has problems, so that no
    # answer is lost if the respondent leaves before fixing the rest; a field with a problem
    # keeps the answer saved before.
    wrong = {p.name for p in problems}
    names = [n for n in section_names(section) if n not in wrong]
    done = None if problems else section.id
    save_section(connection, visit, names, answers, done, ctx.today(), ctx.stamp())
    if problems:
        context = _page(ctx, token, instrument, visit, index, raw, problems, return_to)
        return Outcome(context=context, status=422)
    following = flow.first_unanswered(instrument, visit.sections_done)
    if return_to == RETURN_TO_CHECK or following is None:
        return Outcome(redirect=flow.resume_url(token, instrument, visit.sections_done))
    if index + 1 < len(instrument.sections):
        return Outcome(redirect=flow.section_url(token, instrument.sections[index + 1].id))
    return Outcome(redirect=flow.resume_url(token, instrument, visit.sections_done))


def _respond(request: Request, ctx: WebContext, outcome: Outcome) -> Response:
    if outcome.redirect:
        return RedirectResponse(outcome.redirect, status_code=303)
    return ctx.render(request, "section.html", outcome.status, **outcome.context)


def _return_to(value: str | None) -> str | None:
    return RETURN_TO_CHECK if value == RETURN_TO_CHECK else None


async def show(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    token, section_id = request.path_params["token"], request.path_params["section"]
    return_to = _return_to(request.query_params.get("return"))
    outcome = await ctx.run(_show, ctx, token, section_id, return_to, plain=True)
    return _respond(request, ctx, outcome)


async def save(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    raw = await ctx.check_csrf(request)
    token, section_id = request.path_params["token"], request.path_params["section"]
    returned = raw.pop("return", [])
    return_to = _return_to(returned[-1] if returned else None)
    outcome = await ctx.run(_save, ctx, token, section_id, raw, return_to, write=True, plain=True)
    return _respond(request, ctx, outcome)


routes = [
    Route("/s/{token}/page/{section}", show, methods=["GET"]),
    Route("/s/{token}/page/{section}", save, methods=["POST"]),
]
