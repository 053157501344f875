"""The final figures of a wave: which responses every output reads once fieldwork is over.

While fieldwork runs, a lead's live figures lag in whole batches (`release`). Once it is
over, every output of the wave (the results page, the national and trust reports, the
analysis tables) reads one set of responses, the wave's *released* set:

* every response the store held when the figures were first read as final (the *closing
  mark*, kept in the `setting` table as the highest response id of the wave at that
  moment), and
* of those that arrived later (a paper questionnaire keyed after the close, a held
  anonymous batch released late), whole batches of the suppression threshold within each
  trust x role group, taken in the order the store received them; the rest wait.

Why a mark rather than the response's date: a paper return is dated the day it was
received, which may be before the close though it is keyed weeks later, and a reader who
read the final figures before it was keyed and again after would see them move by that
one response. The mark records what the store held, whatever the dates say.

Why within each trust x role group rather than per trust: a trust report prints its role
groups, and the national report its role margins; five late returns to one trust with one
clinical director among them would move that trust's clinical directors (and the nation's)
by one person. Batched per group, every printed cell, margin and total moves by a whole
batch or not at all.

No output reads the figures as final before the mark exists, and the mark is written by
the first reading after the close, so no figure a reader saw as final can have left out a
response that was there (a live reading lags by a batch or more: `release`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharedground.store import Organisation, Response, Store, StoreError
from sharedground.store.quick import CLOSING_MARK
from sharedground.store.schema import HeldResponse, Setting

if TYPE_CHECKING:
    from sharedground.analysis.source import WaveData

BoolArray = npt.NDArray[np.bool_]

#: The `setting` row holding a wave's closing mark.
MARK_NAME = CLOSING_MARK


def marked(session: Session, wave_id: int) -> int | None:
    """The wave's closing mark (highest response id when first read as final), if set."""
    row = session.get(Setting, MARK_NAME.format(wave_id))
    return None if row is None else int(row.value)


def fieldwork_over(session: Session, wave: Any, today: dt.date) -> bool:
    """The closing day has passed and no completed questionnaire is held back.

    Once the closing mark is set the figures stay final: a questionnaire held later (a
    late anonymous return) joins them as a late one, never takes them back to live.
    """
    if wave.closes is None or today <= wave.closes:
        return False
    if marked(session, wave.id) is not None:
        return True
    held = session.scalar(
        select(func.count()).select_from(HeldResponse).where(HeldResponse.wave_id == wave.id)
    )
    return not held


def closing_mark(session: Session, wave: Any, today: dt.date) -> int | None:
    """The wave's closing mark, set now if fieldwork is over and it is not yet; None while
    fieldwork runs.

    Two first readings at once agree: the row is inserted only if absent, then read back.
    """
    if not fieldwork_over(session, wave, today):
        return None
    found = marked(session, wave.id)
    if found is not None:
        return found
    highest = session.scalar(select(func.max(Response.id)).where(Response.wave_id == wave.id))
    name = MARK_NAME.format(wave.id)
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Setting)
        .values(name=name, value=str(highest or 0))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    session.flush()
    found = marked(session, wave.id)
    assert found is not None
    return found


def released_mask(cells: Sequence[Hashable], late: Sequence[bool], batch: int) -> BoolArray:
    """Which responses (in the order the store received them) the final figures include.

    Every response not `late`, and of the late ones, per cell (a trust x role group) the
    first `batch` x (whole batches) of them.
    """
    shown = np.ones(len(cells), dtype=bool)
    if batch <= 1:
        return shown
    pairs = list(zip(cells, late, strict=True))
    late_in: Counter[Hashable] = Counter(c for c, is_late in pairs if is_late)
    allowed = {c: batch * (n // batch) for c, n in late_in.items()}
    taken: Counter[Hashable] = Counter()
    for i, (cell, is_late) in enumerate(pairs):
        if not is_late:
            continue
        if taken[cell] < allowed[cell]:
            taken[cell] += 1
        else:
            shown[i] = False
    return shown


@dataclass(frozen=True)
class FinalRelease:
    """What the final figures of a wave (or of one trust in it) include."""

    mark: int
    batch: int
    #: Responses in the store, in id order: their ids, (trust, role) and whether shown.
    ids: list[int]
    cells: list[tuple[str | None, str]]
    shown: BoolArray
    #: Responses that arrived after the mark, and those of them waiting for a batch.
    late: int
    waiting: dict[tuple[str | None, str], int] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return len(self.ids)

    @property
    def included(self) -> int:
        return int(self.shown.sum())

    @property
    def on_time(self) -> int:
        return self.received - self.late

    @property
    def held_back(self) -> int:
        return self.received - self.included

    @property
    def next_needed(self) -> int:
        """The fewest further late returns (all of one role group in one trust) that
        would change the figures. Not for a lead's pages: it follows the late returns'
        role groups (after two, 3 if they are of one group, 4 if of two), so it would say
        whether the last was a colleague of an earlier one."""
        return min((self.batch - n for n in self.waiting.values()), default=self.batch)

    def describe(self, whose: str = "") -> str:
        """Which responses the figures include, and when they next change, in a sentence."""
        text = (
            f"Final figures{whose}: from the {self.on_time:,} responses received by the end "
            "of fieldwork"
        )
        if not self.late:
            return text + "."
        return text + (
            f" and {self.late - self.held_back:,} of the {self.late:,} returned after it. "
            f"Late returns join in batches of {self.batch} from one role group of one trust, "
            f"so that no figure moves by one response; {self.held_back:,} wait for their "
            "group's batch."
        )

    def shown_ids(self) -> set[int]:
        return {i for i, keep in zip(self.ids, self.shown, strict=True) if keep}

    @cached_property
    def _by_trust(self) -> dict[str | None, list[int]]:
        found: dict[str | None, list[int]] = {}
        for i, (trust, _role) in enumerate(self.cells):
            found.setdefault(trust, []).append(i)
        return found

    def for_trust(self, trust: str) -> FinalRelease:
        """The same release read for one trust's responses."""
        keep = self._by_trust.get(trust, [])
        cells = [self.cells[i] for i in keep]
        late = sum(1 for i in keep if self.ids[i] > self.mark)
        return replace(
            self,
            ids=[self.ids[i] for i in keep],
            cells=cells,
            shown=self.shown[keep] if keep else np.zeros(0, dtype=bool),
            late=late,
            waiting={k: n for k, n in self.waiting.items() if k[0] == trust},
        )


def final_release(
    session: Session, wave: Any, today: dt.date, trust: str | None = None
) -> FinalRelease | None:
    """The wave's released set (of one trust's responses with `trust`); None while
    fieldwork runs (then live figures follow `release.release`)."""
    mark = closing_mark(session, wave, today)
    if mark is None:
        return None
    query = (
        select(Response.id, Organisation.code, Response.role)
        .outerjoin(Organisation, Organisation.id == Response.organisation_id)
        .where(Response.wave_id == wave.id)
        .order_by(Response.id)
    )
    if trust is not None:
        query = query.where(Organisation.code == trust)
    rows = session.execute(query).all()
    ids = [int(r[0]) for r in rows]
    cells: list[tuple[str | None, str]] = [(r[1], str(r[2] or "")) for r in rows]
    late = [i > mark for i in ids]
    batch = int(wave.suppression_threshold)
    shown = released_mask(cells, late, batch)
    waiting: Counter[tuple[str | None, str]] = Counter(
        c for c, keep in zip(cells, shown, strict=True) if not keep
    )
    return FinalRelease(mark, batch, ids, cells, shown, sum(late), dict(waiting))


def released_ids(
    session: Session, wave: Any, today: dt.date | None = None
) -> frozenset[int] | None:
    """The ids of the responses the wave's final figures include, when some are held back
    (late returns waiting for a whole batch); None when every stored response counts (while
    fieldwork runs, or once all late returns are released).

    For outputs that read the store rather than a `WaveData` (the text tables, quotations):
    they then count the same people as the survey's final figures.
    """
    from sharedground.fieldwork.clock import study_today

    found = final_release(session, wave, today or study_today())
    if found is None or not found.held_back:
        return None
    return frozenset(found.shown_ids())


def released_data(
    store: Store, data: WaveData, today: dt.date | None = None
) -> tuple[WaveData, FinalRelease | None]:
    """The wave's data as its final figures read it: the released set once fieldwork is
    over (with what it includes), the data unchanged (and None) while it runs.

    `data` must be the wave's responses in id order, as `load_wave` reads them.
    """
    from sharedground.fieldwork.clock import study_today

    today = today or study_today()
    with store.session() as session:
        wave = store.get_wave(session, data.name)
        found = final_release(session, wave, today)
    if found is None:
        return data, None
    trusts = data.frame["trust"].to_list()
    if len(trusts) != found.received or any(
        t != c[0] for t, c in zip(trusts, found.cells, strict=True)
    ):
        # A response came or went between reading the answers and their ids: the frame's
        # rows cannot be matched to the release. Reading again normally settles it.
        raise StoreError(
            f"wave {data.name}: responses changed while the final figures were read; try again"
        )
    if found.held_back == 0:
        return data, found
    frame = data.frame.filter(pl.Series(found.shown))
    return replace(data, frame=frame), found


__all__ = [
    "FinalRelease",
    "closing_mark",
    "fieldwork_over",
    "final_release",
    "marked",
    "released_data",
    "released_ids",
    "released_mask",
]
