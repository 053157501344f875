"""The initiative register in the admin pages: list, register, show, change, end.

An organisation lead sees and changes only their own trust's initiatives; another trust's
initiative answers 404 exactly as one that does not exist, so its id reveals nothing. An
administrator sees all. Every change is a POST with a CSRF token and is written to the
audit log by `initiatives.register` (and its use by `page`); a refused one changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork.accounts import Principal
from sharedground.initiatives import pairs, participants, pulse, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.kinds import BUILTIN
from sharedground.store import Store
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.questions import Problem

PATH = f"{ADMIN_PATH}/initiatives"


def _scope(user: Principal) -> str | None:
    """The trust a user's look-ups are limited to (None: every trust)."""
    return None if user.is_admin else (user.trust or "")


def _value(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[-1].strip()


def _date(form: dict[str, list[str]], name: str) -> dt.date | None:
    text = _value(form, name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        what = name.replace("_", " ")
        raise InitiativeError(f"{what}: {text!r} is not a date like 2027-01-31") from None


def _list(session: Session, user: Principal) -> dict[str, Any]:
    entries = register.list_entries(session, trust=_scope(user))
    return {"entries": entries, "kinds": list(BUILTIN.values())}


def _detail(session: Session, user: Principal, ident: int) -> dict[str, Any] | None:
    try:
        entry = register.show(session, ident, _scope(user))
    except InitiativeError:
        return None
    row = register.get(session, ident)
    kind = register.kinds_for(session, row.organisation_id).get(row.kind)
    found = pairs.list_pairs(session, ident)
    # A lead's paired figures move only by whole batches of pairs: they can read the page
    # after each answer, and the difference would be that participant's answers.
    results = pulse.results(session, ident, in_batches=not user.is_admin)
    return {
        "entry": entry,
        "pairs": found,
        "pulse": results,
        "cohort": participants.counts(session, ident) if kind and kind.groups_people else None,
        "members": participants.members(session, ident) if kind and kind.groups_people else [],
        "activity_kinds": pairs.ACTIVITY_KINDS,
        "pulse_labels": {i.id: i.text for i in pulse.instrument().items()},
    }


@page("view initiatives")
async def list_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return _render_list(request, ctx, user, await ctx.run(_list, user))


def _render_list(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    context: dict[str, Any],
    status_code: int = 200,
    **extra: Any,
) -> Response:
    extra.setdefault("problems", [])
    extra.setdefault("values", {})
    return ctx.render(
        request,
        "initiatives.html",
        user,
        status_code,
        title="Initiatives",
        path=PATH,
        **context,
        **extra,
    )


def _add(session: Session, store: Store, user: Principal, form: dict[str, list[str]]) -> int:
    trust = _value(form, "trust") if user.is_admin else (user.trust or "")
    if not trust:
        raise InitiativeError("trust: give the organisation's code")
    directorates = [d for d in _value(form, "directorates").split(";") if d.strip()]
    row = register.add(
        store,
        session,
        trust=trust,
        kind=_value(form, "kind"),
        title=_value(form, "title"),
        actor=user.username,
        description=_value(form, "description") or None,
        directorates=directorates,
        owner=_value(form, "owner") or None,
        planned_start=_date(form, "planned_start"),
    )
    return row.id


@page("register initiative")
async def add(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    try:
        ident = await ctx.run(_add, ctx.web.store, user, form)
    except InitiativeError as exc:
        return _render_list(
            request,
            ctx,
            user,
            await ctx.run(_list, user),
            422,
            problems=[Problem("title", "title", str(exc))],
            values={k: _value(form, k) for k in form},
        )
    return RedirectResponse(f"{PATH}/{ident}", status_code=303)


def _not_found(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return ctx.message(
        request, user, 404, "Initiative not found", ["There is no such initiative in your list."]
    )


def _render_detail(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    context: dict[str, Any] | None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    if context is None:
        return _not_found(request, ctx, user)
    extra.setdefault("problems", [])
    extra.setdefault("file_problems", [])
    entry = context["entry"]
    return ctx.render(
        request,
        "initiative.html",
        user,
        status_code,
        title=entry.title,
        path=PATH,
        stages=register.STAGES,
        scale=register.PROGRESS_SCALE,
        **context,
        **extra,
    )


@page("view initiative")
async def detail(request: Request, ctx: AdminContext, user: Principal) -> Response:
    ident = request.path_params["ident"]
    return _render_detail(request, ctx, user, await ctx.run(_detail, user, ident))


def _change(session: Session, user: Principal, ident: int, form: dict[str, list[str]]) -> str:
    trust = _scope(user)
    stage = _value(form, "stage")
    if stage == "ended":
        on = _date(form, "ended_on")
        if on is None:
            raise InitiativeError("end date: give the day it ended")
        register.end(
            session, ident, actor=user.username, on=on, reason=_value(form, "reason"), trust=trust
        )
        return "The initiative is recorded as ended."
    changes: dict[str, Any] = {}
    for name in ("title", "owner"):
        if _value(form, name):
            changes[name] = _value(form, name)
    if stage:
        changes["stage"] = stage
        changes["reason"] = _value(form, "reason") or None
    if _value(form, "progress"):
        changes["progress"] = _value(form, "progress")
        changes["note"] = _value(form, "note") or None
    register.update(session, ident, actor=user.username, trust=trust, **changes)
    return "Saved."


@page("change initiative")
async def change(request: Request, ctx: AdminContext, user: Principal) -> Response:
    ident = request.path_params["ident"]
    form = await ctx.web.check_csrf(request)
    if await ctx.run(_detail, user, ident) is None:
        return _not_found(request, ctx, user)
    try:
        notice = await ctx.run(_change, user, ident, form)
    except InitiativeError as exc:
        return _render_detail(
            request,
            ctx,
            user,
            await ctx.run(_detail, user, ident),
            422,
            problems=[Problem("stage", "stage", str(exc))],
        )
    return _render_detail(request, ctx, user, await ctx.run(_detail, user, ident), notice=notice)


def _pairs(session: Session, user: Principal, ident: int, form: dict[str, list[str]]) -> str:
    action = _value(form, "action")
    if action == "propose":
        proposal = pairs.propose_in(
            session,
            ident,
            cross_directorate=_value(form, "cross_directorate") == "yes",
            actor=user.username,
            trust=_scope(user),
        )
        return proposal.message()
    if action == "set":
        pair = pairs.set_pair(
            session,
            ident,
            _value(form, "doctor"),
            _value(form, "manager"),
            actor=user.username,
            trust=_scope(user),
        )
        return f"Pair {pair.id} proposed by hand; confirm it with the others."
    if action == "confirm":
        done = pairs.confirm(session, ident, actor=user.username, trust=_scope(user))
        return f"Confirmed {done} pair(s)."
    raise InitiativeError(f"unknown action {action!r}")


@page("change pairs")
async def pairs_action(request: Request, ctx: AdminContext, user: Principal) -> Response:
    ident = request.path_params["ident"]
    form = await ctx.web.check_csrf(request)
    if await ctx.run(_detail, user, ident) is None:
        return _not_found(request, ctx, user)
    try:
        notice = await ctx.run(_pairs, user, ident, form)
    except InitiativeError as exc:
        return _render_detail(
            request, ctx, user, await ctx.run(_detail, user, ident), 422,
            problems=[Problem("pairs", "pairs-h", str(exc))],
        )  # fmt: skip
    return _render_detail(request, ctx, user, await ctx.run(_detail, user, ident), notice=notice)


def _log(
    session: Session, user: Principal, ident: int, pair: int, form: dict[str, list[str]]
) -> str:
    on = _date(form, "on")
    if on is None:
        raise InitiativeError("day: give the day it happened")
    pairs.log_activity(
        session,
        ident,
        pair,
        on=on,
        kind=_value(form, "kind"),
        attended=form.get("attended", []),
        minutes=_value(form, "minutes") or None,
        actor=user.username,
        trust=_scope(user),
    )
    return f"Logged the {_value(form, 'kind').replace('_', ' ')} of {on}."


@page("log pair activity")
async def log(request: Request, ctx: AdminContext, user: Principal) -> Response:
    ident, pair = request.path_params["ident"], request.path_params["pair"]
    form = await ctx.web.check_csrf(request)
    if await ctx.run(_detail, user, ident) is None:
        return _not_found(request, ctx, user)
    try:
        notice = await ctx.run(_log, user, ident, pair, form)
    except InitiativeError as exc:
        return _render_detail(
            request, ctx, user, await ctx.run(_detail, user, ident), 422,
            problems=[Problem("log", f"log-{pair}", str(exc))],
        )  # fmt: skip
    return _render_detail(request, ctx, user, await ctx.run(_detail, user, ident), notice=notice)


def _cohort_import(_session: Session, store: Store, user: Principal, ident: int, path: Any) -> int:
    # The library call opens its own transaction; run through ctx.run for SQLite's write lock.
    return participants.import_cohort(store, ident, path, actor=user.username, trust=_scope(user))


@page("import participants")
async def cohort_upload(request: Request, ctx: AdminContext, user: Principal) -> Response:
    """Add a cohort from an uploaded CSV or XLSX file: all rows or none, problems listed."""
    import secrets
    import tempfile
    from pathlib import Path

    from sharedground.exchange.problems import InvalidFile
    from sharedground.web.admin import forms

    ident = request.path_params["ident"]
    if await ctx.run(_detail, user, ident) is None:
        return _not_found(request, ctx, user)
    try:
        _fields, suffix, data = await forms.read_upload(
            request, ctx.web, "cohort", (".csv", ".xlsx")
        )
    except forms.UploadRefused as exc:
        return _render_detail(
            request, ctx, user, await ctx.run(_detail, user, ident), 422,
            problems=[Problem("cohort", "cohort", str(exc))],
        )  # fmt: skip
    # A private folder of its own, removed at once: the file is never kept or served back.
    with tempfile.TemporaryDirectory(prefix="sg-cohort-") as folder:
        path = Path(folder) / f"{secrets.token_hex(8)}{suffix}"
        path.write_bytes(data)
        try:
            added = await ctx.run(_cohort_import, ctx.web.store, user, ident, path)
        except InvalidFile as exc:
            rows = [
                {"row": p.row or "–", "column": p.column or "–", "message": p.message}
                for p in exc.problems
            ]
            message = f"The file has {len(exc.problems)} problem(s); nobody was added"
            return _render_detail(
                request, ctx, user, await ctx.run(_detail, user, ident), 422,
                problems=[Problem("cohort", "cohort", message)], file_problems=rows,
            )  # fmt: skip
        except InitiativeError as exc:
            return _render_detail(
                request, ctx, user, await ctx.run(_detail, user, ident), 422,
                problems=[Problem("cohort", "cohort", str(exc))],
            )  # fmt: skip
    notice = f"Added {added} participant(s)."
    return _render_detail(request, ctx, user, await ctx.run(_detail, user, ident), notice=notice)


routes = [
    Route(PATH, list_page, methods=["GET"]),
    Route(PATH, add, methods=["POST"]),
    Route(f"{PATH}/{{ident:int}}", detail, methods=["GET"]),
    Route(f"{PATH}/{{ident:int}}", change, methods=["POST"]),
    Route(f"{PATH}/{{ident:int}}/pairs", pairs_action, methods=["POST"]),
    Route(f"{PATH}/{{ident:int}}/participants", cohort_upload, methods=["POST"]),
    Route(f"{PATH}/{{ident:int}}/pairs/{{pair:int}}/log", log, methods=["POST"]),
]
