"""What every admin page shares: templates, the signed-in user, access checks, auditing.

The admin pages reuse the survey app's machinery (`app.state.web`: the store, CSRF tokens,
the database thread pool, security headers) with their own templates, which extend the
survey's base layout. The session cookie is HttpOnly, SameSite=Strict, limited to /admin,
and Secure whenever the site is served over HTTPS.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sharedground.fieldwork import accounts
from sharedground.fieldwork.accounts import Principal
from sharedground.web.admin import labels, nav
from sharedground.web.context import SERVICE_NAME, STATIC_PATH, WebContext

COOKIE = "sg_admin"
ADMIN_PATH = "/admin"
View = Callable[[Request, "AdminContext", Principal], Awaitable[Response]]


def _environment() -> jinja2.Environment:
    own = str(resources.files("sharedground.web.admin") / "templates")
    shared = str(resources.files("sharedground.web") / "templates")
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(own), jinja2.FileSystemLoader(shared)]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(service_name=f"{SERVICE_NAME}: fieldwork", static=STATIC_PATH)
    env.filters.update(role=labels.role_label, words=labels.words)
    return env


_ENV = _environment()


@dataclasses.dataclass
class AdminContext:
    """The survey app's context with the admin templates."""

    web: WebContext

    @classmethod
    def of(cls, request: Request) -> AdminContext:
        web: WebContext = request.app.state.web
        return cls(dataclasses.replace(web, env=_ENV))

    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        return await self.web.run(work, *args, write=True)

    def render(
        self,
        request: Request,
        template: str,
        user: Principal | None,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        context.setdefault("title", "Fieldwork")
        context.setdefault("notice", None)
        path = request.url.path
        context.setdefault("nav", nav.items(user, path))
        wave = request.path_params.get("wave")
        context.setdefault("wave_name", wave)
        context.setdefault(
            "wave_nav", nav.wave_items(user, path, wave) if isinstance(wave, str) else []
        )
        response = self.web.render(request, template, status_code, user=user, **context)
        response.headers["cache-control"] = "no-store"
        return response

    def message(
        self,
        request: Request,
        user: Principal | None,
        status_code: int,
        title: str,
        paragraphs: list[str],
    ) -> Response:
        """A page that only says something: not found, no access, done."""
        return self.render(
            request, "admin_message.html", user, status_code, title=title, paragraphs=paragraphs
        )

    def forbidden(self, request: Request, user: Principal) -> Response:
        return self.message(
            request,
            user,
            403,
            "You do not have access to this page",
            ["Your account can see only your own organisation's monitoring and results."],
        )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=ADMIN_PATH,
    )


def page(
    action: str, *, admin_only: bool = False
) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """Wrap a view: sign-in required, administrators only if asked, every use audited."""

    def wrap(view: View) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(view)
        async def endpoint(request: Request) -> Response:
            ctx = AdminContext.of(request)
            user: Principal | None = await ctx.run(
                accounts.principal_for, request.cookies.get(COOKIE)
            )
            if user is None:
                target = quote(request.url.path)
                return RedirectResponse(f"{ADMIN_PATH}/login?next={target}", status_code=303)
            if admin_only and not user.is_admin:
                response = ctx.forbidden(request, user)
            else:
                response = await view(request, ctx, user)
            verb = "refused: " + action if response.status_code == 403 else action
            await ctx.run(_audit, user.username, verb, request.url.path, request.method)
            return response

        return endpoint

    return wrap


def _audit(session: Any, actor: str, action: str, target: str, method: str) -> None:
    accounts.audit(session, actor, action, target, {"method": method})


def trust_allowed(user: Principal, code: str) -> bool:
    return user.may_see_trust(code)
