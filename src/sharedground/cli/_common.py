"""What every command shares: the database option, error types, consoles, progress bars.

Nothing heavy is imported here: this module is loaded by every command, `--help` included.
Rich's console is made on first use, the store and the progress bar when a command asks.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from sharedground.store import Store


class _LazyConsole:
    """A Rich console made when first printed to (importing Rich costs every command)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def _real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


console: Console = _LazyConsole()  # type: ignore[assignment]
console_err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]

# The failures a command reports as one line (exit 1) instead of a traceback, as
# "module:Class". They are looked up only among modules already imported: an exception of a
# class can only have been raised if its module was loaded, and this way the command line
# need not import SQLAlchemy or pydantic to be ready to catch their errors.
KNOWN_ERROR_NAMES: list[str] = [
    "sharedground.exchange.problems:InvalidFile",
    "sharedground.initiatives.errors:InitiativeError",
    "sharedground.instrument.loader:InstrumentError",
    "sharedground.store.errors:StoreError",
    "sharedground.evaluation.tables:EvaluationInputError",
    "sharedground.text.errors:TextError",
]


def known_errors() -> tuple[type[BaseException], ...]:
    """The classes of KNOWN_ERROR_NAMES whose modules are loaded."""
    found: list[type[BaseException]] = []
    for name in KNOWN_ERROR_NAMES:
        module_name, _, attr = name.partition(":")
        module = sys.modules.get(module_name)
        if module is not None:
            found.append(getattr(module, attr))
    return tuple(found)


def load_known_errors() -> tuple[type[BaseException], ...]:
    """Every class of KNOWN_ERROR_NAMES, importing its module (for tests)."""
    for name in KNOWN_ERROR_NAMES:
        importlib.import_module(name.partition(":")[0])
    return known_errors()


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
    from sharedground.store import Store

    store = Store(database)
    if check:
        try:
            store.check()
        except BaseException:
            store.dispose()  # an unused pool would otherwise leak its connection
            raise
    return store


@contextmanager
def store_session(database: str | None) -> Iterator[Session]:
    """A session of the checked store, committed on success; the store is disposed after.

    Most commands open the store for one transaction: this is that, in one place.
    """
    store = open_store(database)
    try:
        with store.session() as session:
            yield session
    finally:
        store.dispose()


def note_held(store: Store, wave: str) -> None:
    """Say on stderr when an anonymous wave has questionnaires not yet among its responses."""
    from sharedground.fieldwork import anonymity

    with store.session() as session:
        row = store.get_wave(session, wave)
        held = anonymity.held(session, row) if row.anonymous else 0
    say_held(wave, held)


def say_held(wave: str, held: int) -> None:
    """`note_held`'s message, for a count read another way (`analysis.source.load_current`)."""
    if held:
        console_err.print(
            f"[yellow]Note:[/] {held} completed questionnaire(s) of {wave} are held for "
            f"anonymity and not counted here; `sharedground wave release {wave}` adds them "
            "(at the end of fieldwork)."
        )


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar driven by a `(done, total)` callback; silent when not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

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
