"""Managing the admin accounts (study administrators only).

The list of accounts with a form to create one, and a page per account to unlock it,
give it a new password or deactivate it. A password left blank is generated and shown
once, on the page that answers the form, and never again (only its argon2 hash is kept).
Each change is written to the audit log by `fieldwork.accounts`, a refused one here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.fieldwork import accounts
from sharedground.fieldwork.accounts import Account, AccountError, Principal
from sharedground.fieldwork.clock import shown
from sharedground.store import Organisation
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.questions import Problem

ACCOUNTS_PATH = f"{ADMIN_PATH}/accounts"
ROLE_LABELS = {"administrator": "Study administrator", "lead": "Organisation lead"}


def _row(account: Account, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "username": account.username,
        "url": f"{ACCOUNTS_PATH}/{account.username}",
        "role": ROLE_LABELS.get(account.role, account.role),
        "trust": account.trust or "",
        "locked": account.locked,
        "active": account.active,
        "last_login": shown(account.last_login, zone) if account.last_login else "never",
        "created": shown(account.created, zone),
    }


def _list(session: Session, zone: ZoneInfo) -> dict[str, Any]:
    trusts = session.scalars(select(Organisation.code).order_by(Organisation.code)).all()
    return {
        "accounts": [_row(a, zone) for a in accounts.accounts_list(session)],
        "trusts": list(trusts),
    }


def _one(session: Session, username: str, zone: ZoneInfo) -> dict[str, Any] | None:
    account = accounts.find_account(session, username)
    return {"account": _row(account, zone)} if account else None


def _form_value(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[-1].strip()


def _refused(session: Session, actor: str, action: str, username: str, why: str) -> None:
    accounts.audit(session, actor, f"refused: {action}", username or None, {"why": why})


def _problem(exc: AccountError, default: str) -> Problem:
    name = exc.field or default
    return Problem(name, name, str(exc))


def _render_list(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    context: dict[str, Any],
    status_code: int = 200,
    **extra: Any,
) -> Response:
    extra.setdefault("values", {"username": "", "role": "", "trust": ""})
    extra.setdefault("new_password", None)
    extra.setdefault("errors", {})
    return ctx.render(
        request,
        "accounts.html",
        user,
        status_code,
        title="Accounts",
        roles=ROLE_LABELS,
        min_password=accounts.MIN_PASSWORD,
        **context,
        **extra,
    )


@page("view accounts", admin_only=True)
async def accounts_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return _render_list(request, ctx, user, await ctx.run(_list, ctx.web.zone))


@page("manage accounts", admin_only=True)
async def create(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    values = {name: _form_value(form, name) for name in ("username", "role", "trust")}
    # A trust chosen for an administrator is a slip of the form, not a wish: ignore it.
    trust = values["trust"] if values["role"] == "lead" else ""
    password = (form.get("password") or [""])[-1]
    try:
        generated = await ctx.run(
            accounts.create_account,
            user.username,
            values["username"],
            values["role"],
            trust or None,
            password or None,
        )
    except AccountError as exc:
        await ctx.run(_refused, user.username, "create account", values["username"], str(exc))
        problem = _problem(exc, "username")
        return _render_list(
            request,
            ctx,
            user,
            await ctx.run(_list, ctx.web.zone),
            422,
            values=values,
            problems=[problem],
            errors={problem.name: problem.message},
        )
    role = ROLE_LABELS[values["role"]].lower()
    return _render_list(
        request,
        ctx,
        user,
        await ctx.run(_list, ctx.web.zone),
        notice=f"Created the account {values['username']} ({role}).",
        new_password=(
            {"username": values["username"], "password": generated} if generated else None
        ),
    )


def _render_one(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    context: dict[str, Any] | None,
    username: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    if context is None:
        return ctx.message(
            request, user, 404, "No such account", [f"There is no account called {username}."]
        )
    extra.setdefault("new_password", None)
    extra.setdefault("errors", {})
    return ctx.render(
        request,
        "account.html",
        user,
        status_code,
        title=f"Account {username}",
        accounts_url=ACCOUNTS_PATH,
        min_password=accounts.MIN_PASSWORD,
        **context,
        **extra,
    )


@page("view account", admin_only=True)
async def account_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    username = request.path_params["username"]
    return _render_one(request, ctx, user, await ctx.run(_one, username, ctx.web.zone), username)


Change = Callable[[Session, str, str, dict[str, list[str]]], str | None]


def _unlock(session: Session, actor: str, username: str, _form: dict[str, list[str]]) -> None:
    accounts.unlock(session, actor, username)


def _deactivate(session: Session, actor: str, username: str, _form: dict[str, list[str]]) -> None:
    accounts.deactivate(session, actor, username)


def _password(
    session: Session, actor: str, username: str, form: dict[str, list[str]]
) -> str | None:
    return accounts.reset_password(
        session, actor, username, (form.get("password") or [""])[-1] or None
    )


# path suffix -> (the change, what the audit log calls it, what the page says once done)
_CHANGES: dict[str, tuple[Change, str, str]] = {
    "unlock": (_unlock, "unlock account", "The account is unlocked: it can sign in again."),
    "deactivate": (
        _deactivate,
        "deactivate account",
        "The account is deactivated: it cannot sign in, and its sessions have ended.",
    ),
    "password": (
        _password,
        "reset password",
        "The password is changed, and the account's sessions have ended.",
    ),
}


@page("manage accounts", admin_only=True)
async def change(request: Request, ctx: AdminContext, user: Principal) -> Response:
    username = request.path_params["username"]
    what = request.url.path.rsplit("/", 1)[1]
    work, action, done = _CHANGES[what]
    form = await ctx.web.check_csrf(request)
    try:
        generated = await ctx.run(work, user.username, username, form)
    except AccountError as exc:
        await ctx.run(_refused, user.username, action, username, str(exc))
        problem = _problem(exc, what)
        return _render_one(
            request,
            ctx,
            user,
            await ctx.run(_one, username, ctx.web.zone),
            username,
            409 if problem.name != "password" else 422,
            problems=[problem],
            errors={problem.name: problem.message},
        )
    return _render_one(
        request,
        ctx,
        user,
        await ctx.run(_one, username, ctx.web.zone),
        username,
        notice=done,
        new_password={"username": username, "password": generated} if generated else None,
    )


routes = [
    Route(ACCOUNTS_PATH, accounts_page, methods=["GET"]),
    Route(ACCOUNTS_PATH, create, methods=["POST"]),
    Route(f"{ACCOUNTS_PATH}/{{username}}", account_page, methods=["GET"]),
    *(Route(f"{ACCOUNTS_PATH}/{{username}}/{what}", change, methods=["POST"]) for what in _CHANGES),
]
