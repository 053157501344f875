"""Signing in and out of the admin area."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork import accounts
from sharedground.web.admin.context import ADMIN_PATH, COOKIE, AdminContext, set_session_cookie
from sharedground.web.questions import Problem


def _safe_next(value: str | None) -> str:
    # Only a path inside the admin area: never an open redirect to another site.
    if value and value.startswith(ADMIN_PATH + "/") and not value.startswith("//"):
        return value
    return ADMIN_PATH


async def show(request: Request) -> Response:
    ctx = AdminContext.of(request)
    return ctx.render(
        request,
        "login.html",
        None,
        title="Sign in",
        next=_safe_next(request.query_params.get("next")),
        username="",
    )


def _login(session: Session, username: str, password: str, client: str) -> accounts.LoginResult:
    return accounts.login(session, username, password, client=client)


#: The one answer to every failed sign-in: a wrong password, an unknown or closed username
#: and a locked account look the same, so the form does not reveal which accounts exist.
REFUSED = (
    "The username or password is not right. After "
    f"{accounts.MAX_FAILURES} wrong passwords in a row an account is locked for "
    f"{accounts.LOCK_MINUTES} minutes."
)


async def submit(request: Request) -> Response:
    ctx = AdminContext.of(request)
    form = await ctx.web.check_csrf(request)
    username = (form.get("username") or [""])[-1].strip()
    password = (form.get("password") or [""])[-1]
    target = _safe_next((form.get("next") or [""])[-1])
    wait = await ctx.web.signin_wait(request)
    if wait > 0:
        # Too many failures from this address, whatever the usernames: no password is
        # checked (which also spares the server argon2's work) until the window has passed.
        minutes = max(1, round(wait / 60))
        response = _form(
            ctx,
            request,
            429,
            target,
            username,
            "Too many failed sign-ins came from your connection. Please wait "
            f"{minutes} minute{'s' if minutes != 1 else ''} and try again.",
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    result: accounts.LoginResult = await ctx.run(
        _login, username, password, ctx.web.client(request)
    )
    if result.token is None:
        await ctx.web.record_signin_failure(request)
        return _form(ctx, request, 401, target, username, REFUSED)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, result.token)
    return response


def _form(
    ctx: AdminContext, request: Request, status: int, target: str, username: str, message: str
) -> Response:
    return ctx.render(
        request,
        "login.html",
        None,
        status,
        title="Sign in",
        next=target,
        username=username,
        problems=[Problem("username", "username", message)],
    )


def _logout(session: Session, token: str | None) -> None:
    user = accounts.principal_for(session, token)
    accounts.logout(session, token, user.username if user else "?")


async def logout(request: Request) -> Response:
    ctx = AdminContext.of(request)
    await ctx.web.check_csrf(request)
    await ctx.run(_logout, request.cookies.get(COOKIE))
    response = RedirectResponse(f"{ADMIN_PATH}/login", status_code=303)
    response.delete_cookie(COOKIE, path=ADMIN_PATH)
    return response


routes = [
    Route(f"{ADMIN_PATH}/login", show, methods=["GET"]),
    Route(f"{ADMIN_PATH}/login", submit, methods=["POST"]),
    Route(f"{ADMIN_PATH}/logout", logout, methods=["POST"]),
]
