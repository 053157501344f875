"""Database and data commands: init, import, export, synth, demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import click

from sharedground.cli._common import (
    console,
    database_option,
    note_held,
    open_store,
    progress_bar,
)
from sharedground.cli.analysis import command_weights, weights_options
from sharedground.exchange.formats import FORMATS

if TYPE_CHECKING:
    from sharedground.store import Store

# The exchange and store libraries (Polars, SQLAlchemy) are imported inside the commands.


@click.command()
@database_option
def init(database: str | None) -> None:
    """Create the database, or upgrade it to this version's schema."""
    store = open_store(database, check=False)
    try:
        revision = store.init()
    finally:
        store.dispose()
    console.print(f"[green]Database ready[/] at schema {revision}: {store}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", required=True, help="The wave to import into (created if new).")
@click.option(
    "--instrument",
    "instrument_name",
    default=None,
    help="Instrument of a new wave: a built-in id or a YAML file [default: dmr-2015].",
)
@click.option(
    "--mode",
    "default_mode",
    type=click.Choice(["online", "postal", "paper"]),
    default="online",
    show_default=True,
    help="Mode for files without a mode column.",
)
@click.option(
    "--allow-missing-items",
    is_flag=True,
    help="Import a file that lacks some questions' columns, storing them as unanswered "
    "(the missing columns are listed); without it such a file is refused.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Leave the wave's analysis cache alone (the next analysis brings it up to date).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the analysis cache, as given to `analyse` [default: beside an SQLite "
    "file, else $SHAREDGROUND_CACHE_DIR or ~/.cache/sharedground].",
)
@database_option
def import_(
    file: Path,
    wave: str,
    instrument_name: str | None,
    default_mode: str,
    allow_missing_items: bool,
    no_cache: bool,
    cache_dir: Path | None,
    database: str | None,
) -> None:
    """Import responses from an exchange CSV file (all rows or none).

    The whole file is checked first; if any row is wrong nothing is written and every
    problem is listed with its row and column. Rows already imported are skipped. Then the
    wave's analysis cache is brought up to date, so the first `analyse` need not decode
    every response (`--no-cache` skips this).
    """
    from sharedground.exchange.importer import import_file
    from sharedground.instrument import resolve

    inst = resolve(instrument_name) if instrument_name else None
    store = open_store(database)
    started = time.perf_counter()
    try:
        with progress_bar("Importing") as update:
            result = import_file(
                store,
                file,
                wave,
                inst,
                default_mode=default_mode,
                progress=update,
                allow_missing_items=allow_missing_items,
            )
        for note in result.notes:
            console.print(f"[yellow]Note:[/] {note}")
        console.print(
            f"[green]Imported[/] {result.added} response(s) into wave {result.wave!r} "
            f"({result.instrument}); {result.unchanged} already there "
            f"[dim]({time.perf_counter() - started:.1f} s)[/]"
        )
        if not no_cache:
            _prepare_for_analysis(store, result.wave, cache_dir)
    finally:
        store.dispose()


def _prepare_for_analysis(store: Store, wave: str, cache_dir: Path | None) -> None:
    """Bring the wave's analysis cache up to date after an import (already committed)."""
    from sharedground.analysis.source import refresh_cache

    started = time.perf_counter()
    try:
        with progress_bar(f"Preparing wave {wave} for analysis") as update:
            done = refresh_cache(store, wave, cache_dir, progress=update)
    except OSError as exc:
        # The responses are in; only the shortcut for the next analysis is missing.
        console.print(
            f"[yellow]Note:[/] the analysis cache was not written ({exc}); "
            "`sharedground analyse` will build it"
        )
        return
    what = {"hit": "already up to date", "appended": "extended", "built": "built"}[done.how]
    console.print(
        f"Analysis cache {what}: {done.respondents} response(s) in {done.folder} "
        f"[dim]({time.perf_counter() - started:.1f} s)[/]"
    )


@click.command()
@click.option("--wave", required=True, help="The wave to export.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@weights_options
@database_option
def export(
    wave: str,
    fmt: str,
    out: Path,
    weights_kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
    database: str | None,
) -> None:
    """Export a wave's responses (CSV in the import format, Excel, SPSS, Stata, Parquet).

    With --weights design|raked, a last column (a labelled variable in SPSS and Stata) named
    `weight` carries each response's weight, the one `analyse --weights` uses.
    """
    from sharedground.exchange.exporter import export_wave

    values = label = None
    if weights_kind != "none":
        from sharedground.analysis.source import load_wave

        store = open_store(database)
        try:
            data = load_wave(store, wave)
        finally:
            store.dispose()
        made = command_weights(database, data, weights_kind, rake_on, min_cell, cap, targets, "F")
        assert made is not None
        values = made.values.tolist()
        margins = f" to {rake_on}" if weights_kind == "raked" else ""
        label = f"sharedground {weights_kind} weight{margins} (deff {made.kish.deff:.2f})"
    store = open_store(database)
    try:
        note_held(store, wave)
        count = export_wave(store, wave, fmt, out, values, label or "Weight")  # type: ignore[arg-type]
    finally:
        store.dispose()
    console.print(f"[green]Wrote[/] {count} response(s) to {out}")


@click.command()
@click.option(
    "--wave",
    "which",
    type=click.Choice(["2015", "2002"]),
    default="2015",
    show_default=True,
    help="Which published survey to imitate.",
)
@click.option("--seed", type=int, default=2015, show_default=True)
@click.option(
    "--respondents",
    type=click.IntRange(min=1),
    default=None,
    help="Cohort size [default: the published size, 472 or 1,092].",
)
@click.option(
    "--trusts",
    type=click.IntRange(min=1),
    default=None,
    help="Number of trusts [default: scales with the cohort].",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def synth(which: str, seed: int, respondents: int | None, trusts: int | None, out: Path) -> None:
    """Write a synthetic cohort calibrated to the published survey, in the import format."""
    from sharedground import synth as lib

    started = time.perf_counter()
    with progress_bar("Generating") as update:
        wave = cast(Literal["2015", "2002"], which)
        frame = lib.generate(
            wave, seed=seed, respondents=respondents, trusts=trusts, progress=update
        )
        lib.write(frame, lib.instrument_for(wave), out)
    console.print(
        f"[green]Wrote[/] {frame.height} synthetic respondents to {out} "
        f"[dim]({time.perf_counter() - started:.1f} s)[/]"
    )


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Folder for the demo's files.",
)
@click.option("--seed", type=int, default=2015, show_default=True)
@database_option
def demo(out: Path, seed: int, database: str | None) -> None:
    """Create a database, load the synthetic 2015 and 2002 cohorts and summarise them."""
    from rich.table import Table

    from sharedground.demo import run

    summary = run(database, out, seed=seed, console=console)
    table = Table(
        "wave", "instrument", "responses", *summary.roles, title="What is in the database"
    )
    for wave in summary.waves:
        table.add_row(
            wave.name,
            wave.instrument,
            str(wave.responses),
            *(str(wave.by_role.get(r, 0)) for r in summary.roles),
        )
    console.print(table)
    for line in summary.next_steps:
        console.print(line)


COMMANDS = [init, import_, export, synth, demo]
