"""Analysis commands: analyse, trend, benchmark.

The analysis stack (Polars, the statistics, SciPy) is imported inside the commands, so
that every other command, and `--help`, starts without paying for it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sharedground.cli._common import (
    console,
    database_option,
    note_held,
    open_store,
    progress_bar,
    say_held,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sharedground.analysis.source import WaveData
    from sharedground.analysis.weights.weighting import WaveWeights

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


def weights_options(func: click.decorators.FC) -> click.decorators.FC:
    """`--weights none|design|raked` and how to make them."""
    func = click.option(
        "--test",
        "weighted_test",
        type=click.Choice(["F", "Chisq", "Wald"]),
        default="F",
        show_default=True,
        help="With weights: the Rao-Scott test (second-order F, first-order chi-squared, "
        "or Wald), as R's svychisq.",
    )(func)
    func = click.option(
        "--targets",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="CSV of population counts (role, count, and optionally trust) to rake to, "
        "instead of the wave's contacts.",
    )(func)
    func = click.option(
        "--trim",
        "cap",
        type=float,
        default=None,
        help="Cap the weights at this value, sharing the excess among the rest.",
    )(func)
    func = click.option(
        "--min-cell",
        type=click.IntRange(min=1),
        default=5,
        show_default=True,
        help="Pool population cells with fewer respondents than this before raking.",
    )(func)
    func = click.option(
        "--rake-on",
        default="role,trust",
        show_default=True,
        help="Margins to rake to: role, trust, role*trust (one margin: post-stratification).",
    )(func)
    return click.option(
        "--weights",
        "weights_kind",
        type=click.Choice(["none", "design", "raked"]),
        default="none",
        show_default=True,
        help="none (as the published report), design (postal sampling) or raked to the "
        "population (the frame's contacts or --targets).",
    )(func)


def command_weights(
    database: str | None,
    data: WaveData,
    kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
) -> WaveWeights | None:
    """The wave's weights (None for none); errors end the command with one line."""
    if kind == "none":
        return None
    from sharedground.analysis.weights.raking import WeightingError
    from sharedground.analysis.weights.weighting import WeightOptions, wave_weights

    options = WeightOptions(
        kind=kind,
        rake_on=tuple(m.strip() for m in rake_on.split(",") if m.strip()),
        min_cell=min_cell,
        cap=cap,
        targets=targets,
        test=weighted_test,
    )
    store = open_store(database)
    try:
        return wave_weights(store, data.name, data.frame, data.instrument, options)
    except WeightingError as exc:
        raise click.ClickException(f"cannot weight wave {data.name!r}: {exc}") from None
    finally:
        store.dispose()


def _load(
    database: str | None, wave: str, cache_dir: Path | None, no_cache: bool, refresh: bool
) -> WaveData:
    from sharedground.analysis.source import load_current

    if not (no_cache or refresh):
        # A current snapshot of an SQLite file is read without SQLAlchemy (issue #16);
        # anything else goes through the store below, which also reports any error.
        quick = load_current(database, wave, cache_dir)
        if quick is not None:
            say_held(wave, quick.held)
            return quick.data
    from sharedground.analysis.disclosure.final import released_data
    from sharedground.analysis.source import default_cache_dir, invalidate, load_wave

    store = open_store(database)
    try:
        folder = None if no_cache else (cache_dir or default_cache_dir(store))
        if refresh and folder is not None:
            invalidate(store, wave, folder)
        with progress_bar(f"Reading wave {wave}") as update:
            data = load_wave(store, wave, folder, progress=update)
        note_held(store, wave)
        # Once fieldwork is over, the wave's final figures (late returns in whole batches).
        data, _ = released_data(store, data)
        return data
    finally:
        store.dispose()


def _disclosure(data: WaveData, by: str, threshold: int | None) -> Any:
    """What the table by `by` withholds so that, with every other output of the wave, it
    gives no withheld cell away (`analysis.disclosure.attributes`); None by role."""
    from sharedground.analysis.disclosure.attributes import disclosure_view
    from sharedground.analysis.grouping import GroupingError

    try:
        return disclosure_view(data, by, threshold)
    except GroupingError as exc:
        raise click.UsageError(str(exc)) from None


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
@weights_options
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
    weights_kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
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
        weighted_test=weighted_test,
        disclosure=_disclosure(data, by, suppress_below),
    )
    weights = command_weights(
        database, data, weights_kind, rake_on, min_cell, cap, targets, weighted_test
    )
    try:
        result = run_analysis(data, options, weights)
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
@weights_options
@_cache_options
@database_option
def trend(
    wave: str,
    against: str,
    by: str,
    fmt: str,
    out: Path | None,
    suppress_below: int | None,
    weights_kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
    cache_dir: Path | None,
    no_cache: bool,
    refresh: bool,
    database: str | None,
) -> None:
    """Each row now and then: percentages, the change in points (95% CI) and its test.

    With --weights, both stored waves are weighted the same way (a published wave has no
    weights: its binomial SE is used) and changes get Wald intervals.
    """
    import orjson

    from sharedground.analysis import published, views
    from sharedground.analysis import trend as lib

    now = _load(database, wave, cache_dir, no_cache, refresh)
    how = (weights_kind, rake_on, min_cell, cap, targets, weighted_test)
    weights = command_weights(database, now, *how)
    try:
        if against in published.PUBLISHED:
            if by != "role":
                raise click.UsageError("published waves are by role only; drop --by")
            result = lib.against_published(now, against, suppress_below, weights)
        else:
            name = against.removeprefix("wave:")
            then = _load(database, name, cache_dir, no_cache, refresh)
            weights_then = command_weights(database, then, *how)
            # Each wave withholds what its own outputs withhold (by trust, mode or a
            # question: its coordinated decision), or its printed margins give them back.
            result = lib.against_wave(
                now,
                then,
                by,
                suppress_below,
                weights=weights,
                weights_then=weights_then,
                disclosure=_disclosure(now, by, suppress_below),
                then_disclosure=_disclosure(then, by, suppress_below),
            )
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
@weights_options
@_cache_options
@database_option
def benchmark(
    wave: str,
    trust: str | None,
    fmt: str,
    out: Path | None,
    suppress_below: int | None,
    weights_kind: str,
    rake_on: str,
    min_cell: int,
    cap: float | None,
    targets: Path | None,
    weighted_test: str,
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
    weights = command_weights(
        database, data, weights_kind, rake_on, min_cell, cap, targets, weighted_test
    )
    result = run_benchmark(data, suppress_below, weights)
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
