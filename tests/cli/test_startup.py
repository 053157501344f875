"""The command line answers at once: loading it, and every command's help, pulls in no heavy
library (issue #16). Each check runs in a fresh interpreter, since this test process has long
imported everything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sharedground.cli import COMMANDS, main
from sharedground.cli._common import KNOWN_ERROR_NAMES, load_known_errors

# The libraries the issue names, and the others that cost a tenth of a second or more each.
HEAVY = (
    "scipy",
    "polars",
    "sqlalchemy",
    "weasyprint",
    "starlette",
    "sklearn",
    "numpy",
    "pandas",
    "alembic",
    "pydantic",
    "jinja2",
)


def _loaded_after(code: str) -> list[str]:
    """The HEAVY top-level packages in sys.modules after running `code` in a fresh Python."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import sharedground.cli") == []


def test_every_command_can_be_loaded_without_a_heavy_library() -> None:
    # What `sharedground COMMAND --help` does: import the command's module and build it.
    walk = (
        "import click\n"
        "from sharedground.cli import main\n"
        "def walk(group):\n"
        "    ctx = click.Context(group)\n"
        "    for name in group.list_commands(ctx):\n"
        "        command = group.get_command(ctx, name)\n"
        "        command.get_help(click.Context(command, info_name=name))\n"
        "        if isinstance(command, click.Group):\n"
        "            walk(command)\n"
        "walk(main)\n"
    )
    assert _loaded_after(walk) == []


def test_the_guard_sees_a_heavy_import() -> None:
    # The probe itself must be able to fail.
    assert _loaded_after("import sharedground.cli\nimport sqlalchemy") == ["sqlalchemy"]


def _command_tree() -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"{' '.join((*path, name))} cannot be loaded"
            found.append(((*path, name), command))
            if isinstance(command, click.Group):
                walk(command, (*path, name))

    walk(main, ())
    return found


TREE = _command_tree()


def test_every_lazy_entry_names_a_command() -> None:
    top = {path[0] for path, _ in TREE if len(path) == 1}
    assert top == set(COMMANDS)
    assert len(TREE) > len(COMMANDS)  # groups have subcommands, and they were walked


@pytest.mark.parametrize(("path", "command"), TREE, ids=[" ".join(p) for p, _ in TREE])
def test_every_command_help_lists_its_options(
    path: tuple[str, ...], command: click.Command
) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert any(opt in result.output for opt in param.opts), (path, param.opts)
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            assert name in result.output


def test_known_errors_are_all_importable_exception_classes() -> None:
    classes = load_known_errors()
    assert len(classes) == len(KNOWN_ERROR_NAMES)
    assert all(issubclass(cls, Exception) for cls in classes)


def test_a_known_error_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # The error classes are resolved lazily; the store's must still be caught.
    result = CliRunner().invoke(main, ["status", "--wave", "x", "--database", f"{tmp_path}/no.db"])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output


def test_the_store_names_load_lazily_and_all_resolve() -> None:
    import sharedground.store as store

    assert sorted(store.__all__) == sorted(store._WHERE)
    for name in store.__all__:
        assert getattr(store, name) is not None
    assert _loaded_after("from sharedground.store.errors import StoreError") == []


def _run_quietly(args: list[str]) -> str:
    """Code that runs `sharedground ARGS` in the probe's interpreter, output thrown away."""
    return (
        "import contextlib, io, sys\n"
        "from sharedground.cli import main\n"
        f"sys.argv = ['sharedground', *{args!r}]\n"
        "with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO())):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
    )


def test_status_and_a_warm_analyse_of_an_sqlite_file_need_no_sqlalchemy(tmp_path: Path) -> None:
    # Both read an SQLite file with the standard library's sqlite3 (issue #16): SQLAlchemy
    # and Alembic alone took longer than either command's work. `status` needs neither
    # the instrument model (pydantic) nor the analysis stack.
    database = str(tmp_path / "s.db")
    cohort = str(tmp_path / "cohort.csv")
    for args in (
        ["init", "--database", database],
        ["synth", "--respondents", "60", "--trusts", "3", "--out", cohort],
        ["import", cohort, "--wave", "w", "--database", database],  # builds the cache
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    status = ["status", "--wave", "w", "--database", database]
    assert _loaded_after(_run_quietly(status)) == []
    analyse = ["analyse", "--wave", "w", "--format", "json", "--database", database]
    loaded = _loaded_after(_run_quietly(analyse))
    assert "polars" in loaded  # it did analyse
    # Nor SciPy: its special-function module alone cost 0.25 s of CPU (the chi-squared tail
    # and the normal quantile now come from the standard library's math, see stats/chi2.py).
    assert not {"sqlalchemy", "alembic", "jinja2", "scipy"} & set(loaded)
    # An analysis that must bring the snapshot up to date still goes through the store.
    assert "sqlalchemy" in _loaded_after(_run_quietly([*analyse, "--refresh"]))
