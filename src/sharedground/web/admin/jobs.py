"""The jobs page: background work with its state, progress, errors and files.

Administrators see every job; an organisation lead sees only the jobs of their own trust
that they started. Files are downloaded from here (never from the address they were
written to) and deleted with their job.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from sharedground.fieldwork.accounts import Principal
from sharedground.fieldwork.clock import shown
from sharedground.jobs import records, tasks
from sharedground.jobs.files import job_file
from sharedground.jobs.model import Job
from sharedground.store import Store, Wave
from sharedground.web.admin import forms
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.admin.labels import STATE_LABELS

JOBS_PATH = f"{ADMIN_PATH}/jobs"
# What a downloaded file is served as: never as a page the browser would run.
TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".sav": "application/octet-stream",
    ".dta": "application/octet-stream",
    ".parquet": "application/octet-stream",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".html": "application/octet-stream",  # a report to save, not to open inside this site
}


def _create(
    session: Session,
    store: Store,
    actor: str,
    kind: str,
    wave_name: str,
    params: dict[str, Any],
    trust: str | None,
) -> int:
    wave = store.get_wave(session, wave_name)
    if kind in records.EXCLUSIVE:
        other = records.busy(session, wave.id, kind)
        if other is not None:
            raise records.JobError(
                f"job {other.id} ({records.LABELS[other.kind].lower()}) is still "
                f"{STATE_LABELS[other.state].lower()} for this wave: wait for it to finish"
            )
    return records.create(session, actor, kind, wave.id, params, trust).id


async def start(
    ctx: AdminContext,
    user: Principal,
    kind: str,
    wave_name: str,
    params: dict[str, Any] | None = None,
    trust: str | None = None,
) -> int:
    """Create a job (audited) and queue it for the worker; JobError if it may not start."""
    job_id: int = await ctx.run(
        _create, ctx.web.store, user.username, kind, wave_name, dict(params or {}), trust
    )
    await run_in_threadpool(tasks.submit, ctx.web.store.url, job_id)
    return job_id


def row(job: Job, wave_name: str, zone: ZoneInfo) -> dict[str, Any]:
    percent = round(100 * job.done / job.total) if job.total else None
    return {
        "id": job.id,
        "kind": job.kind,
        "what": records.LABELS.get(job.kind, job.kind)
        + (f" ({job.params['format'].upper()})" if "format" in job.params else "")
        + (" – resend those in doubt" if job.params.get("retry_unknown") else ""),
        "wave": wave_name,
        "trust": job.trust or "",
        "state": job.state,
        "state_label": STATE_LABELS.get(job.state, job.state),
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "by": job.created_by,
        "created": shown(job.created_at, zone),
        "finished": shown(job.finished_at, zone) if job.finished_at else "",
        "summary": job.summary or "",
        "error": job.error or "",
        "file": job.file_name,
        "download": f"{JOBS_PATH}/{job.id}/download" if job.file_name else None,
        "deletable": job.state in ("done", "failed"),
    }


def visible(job: Job, user: Principal) -> bool:
    return user.is_admin or (job.trust == user.trust and job.created_by == user.username)


def load(
    session: Session, user: Principal, zone: ZoneInfo, wave_id: int | None = None
) -> list[dict[str, Any]]:
    names: dict[int, str] = {i: n for i, n in session.execute(select(Wave.id, Wave.name))}
    jobs = records.listing(session, None if wave_id is None else [wave_id])
    return [row(j, names.get(j.wave_id or 0, ""), zone) for j in jobs if visible(j, user)]


#: A worker says it is alive every minute; this long without a word, waiting jobs are
#: probably waiting for a worker that is not running.
SILENCE = dt.timedelta(minutes=3)


def worker_missing(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> bool:
    """Jobs have waited a while and no worker has been heard from lately."""
    waiting = [r for r in rows if r["state"] == "queued"]
    if not waiting:
        return False
    seen = records.last_seen(session)
    return seen is None or now - seen > SILENCE


@page("view jobs")
async def jobs_page(request: Request, ctx: AdminContext, user: Principal) -> Response:
    rows = await ctx.run(load, user, ctx.web.zone)
    missing = await ctx.run(worker_missing, rows, ctx.web.stamp())
    notice = None
    if request.query_params.get("deleted"):
        notice = f"Job {request.query_params['deleted']} and its file were deleted."
    return ctx.render(
        request,
        "jobs.html",
        user,
        title="Jobs",
        jobs=rows,
        refresh=any(r["state"] in ("queued", "running") for r in rows),
        notice=notice,
        worker_missing=missing,
    )


def _get(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


async def _visible_job(request: Request, ctx: AdminContext, user: Principal) -> Job | None:
    raw = request.path_params["job"]
    job = await ctx.run(_get, int(raw)) if raw.isdigit() else None
    return job if job is not None and visible(job, user) else None


@page("download job file")
async def download(request: Request, ctx: AdminContext, user: Principal) -> Response:
    job = await _visible_job(request, ctx, user)
    path = job_file(ctx.web.store.url, job.id, job.file_name) if job and job.file_name else None
    if job is None or path is None:
        return ctx.message(request, user, 404, "No such file", ["The file is not there."])
    kind = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return FileResponse(
        path,
        media_type=kind or "application/octet-stream",
        filename=path.name,
        content_disposition_type="attachment",
        headers={"cache-control": "no-store"},
    )


def _delete(session: Session, store_url: str, actor: str, job_id: int) -> bool:
    return records.delete_job(session, store_url, actor, job_id)


@page("delete job")
async def delete(request: Request, ctx: AdminContext, user: Principal) -> Response:
    form = await ctx.web.check_csrf(request)
    job = await _visible_job(request, ctx, user)
    if job is None:
        return ctx.message(request, user, 404, "No such job", ["The job is not there."])
    if not forms.checked(form, "confirm_delete"):
        return ctx.message(
            request,
            user,
            422,
            "The job was not deleted",
            ["Tick the box beside the Delete button to confirm that the file may go."],
        )
    if not await ctx.run(_delete, ctx.web.store.url, user.username, job.id):
        return ctx.message(
            request, user, 409, "The job is still running", ["Delete it once it has finished."]
        )
    return RedirectResponse(f"{JOBS_PATH}?deleted={job.id}", status_code=303)


routes = [
    Route(JOBS_PATH, jobs_page, methods=["GET"]),
    Route(f"{JOBS_PATH}/{{job}}/download", download, methods=["GET"]),
    Route(f"{JOBS_PATH}/{{job}}/delete", delete, methods=["POST"]),
]
