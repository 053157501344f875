"""The `sharedground` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result. Known
failures (bad input files, bad instruments, a database that needs `init`) are printed as
one clear message with exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape

from sharedground import __version__
from sharedground.cli._common import KNOWN_ERRORS, console_err


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KNOWN_ERRORS as exc:
            console_err.print(
                f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sharedground")
def main() -> None:
    """Run the doctor–manager relationship survey: questionnaire, fieldwork, analysis, reports.

    The database is ./sharedground.db (SQLite) unless --database or
    $SHAREDGROUND_DATABASE_URL names another (for example postgresql://host/dbname).
    """


def _register() -> None:
    from sharedground.cli import data, instrument

    main.add_command(instrument.instrument)
    for command in data.COMMANDS:
        main.add_command(command)

    from sharedground.cli import analysis

    for command in analysis.COMMANDS:
        main.add_command(command)

    from sharedground.cli import web

    for command in web.COMMANDS:
        main.add_command(command)

    from sharedground.cli import fieldwork

    for command in fieldwork.COMMANDS:
        main.add_command(command)

    from sharedground.cli import report

    main.add_command(report.report)

    from sharedground.cli import disclosure

    for command in disclosure.COMMANDS:
        main.add_command(command)


_register()
