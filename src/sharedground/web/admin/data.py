"""Data and reports: exports, analysis tables and reports, each made by a background job.

Administrators start any of them for a wave; an organisation lead may start only their
own trust's report (`/admin/waves/W/trusts/CODE/report`), which applies the same
suppression as every other page. Finished files are downloaded from the jobs list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sharedground.analysis.disclosure.final import FinalRelease, fieldwork_over, final_release
from sharedground.exchange.formats import FORMATS
from sharedground.fieldwork.accounts import Principal
from sharedground.store import Organisation, Store, StoreError
from sharedground.store import Response as StoredResponse
from sharedground.web.admin import forms, jobs
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.questions import Problem

EXPORT_LABELS = {
    "csv": "CSV (the exchange format)",
    "xlsx": "Excel workbook (XLSX)",
    "sav": "SPSS (SAV)",
    "dta": "Stata (DTA)",
    "parquet": "Parquet",
}
ANALYSIS_FORMATS = {"xlsx": "Excel workbook (XLSX)", "json": "JSON"}
DATA_KINDS = ("export", "analysis", "report", "trust_report")
ANALYSIS_BY = {"role": "Role", "trust": "Trust", "mode": "Mode"}


def _trusts(session: Session, store: Store, wave_name: str) -> list[str] | None:
    wave = store.find_wave(session, wave_name)
    if wave is None:
        return None
    return list(
        session.scalars(
            select(Organisation.code)
            .join(StoredResponse, StoredResponse.organisation_id == Organisation.id)
            .where(StoredResponse.wave_id == wave.id)
            .distinct()
            .order_by(Organisation.code)
        )
    )


def _wave_jobs(
    session: Session, store: Store, wave_name: str, user: Principal, zone: Any
) -> list[dict[str, Any]]:
    wave = store.get_wave(session, wave_name)
    return [j for j in jobs.load(session, user, zone, wave.id) if j["kind"] in DATA_KINDS]


async def _show(
    request: Request, ctx: AdminContext, user: Principal, status_code: int = 200, **extra: Any
) -> Response:
    name = request.path_params["wave"]
    trusts = await ctx.run(_trusts, ctx.web.store, name)
    if trusts is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    rows = await ctx.run(_wave_jobs, ctx.web.store, name, user, ctx.web.zone)
    return ctx.render(
        request,
        "data.html",
        user,
        status_code,
        **forms.errors_context(
            title=f"Data and reports: wave {name}",
            wave=name,
            trusts=trusts,
            exports=EXPORT_LABELS,
            analysis_formats=ANALYSIS_FORMATS,
            analysis_by=ANALYSIS_BY,
            jobs=rows,
            refresh=any(j["state"] in ("queued", "running") for j in rows),
            **extra,
        ),
    )


@page("view data and reports", admin_only=True)
async def data_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    started = request.query_params.get("started", "")
    notice = f"Started job {started}; the file appears below when it is ready."
    return await _show(request, ctx, user, notice=notice if started.isdigit() else None)


def _choice(form: dict[str, list[str]], name: str, allowed: Any, default: str) -> str:
    value = forms.value(form, name) or default
    if value not in allowed:
        raise forms.FieldError(f"choose one of {', '.join(allowed)}", name)
    return value


@page("start data job", admin_only=True)
async def start(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    name = request.path_params["wave"]
    what = forms.value(form, "what")
    # The day asked decides whether the wave's final figures apply when the job runs.
    today = ctx.web.today().isoformat()
    try:
        if what == "export":
            fmt = _choice(form, "format", FORMATS, "csv")
            job_id = await jobs.start(ctx, user, "export", name, {"format": fmt})
        elif what == "analysis":
            fmt = _choice(form, "analysis_format", ANALYSIS_FORMATS, "xlsx")
            by = _choice(form, "by", ANALYSIS_BY, "role")
            asked = {"format": fmt, "by": by, "today": today}
            job_id = await jobs.start(ctx, user, "analysis", name, asked)
        elif what == "report":
            pdf = forms.checked(form, "pdf")
            job_id = await jobs.start(ctx, user, "report", name, {"pdf": pdf, "today": today})
        elif what == "trust_report":
            trust = forms.value(form, "trust") or None  # blank: every trust
            options = {"pdf": forms.checked(form, "trust_pdf"), "today": today}
            job_id = await jobs.start(ctx, user, "trust_report", name, options, trust)
        else:
            raise forms.FieldError("choose what to make", "what")
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "what")
        return await _show(request, ctx, user, 422, problems=problems, errors=errors)
    return RedirectResponse(f"{ADMIN_PATH}/waves/{name}/data?started={job_id}", 303)


async def _lead_view(
    request: Request, ctx: AdminContext, user: Principal, status_code: int = 200, **extra: Any
) -> Response:
    name, trust = request.path_params["wave"], request.path_params["trust"]
    rows = await ctx.run(_wave_jobs, ctx.web.store, name, user, ctx.web.zone)
    rows = [r for r in rows if r["trust"] == trust]
    waiting = not user.is_admin and await ctx.run(
        _still_in_fieldwork, ctx.web.store, name, ctx.web.today()
    )
    extra.setdefault("waiting", waiting)
    extra.setdefault("final", await ctx.run(_final, ctx.web.store, name, trust, ctx.web.today()))
    return ctx.render(
        request,
        "trust_report.html",
        user,
        status_code,
        **forms.errors_context(
            title=f"Report for {trust}: wave {name}",
            wave=name,
            trust=trust,
            jobs=rows,
            refresh=any(j["state"] in ("queued", "running") for j in rows),
            **extra,
        ),
    )


async def _trust_checks(request: Request, ctx: AdminContext, user: Principal) -> Response | None:
    name, trust = request.path_params["wave"], request.path_params["trust"]
    if not user.may_see_trust(trust):
        return ctx.forbidden(request, user)
    if await ctx.run(_trusts, ctx.web.store, name) is None:
        return ctx.message(request, user, 404, "No such wave", [f"There is no wave called {name}."])
    return None


@page("view trust report")
async def trust_report_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    refused = await _trust_checks(request, ctx, user)
    started = request.query_params.get("started", "")
    notice = f"Started job {started}; the report appears below when ready."
    return refused or await _lead_view(
        request, ctx, user, notice=notice if started.isdigit() else None
    )


def _final(
    session: Session, store: Store, wave_name: str, trust: str, today: Any
) -> FinalRelease | None:
    """What the trust's figures in a report made now include (None while fieldwork runs)."""
    return final_release(session, store.get_wave(session, wave_name), today, trust)


def _still_in_fieldwork(session: Session, store: Store, wave_name: str, today: Any) -> bool:
    return not fieldwork_over(session, store.get_wave(session, wave_name), today)


@page("start trust report")
async def trust_report_start(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    refused = await _trust_checks(request, ctx, user)
    if refused is not None:
        return refused
    name, trust = request.path_params["wave"], request.path_params["trust"]
    # A lead's report waits for the end of fieldwork: two reports made a response apart
    # would give that one respondent's answers by difference ("This trust" holds them all).
    # Until then the live results page shows the trust's figures in whole batches.
    if not user.is_admin and await ctx.run(
        _still_in_fieldwork, ctx.web.store, name, ctx.web.today()
    ):
        message = (
            "Your trust's report can be made once fieldwork is over (the wave has closed "
            "and no completed questionnaire is held back). Until then the results page "
            "shows your trust's figures, released in batches."
        )
        return await _lead_view(
            request, ctx, user, 422, problems=[Problem("waits", "report-waits", message)]
        )
    try:
        params = {"pdf": forms.checked(form, "trust_pdf"), "today": ctx.web.today().isoformat()}
        job_id = await jobs.start(ctx, user, "trust_report", name, params, trust)
    except StoreError as exc:
        problems, errors = forms.problem_of(exc, "trust_pdf")
        return await _lead_view(request, ctx, user, 422, problems=problems, errors=errors)
    return RedirectResponse(
        f"{ADMIN_PATH}/waves/{name}/trusts/{trust}/report?started={job_id}", 303
    )


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/data", data_page, methods=["GET"]),
    Route(f"{ADMIN_PATH}/waves/{{wave}}/data", start, methods=["POST"]),
    Route(
        f"{ADMIN_PATH}/waves/{{wave}}/trusts/{{trust}}/report", trust_report_page, methods=["GET"]
    ),
    Route(
        f"{ADMIN_PATH}/waves/{{wave}}/trusts/{{trust}}/report", trust_report_start, methods=["POST"]
    ),
]
