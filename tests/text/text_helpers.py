"""A small wave with known comments, imported through the real importer, for the text tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
from sharedground.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import make_rows, write_rows

#: (role, trust, comments_overall) of the wave's commenters, in row order.
COMMENTS = [
    ("medical_director", "RA1", "Relations here are good. The board listens to us."),
    ("medical_director", "RA1", "Finance dominates everything. Call Dr Smith on 01632 960123."),
    ("clinical_director", "RA1", "Managers do not understand clinical work."),
    ("clinical_director", "RB2", "Regulators make it worse. Inspections are punitive."),
    ("directorate_manager", "RB2", "Doctors rarely engage with management."),
    ("chief_executive", "RB2", "Our joint leadership programme has helped a lot."),
]


def comment_wave(store: Store, tmp_path: Path, name: str = "w", extra: int = 6) -> None:
    """A wave of len(COMMENTS) commenters and `extra` respondents who wrote nothing."""
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, len(COMMENTS) + extra, seed=3)
    for row, (role, trust, text) in zip(rows, COMMENTS, strict=False):
        row.update(role=role, trust=trust, comments_overall=text)
    path = write_rows(tmp_path / f"{name}.csv", instrument, rows)
    import_file(store, path, name, instrument)


def role_wave(
    store: Store,
    tmp_path: Path,
    sizes: dict[str, int],
    name: str = "r",
    texts: Callable[[int, str], str] | None = None,
) -> None:
    """A wave in which every respondent commented: sizes[role] of each, trusts alternating."""
    instrument = builtin("dmr-2015")
    total = sum(sizes.values())
    rows = make_rows(instrument, total, seed=7)
    roles = [role for role, n in sizes.items() for _ in range(n)]
    for i, (row, role) in enumerate(zip(rows, roles, strict=True)):
        row.update(
            role=role,
            trust="RA1" if i % 2 == 0 else "RB2",
            comments_overall=(
                texts(i, role)
                if texts is not None
                else f"Comment number {i} from a {role.replace('_', ' ')}. "
                "Money worries shape every meeting we have."
            ),
        )
    path = write_rows(tmp_path / f"{name}.csv", instrument, rows)
    import_file(store, path, name, instrument)


def sized_wave(
    store: Store, tmp_path: Path, sizes: dict[str, dict[str, int]], name: str = "s"
) -> None:
    """A wave of exactly sizes[trust][role] respondents per cell, every one of them writing a
    comment (`disclosure_helpers.composed`: built to be hard for disclosure control)."""
    from disclosure_helpers import composed

    instrument = builtin("dmr-2015")
    rows = composed(instrument, sizes)
    for i, row in enumerate(rows):
        row["comments_overall"] = f"Comment {i}: budgets shape every meeting we have here."
    import_file(store, write_rows(tmp_path / f"{name}.csv", instrument, rows), name, instrument)
