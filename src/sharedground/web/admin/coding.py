"""Coding pages: a coder applies codes to comments and transcripts, without JavaScript.

Each signed-in account codes as the coder of its own name, and sees only its own codings,
so two people can code the same sources blind (`text.agreement` compares them). A code goes
on the whole source, or on a passage: the coder copies the words into the form and the page
finds where they are (the first place they occur, or the one after a given character), so a
span needs no mouse selection and no script.

An organisation lead sees and codes only their own trust's sources; another trust's source,
or one with no trust, is "not found" (404), as if it did not exist. A source's role group
is shown to a lead only where the trust's report prints the group's number of commenters
(`text.disclosure.roles_shown_in_trust`, as the trust's REFI-QDA export names them): a
small group, or the partner withheld with it, would otherwise be counted on these pages,
and its comments tied to the one or two people in it. The research team sees every role.

A lead sees a comment only once its response is in the trust's figures, and comments come
in whole batches of respondents as the trust's results do (`text.released`): otherwise a
lead who reloads the list after one colleague completes the survey (or, after the close,
after one late return) would find that colleague's comment as the new one. The page says so
and when the list next changes. A comment of a wave with nothing released yet is "not
found" as another trust's is. Transcripts, of no respondent, are shown as they are added.
A lead addresses sources by GUID, listed in GUID order, never by their numbers, which follow
the order comments were added and so the order colleagues answered in (`_ref`).
Every write is a POST with a CSRF token; every use is audited (`page`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork.accounts import Principal
from sharedground.store import Store
from sharedground.store.schema import Organisation
from sharedground.store.textschema import CodeFrame, Coder, Coding, TextCode, TextSource
from sharedground.text import coding, frames
from sharedground.text.errors import TextError
from sharedground.text.released import (
    CommentsShown,
    comments_shown,
    listed_to_lead,
    live_roles,
)
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.questions import Problem

CODING_PATH = f"{ADMIN_PATH}/coding"
PAGE_SIZE = 50


def _frame(session: Session, name: str | None) -> CodeFrame | None:
    if name:
        try:
            return frames.get(session, name)
        except TextError:
            return None
    return session.scalar(select(CodeFrame).order_by(CodeFrame.id.desc()).limit(1))


#: Per wave, the comments a lead may read (None: the research team, who read every one).
Released = dict[int, CommentsShown] | None


def _released(session: Session, store: Store, user: Principal, today: dt.date) -> Released:
    """For a lead, per wave with comments of their trust, the comments its figures include;
    none of a wave whose trust report withholds the trust's number of commenters, which a
    lead would count here (`text.disclosure.listed_waves`), so they are "not found" as
    another trust's are.

    Run in a session of its own, before the page's: it may set a wave's closing mark.
    """
    from sharedground.store.schema import Wave

    if user.is_admin:
        return None
    waves = session.scalars(
        select(TextSource.wave_id)
        .join(Organisation, Organisation.id == TextSource.organisation_id)
        .where(
            Organisation.code == user.trust,
            TextSource.response_id.is_not(None),
            TextSource.wave_id.is_not(None),
        )
        .distinct()
    ).all()
    from sharedground.text.disclosure import listed_waves

    found: dict[int, CommentsShown] = {}
    ids = {w for w in waves if w is not None}
    # The decision first: it reads (and may mark) the close in a session of its own.
    decided = listed_waves(store, session, user.trust or "", ids)
    for wave_id in sorted(ids):
        wave = session.get(Wave, wave_id)
        if wave is not None:
            shown = comments_shown(session, wave, user.trust or "", today)
            if listed_to_lead(session, wave_id, shown, wave_id in decided):
                found[wave_id] = shown
    return found


def _visible(session: Session, user: Principal, released: Released) -> Any:
    query = select(TextSource, Organisation.code).join(
        Organisation, Organisation.id == TextSource.organisation_id, isouter=True
    )
    if not user.is_admin:
        responses = sorted({i for shown in (released or {}).values() for i in shown.responses})
        query = query.where(
            Organisation.code == user.trust,
            # A transcript (no respondent) as added; a comment once its response is released.
            or_(TextSource.response_id.is_(None), TextSource.response_id.in_(responses)),
        )
    return query


def _ref(source: TextSource, user: Principal) -> str:
    """How the pages address a source: by its number for the research team; by its GUID
    (random, made when it was added) for a lead, since the numbers follow the order the
    comments were added, and so the order the responses arrived in."""
    return str(source.id) if user.is_admin else source.guid


def _which(user: Principal, ref: str) -> Any:
    """The source `ref` names (`_ref`): a lead's number is "not found", as another trust's."""
    from sqlalchemy import false

    if ref.isdigit():
        return TextSource.id == int(ref) if user.is_admin else false()
    return TextSource.guid == ref


def _notes(released: Released) -> list[dict[str, Any]]:
    """What the page says, per wave, of the comments it shows and when they next change."""
    notes = []
    for shown in (released or {}).values():
        final = shown.final if shown.live is None else None
        notes.append(
            {
                "wave": shown.wave,
                "shown": len(shown.responses),
                "batch": shown.batch,
                "next_at": None if shown.live is None else shown.live.next_at,
                "final": final,
                "to_add": shown.to_add,
            }
        )
    return notes


def _roles_shown(
    store: Store,
    session: Session,
    user: Principal,
    frame: CodeFrame | None,
    sources: list[TextSource],
    released: Released = None,
) -> dict[int, set[str]] | None:
    """Per wave of `sources`, the role groups a lead may see (None: every one, for the
    research team). Made once a request; the decisions behind it are remembered while
    nothing they are made from changes (`text.disclosure.shown_in_trust`). While a wave's
    comments follow the live release, by its released commenters alone
    (`text.released.live_roles`), which move only with a batch."""
    from sharedground.store.schema import Wave
    from sharedground.text.disclosure import roles_shown_in_trust

    if user.is_admin:
        return None
    shown: dict[int, set[str]] = {}
    for wave_id in sorted({s.wave_id for s in sources if s.wave_id is not None}):
        now = (released or {}).get(wave_id)
        if now is not None and now.live is not None:
            shown[wave_id] = set(live_roles(session, wave_id, now))
            continue
        wave = session.get(Wave, wave_id)
        shown[wave_id] = (
            roles_shown_in_trust(store, session, wave, user.trust or "", frame)
            if wave is not None and frame is not None
            else set()
        )
    return shown


def _role(source: TextSource, shown: dict[int, set[str]] | None) -> tuple[str, bool]:
    """The source's role group as the page shows it, and whether one is withheld."""
    role = source.role or ""
    if shown is None or not role or source.wave_id is None:
        return role, False  # the research team's page; or a source in no wave's tables
    if role in shown.get(source.wave_id, set()):
        return role, False
    return "", True


def _list(
    session: Session,
    store: Store,
    user: Principal,
    released: Released,
    frame_name: str | None,
    offset: int,
) -> dict[str, Any]:
    from sqlalchemy import func

    frame = _frame(session, frame_name)
    # One page of sources from the database: a national wave has tens of thousands.
    visible = _visible(session, user, released).subquery()
    total = int(session.scalar(select(func.count()).select_from(visible)) or 0)
    rows = session.execute(
        _visible(session, user, released)
        # A lead's in GUID order, which says nothing of when a comment came.
        .order_by(TextSource.id if user.is_admin else TextSource.guid)
        .offset(offset)
        .limit(PAGE_SIZE)
    ).all()
    mine: dict[int, int] = {}
    if frame is not None and rows:
        counts = session.execute(
            select(Coding.source_id, func.count())
            .join(Coder, Coder.id == Coding.coder_id)
            .join(TextCode, TextCode.id == Coding.code_id)
            .where(
                Coder.name == user.username,
                TextCode.frame_id == frame.id,
                Coding.source_id.in_([source.id for source, _ in rows]),
            )
            .group_by(Coding.source_id)
        )
        mine = {source_id: int(n) for source_id, n in counts}
    roles = _roles_shown(store, session, user, frame, [source for source, _ in rows], released)
    shown = []
    for source, trust in rows:
        role, role_withheld = _role(source, roles)
        shown.append(
            {
                "id": source.id,
                "ref": _ref(source, user),
                "kind": source.kind,
                "role": role,
                "role_withheld": role_withheld,
                "trust": trust or "",
                "snippet": source.content[:90] + ("…" if len(source.content) > 90 else ""),
                "mine": mine.get(source.id, 0),
            }
        )
    return {
        "frame": None if frame is None else f"{frame.key}@{frame.version}",
        "frames": [f"{f.key}@{f.version}" for f in frames.list_stored(session)],
        "sources": shown,
        "total": total,
        "offset": offset,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "release_notes": _notes(released),
    }


@page("view coding sources")
async def source_list(request: Request, ctx: AdminContext, user: Principal) -> Response:
    offset = request.query_params.get("offset", "0")
    released = await ctx.run(_released, ctx.web.store, user, ctx.web.today())
    state = await ctx.run(
        _list,
        ctx.web.store,
        user,
        released,
        request.query_params.get("frame"),
        int(offset) if offset.isdigit() else 0,
    )
    return ctx.render(request, "coding_list.html", user, title="Coding", **state)


def _source_state(
    session: Session,
    store: Store,
    user: Principal,
    released: Released,
    source_id: str,
    frame_name: str | None,
) -> dict[str, Any] | None:
    found = session.execute(
        _visible(session, user, released).where(_which(user, source_id))
    ).first()
    frame = _frame(session, frame_name)
    if found is None or frame is None:
        return None
    source, trust = found
    flat = frames.flatten(frames.stored_def(frame))
    names = {f.key: f.name for f in flat}
    rows = coding.rows(session, frame, coders=[user.username], source_ids=[source.id])
    ids = session.execute(
        select(Coding.id, TextCode.key, Coding.start, Coding.end)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(TextCode, TextCode.id == Coding.code_id)
        .where(
            Coding.source_id == source.id,
            Coder.name == user.username,
            TextCode.frame_id == frame.id,
        )
    ).all()
    id_of = {(key, start, end): ident for ident, key, start, end in ids}
    role, role_withheld = _role(
        source, _roles_shown(store, session, user, frame, [source], released)
    )
    return {
        "source": {
            "id": source.id,
            "ref": _ref(source, user),
            "kind": source.kind,
            "role": role,
            "role_withheld": role_withheld,
            "trust": trust or "",
            "content": source.content,
            "length": len(source.content),
        },
        "frame": f"{frame.key}@{frame.version}",
        "codes": [{"key": f.key, "label": "— " * f.depth + f.name} for f in flat],
        "mine": [
            {
                "id": id_of[(row.code, row.start, row.end)],
                "code": names.get(row.code, row.code),
                "where": "whole text" if row.start is None else f"characters {row.start}–{row.end}",
                "passage": None if row.start is None else source.content[row.start : row.end],
                "memo": row.memo or "",
            }
            for row in rows
        ],
    }


def _source_id(request: Request) -> str | None:
    """The source named in the path: a number, or a GUID (`_ref`)."""
    raw = str(request.path_params["source_id"])
    if raw.isdigit() or (len(raw) == 36 and all(c in "0123456789abcdef-" for c in raw)):
        return raw
    return None


def _not_found(request: Request, ctx: AdminContext, user: Principal) -> Response:
    return ctx.message(
        request,
        user,
        404,
        "Source not found",
        ["There is no source with this number that your account can code."],
    )


async def _render_source(
    request: Request,
    ctx: AdminContext,
    user: Principal,
    state: dict[str, Any],
    problems: list[Problem] | None = None,
    status_code: int = 200,
    notice: str | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    source_id = state["source"]["ref"]
    return ctx.render(
        request,
        "coding_source.html",
        user,
        status_code,
        title=f"Code source {source_id}" if user.is_admin else "Code a source",
        action=f"{CODING_PATH}/sources/{source_id}?frame={state['frame']}",
        remove_action=f"{CODING_PATH}/sources/{source_id}/remove?frame={state['frame']}",
        problems=problems or [],
        notice=notice,
        posted=posted or {},
        **state,
    )


@page("view coding source")
async def source_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    source_id = _source_id(request)
    state = (
        await ctx.run(
            _source_state,
            ctx.web.store,
            user,
            await ctx.run(_released, ctx.web.store, user, ctx.web.today()),
            source_id,
            request.query_params.get("frame"),
        )
        if source_id is not None
        else None
    )
    if state is None:
        return _not_found(request, ctx, user)
    return await _render_source(request, ctx, user, state)


def find_passage(content: str, passage: str, after: int = 0) -> tuple[int, int] | None:
    """Where the passage occurs in the text (from `after`), ignoring runs of white space."""
    import re

    words = passage.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    match = pattern.search(content, after)
    return None if match is None else (match.start(), match.end())


def _add(
    session: Session,
    user: Principal,
    released: Released,
    source_id: str,
    frame_name: str,
    code_key: str,
    passage: str,
    after: int,
    memo: str,
) -> str | None:
    """Apply the code; an error message for the form, or None when done."""
    found = session.execute(
        _visible(session, user, released).where(_which(user, source_id))
    ).first()
    frame = _frame(session, frame_name)
    if found is None or frame is None:
        return "not found"
    source = found[0]
    codes = coding.codes_of(session, frame)
    if code_key not in codes:
        return "code: choose a code"
    start = end = None
    if passage.strip():
        span = find_passage(source.content, passage, after)
        if span is None:
            return "passage: these words are not in the text; copy them exactly"
        start, end = span
    coder = coding.get_coder(session, user.username)
    coding.add(
        session, source, codes[code_key], coder, start=start, end=end, memo=memo.strip() or None
    )
    return None


_FIELDS = {"code": "code", "passage": "passage", "memo": "memo"}


@page("code a source")
async def add_coding(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    source_id = _source_id(request)
    frame_name = request.query_params.get("frame", "")
    posted = {name: (form.get(name) or [""])[-1] for name in ("code", "passage", "after", "memo")}
    after_raw = posted["after"].strip()
    after = int(after_raw) if after_raw.isdigit() else 0
    released = await ctx.run(_released, ctx.web.store, user, ctx.web.today())
    problem = (
        await ctx.run(
            _add,
            user,
            released,
            source_id,
            frame_name,
            posted["code"],
            posted["passage"],
            after,
            posted["memo"],
        )
        if source_id is not None
        else "not found"
    )
    if problem == "not found":
        return _not_found(request, ctx, user)
    if problem is not None:
        field, _, message = problem.partition(": ")
        state = await ctx.run(_source_state, ctx.web.store, user, released, source_id, frame_name)
        assert state is not None
        return await _render_source(
            request,
            ctx,
            user,
            state,
            [Problem(field, f"f-{_FIELDS[field]}", message[0].upper() + message[1:])],
            422,
            posted=posted,
        )
    return RedirectResponse(
        f"{CODING_PATH}/sources/{source_id}?frame={frame_name}", status_code=303
    )


def _remove(
    session: Session, user: Principal, released: Released, source_id: str, coding_id: int
) -> bool:
    found = session.execute(
        _visible(session, user, released).where(_which(user, source_id))
    ).first()
    row = session.get(Coding, coding_id)
    if found is None or row is None or row.source_id != found[0].id:
        return False
    try:
        coding.remove(session, coding_id, coding.get_coder(session, user.username))
    except TextError:
        return False
    return True


@page("remove a coding")
async def remove_coding(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    source_id = _source_id(request)
    raw = (form.get("coding") or [""])[-1]
    done = (
        await ctx.run(
            _remove,
            user,
            await ctx.run(_released, ctx.web.store, user, ctx.web.today()),
            source_id,
            int(raw),
        )
        if source_id is not None and raw.isdigit()
        else False
    )
    if not done:
        return _not_found(request, ctx, user)
    frame_name = request.query_params.get("frame", "")
    return RedirectResponse(
        f"{CODING_PATH}/sources/{source_id}?frame={frame_name}", status_code=303
    )


def _agreement(session: Session, frame_name: str | None, coders: list[str]) -> dict[str, Any]:
    from sharedground.text import agreement

    frame = _frame(session, frame_name)
    known = sorted(session.scalars(select(Coder.name)))
    state: dict[str, Any] = {
        "frame": None if frame is None else f"{frame.key}@{frame.version}",
        "known": known,
        "chosen": coders,
        "result": None,
        "problem": None,
    }
    if frame is None or len(coders) < 2:
        return state
    try:
        result = agreement.compare(session, frame, coders, replicates=200)
    except TextError as exc:
        state["problem"] = str(exc)
        return state
    names = {f.key: f.name for f in frames.flatten(frames.stored_def(frame))}

    def shown(value: float) -> str:
        return "n/a" if value != value else f"{value:.2f}"

    state["result"] = {
        "rows": [
            {
                "code": names.get(s.code, "All codes"),
                "units": s.units,
                "percent": shown(s.percent),
                "kappa": shown(s.kappa),
                "alpha": shown(s.alpha),
                "chars_alpha": shown(s.chars_alpha),
            }
            for s in [*result.codes, result.overall]
        ],
        "disagreements": [
            {
                "source": d.source_id,
                "code": d.code,
                "code_name": names.get(d.code, d.code),
                "where": f"{d.start}–{d.end}",
                "start": d.start,
                "end": d.end,
                "decisions": ", ".join(
                    f"{name}: {'yes' if yes else 'no'}" for name, yes in d.decisions.items()
                ),
            }
            for d in result.disagreements[:200]
        ],
        "more": max(0, len(result.disagreements) - 200),
    }
    return state


def _chosen_coders(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


@page("view coding agreement", admin_only=True)
async def agreement_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    params = request.query_params
    coders = [c for c in params.getlist("coder") if c] or _chosen_coders(params.get("coders", ""))
    state = await ctx.run(_agreement, params.get("frame"), coders)
    from urllib.parse import urlencode

    query = urlencode([("frame", state["frame"] or ""), *(("coder", c) for c in coders)])
    return ctx.render(
        request,
        "coding_agreement.html",
        user,
        title="Agreement between coders",
        back=f"{CODING_PATH}/agreement?{query}",
        **state,
    )


def _resolve(
    session: Session,
    frame_name: str,
    source_id: int,
    code_key: str,
    keep: bool,
    span: tuple[int, int] | None = None,
) -> bool:
    frame = _frame(session, frame_name)
    source = session.get(TextSource, source_id)
    if frame is None or source is None:
        return False
    start, end = span if span is not None else (None, None)
    try:
        coding.resolve(session, frame, source, code_key, keep=keep, start=start, end=end)
    except TextError:
        return False
    return True


@page("resolve a coding disagreement", admin_only=True)
async def resolve_disagreement(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)

    def field(name: str) -> str:
        return (form.get(name) or [""])[-1]

    source = field("source")
    # The unit the disagreement is about: a comment's whole text, or a transcript's paragraph.
    start, end = field("start"), field("end")
    span = (int(start), int(end)) if start.isdigit() and end.isdigit() else None
    done = source.isdigit() and await ctx.run(
        _resolve, field("frame"), int(source), field("code"), field("decision") == "keep", span
    )
    if not done:
        return _not_found(request, ctx, user)
    back = field("back")
    if not back.startswith(f"{CODING_PATH}/agreement"):
        back = f"{CODING_PATH}/agreement"
    return RedirectResponse(back, status_code=303)


routes = [
    Route(CODING_PATH + "/agreement", agreement_page, methods=["GET"]),
    Route(CODING_PATH + "/agreement/resolve", resolve_disagreement, methods=["POST"]),
    Route(CODING_PATH, source_list, methods=["GET"]),
    Route(CODING_PATH + "/sources/{source_id}", source_page, methods=["GET"]),
    Route(CODING_PATH + "/sources/{source_id}", add_coding, methods=["POST"]),
    Route(CODING_PATH + "/sources/{source_id}/remove", remove_coding, methods=["POST"]),
]
