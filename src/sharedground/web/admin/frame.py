"""The sample frame: upload a contacts file, check it whole, confirm; record opt-outs.

The upload is checked exactly as `sharedground contacts import` checks a file (the same
library call, without writing): every problem is listed by row and column and nothing is
added; a file without problems is shown with its warnings and what it would add, and only
a second, deliberate POST adds it. Between the two the file waits in a private folder
under a random name; it is never served back and is deleted once used.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.fieldwork import contacts as contacts_lib
from sharedground.fieldwork.accounts import Principal
from sharedground.jobs.files import files_dir
from sharedground.store import Contact, Store, StoreError
from sharedground.web.admin import forms
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.admin.labels import role_label

TOKEN = re.compile(r"^[0-9a-f]{32}$")
SUFFIXES = (".csv", ".xlsx")


def _uploads(store: Store) -> Path:
    folder = files_dir(store.url) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _upload_path(store: Store, token: str) -> Path | None:
    if not TOKEN.match(token):
        return None
    for suffix in SUFFIXES:
        path = _uploads(store) / f"{token}{suffix}"
        if path.is_file():
            return path
    return None


def _counts(session: Session, store: Store, wave_name: str) -> dict[str, Any] | None:
    wave = store.find_wave(session, wave_name)
    if wave is None:
        return None
    total = session.scalar(
        select(func.count()).select_from(Contact).where(Contact.wave_id == wave.id)
    )
    opted = session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.wave_id == wave.id, Contact.opted_out_at.is_not(None))
    )
    return {"contacts": int(total or 0), "opted_out": int(opted or 0)}


def _problem_rows(problems: list[Problem] | tuple[Problem, ...]) -> list[dict[str, str]]:
    return [
        {
            "row": str(p.row) if p.row is not None else "–",
            "column": p.column or "–",
            "message": p.message,
        }
        for p in problems
    ]


async def _show(
    request: Request, ctx: AdminContext, user: Principal, status_code: int = 200, **extra: Any
) -> Response:
    name = request.path_params["wave"]
    counts = await ctx.run(_counts, ctx.web.store, name)
    if counts is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    extra.setdefault("file_problems", [])
    extra.setdefault("check", None)
    extra.setdefault("emails", "")
    return ctx.render(
        request,
        "frame.html",
        user,
        status_code,
        **forms.errors_context(title=f"Sample frame: wave {name}", wave=name, **counts, **extra),
    )


@page("view sample frame", admin_only=True)
async def frame_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return await _show(request, ctx, user)


@page("check sample frame upload", admin_only=True)
async def upload(request: Request, ctx: AdminContext, user: Principal) -> Response:
    name = request.path_params["wave"]
    try:
        _fields, suffix, data = await forms.read_upload(request, ctx.web, "frame", SUFFIXES)
    except forms.UploadRefused as exc:
        problems, errors = forms.problem_of(exc, "frame")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    token = secrets.token_hex(16)
    path = _uploads(ctx.web.store) / f"{token}{suffix}"
    path.write_bytes(data)
    path.chmod(0o600)
    try:
        summary = await ctx.run(_check, ctx.web.store, path, name)
    except InvalidFile as exc:
        path.unlink(missing_ok=True)
        message = f"The file has {len(exc.problems)} problem(s); nothing was added"
        problems, errors = forms.problem_of(forms.FieldError(message, "frame"), "frame")
        return await _show(
            request,
            ctx,
            user,
            422,
            problems=problems,
            errors=errors,
            file_problems=_problem_rows(exc.problems),
        )
    except StoreError as exc:
        path.unlink(missing_ok=True)
        problems, errors = forms.problem_of(exc, "frame")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    check = {
        "token": token,
        "added": summary.added,
        "trusts": summary.trusts,
        "by_role": [(role_label(r), n) for r, n in sorted(summary.by_role.items())],
        "warnings": _problem_rows(summary.warnings),
    }
    return await _show(request, ctx, user, check=check)


def _check(_session: Session, store: Store, path: Path, wave: str) -> Any:
    return contacts_lib.import_contacts(store, path, wave, dry_run=True)


@page("add sample frame", admin_only=True)
async def confirm(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    path = _upload_path(ctx.web.store, forms.value(form, "upload"))
    if path is None:
        problems, errors = forms.problem_of(
            forms.FieldError("the checked file is no longer here: upload it again", "frame"),
            "frame",
        )
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    try:
        summary = await ctx.run(_import, ctx.web.store, path, name)
    except InvalidFile as exc:  # the wave changed since the check (someone added the same people)
        message = f"The file has {len(exc.problems)} problem(s) now; nothing was added"
        problems, errors = forms.problem_of(forms.FieldError(message, "frame"), "frame")
        return await _show(
            request,
            ctx,
            user,
            422,
            problems=problems,
            errors=errors,
            file_problems=_problem_rows(exc.problems),
        )
    finally:
        path.unlink(missing_ok=True)
    notice = f"Added {summary.added} contacts from {summary.trusts} organisation(s)."
    return await _show(request, ctx, user, notice=notice)


def _import(_session: Session, store: Store, path: Path, wave: str) -> Any:
    return contacts_lib.import_contacts(store, path, wave)


def _opt_out(session: Session, store: Store, wave_name: str, emails: list[str]) -> int:
    wave = store.get_wave(session, wave_name)
    found = []
    for email in emails:
        contact = contacts_lib.find_contact(session, wave, email)
        if contact is None:
            raise forms.FieldError(
                f"{email} is not a contact in wave {wave_name}; nothing changed", "emails"
            )
        found.append(contact.id)
    return sum(contacts_lib.opt_out(session, ident) for ident in found)


@page("record opt-outs", admin_only=True)
async def opt_out(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    text = forms.value(form, "emails")
    emails = [e for e in re.split(r"[\s,;]+", text) if e]
    if not emails:
        problems, errors = forms.problem_of(
            forms.FieldError("enter the e-mail address of at least one person", "emails"), "emails"
        )
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    try:
        changed = await ctx.run(_opt_out, ctx.web.store, request.path_params["wave"], emails)
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "emails")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors, emails=text)
    notice = f"Opted out {changed} contact(s) ({len(emails) - changed} already were)."
    return await _show(request, ctx, user, notice=notice)


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/frame", frame_page, methods=["GET"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/frame", upload, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/frame/confirm", confirm, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/frame/opt-out", opt_out, methods=["POST"]),
]
