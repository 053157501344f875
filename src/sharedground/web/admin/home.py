"""The admin home page: the waves, and the pages of each the user may open."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.fieldwork.accounts import Principal
from sharedground.store import Store
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page


def _waves(session: Session, store: Store, user: Principal) -> list[dict[str, Any]]:
    rows = []
    for wave in store.list_waves(session):
        base = f"{ADMIN_PATH}/waves/{wave.name}"
        if user.is_admin:
            links = [
                {"url": base, "text": "Settings"},
                {"url": f"{base}/monitor", "text": "Monitoring"},
                {"url": f"{base}/frame", "text": "Sample frame"},
                {"url": f"{base}/messages", "text": "Messages"},
                {"url": f"{base}/contacts", "text": "Contacts"},
                {"url": f"{base}/paper", "text": "Paper entry"},
                {"url": f"{base}/data", "text": "Data and reports"},
            ]
        else:
            trust = f"{base}/trusts/{user.trust}"
            links = [
                {"url": f"{trust}/monitor", "text": f"Monitoring ({user.trust})"},
                {"url": f"{trust}/results", "text": f"Results ({user.trust})"},
                {"url": f"{trust}/report", "text": f"Report ({user.trust})"},
            ]
        rows.append(
            {
                "name": wave.name,
                "opens": wave.opens,
                "closes": wave.closes,
                "anonymous": wave.anonymous,
                "links": links,
            }
        )
    return rows


@page("view waves")
async def home(request: Request, ctx: AdminContext, user: Principal) -> Response:
    waves = await ctx.run(_waves, ctx.web.store, user)
    return ctx.render(request, "home.html", user, title="Fieldwork", waves=waves)


routes = [Route(ADMIN_PATH, home, methods=["GET"])]
