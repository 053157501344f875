"""Paper data entry: find a questionnaire by serial, key it, reconcile two keyings.

The keying form never shows an earlier keying: the second keyer works blind, which is
what makes double entry catch mistakes. Only administrators key and reconcile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.exchange.columns import GRID_SEPARATOR, MULTI_SEPARATOR
from sharedground.fieldwork import anonymity
from sharedground.fieldwork import paper as lib
from sharedground.fieldwork.accounts import Principal
from sharedground.fieldwork.postal import PostalError, parse_serial
from sharedground.instrument import GRID_VALUES, LIKERT_LABELS, Instrument, loads
from sharedground.store import Contact, Store, Wave
from sharedground.store.schema import PaperKeying, PaperReturn
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.context import WebContext
from sharedground.web.questions import Problem


def form_fields(instrument: Instrument) -> list[dict[str, Any]]:
    """The keying form, one field per exchange column, in questionnaire order."""
    fields = []
    for column in lib.fields_of(instrument):
        item = instrument.item(column.item_id)
        label = item.text
        choices: list[tuple[str, str]] = []
        if column.kind == "grid":
            option = next(o for o in item.options if o.id == column.option_id)  # type: ignore[union-attr]
            label = f"{item.text} — {option.label}"
            choices = [(v, GRID_VALUES[v]) for v in column.allowed]
        elif column.kind == "likert":
            choices = [(v, LIKERT_LABELS[v]) for v in column.allowed]
        elif column.kind in ("single", "multi"):
            labels = {o.id: o.label for o in item.options}  # type: ignore[union-attr]
            values = column.options if column.kind == "multi" else column.allowed
            choices = [(v, labels.get(v, v)) for v in values]
        elif column.kind == "rating":
            choices = [(v, v) for v in column.allowed]
        kind = {"multi": "checkboxes", "text": "textarea"}.get(column.kind, "select")
        hint = f"Tick up to {column.max_choices}" if column.max_choices else None
        fields.append(
            {
                "name": column.name,
                "id": "f-" + column.name.replace(GRID_SEPARATOR, "-"),
                "label": label,
                "kind": kind,
                "choices": choices,
                "hint": hint,
            }
        )
    return fields


def _posted_answers(
    form: dict[str, list[str]], fields: list[dict[str, Any]]
) -> dict[str, str | None]:
    answers: dict[str, str | None] = {}
    for field in fields:
        values = [v for v in form.get(field["name"], []) if v.strip()]
        if field["kind"] == "checkboxes":
            answers[field["name"]] = MULTI_SEPARATOR.join(values) if values else None
        else:
            answers[field["name"]] = values[-1] if values else None
    return answers


def _state(session: Session, serial: str) -> dict[str, Any] | None:
    contact = session.scalar(select(Contact).where(Contact.serial == serial))
    if contact is None:
        return None
    wave = session.get(Wave, contact.wave_id)
    assert wave is not None
    paper = session.scalar(select(PaperReturn).where(PaperReturn.contact_id == contact.id))
    keyers = []
    if paper is not None:
        keyers = list(
            session.scalars(
                select(PaperKeying.keyer)
                .where(PaperKeying.return_id == paper.id)
                .order_by(PaperKeying.keying)
            )
        )
    return {
        "serial": serial,
        "wave": wave.name,
        "instrument": loads(wave.instrument.definition),
        "status": paper.status if paper else "not keyed",
        "keyers": keyers,
    }


def _canonical(text: str) -> str | None:
    try:
        return parse_serial(text)
    except PostalError:
        return None


def _no_such_serial(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return ctx.message(
        request,
        user,
        404,
        "Questionnaire not found",
        ["No questionnaire was printed with that serial."],
    )


@page("open questionnaire for keying", admin_only=True)
async def key_form(request: Request, ctx: AdminContext, user: Principal) -> Response:
    serial = _canonical(request.path_params["serial"])
    state = await ctx.run(_state, serial) if serial else None
    if state is None:
        return ctx.message(
            request,
            user,
            404,
            "Questionnaire not found",
            [f"No questionnaire was printed with serial {request.path_params['serial']}."],
        )
    return _render_form(request, ctx, user, state)


def _render_form(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    state: dict[str, Any],
    problems: list[Problem] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    keyed_by_me = user.username in state["keyers"]
    can_key = state["status"] in ("not keyed", "keying", "duplicate") and len(state["keyers"]) < 2
    return ctx.render(
        request,
        "paper_key.html",
        user,
        status_code,
        title=f"Questionnaire {state['serial']}",
        serial=state["serial"],
        wave=state["wave"],
        status=state["status"],
        keyings=len(state["keyers"]),
        keyed_by_me=keyed_by_me,
        can_key=can_key and not keyed_by_me,
        fields=form_fields(state["instrument"]),
        problems=problems or [],
        notice=notice,
        action=f"{ADMIN_PATH}/paper/{state['serial']}",
        reconcile_url=f"{ADMIN_PATH}/paper/{state['serial']}/reconcile",
    )


def _key(
    session: Session, web: WebContext, serial: str, answers: dict[str, str | None], keyer: str
) -> lib.KeyResult:
    # Received today by the study's calendar (a first keying logs the return).
    return lib.key_questionnaire(
        session, serial, answers, keyer, received_on=web.today(), now=web.stamp()
    )


def _release_held(session: Session) -> int:
    # After the keying's own transaction, never in it (fieldwork/anonymity.py).
    return anonymity.release_due(session)


@page("key questionnaire", admin_only=True)
async def key_submit(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    serial = _canonical(request.path_params["serial"])
    state = await ctx.run(_state, serial) if serial else None
    if state is None or serial is None:
        return _no_such_serial(request, ctx, user)
    fields = form_fields(state["instrument"])
    try:
        result: lib.KeyResult = await ctx.run(
            _key, ctx.web, serial, _posted_answers(form, fields), user.username
        )
    except lib.KeyingError as exc:
        problems = [
            Problem(
                p.column or "",
                "f-" + (p.column or "").replace(GRID_SEPARATOR, "-"),
                f"{p.column}: {p.message}",
            )
            for p in exc.problems
        ]
        if not problems:
            problems = [Problem("serial", "serial", str(exc))]
        return _render_form(request, ctx, user, state, problems, status_code=422)
    if result.status == "reconciled":
        await ctx.run(_release_held)
    notice = {
        "keying": "First keying saved. A second person must now key this questionnaire.",
        "reconciled": "Second keying agrees with the first: stored as a response.",
        "discrepant": "The keyings differ: reconcile them.",
        "duplicate": "This person had already completed the survey online: the questionnaire is "
        "recorded as a duplicate and will not be counted.",
    }[result.status]
    if result.status == "discrepant":
        return RedirectResponse(f"{ADMIN_PATH}/paper/{serial}/reconcile", status_code=303)
    state = await ctx.run(_state, serial)
    return _render_form(request, ctx, user, state, notice=notice)


def _discrepancies(session: Session, serial: str) -> dict[str, Any]:
    state = _state(session, serial)
    assert state is not None
    state["found"] = lib.discrepancies(session, serial)
    return state


@page("view discrepancies", admin_only=True)
async def reconcile_form(request: Request, ctx: AdminContext, user: Principal) -> Response:
    serial = _canonical(request.path_params["serial"])
    state = await ctx.run(_state, serial) if serial else None
    if state is None or serial is None:
        return _no_such_serial(request, ctx, user)
    return _render_reconcile(request, ctx, user, await ctx.run(_discrepancies, serial))


def _render_reconcile(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    state: dict[str, Any],
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    by_name = {f["name"]: f for f in form_fields(state["instrument"])}
    rows = [
        {
            "name": name,
            "id": by_name[name]["id"],
            "label": by_name[name]["label"],
            "first": first,
            "second": second,
        }
        for name, (first, second) in state["found"].items()
    ]
    return ctx.render(
        request,
        "paper_reconcile.html",
        user,
        status_code,
        title=f"Reconcile questionnaire {state['serial']}",
        rows=rows,
        status=state["status"],
        action=f"{ADMIN_PATH}/paper/{state['serial']}/reconcile",
        problems=problems or [],
        key_url=f"{ADMIN_PATH}/paper/{state['serial']}",
    )


def _reconcile(
    session: Session,
    web: WebContext,
    serial: str,
    resolutions: dict[str, str | None],
    reviewer: str,
) -> None:
    lib.reconcile(session, serial, resolutions, reviewer, now=web.stamp())


@page("reconcile questionnaire", admin_only=True)
async def reconcile_submit(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    serial = _canonical(request.path_params["serial"])
    if serial is None:
        return _no_such_serial(request, ctx, user)
    state = await ctx.run(_discrepancies, serial)
    resolutions: dict[str, str | None] = {}
    for name in state["found"]:
        choice = (form.get(f"choice:{name}") or [""])[-1]
        if choice == "first":
            resolutions[name] = state["found"][name][0]
        elif choice == "second":
            resolutions[name] = state["found"][name][1]
        elif choice == "other":
            resolutions[name] = (form.get(f"other:{name}") or [""])[-1]
    try:
        await ctx.run(_reconcile, ctx.web, serial, resolutions, user.username)
        await ctx.run(_release_held)
    except lib.KeyingError as exc:
        problems = [
            Problem(
                p.column or "",
                "r-" + (p.column or "").replace(GRID_SEPARATOR, "-"),
                f"{p.column}: {p.message}",
            )
            for p in exc.problems
        ]
        return _render_reconcile(
            request, ctx, user, state, problems or [Problem("", "", str(exc))], 422
        )
    state = await ctx.run(_state, serial)
    return _render_form(
        request, ctx, user, state, notice="Reconciled: the questionnaire is stored as a response."
    )


def _returns(session: Session, store: Store, wave_name: str) -> dict[str, Any] | None:
    wave = store.find_wave(session, wave_name)
    if wave is None:
        return None
    return {"title": f"Paper entry: wave {wave.name}", "returns": lib.returns(session, wave)}


@page("view paper returns", admin_only=True)
async def returns(request: Request, ctx: AdminContext, user: Principal) -> Response:
    wanted = request.query_params.get("serial")
    if wanted:
        serial = _canonical(wanted)
        if serial is not None:
            return RedirectResponse(f"{ADMIN_PATH}/paper/{serial}", status_code=303)
    context = await ctx.run(_returns, ctx.web.store, request.path_params["wave"])
    if context is None:
        return ctx.message(request, user, 404, "No such wave", ["There is no such wave."])
    problems = (
        [Problem("serial", "serial", f"{wanted!r} is not a serial: check the digits")]
        if wanted
        else []
    )
    return ctx.render(request, "paper_list.html", user, problems=problems, **context)


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/paper", returns, methods=["GET"]),
    Route(f"{ADMIN_PATH}/paper/{{serial}}", key_form, methods=["GET"]),
    Route(f"{ADMIN_PATH}/paper/{{serial}}", key_submit, methods=["POST"]),
    Route(f"{ADMIN_PATH}/paper/{{serial}}/reconcile", reconcile_form, methods=["GET"]),
    Route(f"{ADMIN_PATH}/paper/{{serial}}/reconcile", reconcile_submit, methods=["POST"]),
]
