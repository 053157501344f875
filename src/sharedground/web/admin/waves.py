"""Waves: create one, change what may still change, close it, release held questionnaires.

Study administrators only. The rules of what may change are the library's
(`fieldwork.waves`); every use is audited by `page`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork import anonymity, waves
from sharedground.fieldwork.accounts import Principal
from sharedground.instrument import builtin, list_builtin
from sharedground.store import Store, StoreError
from sharedground.web.admin import forms
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page

NEW_PATH = f"{ADMIN_PATH}/waves/new"


def _settings(form: dict[str, list[str]], default_threshold: int) -> waves.WaveSettings:
    return waves.WaveSettings(
        opens=forms.date(form, "opens", "Opening date"),
        closes=forms.date(form, "closes", "Closing date"),
        reminder_days=waves.parse_days(forms.value(form, "reminder_days") or "9, 21"),
        suppression_threshold=forms.whole(
            form, "suppression_threshold", "Suppression threshold", default_threshold
        ),
        auto_send=forms.checked(form, "auto_send"),
    )


def _new_context(**extra: Any) -> dict[str, Any]:
    extra.setdefault(
        "values",
        {
            "name": "",
            "instrument": "dmr-2015",
            "opens": "",
            "closes": "",
            "anonymous": False,
            "reminder_days": "9, 21",
            "suppression_threshold": "5",
            "auto_send": False,
        },
    )
    return forms.errors_context(title="Create a wave", instruments=list_builtin(), **extra)


@page("view create wave", admin_only=True)
async def new_wave(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return ctx.render(request, "wave_new.html", user, **_new_context())


def _create(session: Session, store: Store, form: dict[str, list[str]]) -> str:
    name = forms.value(form, "name")
    key = forms.value(form, "instrument") or "dmr-2015"
    if key not in list_builtin():
        raise forms.FieldError(f"no questionnaire {key!r}", "instrument")
    settings = _settings(form, 5)
    wave = waves.create(
        session,
        store,
        name,
        builtin(key),
        settings,
        anonymous=forms.checked(form, "anonymous"),
    )
    return wave.name


@page("create wave", admin_only=True)
async def create_wave(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    try:
        name = await ctx.run(_create, ctx.web.store, form)
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "name")
        values: dict[str, Any] = {
            k: forms.value(form, k) for k in ("name", "instrument", "opens", "closes")
        }
        values["anonymous"] = forms.checked(form, "anonymous")
        values["reminder_days"] = forms.value(form, "reminder_days")
        values["suppression_threshold"] = forms.value(form, "suppression_threshold")
        values["auto_send"] = forms.checked(form, "auto_send")
        context = _new_context(values=values, problems=problems, errors=errors)
        return ctx.render(request, "wave_new.html", user, 422, **context)
    return RedirectResponse(f"{ADMIN_PATH}/waves/{name}?created=1", status_code=303)


def _load(session: Session, store: Store, name: str, today: dt.date) -> dict[str, Any] | None:
    wave = store.find_wave(session, name)
    if wave is None:
        return None
    days = waves.reminder_days(session, wave.id)
    closed = waves.is_closed(wave, today)
    return {
        "wave": {
            "name": wave.name,
            "instrument": f"{wave.instrument.title} ({wave.instrument.key}, version "
            f"{wave.instrument.version})",
            "anonymous": wave.anonymous,
            "opens": wave.opens,
            "closes": wave.closes,
            "threshold": wave.suppression_threshold,
            "reminder_days": ", ".join(map(str, days)),
            "state": "Closed" if closed else "Open" if waves.is_open(wave, today) else "Not open",
            "closed": closed,
            "opened": wave.opens is None or wave.opens <= today,
            "held": anonymity.held(session, wave) if wave.anonymous else 0,
            "auto_send": waves.auto_send(session, wave.id),
        },
        "values": {
            "opens": wave.opens.isoformat() if wave.opens else "",
            "closes": wave.closes.isoformat() if wave.closes else "",
            "reminder_days": ", ".join(map(str, days)),
            "suppression_threshold": str(wave.suppression_threshold),
            "auto_send": waves.auto_send(session, wave.id),
        },
    }


async def _show(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    name = request.path_params["wave"]
    context = await ctx.run(_load, ctx.web.store, name, ctx.web.today())
    if context is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    if "values" in extra:
        context["values"] = extra.pop("values")
    return ctx.render(
        request,
        "wave.html",
        user,
        status_code,
        **forms.errors_context(title=f"Wave {name}", **context, **extra),
    )


@page("view wave settings", admin_only=True)
async def wave_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    notice = "The wave was created." if request.query_params.get("created") else None
    return await _show(request, ctx, user, notice=notice)


def _update(
    session: Session, store: Store, name: str, form: dict[str, list[str]], today: dt.date
) -> list[str] | None:
    wave = store.find_wave(session, name)
    if wave is None:
        return None
    settings = _settings(form, wave.suppression_threshold)
    if "opens" not in form:  # the field is not offered once the wave has opened
        settings = dataclasses.replace(settings, opens=wave.opens)
    return waves.update(session, wave, settings, today)


@page("change wave", admin_only=True)
async def change_wave(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    try:
        changed = await ctx.run(_update, ctx.web.store, name, form, ctx.web.today())
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "closes")
        values: dict[str, Any] = {
            k: forms.value(form, k)
            for k in ("opens", "closes", "reminder_days", "suppression_threshold")
        }
        values["auto_send"] = forms.checked(form, "auto_send")
        return await _show(request, ctx, user, 422, values=values, problems=problems, errors=errors)
    if changed is None:
        return await _show(request, ctx, user)
    notice = "Changed: " + "; ".join(changed) + "." if changed else "Nothing was changed."
    return await _show(request, ctx, user, notice=notice)


def _close(session: Session, store: Store, name: str, today: dt.date) -> bool:
    wave = store.find_wave(session, name)
    if wave is None:
        return False
    waves.close(session, wave, today)
    return True


def _release(session: Session, store: Store, name: str) -> int | None:
    wave = store.find_wave(session, name)
    if wave is None:
        return None
    if not wave.anonymous:
        raise waves.WaveError(f"wave {name} is not anonymous: nothing is held", "confirm_release")
    return anonymity.release(session, wave, force=True)


def _unconfirmed(field: str, what: str) -> tuple[list[Any], dict[str, str]]:
    message = f"Tick the box to confirm that you want to {what}"
    return forms.problem_of(forms.FieldError(message, field), field)


@page("close wave", admin_only=True)
async def close_wave(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    if not forms.checked(form, "confirm_close"):
        problems, errors = _unconfirmed("confirm_close", "close the wave")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    try:
        await ctx.run(_close, ctx.web.store, request.path_params["wave"], ctx.web.today())
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "confirm_close")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    return await _show(request, ctx, user, notice="The wave is closed: fieldwork has ended.")


@page("release held questionnaires", admin_only=True)
async def release_held(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    if not forms.checked(form, "confirm_release"):
        problems, errors = _unconfirmed("confirm_release", "release the held questionnaires")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    try:
        moved = await ctx.run(_release, ctx.web.store, request.path_params["wave"])
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "confirm_release")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    return await _show(
        request, ctx, user, notice=f"Released {moved or 0} held questionnaire(s) to the responses."
    )


routes = [
    Route(NEW_PATH, new_wave, methods=["GET"]),
    Route(NEW_PATH, create_wave, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}", wave_page, methods=["GET"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}", change_wave, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/close", close_wave, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/release", release_held, methods=["POST"]),
]
