"""The `sharedground` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result. Known
failures (bad input files, bad instruments, a database that needs `init`) are printed as
one clear message with exit status 1, never a traceback.

The command line answers at once: the top-level group is lazy (as Click documents for large
command lines), so a command's module is imported only when that command runs or its help is
shown, and the command modules import the library (Polars, SQLAlchemy, SciPy, …) inside the
commands. `tests/cli/test_startup.py` fails if `import sharedground.cli` pulls a heavy library.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from sharedground import __version__
from sharedground.cli._common import console_err, known_errors

# Command name -> "module:attribute" of the click command or group in sharedground.cli.
# Add a command here (and keep its module's top-level imports light).
COMMANDS: dict[str, str] = {
    "init": "data:init",
    "import": "data:import_",
    "export": "data:export",
    "synth": "data:synth",
    "demo": "data:demo",
    "instrument": "instrument:instrument",
    "analyse": "analysis:analyse",
    "trend": "analysis:trend",
    "benchmark": "analysis:benchmark",
    "wave": "web:wave",
    "links": "web:links",
    "serve": "web:serve",
    "contacts": "fieldwork:contacts",
    "send": "fieldwork:send",
    "bounces": "fieldwork:bounces",
    "postal": "fieldwork:postal",
    "status": "fieldwork:status",
    "admin": "fieldwork:admin",
    "report": "report:report",
    "disclosure": "disclosure:disclosure",
    "initiative": "initiatives:initiative",
    "participants": "initiatives:participants",
    "pairs": "initiatives:pairs",
    "pulse": "initiatives:pulse",
    "worker": "jobs:worker",
    "text": "text:text",
    "codes": "text:codes",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported when first asked for."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy and cmd_name not in self.commands:
            module_name, _, attr = self._lazy[cmd_name].partition(":")
            module = importlib.import_module(f"sharedground.cli.{module_name}")
            command = getattr(module, attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not isinstance(exc, known_errors()):
                raise
            from rich.markup import escape

            console_err.print(
                f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            sys.exit(1)


@click.group(
    cls=_LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="sharedground")
def main() -> None:
    """Run the doctor–manager relationship survey: questionnaire, fieldwork, analysis, reports.

    The database is ./sharedground.db (SQLite) unless --database or
    $SHAREDGROUND_DATABASE_URL names another (for example postgresql://host/dbname).
    """
