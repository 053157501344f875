"""The audit log: who did what, when (study administrators only)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.fieldwork import accounts
from sharedground.fieldwork.accounts import Principal
from sharedground.fieldwork.clock import shown
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page


def _load(session: Session, zone: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "at": shown(e.at, zone),
            "actor": e.actor,
            "action": e.action,
            "target": e.target or "",
            "detail": e.detail or "",
        }
        for e in accounts.audit_entries(session)
    ]


@page("view audit log", admin_only=True)
async def audit_log(request: Request, ctx: AdminContext, user: Principal) -> Response:
    entries = await ctx.run(_load, ctx.web.zone)
    return ctx.render(request, "audit.html", user, title="Audit log", entries=entries)


routes = [Route(f"{ADMIN_PATH}/audit", audit_log, methods=["GET"])]
