"""`sharedground report`: the national report of a wave, or one report per trust."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from sharedground.cli._common import (
    console,
    database_option,
    note_held,
    open_store,
    progress_bar,
)
from sharedground.cli.analysis import weights_options


@click.command()
@click.option("--wave", required=True, help="The wave to report on.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the HTML and PDF files (created if missing).",
)
@click.option("--trust", default=None, metavar="CODE", help="Write the report of this trust only.")
@click.option("--all-trusts", is_flag=True, help="Write a report for every trust, in parallel.")
@click.option(
    "--compare",
    default=None,
    metavar="2002|2015|WAVE",
    help="Show change since this stored wave (2002 and 2015 also mean the published "
    "figures when no wave of that name is stored).",
)
@click.option(
    "--pdf/--no-pdf", default=True, show_default=True, help="Also draw each report as a PDF."
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Trust reports rendered at once (--all-trusts).",
)
@click.option(
    "--evaluation",
    "evaluation_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Add a 'What works' section to the national report from this file, written by "
    "`sharedground evaluate --format json`.",
)
@click.option(
    "--what-works",
    is_flag=True,
    help="Add a 'What works' section to the national report evaluated from this database's "
    "register and survey waves (as `sharedground evaluate --database` does).",
)
@weights_options
@database_option
def report(
    wave: str,
    out: Path,
    trust: str | None,
    all_trusts: bool,
    compare: str | None,
    pdf: bool,
    workers: int,
    weights_kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
    database: str | None,
    evaluation_file: Path | None = None,
    what_works: bool = False,
) -> None:
    """Write the report of a wave: self-contained HTML and a PDF drawn from it.

    Without --trust or --all-trusts this is the national report. Trust reports are
    benchmarked against the other trusts and the published national figures, with small
    cells suppressed.
    """
    from sharedground.report import build
    from sharedground.report.write import national_report, trust_reports

    if trust and all_trusts:
        raise click.UsageError("give --trust CODE or --all-trusts, not both")
    evaluation = _evaluation(evaluation_file) if evaluation_file else None
    if evaluation is not None and what_works:
        raise click.UsageError("give --evaluation FILE or --what-works, not both")
    if (evaluation is not None or what_works) and (trust or all_trusts):
        raise click.UsageError(
            "--evaluation and --what-works add to the national report only (for now)"
        )
    if weighted_test != "F":
        raise click.UsageError("the report's tests are Rao-Scott F; drop --test")
    from sharedground.analysis.weights.raking import WeightingError
    from sharedground.analysis.weights.weighting import WeightOptions

    weighting = WeightOptions(
        kind=weights_kind,
        rake_on=tuple(m.strip() for m in rake_on.split(",") if m.strip()),
        min_cell=min_cell,
        cap=cap,
        targets=targets,
    )
    store = open_store(database)
    started = time.perf_counter()
    try:
        with console.status("Analysing the wave"):
            context = build.load(store, wave, compare=compare, weights=weighting)
        note_held(store, wave)
        if all_trusts or trust:
            codes = None if trust is None else [trust]
            if trust is not None and trust not in context.trusts:
                build.trust_input(context, trust)  # raises the explained error
            with progress_bar("Trust reports") as update:
                files = trust_reports(
                    store,
                    wave,
                    out,
                    trusts=codes,
                    pdf=pdf,
                    workers=workers if all_trusts else 1,
                    progress=update,
                    context=context,
                )
            console.print(
                f"[green]Wrote[/] {len(files)} trust report(s) to {out} "
                f"in {time.perf_counter() - started:.1f} s"
            )
            if len(files) == 1:
                only = next(iter(files.values()))
                console.print(f"  {only.html}" + (f"\n  {only.pdf}" if only.pdf else ""))
        else:
            if what_works:
                from sharedground.evaluation import summary
                from sharedground.evaluation.store import programme_tables

                with console.status("Evaluating the initiatives in the register"):
                    evaluation = summary.evaluate(programme_tables(store))
            with console.status("Writing the national report"):
                written = national_report(
                    store, wave, out, pdf=pdf, context=context, evaluation=evaluation
                )
            console.print(
                f"[green]Wrote[/] the national report of wave {wave!r} "
                f"({written.tables} tables, {written.charts} charts) in "
                f"{time.perf_counter() - started:.1f} s:\n  {written.html}"
                + (f"\n  {written.pdf}" if written.pdf else "")
            )
    except build.ReportError as exc:
        raise click.ClickException(str(exc)) from None
    except WeightingError as exc:
        raise click.ClickException(f"cannot weight wave {wave!r}: {exc}") from None
    finally:
        store.dispose()


def _evaluation(path: Path) -> dict[str, Any]:
    """The document of `sharedground evaluate --format json` (every kind, not an initiative)."""
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.UsageError(f"{path}: not an evaluation JSON file ({exc})") from None
    if not isinstance(doc, dict) or "what_works" not in doc or "event_studies" not in doc:
        raise click.UsageError(
            f"{path}: has no 'What works' table; write it with "
            "`sharedground evaluate --format json` (without --initiative)"
        )
    return doc
