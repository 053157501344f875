"""The confirmation page, shown once a survey has been submitted.

A link completed by the person's paper questionnaire (keyed while they had a half-finished
survey online) gets the "already completed" page instead: their online answers were not
sent, and thanking them for those would say otherwise.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork.paper import completed_on_paper
from sharedground.web import flow
from sharedground.web.context import WebContext
from sharedground.web.survey import LinkRefused, LinkState, open_visit


def _load(session: Session, ctx: WebContext, token: str) -> tuple[bool, bool]:
    visit = open_visit(session, token, ctx.today(), allow_completed=True)
    if visit.completed and completed_on_paper(session, visit.link_id):
        raise LinkRefused(LinkState.COMPLETED)
    return visit.completed, visit.anonymous


async def done(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    await ctx.check_rate(request)
    token = request.path_params["token"]
    completed, anonymous = await ctx.run(_load, ctx, token)
    if not completed:
        return RedirectResponse(flow.survey_url(token), status_code=303)
    return ctx.render(request, "done.html", title="Survey complete", anonymous=anonymous)


routes = [Route("/s/{token}/done", done, methods=["GET"])]
