"""Monitoring pages: the whole wave (administrators) or one trust (its lead too).

A lead reading their trust's page while fieldwork runs sees the completions by role only
as the results page releases them (`analysis.disclosure.release`): counted over the
trust's first responses in whole batches of the threshold, one batch behind, and no
questionnaires started or reminders sent by role (reminders go only to those who have not
completed, so they would count completions too). Otherwise, reading the page after each
completion would say which role just responded, and in a trust with one chief executive,
who; set beside the results, it would point at whose answers moved them. Its completions by mode are
counted over the same released responses, and its daily series and paper returns are not
split by mode: the postal sample is drawn by role, so the mode of a completion says its
role group. The trust's totals (completed, and per day) are not split and keep moving by
one.

Once fieldwork is over, a lead's completions by role are those of the trust's final
figures (a late return waits for a whole batch of its group, as the figures do), and a
group whose number the trust's report withholds (a small one, or its partner) shows "–":
the page would otherwise print the very count every other output keeps back. Questionnaires
started stay unsplit by role then too: a late paper return counts as started at once.
Until the wave's decision is made (tens of seconds, in the background after the first view
after the close), every group shows "–" and the page says the figures are being checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.analysis.disclosure.final import fieldwork_over
from sharedground.analysis.disclosure.release import Release, release
from sharedground.analysis.disclosure.shown import trust_figures
from sharedground.fieldwork import monitor
from sharedground.fieldwork.accounts import Principal
from sharedground.store import Organisation
from sharedground.store import Response as Answer
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.admin.labels import role_label
from sharedground.web.context import WebContext

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 624, 16, 216


def _row(
    counts: monitor.Counts, link: str | None = None, label: str | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {m: getattr(counts, m) for m in monitor.MEASURES}
    row["group"] = counts.group
    row["label"] = label or counts.group
    row["rate"] = f"{counts.rate:.0%}" if counts.rate is not None else "–"
    row["link"] = link
    return row


def chart(figures: monitor.WaveStatus) -> dict[str, Any] | None:
    """Coordinates for the cumulative chart (an inline SVG: no script, nothing fetched)."""
    series = figures.daily
    if not series:
        return None
    peak = max(max(o + p for _d, o, p in series), 1)
    span = max(len(series) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (RIGHT - LEFT) * i / span, 1)

    def y(v: int) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * v / peak, 1)

    index = {day: i for i, (day, _o, _p) in enumerate(series)}
    reminders = []
    for day, kind, n in figures.reminders:
        if day in index:
            reminders.append({"x": x(index[day]), "label": f"{kind} ({n})"})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": RIGHT,
        "top": TOP,
        "bottom": BOTTOM,
        "peak": peak,
        "first": series[0][0].isoformat(),
        "last": series[-1][0].isoformat(),
        "total": " ".join(f"{x(i)},{y(o + p)}" for i, (_d, o, p) in enumerate(series)),
        "postal": " ".join(f"{x(i)},{y(p)}" for i, (_d, _o, p) in enumerate(series)),
        # A dot per day, so that a series of one day (a line needs two) still shows.
        "points": [{"x": x(i), "y": y(o + p)} for i, (_d, o, p) in enumerate(series)],
        "middle": y(peak // 2) if peak >= 2 else None,
        "half": peak // 2,
        "reminders": reminders,
    }


@dataclass(frozen=True)
class FinalRoles:
    """A lead's by-role completions once fieldwork is over: per role, the trust's responses
    in its final figures (late returns in whole batches), and the roles whose number the
    trust's report withholds (`analysis.disclosure`: small groups and their partners)."""

    completed: dict[str, int]
    withheld: frozenset[str]
    #: The decision is still being made: every group is withheld until it is.
    pending: bool = False


def _final_roles(web: WebContext, wave_name: str, trust: str) -> FinalRoles | None:
    """For a lead once fieldwork is over (None while it runs); every group withheld,
    marked pending, while the wave's decision is being made. Run outside any page
    transaction: the wave's decision reads the store in sessions of its own and may mark
    the close, which a transaction holding SQLite's write lock would block."""
    from collections import Counter

    from sharedground.analysis.disclosure.final import final_release
    from sharedground.text.disclosure import final_survey_if_ready

    with web.store.session() as session:
        wave = web.store.find_wave(session, wave_name)
        if wave is None or not fieldwork_over(session, wave, web.today()):
            return None
    ready = final_survey_if_ready(web.store, wave)
    with web.store.session() as session:
        found = final_release(session, wave, web.today(), trust)
    if found is None:
        return None
    completed = Counter(
        role for (_, role), keep in zip(found.cells, found.shown, strict=True) if keep
    )
    if ready is None:
        # Not decided yet (it is being made in the background): any group could be one the
        # report withholds, so none is shown until it is.
        return FinalRoles(dict(completed), frozenset(), pending=True)
    decision, _ = ready
    withheld: set[str] = set()
    if trust in decision.cells.trusts:
        roles = list(decision.cells.roles)
        hidden = decision.view(trust).sizes(roles)
        withheld = {role for role, h in zip(roles, hidden, strict=True) if h}
    return FinalRoles(dict(completed), frozenset(withheld))


def _final_by_role(rows: list[dict[str, Any]], final: FinalRoles) -> None:
    """A lead's by-role rows once fieldwork is over, rewritten in place: the completions in
    the trust's final figures, so a late return moves them only with its batch; a role
    whose number the trust's report withholds shows none ("–"), or the page would print
    the very count (3 clinical directors, or the partner withheld with them) the report and
    every other output keep back. Questionnaires started are not shown by role, as while
    fieldwork runs: a paper return keyed late counts its person as started at once, so
    that column would name the late respondent's role while the completions wait."""
    for row in rows:
        row["started"] = "–"
        if final.pending or row["group"] in final.withheld:
            row["completed"] = row["rate"] = "–"
            continue
        row["completed"] = final.completed.get(row["group"], 0)
        contacts = row["contacts"]
        row["rate"] = f"{row['completed'] / contacts:.0%}" if contacts else "–"


def _load(
    session: Session,
    web: WebContext,
    wave_name: str,
    trust: str | None,
    user: Principal,
    final_roles: FinalRoles | None = None,
) -> dict[str, Any] | None:
    wave = web.store.find_wave(session, wave_name)
    if wave is None:
        return None
    figures = monitor.wave_status(session, wave, trust, today=web.today(), zone=web.zone)
    base = f"{ADMIN_PATH}/waves/{wave.name}/trusts"
    sent: dict[Any, list[str]] = {}
    for day, kind, n in figures.reminders:
        sent.setdefault(day, []).append(f"{kind} ({n})")
    by_role = [_row(r, label=role_label(r.group)) for r in figures.by_role]
    role_release = None
    if trust is not None and not user.is_admin:
        role_release = _released_by_role(session, web, wave, trust, by_role)
        if role_release is None and final_roles is not None:
            _final_by_role(by_role, final_roles)
        for row in by_role:
            # Reminders go only to those who have not completed: by role, the number sent
            # is the true completions by role when they went, ahead of any batch (and of a
            # group the report withholds, after the close). The total is not split.
            row["reminded"] = "–"
    by_mode, postal, by_day = figures.by_mode, figures.postal, True
    if trust is not None and not user.is_admin:
        by_mode = _released_modes(session, wave, trust, web.today())
        # Returned, keyed, discrepant...: each paper return moves them by one.
        postal, by_day = {"sampled": figures.postal["sampled"]}, False
    drawn = chart(figures)
    if drawn is not None and not by_day:
        drawn["postal"] = None
    return {
        "title": f"Monitoring: wave {wave.name}" + (f", {trust}" if trust else ""),
        "measures": monitor.MEASURES,
        "by_role": by_role,
        "role_release": role_release,
        "role_final": trust is not None and role_release is None and final_roles is not None,
        "role_pending": role_release is None and final_roles is not None and final_roles.pending,
        "total": _row(figures.total),
        "by_trust": [
            _row(r, f"{base}/{r.group}/monitor" if user.may_see_trust(r.group) else None)
            for r in figures.by_trust
        ],
        "by_mode": by_mode,
        "mode_release": by_mode is not figures.by_mode,
        "postal": postal,
        "in_doubt": figures.in_doubt,
        "chart": drawn,
        "by_day": by_day,
        "daily": [
            {
                "day": d.isoformat(),
                "online": o,
                "postal": p,
                "completed": o + p,
                "reminders": ", ".join(sent.get(d, [])),
            }
            for d, o, p in figures.daily
        ],
    }


def _released_modes(session: Session, wave: Any, trust: str, today: Any) -> dict[str, int]:
    """A lead's completions by mode: over the responses the trust's figures read (while
    fieldwork runs its first in whole batches, one behind; after, its final figures), as
    the completions by role. The postal sample is drawn by role (every chief executive and
    medical director, a few others), so the mode of the last completion would say its
    role group, and in a trust with one chief executive, who."""
    ids = trust_figures(session, wave, trust, today).ids
    modes: Counter[str] = Counter()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for mode in session.scalars(select(Answer.mode).where(Answer.id.in_(chunk))):
            modes["online" if mode == "online" else "postal"] += 1
    return {"online": modes["online"], "postal": modes["postal"]}


def _released_by_role(
    session: Session, web: WebContext, wave: Any, trust: str, rows: list[dict[str, Any]]
) -> Release | None:
    """A lead's by-role completions while fieldwork runs: the released batches only.

    Rewrites `rows` in place (completed from the first `shown` responses in the order the
    store received them, started not shown) and returns the release, or None once
    fieldwork is over and the true counts stand.
    """
    if fieldwork_over(session, wave, web.today()):
        return None
    organisation = session.scalar(select(Organisation.id).where(Organisation.code == trust))
    where = (Answer.wave_id == wave.id, Answer.organisation_id == organisation)
    received = session.scalar(select(func.count()).select_from(Answer).where(*where)) or 0
    batch = release(received, wave.suppression_threshold, False)
    first = select(Answer.role).where(*where).order_by(Answer.id).limit(batch.shown).subquery()
    shown: dict[str, int] = {
        role: n
        for role, n in session.execute(select(first.c.role, func.count()).group_by(first.c.role))
    }
    for row in rows:
        row["completed"] = shown.get(row["group"], 0)
        row["started"] = "–"
        contacts = row["contacts"]
        row["rate"] = f"{row['completed'] / contacts:.0%}" if contacts else "–"
    return batch


def _not_found(ctx: AdminContext, request: Request, user: Principal, wave: str) -> Response:
    return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {wave}."])


@page("view wave monitoring")
async def wave_monitor(request: Request, ctx: AdminContext, user: Principal) -> Response:
    wave = request.path_params["wave"]
    if not user.is_admin:
        # A lead's monitoring is their own trust's page.
        return RedirectResponse(f"{ADMIN_PATH}/waves/{wave}/trusts/{user.trust}/monitor", 303)
    context = await ctx.run(_load, ctx.web, wave, None, user)
    if context is None:
        return _not_found(ctx, request, user, wave)
    return ctx.render(request, "monitor.html", user, **context)


@page("view trust monitoring")
async def trust_monitor(request: Request, ctx: AdminContext, user: Principal) -> Response:
    wave, trust = request.path_params["wave"], request.path_params["trust"]
    if not user.may_see_trust(trust):
        return ctx.forbidden(request, user)
    final_roles = (
        None if user.is_admin else await run_in_threadpool(_final_roles, ctx.web, wave, trust)
    )
    context = await ctx.run(_load, ctx.web, wave, trust, user, final_roles)
    if context is None:
        return _not_found(ctx, request, user, wave)
    return ctx.render(request, "monitor.html", user, **context)


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/monitor", wave_monitor, methods=["GET"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/trusts/{{trust}}/monitor", trust_monitor, methods=["GET"]),
]
