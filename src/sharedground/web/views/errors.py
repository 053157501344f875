"""Error pages: every refusal is a page in the survey's style with the right status code.

No traceback ever reaches a respondent; unexpected errors are logged by the server (with
tokens redacted) and answered with a plain apology.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sharedground.web.context import CsrfRejected, TooLarge, TooManyAttempts, WebContext
from sharedground.web.security import apply_headers
from sharedground.web.survey import LinkRefused, LinkState

log = logging.getLogger("sharedground.web")


def _page(
    request: Request,
    status: int,
    title: str,
    *paragraphs: str,
    retry_url: str | None = None,
    retry_text: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    ctx: WebContext = request.app.state.web
    response = ctx.render(
        request,
        "error.html",
        status,
        title=title,
        paragraphs=list(paragraphs),
        retry_url=retry_url,
        retry_text=retry_text,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _date(value: object) -> str:
    return value.strftime("%-d %B %Y") if hasattr(value, "strftime") else str(value)


async def link_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinkRefused)
    ctx: WebContext = request.app.state.web
    if exc.state is LinkState.UNKNOWN:
        await ctx.record_failure(request)
        return _page(
            request,
            404,
            "This link is not recognised",
            "Check that you copied the whole link from your invitation. Links are long and "
            "some e-mail programs split them over two lines.",
            "If it still does not work, contact the survey team who invited you.",
        )
    if exc.state is LinkState.NOT_OPEN:
        when = f" on {_date(exc.opens)}" if exc.opens else ""
        return _page(
            request,
            403,
            "This survey has not opened yet",
            f"The survey opens{when}. Please use the same link again then.",
        )
    if exc.state is LinkState.CLOSED:
        when = f" on {_date(exc.closes)}" if exc.closes else ""
        return _page(
            request,
            410,
            "This survey has closed",
            f"The survey closed{when}, so answers can no longer be sent.",
            "Thank you for your interest.",
        )
    return _page(
        request,
        410,
        "You have already completed this survey",
        "Answers have already been submitted with this link, and each link can be used once.",
        "Thank you for taking part.",
    )


async def csrf_rejected(request: Request, exc: Exception) -> Response:
    return _page(
        request,
        403,
        "Your answers on this page could not be saved",
        "The page had been open too long or was sent from another site, so it was not accepted "
        "to keep your answers safe. Answers you saved earlier are kept.",
        retry_url=request.url.path,
        retry_text="Open the page again and continue",
    )


async def too_large(request: Request, exc: Exception) -> Response:
    return _page(
        request,
        413,
        "Your answers could not be saved",
        "The page sent was far longer than the questionnaire allows.",
    )


async def too_many(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyAttempts)
    minutes = max(1, round(exc.retry_after / 60))
    return _page(
        request,
        429,
        "Too many attempts",
        "Too many links that do not exist were tried from your connection.",
        f"Please wait {minutes} minute{'s' if minutes != 1 else ''} and try your link again.",
        headers={"Retry-After": str(int(exc.retry_after) + 1)},
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return _page(
            request,
            405,
            "This page cannot be used like that",
            "Go back and use the buttons on the page.",
            headers={"Allow": (exc.headers or {}).get("Allow", "GET")},
        )
    if exc.status_code == 404:
        return _page(
            request,
            404,
            "Page not found",
            "If you typed the address, check it is correct.",
            "If you pasted the address, check you copied the whole of it.",
        )
    return _page(
        request, exc.status_code, "Sorry, this page could not be shown", "Go back and try again."
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s: %s", request.method, type(exc).__name__)
    # This handler runs outside the middleware stack, so the headers are set here.
    response = _page(
        request,
        500,
        "Sorry, there is a problem with the service",
        "Your answers saved so far are kept. Please try again later with the same link.",
    )
    apply_headers(response.headers)
    return response


handlers = {
    LinkRefused: link_refused,
    CsrfRejected: csrf_rejected,
    TooLarge: too_large,
    TooManyAttempts: too_many,
    HTTPException: http_error,
    Exception: server_error,
}
