"""Messages: edit the invitation and reminder, preview them, test them, send them as a job.

The templates are the same Jinja files `sharedground send --templates DIR` reads: the
page keeps a wave's edited copies in the files folder (`jobs.tasks.template_folder`), and
the send job uses them. Sending is a background job running the crash-safe sender; the
messages whose outcome is unknown are listed here and go again only through the
deliberate "resend these" action. Postal packs are printed the same way, as a job whose
file is the merged PDF.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork import mail, postal, sending, smtp, waves
from sharedground.fieldwork.accounts import Principal
from sharedground.fieldwork.clock import shown
from sharedground.fieldwork.defaults import DEFAULT_BASE_URL
from sharedground.jobs import records
from sharedground.jobs.tasks import BASE_URL_ENV, MAIL_FROM_ENV, template_folder
from sharedground.store import Contact, Store, StoreError
from sharedground.store.schema import Message, PostalDraw
from sharedground.web.admin import forms, jobs
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.admin.labels import role_label

PARTS = {"subject": "Subject", "txt": "Plain text", "html": "HTML"}
KIND_LABELS = {"invitation": "Invitation", "reminder": "Reminder"}
MAX_TEMPLATE = 100_000
PREVIEW_TOKEN = "PREVIEW" + "x" * 25  # a link that opens nothing


def _builtin(name: str) -> str:
    return (resources.files("sharedground.fieldwork") / "templates" / "email" / name).read_text(
        encoding="utf-8"
    )


def _template_texts(folder: Path) -> dict[str, str]:
    texts = {}
    for name in mail.TEMPLATE_NAMES:
        edited = folder / name
        texts[name] = edited.read_text(encoding="utf-8") if edited.is_file() else _builtin(name)
    return texts


def _wave_id(session: Session, store: Store, name: str) -> int | None:
    wave = store.find_wave(session, name)
    return None if wave is None else wave.id


def _sender() -> mail.Sender:
    address = os.environ.get(MAIL_FROM_ENV)
    if not address:
        raise forms.FieldError(
            f"no sender address: set ${MAIL_FROM_ENV} where sharedground serve runs", "to"
        )
    return mail.Sender(address)


def _render(
    session: Session, store: Store, wave_name: str, kind: str, email: str, folder: Path
) -> tuple[mail.Outgoing, str]:
    """The message a contact would get (with a placeholder link), and to whom."""
    wave = store.get_wave(session, wave_name)
    contact = None
    if email:
        from sharedground.fieldwork.contacts import find_contact

        contact = find_contact(session, wave, email)
        if contact is None:
            raise forms.FieldError(f"{email} is not a contact of wave {wave_name}", "preview_email")
    if contact is None:
        contact = session.scalar(
            select(Contact).where(Contact.wave_id == wave.id).order_by(Contact.id).limit(1)
        )
    name = contact.name if contact is not None else "A. Person"
    to = (contact.email if contact is not None else None) or "person@example.org"
    templates = mail.Templates(folder if folder.is_dir() else None)
    message = mail.build_message(
        templates,
        mail.Letter(kind, to, name, PREVIEW_TOKEN, reminder=1 if kind == "reminder" else 0),
        sender=mail.Sender(os.environ.get(MAIL_FROM_ENV) or "survey@example.org"),
        base_url=os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL),
        title=wave.instrument.title,
        wave=wave.name,
        closes=wave.closes,
        anonymous=wave.anonymous,
        message_id="<preview@localhost>",
    )
    return message, f"{name} <{to}>"


def _state(
    session: Session, store: Store, wave_name: str, today: Any, user: Principal, zone: Any
) -> dict[str, Any] | None:
    wave = store.find_wave(session, wave_name)
    if wave is None:
        return None
    days = waves.reminder_days(session, wave.id)
    due = sending.plan(session, wave, today, days)
    planned: dict[str, int] = {}
    for item in due:
        planned[item.kind] = planned.get(item.kind, 0) + 1
    doubt = session.execute(
        select(Message.address, Message.kind, Message.started_at)
        .where(Message.wave_id == wave.id, Message.status.in_(sending.IN_DOUBT))
        .order_by(Message.id)
    ).all()
    sent = session.execute(
        select(Message.status, Message.kind).where(Message.wave_id == wave.id)
    ).all()
    totals: dict[str, int] = {}
    for status, _kind in sent:
        totals[status] = totals.get(status, 0) + 1
    draw = session.scalar(select(PostalDraw).where(PostalDraw.wave_id == wave.id))
    return {
        "postal_draw": (
            {"seed": draw.seed, "sampled": draw.sampled, "when": shown(draw.drawn_at, zone)}
            if draw is not None
            else None
        ),
        "fractions": [
            (role, role_label(role), round(100 * f)) for role, f in postal.DEFAULT_FRACTIONS.items()
        ],
        "due": sorted(planned.items()),
        "due_total": len(due),
        "reminder_days": ", ".join(map(str, days)),
        "in_doubt": [{"address": a, "kind": k} for a, k, _s in doubt],
        "totals": sorted(totals.items()),
        "busy": records.busy(session, wave.id, "send") is not None,
        "jobs": jobs.load(session, user, zone, wave.id)[:10],
    }


async def _show(
    request: Request, ctx: AdminContext, user: Principal, status_code: int = 200, **extra: Any
) -> Response:
    name = request.path_params["wave"]
    state = await ctx.run(_state, ctx.web.store, name, ctx.web.today(), user, ctx.web.zone)
    if state is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    wave_id = await ctx.run(_wave_id, ctx.web.store, name)
    folder = template_folder(ctx.web.store.url, wave_id)
    texts = extra.pop("texts", None) or _template_texts(folder)
    kind = extra.get("kind", "invitation")
    preview_email = extra.pop("preview_email", "")
    preview = None
    if "preview_error" not in extra:
        try:
            message, to = await ctx.run(_render, ctx.web.store, name, kind, preview_email, folder)
            preview = {"to": to, "subject": message.subject, "text": message.text}
        except StoreError as exc:
            extra["preview_error"] = str(exc)
    extra.setdefault("preview_error", None)
    extra.setdefault("kind", kind)
    extra.setdefault("test_to", "")
    return ctx.render(
        request,
        "messages.html",
        user,
        status_code,
        **forms.errors_context(
            title=f"Messages: wave {name}",
            wave=name,
            texts=texts,
            parts=PARTS,
            kinds=KIND_LABELS,
            preview=preview,
            preview_email=preview_email,
            refresh=state["busy"],
            edited=folder.is_dir() and any(folder.iterdir()),
            **state,
            **extra,
        ),
    )


@page("view messages", admin_only=True)
async def messages_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    kind = request.query_params.get("kind", "invitation")
    started = request.query_params.get("started", "")
    return await _show(
        request,
        ctx,
        user,
        notice=f"Started job {started}: its progress is shown below."
        if started.isdigit()
        else None,
        kind=kind if kind in KIND_LABELS else "invitation",
        preview_email=request.query_params.get("preview", "").strip(),
    )


def _save_templates(folder: Path, kind: str, form: dict[str, list[str]]) -> None:
    """Check the edited templates in a scratch copy, then put them in place."""
    edited = {f"{kind}.{part}": (form.get(part) or [""])[-1] for part in PARTS}
    for name, text in edited.items():
        if not text.strip():
            raise forms.FieldError(
                f"the {PARTS[name.split('.')[1]].lower()} is empty", name.split(".")[1]
            )
        if len(text) > MAX_TEMPLATE:
            raise forms.FieldError("the template is too long", name.split(".")[1])
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        if folder.is_dir():
            for existing in folder.iterdir():
                shutil.copy(existing, trial / existing.name)
        for name, text in edited.items():
            (trial / name).write_text(text.replace("\r\n", "\n"), encoding="utf-8")
        try:
            templates = mail.Templates(trial)
            templates.render(
                kind,
                name="A. Person",
                title="Survey",
                wave="w",
                survey_url="https://example.org/s/x",
                optout_url="https://example.org/optout/x",
                closes=None,
                anonymous=False,
                reminder=1,
                sender_name="The survey team",
            )
        except mail.TemplateError as exc:
            raise forms.FieldError(str(exc), "txt") from None
        folder.mkdir(parents=True, exist_ok=True)
        for name in edited:
            shutil.copy(trial / name, folder / name)


@page("edit message templates", admin_only=True)
async def save_templates(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    kind = forms.value(form, "kind")
    if kind not in KIND_LABELS:
        kind = "invitation"
    wave_id = await ctx.run(_wave_id, ctx.web.store, name)
    if wave_id is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    folder = template_folder(ctx.web.store.url, wave_id)
    try:
        await run_in_threadpool(_save_templates, folder, kind, form)
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "txt")
        texts = _template_texts(folder)
        texts.update({f"{kind}.{p}": (form.get(p) or [""])[-1] for p in PARTS})
        return await _show(
            request,
            ctx,
            user,
            422,
            kind=kind,
            texts=texts,
            problems=problems,
            errors=errors,
            preview_error="fix the template first",
        )
    return await _show(
        request, ctx, user, kind=kind, notice=f"Saved the {kind} wording for wave {name}."
    )


def _send_test(message: mail.Outgoing, sender: str, to: str) -> tuple[smtp.Outcome, str]:
    with smtp.SmtpTransport(smtp.SmtpSettings.resolve()) as transport:
        return transport.send(message.data, sender, to)


@page("send test message", admin_only=True)
async def send_test(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    kind = forms.value(form, "kind") if forms.value(form, "kind") in KIND_LABELS else "invitation"
    to = forms.value(form, "to")
    wave_id = await ctx.run(_wave_id, ctx.web.store, name)
    if wave_id is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    try:
        if "@" not in to or len(to) > 320 or any(c.isspace() for c in to):
            raise forms.FieldError("enter your own e-mail address, like name@example.org", "to")
        sender = _sender()
        message, _who = await ctx.run(
            _render, ctx.web.store, name, kind, "", template_folder(ctx.web.store.url, wave_id)
        )
        # The test goes to the address typed, never to the contact the preview shows.
        data = message.data
        to_line = next(line for line in data.split(b"\r\n") if line.startswith(b"To: "))
        test = mail.Outgoing(data.replace(to_line, b"To: " + to.encode(), 1), "", "")
        outcome, detail = await run_in_threadpool(_send_test, test, sender.address, to)
    except (StoreError, smtp.ServerUnavailable, OSError) as exc:
        problems, errors = forms.problem_of(exc, "to")
        return await _show(
            request, ctx, user, 422, kind=kind, test_to=to, problems=problems, errors=errors
        )
    if outcome is not smtp.Outcome.SENT:
        problems, errors = forms.problem_of(
            forms.FieldError(f"the mail server did not take the test: {detail}", "to"), "to"
        )
        return await _show(
            request, ctx, user, 422, kind=kind, test_to=to, problems=problems, errors=errors
        )
    return await _show(request, ctx, user, kind=kind, notice=f"Sent a test {kind} to {to}.")


def _reminder_days(session: Session, store: Store, name: str) -> list[int]:
    wave = store.get_wave(session, name)
    return list(waves.reminder_days(session, wave.id))


async def _start(
    request: Request, ctx: AdminContext, user: Principal, confirm: str, what: str, **params: Any
) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    if not forms.checked(form, confirm):
        problems, errors = forms.problem_of(
            forms.FieldError(f"tick the box to confirm that you want to {what}", confirm), confirm
        )
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    try:
        if params.get("kind") == "print":
            job_id = await jobs.start(ctx, user, "print", name, {})
        else:
            days = await ctx.run(_reminder_days, ctx.web.store, name)
            job_id = await jobs.start(
                ctx, user, "send", name, {"reminder_days": days, "connections": 2, **params}
            )
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, confirm)
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    # Back to the page by GET, which refreshes itself while the job runs.
    return RedirectResponse(f"{ADMIN_PATH}/waves/{name}/messages?started={job_id}", 303)


@page("start sending", admin_only=True)
async def start_sending(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return await _start(request, ctx, user, "confirm_send", "send the messages due now")


@page("resend messages in doubt", admin_only=True)
async def resend(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return await _start(
        request, ctx, user, "confirm_resend", "send these again", retry_unknown=True
    )


@page("print postal packs", admin_only=True)
async def print_packs(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return await _start(request, ctx, user, "confirm_print", "print the packs", kind="print")


def _draw(store: Store, wave: str, form: dict[str, list[str]]) -> str:
    seed = forms.whole(form, "seed", "Seed", -1)
    if seed < 0:
        raise forms.FieldError(
            "give a seed: any whole number, kept so the draw can be repeated", "seed"
        )
    fractions = {}
    for role in postal.DEFAULT_FRACTIONS:
        percent = forms.whole(form, f"percent_{role}", role_label(role), -1)
        if not 0 <= percent <= 100:
            raise forms.FieldError(
                f"{role_label(role)}: a percentage from 0 to 100", f"percent_{role}"
            )
        fractions[role] = percent / 100
    summary = postal.draw_sample(
        store,
        wave,
        fractions,
        seed=seed,
        exclude_completed=forms.checked(form, "exclude_completed"),
        replace=forms.checked(form, "replace"),
    )
    drawn = sum(summary.sampled.values())
    return f"Drew {drawn} people for the postal sample" + (
        f" (serials {summary.first_serial} to {summary.last_serial})." if drawn else "."
    )


@page("draw postal sample", admin_only=True)
async def draw_postal(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    try:
        notice = await run_in_threadpool(_draw, ctx.web.store, request.path_params["wave"], form)
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "seed")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    return await _show(request, ctx, user, notice=notice)


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/postal-sample", draw_postal, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages", messages_page, methods=["GET"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/templates", save_templates, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/test", send_test, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/send", start_sending, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/resend", resend, methods=["POST"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/messages/print", print_packs, methods=["POST"]),
]
