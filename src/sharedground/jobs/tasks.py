"""What each kind of job does: the same library calls as the command line.

`execute(store, job_id)` claims a queued job, runs it and records the outcome; the huey
task `run_job` (registered by `register`) is only that call. A job that cannot start
because another job of its wave holds the lock (two sends at once) is put back on huey's
schedule a few seconds later. Each handler writes into the job's own folder and returns
a summary and the file to keep.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import crontab

from sharedground.jobs import records
from sharedground.jobs.files import job_folder
from sharedground.jobs.model import Job
from sharedground.store import Store, StoreError

if TYPE_CHECKING:
    from huey import Huey

Progress = Callable[[int, int], None]
Outcome = tuple[str, str | None]  # summary, file name
Handler = Callable[[Store, Job, str, Path, Progress], Outcome]
RETRY_LOCKED_SECONDS = 3

MAIL_FROM_ENV = "SHAREDGROUND_MAIL_FROM"
BASE_URL_ENV = "SHAREDGROUND_BASE_URL"


def template_folder(store_url: str, wave_id: int) -> Path:
    """Where the admin pages keep a wave's edited e-mail templates."""
    from sharedground.jobs.files import files_dir

    return files_dir(store_url) / "templates" / f"wave-{wave_id}"


def mailer_for(store_url: str, wave_id: int, params: dict[str, Any]) -> Any:
    """A `sending.Mailer` configured from the environment, as `sharedground send` is."""
    from sharedground.fieldwork import mail, personal, sending, smtp
    from sharedground.fieldwork.defaults import DEFAULT_BASE_URL

    sender = os.environ.get(MAIL_FROM_ENV)
    if not sender:
        raise StoreError(
            f"no sender address: set ${MAIL_FROM_ENV} where the worker runs "
            "(for example 'Survey team <survey@example.org>')"
        )
    folder = template_folder(store_url, wave_id)
    return sending.Mailer(
        transport=smtp.SmtpTransport(smtp.SmtpSettings.resolve()),
        sender=mail.Sender(sender),
        base_url=os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL),
        templates=mail.Templates(folder if folder.is_dir() else None),
        sealer=personal.Sealer(personal.load_key(create=True)),
        reminder_days=tuple(params.get("reminder_days") or sending.DEFAULT_REMINDER_DAYS),
        connections=int(params.get("connections", 2)),
    )


def _send(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.fieldwork import sending

    mailer = mailer_for(store.url, job.wave_id or 0, job.params)
    try:
        report = sending.send_due(
            store,
            wave,
            mailer,
            retry_unknown=bool(job.params.get("retry_unknown")),
            break_lock=False,
            progress=progress,
        )
    finally:
        if mailer.transport is not None:
            mailer.transport.close()
    planned = ", ".join(f"{n} {k}" for k, n in sorted(report.planned.items())) or "nothing due"
    summary = (
        f"Due: {planned}. Sent {report.sent}, failed {report.failed}, bounced "
        f"{report.bounced}, outcome unknown {report.unknown}; {len(report.in_doubt)} in doubt."
    )
    if report.stopped:
        raise StoreError(f"sending stopped: {report.stopped}. {summary}")
    return summary, None


def _export(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.exchange.exporter import export_wave
    from sharedground.report.write import safe_stem

    fmt = str(job.params.get("format", "csv"))
    name = f"{safe_stem(wave)}-responses.{fmt}"
    count = export_wave(store, wave, fmt, out / name)  # type: ignore[arg-type]
    return f"{count} responses", name


def _today(job: Job) -> dt.date | None:
    """The day a report or analysis was asked for (None: today): it decides whether the
    wave's final figures apply (`analysis.disclosure.final`), as the page that started it
    did."""
    asked = job.params.get("today")
    return dt.date.fromisoformat(str(asked)) if asked else None


def _analysis(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.analysis import render
    from sharedground.analysis.disclosure.attributes import disclosure_view
    from sharedground.analysis.disclosure.final import released_data
    from sharedground.analysis.source import load_wave
    from sharedground.analysis.tables import Options, analyse
    from sharedground.report.write import safe_stem

    fmt = str(job.params.get("format", "xlsx"))
    by = str(job.params.get("by", "role"))
    data, _ = released_data(store, load_wave(store, wave, None), _today(job))
    # By trust or mode, the table withholds what the wave's decision needs it to.
    result = analyse(data, Options(by=by, disclosure=disclosure_view(data, by)))
    name = f"{safe_stem(wave)}-analysis-by-{safe_stem(by)}.{fmt}"
    render.write(result, fmt, out / name)
    return f"{len(result.tables)} tables by {by}", name


def _bundle(out: Path, name: str, paths: list[Path]) -> str:
    """One file to download: the file itself, or a zip of several."""
    if len(paths) == 1:
        return paths[0].name
    with zipfile.ZipFile(out / name, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, path.name)
    return name


def _report(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.report.write import national_report, safe_stem

    pdf = bool(job.params.get("pdf", True))
    progress(0, 1)
    written = national_report(store, wave, out, pdf=pdf, today=_today(job))
    paths = [written.html, *([written.pdf] if written.pdf else [])]
    name = _bundle(out, f"report-{safe_stem(wave)}.zip", paths)
    return f"national report: {written.tables} tables, {written.charts} charts", name


def _trust_report(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.report import build
    from sharedground.report.write import safe_stem, trust_reports

    pdf = bool(job.params.get("pdf", True))
    codes = [job.trust] if job.trust else None
    context = build.load(store, wave, today=_today(job))
    files = trust_reports(
        store,
        wave,
        out,
        trusts=codes,
        pdf=pdf,
        workers=1 if codes else 2,
        progress=progress,
        context=context,
    )
    paths: list[Path] = []
    for written in files.values():
        paths.append(written.html)
        if written.pdf:
            paths.append(written.pdf)
    stem = f"trust-{safe_stem(job.trust)}" if job.trust else f"trust-reports-{safe_stem(wave)}"
    name = _bundle(out, f"{stem}.zip", paths)
    final = context.extras.get("final")
    if final is not None and job.trust:
        final = final.for_trust(job.trust)
    made = f"{len(files)} trust report(s)"
    if final is not None:
        # Which responses the figures are from: a lead comparing two downloads can see
        # that they differ by whole batches only.
        made += f", final figures from {final.included:,} responses"
        if final.held_back:
            made += f" ({final.held_back:,} late returns wait for a batch)"
    return made, name


def _print(store: Store, job: Job, wave: str, out: Path, progress: Progress) -> Outcome:
    from sharedground.fieldwork.defaults import DEFAULT_BASE_URL
    from sharedground.fieldwork.printing import print_packs

    summary = print_packs(
        store,
        wave,
        out / "packs",
        base_url=os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL),
        progress=progress,
    )
    merged = out / summary.merged.name
    shutil.move(str(summary.merged), merged)
    shutil.rmtree(out / "packs", ignore_errors=True)  # the merged file holds every pack
    return f"{summary.people} packs printed", merged.name


HANDLERS: dict[str, Handler] = {
    "send": _send,
    "export": _export,
    "analysis": _analysis,
    "report": _report,
    "trust_report": _trust_report,
    "print": _print,
}


def execute(store: Store, job_id: int) -> str:
    """Run one job if it is queued: `done`, `failed`, `locked` (try later) or `skipped`."""
    from sharedground.store.schema import Wave

    claimed = records.claim(store, job_id)
    if claimed is False:
        return "locked"
    if claimed is None:
        return "skipped"
    job = claimed
    with store.session() as session:
        wave = session.get(Wave, job.wave_id) if job.wave_id is not None else None
        wave_name = wave.name if wave is not None else ""
    out = job_folder(store.url, job.id)
    out.mkdir(parents=True, exist_ok=True)
    try:
        summary, file_name = HANDLERS[job.kind](
            store, job, wave_name, out, records.Progress(store, job.id)
        )
    except Exception as exc:  # every failure is the job's outcome, shown on the jobs page
        detail = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        records.finish(store, job.id, error=detail[:2000])
        return "failed"
    records.finish(store, job.id, summary=summary, file_name=file_name)
    return "done"


def register(huey: Huey, store_url: str) -> None:
    """Register the one huey task, `run_job(job_id)`, on an instance."""
    stores: dict[str, Store] = {}

    def run_job(job_id: int) -> None:
        store = stores.get(store_url)
        if store is None:
            store = stores[store_url] = Store(store_url)
        if execute(store, job_id) == "locked":
            run_job_task.schedule((job_id,), delay=RETRY_LOCKED_SECONDS)

    run_job_task = huey.task(name="run_job")(run_job)
    huey.run_job = run_job_task

    def send_due() -> None:
        from sharedground.jobs.schedule import start_due_sends

        store = stores.get(store_url)
        if store is None:
            store = stores[store_url] = Store(store_url)
        for job_id in start_due_sends(store):
            run_job_task(job_id)

    huey.send_due = huey.periodic_task(crontab(minute="*/10"), name="send_due")(send_due)

    def beat() -> None:
        store = stores.get(store_url)
        if store is None:
            store = stores[store_url] = Store(store_url)
        records.heartbeat(store)

    huey.heartbeat = huey.periodic_task(crontab(), name="heartbeat")(beat)


def enqueue(huey: Huey, job_id: int) -> None:
    huey.run_job(job_id)


def submit(store_url: str, job_id: int) -> None:
    """Queue a job created (and committed) by this process.

    The connection is closed at once: a web server starts jobs rarely, and an idle
    connection held per thread would outlive the requests that made it.
    """
    from sharedground.jobs.queue import make_huey

    huey = make_huey(store_url)
    try:
        enqueue(huey, job_id)
    finally:
        huey.storage.close()
