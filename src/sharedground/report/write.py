"""Writing reports to files: one national report, or a report per trust in parallel."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.model import ReportInput
from sharedground.report.render import render_html, write_pdf
from sharedground.store import Store

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReportFiles:
    """What one report wrote."""

    html: Path
    pdf: Path | None
    charts: int
    tables: int


def safe_stem(name: str) -> str:
    """A file-name-safe form of a wave or trust name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "report"


def write_report(
    data: ReportInput,
    out: Path,
    stem: str,
    *,
    pdf: bool = True,
    evaluation: dict[str, Any] | None = None,
) -> ReportFiles:
    """Compose and render one report as `out/stem.html` (and `out/stem.pdf`); with
    `evaluation` (the document of `sharedground evaluate`), a "What works" section too."""
    out.mkdir(parents=True, exist_ok=True)
    page = compose(data)
    if evaluation is not None:
        from sharedground.report.compose import Contents
        from sharedground.report.evaluation_page import what_works_context

        page.what_works = what_works_context(evaluation)
        page.contents.append(Contents("what-works", "What works", 1))
    html_path = out / f"{stem}.html"
    html_path.write_text(render_html(page), encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = out / f"{stem}.pdf"
        write_pdf(render_html(page, for_print=True), pdf_path)
    return ReportFiles(html_path, pdf_path, len(page.charts), len(page.blocks))


def national_report(
    store: Store,
    wave: str,
    out: Path,
    *,
    compare: str | None = None,
    cache_dir: Path | None = None,
    pdf: bool = True,
    context: build.WaveContext | None = None,
    evaluation: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> ReportFiles:
    """The national report of a wave (`out/report-WAVE.html` and `.pdf`), with the "What
    works" section of an `evaluation` document when given; `today` decides whether the
    wave's final figures apply (`build.load`)."""
    context = context or build.load(store, wave, compare=compare, cache_dir=cache_dir, today=today)
    return write_report(
        build.national_input(context),
        out,
        f"report-{safe_stem(wave)}",
        pdf=pdf,
        evaluation=evaluation,
    )


def _job(data: ReportInput, out: Path, stem: str, pdf: bool) -> ReportFiles:
    return write_report(data, out, stem, pdf=pdf)


def trust_reports(
    store: Store,
    wave: str,
    out: Path,
    *,
    trusts: Iterable[str] | None = None,
    cache_dir: Path | None = None,
    pdf: bool = True,
    workers: int = 2,
    progress: Progress | None = None,
    context: build.WaveContext | None = None,
    today: dt.date | None = None,
) -> dict[str, ReportFiles]:
    """A report per trust (`out/trust-CODE.html` and `.pdf`), `workers` rendered at once.

    The inputs are gathered here, one trust at a time, while worker processes compose and
    render (WeasyPrint is the slow part and runs in the workers). Workers are started with
    "spawn": a forked child could inherit locked Polars thread-pool state. Once fieldwork
    is over (on `today`) every report reads the wave's final figures (`build.load`).
    """
    context = context or build.load(store, wave, cache_dir=cache_dir, today=today)
    codes = list(trusts) if trusts is not None else context.trusts
    done: dict[str, ReportFiles] = {}
    if progress:
        progress(0, len(codes))
    if workers <= 1:
        for code in codes:
            done[code] = write_report(
                build.trust_input(context, code), out, f"trust-{safe_stem(code)}", pdf=pdf
            )
            if progress:
                progress(len(done), len(codes))
        return done
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        pending: dict[Future[ReportFiles], str] = {}
        queue = iter(codes)
        # Keep a couple of inputs queued per worker: enough to keep them busy, few enough
        # that the gathered inputs never pile up in memory.
        for code in queue:
            data = build.trust_input(context, code)
            pending[pool.submit(_job, data, out, f"trust-{safe_stem(code)}", pdf)] = code
            while len(pending) >= workers * 2:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done[pending.pop(future)] = future.result()
                if progress:
                    progress(len(done), len(codes))
        for future in list(pending):
            done[pending.pop(future)] = future.result()
            if progress:
                progress(len(done), len(codes))
    return {code: done[code] for code in codes}
