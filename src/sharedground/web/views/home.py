"""The bare front page (people arrive by personal link) and the health check."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sharedground.web.context import WebContext


async def home(request: Request) -> Response:
    ctx: WebContext = request.app.state.web
    return ctx.render(request, "home.html", title="Home")


async def healthz(request: Request) -> Response:
    # Touches nothing: the load benchmark uses it as the ceiling of the stack itself.
    return PlainTextResponse("ok")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
