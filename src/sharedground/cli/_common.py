"""What every command shares: the database option, error types, consoles, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sharedground.exchange.problems import InvalidFile
from sharedground.instrument import InstrumentError
from sharedground.store import Store, StoreError

console = Console()
console_err = Console(stderr=True)

KNOWN_ERRORS: tuple[type[Exception], ...] = (InvalidFile, InstrumentError, StoreError)

F = TypeVar("F", bound=Callable[..., Any])


def database_option(func: F) -> F:
    """`--database URL`, defaulting to $SHAREDGROUND_DATABASE_URL or ./sharedground.db."""
    return click.option(
        "--database",
        "database",
        envvar="SHAREDGROUND_DATABASE_URL",
        default=None,
        metavar="URL",
        help="Database URL or SQLite file (default ./sharedground.db).",
    )(func)


def open_store(database: str | None, *, check: bool = True) -> Store:
    """The store, checked to hold the current schema unless `check` is false."""
    store = Store(database)
    if check:
        try:
            store.check()
        except BaseException:
            store.dispose()  # an unused pool would otherwise leak its connection
            raise
    return store


def note_held(store: Store, wave: str) -> None:
    """Say on stderr when an anonymous wave has questionnaires not yet among its responses."""
    from sharedground.fieldwork import anonymity

    with store.session() as session:
        row = store.get_wave(session, wave)
        held = anonymity.held(session, row) if row.anonymous else 0
    if held:
        console_err.print(
            f"[yellow]Note:[/] {held} completed questionnaire(s) of {wave} are held for "
            f"anonymity and not counted here; `sharedground wave release {wave}` adds them "
            "(at the end of fieldwork)."
        )


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar driven by a `(done, total)` callback; silent when not a terminal."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # Off the terminal (pipes, CI logs, tests) a bar would leave stray blank lines.
    disable = not enabled or not console_err.is_terminal
    with Progress(*columns, console=console_err, disable=disable, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
