"""Creating and upgrading a database with Alembic, driven from Python (no alembic.ini).

Every command checks the schema before it runs (`Store.check`), so the check reads the
revision table with plain SQL and finds the newest shipped revision by reading the migration
files' `revision`/`down_revision` lines, without importing Alembic (a third of a second at
every start); `tests/store/test_migrate.py` holds both to what Alembic itself says. Alembic
runs only to upgrade.
"""

from __future__ import annotations

import ast
import re
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("sharedground.store") / "migrations")
    )
    # configparser treats % as interpolation; URLs may hold %-escapes (search_path options).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it when empty)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise RuntimeError(f"the database records {len(rows)} schema heads; expected one")
    return str(rows[0][0]) if rows else None


# `revision = "0011"` (or `revision: str = ...`) at the start of a line, as Alembic writes it.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", re.M)


def _assigned(source: str, name: str) -> str | None:
    """The constant assigned to `name` at the top of a migration file.

    The `name = value` line is found with a pattern and only its value is parsed: parsing
    every migration file whole cost a fiftieth of a second at every start. A file where the
    pattern finds nothing usable (a value over several lines) is parsed whole.
    """
    for match in _ASSIGNMENT.finditer(source):
        if match.group(1) == name:
            try:
                found = ast.literal_eval(match.group(2))
            except (ValueError, SyntaxError):
                break
            return None if found is None else str(found)
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            found = ast.literal_eval(value)
            return None if found is None else str(found)
    raise ValueError(f"no {name} in a migration file")


def head_revision(engine: Engine | None = None) -> str | None:
    """The newest revision shipped with this version of sharedground."""
    folder = resources.files("sharedground.store") / "migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in folder.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        source = entry.read_text(encoding="utf-8")
        revision = _assigned(source, "revision")
        if revision is None:
            continue
        revisions.add(revision)
        parent = _assigned(source, "down_revision")
        if parent is not None:
            parents.add(parent)
    heads = sorted(revisions - parents)
    if len(heads) > 1:
        raise RuntimeError(f"the shipped migrations have {len(heads)} heads: {', '.join(heads)}")
    return heads[0] if heads else None
