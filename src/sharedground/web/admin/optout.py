"""The opt-out page a contact reaches from the link in every message.

Opening the page changes nothing (mail scanners open links); the contact confirms with a
button. A one-click POST from the mail program (RFC 8058, `List-Unsubscribe=One-Click`)
needs no form token: it carries the personal token, which is the credential here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.fieldwork import accounts
from sharedground.fieldwork.contacts import opt_out
from sharedground.fieldwork.links import find_link
from sharedground.fieldwork.mail import OPTOUT_PATH
from sharedground.web.admin.context import AdminContext


def _known(session: Session, token: str) -> bool:
    link = find_link(session, token)
    return link is not None and link.contact_id is not None


def _opt_out(session: Session, token: str) -> bool:
    link = find_link(session, token)
    if link is None or link.contact_id is None:
        return False
    if opt_out(session, link.contact_id):
        accounts.audit(session, "respondent", "opt out", f"contact {link.contact_id}")
    return True


async def _unknown(ctx: AdminContext, request: Request) -> Response:
    await ctx.web.record_failure(request)
    return ctx.message(
        request,
        None,
        404,
        "This link is not recognised",
        ["Check that you copied the whole link from the message."],
    )


async def show(request: Request) -> Response:
    ctx = AdminContext.of(request)
    await ctx.web.check_rate(request)
    token = request.path_params["token"]
    if not await ctx.run(_known, token):
        return await _unknown(ctx, request)
    return ctx.render(
        request,
        "optout.html",
        None,
        title="Stop messages about this survey",
        action=request.url.path,
    )


async def confirm(request: Request) -> Response:
    ctx = AdminContext.of(request)
    await ctx.web.check_rate(request)
    token = request.path_params["token"]
    body = (await request.body())[:200]
    if body.strip() != b"List-Unsubscribe=One-Click":
        await ctx.web.check_csrf(request)
    if not await ctx.run(_opt_out, token):
        return await _unknown(ctx, request)
    return ctx.message(
        request,
        None,
        200,
        "You will get no more messages",
        ["You will not be sent any more messages about this survey. Thank you."],
    )


routes = [
    Route(f"{OPTOUT_PATH}{{token}}", show, methods=["GET"]),
    Route(f"{OPTOUT_PATH}{{token}}", confirm, methods=["POST"]),
]
