"""The schema check without Alembic says what Alembic says (issue #16 made it light)."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sharedground.store import Store, migrate


def test_head_revision_is_alembics(store: Store) -> None:
    alembic_head = ScriptDirectory.from_config(
        migrate.alembic_config(store.engine)
    ).get_current_head()
    assert migrate.head_revision() == alembic_head


def test_current_revision_is_alembics_before_and_after_init(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() is None
        assert migrate.current_revision(store.engine) is None
        store.init()
        with store.engine.connect() as connection:
            expected = MigrationContext.configure(connection).get_current_revision()
        assert expected is not None
        assert migrate.current_revision(store.engine) == expected
    finally:
        store.dispose()


def _by_syntax_tree(source: str, name: str) -> object:
    """The value assigned to `name` at module level, as Python itself parses the file."""
    import ast

    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return ast.literal_eval(value)
    raise AssertionError(f"no {name}")


def test_revision_lines_read_as_the_files_parse() -> None:
    # head_revision reads only the `revision = ...` lines (issue #16); each value must be
    # what parsing the whole file gives, and a value the pattern cannot take still parses.
    from importlib import resources

    folder = resources.files("sharedground.store") / "migrations" / "versions"
    files = [f for f in folder.iterdir() if f.name.endswith(".py") and f.name[0] != "_"]
    assert len(files) >= 9
    for entry in files:
        source = entry.read_text(encoding="utf-8")
        for name in ("revision", "down_revision"):
            expected = _by_syntax_tree(source, name)
            assert migrate._assigned(source, name) == (None if expected is None else str(expected))
    odd = 'revision: str = (\n    "0099"\n)\ndown_revision = None  # the first\n'
    assert migrate._assigned(odd, "revision") == "0099"
    assert migrate._assigned(odd, "down_revision") is None
