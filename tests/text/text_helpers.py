"""Waves with known comments, imported through the real importer, and the coding set-up the
text tests share."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
from sharedground.store import Store
from sharedground.text import coding, frames, sources

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store import Wave
    from sharedground.store.textschema import CodeFrame, Coder, TextCode, TextSource

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import make_rows, write_rows

#: A role wave (`role_wave`) of 42 commenters, and how many of each group the team codes
#: with finance: test_themes checks the themes table on it, test_said the report's section.
SIZES = {
    "chief_executive": 6,
    "medical_director": 12,
    "directorate_manager": 12,
    "clinical_director": 12,
}
FINANCE = {
    "chief_executive": 3,
    "medical_director": 7,
    "directorate_manager": 6,
    "clinical_director": 10,
}

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
    store: Store,
    tmp_path: Path,
    sizes: dict[str, dict[str, int]],
    name: str = "s",
    texts: Callable[[int], str] | None = None,
) -> None:
    """A wave of exactly sizes[trust][role] respondents per cell, every one of them writing a
    comment (`disclosure_helpers.composed`: built to be hard for disclosure control)."""
    from disclosure_helpers import composed

    instrument = builtin("dmr-2015")
    rows = composed(instrument, sizes)
    for i, row in enumerate(rows):
        row["comments_overall"] = (
            texts(i)
            if texts is not None
            else f"Comment {i}: budgets shape every meeting we have here."
        )
    import_file(store, write_rows(tmp_path / f"{name}.csv", instrument, rows), name, instrument)


@dataclass(frozen=True)
class CodingSetup:
    """A wave's comments as sources, ready for the team to code with the starter frame."""

    wave: Wave
    frame: CodeFrame
    sources: list[TextSource]  # the wave's, in order
    codes: dict[str, TextCode]  # the frame's, by name
    team: Coder


def ready_to_code(store: Store, session: Session, wave: str) -> CodingSetup:
    """Adds the wave's comments as sources and saves the starter frame (`dmr-themes`)."""
    found = store.get_wave(session, wave)
    sources.add_comments(store, session, found)
    frame = frames.save(session, frames.builtin("dmr-themes"))
    codes = coding.codes_of(session, frame)
    team = coding.get_coder(session, "team")
    return CodingSetup(found, frame, sources.list_sources(session, wave=found), codes, team)


T = TypeVar("T")


def in_group_order(items: Iterable[T], group: Callable[[T], Hashable]) -> Iterator[tuple[int, T]]:
    """Each item with its place among those of its group (0 for the first): to code the first
    n commenters of each role group or cell."""
    seen: dict[Hashable, int] = {}
    for item in items:
        key = group(item)
        seen[key] = seen.get(key, -1) + 1
        yield seen[key], item


def late_returns(
    session: Session,
    wave: Wave,
    organisation_id: int,
    first: int,
    n: int,
    submitted_on: dt.date,
    text: Callable[[int], str],
) -> None:
    """`n` postal returns from medical directors of one trust, `late-{first}` onwards, each
    with a comment `text(i)`: returns that come in after the wave's close."""
    from sharedground.store.schema import Response

    for i in range(first, first + n):
        session.add(
            Response(
                wave_id=wave.id,
                respondent_key=f"late-{i}",
                role="medical_director",
                organisation_id=organisation_id,
                mode="postal",
                submitted_on=submitted_on,
                answers={"role": "medical_director", "comments_overall": text(i)},
            )
        )
    session.flush()


def close_wave(store: Store, name: str) -> None:
    """End the wave's fieldwork (it closed yesterday), so that a trust's outputs read its
    final figures: every response, rather than the live ones in batches."""
    import datetime as dt

    from sharedground.fieldwork.clock import study_today

    with store.session() as session:
        wave = store.get_wave(session, name)
        wave.opens = study_today() - dt.timedelta(days=60)
        wave.closes = study_today() - dt.timedelta(days=1)
