"""The confirmation page, shown once a survey has been submitted."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.web import flow
from sharedground.web.context import WebContext
from sharedground.web.survey import open_visit


def _load(session: Session, ctx: WebContext, token: str) -> tuple[bool, bool]:
    visit = open_visit(session, token, ctx.today(), allow_completed=True)
    return visit.completed, visit.anonymous


async def done(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    ctx.check_rate(request)
    token = request.path_params["token"]
    completed, anonymous = await ctx.run(_load, ctx, token)
    if not completed:
        return RedirectResponse(flow.survey_url(token), status_code=303)
    return ctx.render(request, "done.html", title="Survey complete", anonymous=anonymous)


routes = [Route("/s/{token}/done", done, methods=["GET"])]
