"""Analysis commands: analyse, trend, benchmark.

The analysis stack (Polars, the statistics, SciPy) is imported inside the commands, so
that every other command, and `--help`, starts without paying for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sharedground.cli._common import (
    console,
    database_option,
    note_held,
    open_store,
    progress_bar,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sharedground.analysis.source import WaveData

FORMATS = ("table", "json", "csv", "xlsx")

_BY_HELP = "Compare groups by role, trust, mode, or any single-choice item (e.g. country)."


def _suppress_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--suppress-below",
        type=click.IntRange(min=1),
        default=None,
        help="Withhold cells with fewer valid answers [default: the wave's setting].",
    )(func)


def _text_output_options(func: click.decorators.FC) -> click.decorators.FC:
    """`--format table|json|csv` and `--out`, shared by trend and benchmark."""
    func = click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="File to write (default: the terminal).",
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
    )(func)


def _cache_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--refresh",
        is_flag=True,
        help="Rebuild the wave's columnar cache from the database before analysing.",
    )(func)
    func = click.option(
        "--no-cache",
        is_flag=True,
        help="Read straight from the database; neither use nor write the cache.",
    )(func)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for the columnar cache [default: beside an SQLite file, else "
        "$SHAREDGROUND_CACHE_DIR or ~/.cache/sharedground].",
    )(func)


def _load(
    database: str | None, wave: str, cache_dir: Path | None, no_cache: bool, refresh: bool
) -> WaveData:
    from sharedground.analysis.source import default_cache_dir, invalidate, load_wave

    store = open_store(database)
    try:
        folder = None if no_cache else (cache_dir or default_cache_dir(store))
        if refresh and folder is not None:
            invalidate(store, wave, folder)
        with progress_bar(f"Reading wave {wave}") as update:
            data = load_wave(store, wave, folder, progress=update)
        note_held(store, wave)
        return data
    finally:
        store.dispose()


def _emit(text: str | bytes, out: Path | None) -> None:
    if out is None:
        data = text.encode() if isinstance(text, str) else text
        sys.stdout.buffer.write(data)
        if not data.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        out.write_text(text, encoding="utf-8")
    else:
        out.write_bytes(text)


@click.command()
@click.option("--wave", required=True, help="The wave to analyse.")
@click.option("--by", default="role", show_default=True, help=_BY_HELP)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (required for xlsx; default: the terminal).",
)
@click.option(
    "--adjust",
    type=click.Choice(["bh", "holm"]),
    default=None,
    help="Add q-values adjusted across each table (stars stay on raw p).",
)
@click.option(
    "--agreement",
    type=click.FloatRange(0, 100),
    default=80.0,
    show_default=True,
    help="Per cent agreeing overall for the widespread-agreement list.",
)
@click.option(
    "--disagreement",
    type=click.FloatRange(0, 100),
    default=30.0,
    show_default=True,
    help="Per cent disagreeing overall for the widespread-disagreement list.",
)
@_suppress_option
@_cache_options
@database_option
def analyse(
    wave: str,
    by: str,
    fmt: str,
    out: Path | None,
    adjust: str | None,
    agreement: float,
    disagreement: float,
    suppress_below: int | None,
    cache_dir: Path | None,
    no_cache: bool,
    refresh: bool,
    database: str | None,
) -> None:
    """Every table of the report for a wave: counts, denominators, percentages, tests."""
    from sharedground.analysis import render
    from sharedground.analysis.tables import Options
    from sharedground.analysis.tables import analyse as run_analysis

    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    data = _load(database, wave, cache_dir, no_cache, refresh)
    options = Options(
        by=by,
        adjust=adjust,
        agreement=agreement,
        disagreement=disagreement,
        suppression_threshold=suppress_below,
    )
    try:
        result = run_analysis(data, options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "table":
        _print(render.rich_tables(result), out)
    elif fmt == "json":
        _emit(render.to_json_bytes(result), out)
    elif fmt == "csv":
        _emit(render.to_csv_text(result), out)
    else:
        assert out is not None
        render.write_xlsx(result, out)
    if out is not None:
        console.print(f"[green]Wrote[/] {fmt} for wave {wave!r} by {by} to {out}")


@click.command()
@click.option("--wave", required=True, help="The wave now.")
@click.option(
    "--against",
    required=True,
    metavar="2002|2015|WAVE",
    help="The published 2002 or 2015 figures, or a stored wave (wave:NAME forces a stored "
    "wave whose name is a year).",
)
@click.option(
    "--by",
    default="role",
    show_default=True,
    help="Grouping, for a stored wave (published waves are by role).",
)
@_text_output_options
@_suppress_option
@_cache_options
@database_option
def trend(
    wave: str,
    against: str,
    by: str,
    fmt: str,
    out: Path | None,
    suppress_below: int | None,
    cache_dir: Path | None,
    no_cache: bool,
    refresh: bool,
    database: str | None,
) -> None:
    """Each row now and then: percentages, the change in points (95% CI) and its test."""
    import orjson

    from sharedground.analysis import published, views
    from sharedground.analysis import trend as lib

    now = _load(database, wave, cache_dir, no_cache, refresh)
    try:
        if against in published.PUBLISHED:
            if by != "role":
                raise click.UsageError("published waves are by role only; drop --by")
            result = lib.against_published(now, against, suppress_below)
        else:
            name = against.removeprefix("wave:")
            then = _load(database, name, cache_dir, no_cache, refresh)
            result = lib.against_wave(now, then, by, suppress_below)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "json":
        _emit(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2), out)
    elif fmt == "csv":
        _emit(views.trend_csv(result), out)
    else:
        _print(views.trend_tables(result), out)


@click.command()
@click.option("--wave", required=True, help="The wave to benchmark.")
@click.option("--trust", default=None, help="Show one trust row by row (terminal only).")
@_text_output_options
@_suppress_option
@_cache_options
@database_option
def benchmark(
    wave: str,
    trust: str | None,
    fmt: str,
    out: Path | None,
    suppress_below: int | None,
    cache_dir: Path | None,
    no_cache: bool,
    refresh: bool,
    database: str | None,
) -> None:
    """Each trust against everyone else, the national figure and a funnel plot's limits."""
    import orjson

    from sharedground.analysis import views
    from sharedground.analysis.benchmark import benchmark as run_benchmark

    data = _load(database, wave, cache_dir, no_cache, refresh)
    result = run_benchmark(data, suppress_below)
    if fmt == "json":
        _emit(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2), out)
    elif fmt == "csv":
        _emit(views.benchmark_csv(result), out)
    else:
        try:
            _print(views.benchmark_tables(result, trust), out)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def _print(renderable: RenderableType, out: Path | None) -> None:
    from rich.console import Console

    if out is None:
        console.print(renderable)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        Console(file=handle, width=160).print(renderable)


COMMANDS = [analyse, trend, benchmark]
