"""The contacts of a wave and where each stands (study administrators only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.fieldwork.accounts import Principal
from sharedground.store import Contact, Organisation, Store
from sharedground.store.schema import Link, Message, PersonalLink
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page

LIMIT = 500


def _load(
    session: Session, store: Store, wave_name: str, trust: str | None
) -> dict[str, Any] | None:
    wave = store.find_wave(session, wave_name)
    if wave is None:
        return None
    query = (
        select(Contact, Organisation.code, Link.completed_on)
        .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
        .outerjoin(PersonalLink, PersonalLink.contact_id == Contact.id)
        .outerjoin(Link, Link.id == PersonalLink.link_id)
        .where(Contact.wave_id == wave.id)
        .order_by(Contact.id)
        .limit(LIMIT)
    )
    if trust:
        query = query.where(Organisation.code == trust)
    sent: dict[int, list[str]] = {}
    for contact_id, kind in session.execute(
        select(Message.contact_id, Message.kind).where(
            Message.wave_id == wave.id, Message.status == "sent"
        )
    ):
        sent.setdefault(contact_id, []).append(kind)
    rows = []
    for contact, code, link_done in session.execute(query):
        done = contact.completed_on or link_done
        state = (
            "completed"
            if done
            else "opted out"
            if contact.opted_out_at
            else ("bounced" if contact.bounced_at else "open")
        )
        rows.append(
            {
                "name": contact.name or "",
                "email": contact.email or "",
                "role": contact.role,
                "trust": code or "",
                "serial": contact.serial or "",
                "messages": ", ".join(sorted(sent.get(contact.id, []))),
                "state": state,
                "mode": (contact.completed_mode or "online") if done else "",
            }
        )
    return {"title": f"Contacts: wave {wave.name}", "rows": rows, "limit": LIMIT}


@page("view contacts", admin_only=True)
async def contacts(request: Request, ctx: AdminContext, user: Principal) -> Response:
    wave = request.path_params["wave"]
    context = await ctx.run(_load, ctx.web.store, wave, request.query_params.get("trust"))
    if context is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {wave}."])
    return ctx.render(request, "contacts.html", user, **context)


routes = [Route(f"{ADMIN_PATH}/waves/{{wave}}/contacts", contacts, methods=["GET"])]
