"""The report's "What respondents said": each theme with its counts by role group and a box
of quotations, as the published report has, from the team's resolved coding.

Made only when the team (coder `team`) has coded some of the wave's comments; the frame is
the one holding most of those codings. The themes are the frame's top-level codes (each
counting its sub-codes). Counts and quotations come from `themes` and `quotations`, so the
same suppression applies.

The national report prints each theme by role group. A trust's report prints the trust's
own figure only, not its role groups: that figure is the trust's cell of the wave's
themes-by-trust table, suppressed across every trust at once (a withheld trust is withheld
with partners), so the reports of all trusts and the national report together print only
the margins of the trust x role table, never a cell of it that "national minus the other
trusts" could give away. A trust's quotations come from its own role groups of at least the
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sharedground.text.quotations import Quotation
from sharedground.text.themes import ThemeTable

if TYPE_CHECKING:
    from sharedground.store import Store
    from sharedground.text.themes import Cell

WITHHELD = "–"


@dataclass(frozen=True)
class SaidTheme:
    code: str
    name: str
    description: str | None
    cells: list[str]
    total: str
    quotations: list[Quotation]


@dataclass(frozen=True)
class Said:
    frame: str
    labels: list[str]
    commenters: list[str]
    total_commenters: str
    themes: list[SaidTheme]
    threshold: int
    #: The national report's "All" column; a trust's report prints only its own column.
    show_total: bool = True


def _one_trust(table: ThemeTable, trust: str) -> ThemeTable:
    """The trust's column of the wave's themes-by-trust table (empty if it has no comment)."""
    from sharedground.text.themes import Cell, ThemeRow

    index = table.groups.index(trust) if trust in table.groups else None
    empty = Cell(None, None, None)
    rows = [
        ThemeRow(
            row.code,
            row.name,
            row.depth,
            [empty if index is None else row.cells[index]],
            empty,
            None,
        )
        for row in table.rows
    ]
    commenters = [None if index is None else table.commenters[index]]
    return ThemeTable(
        table.wave,
        table.frame,
        table.coder,
        "trust",
        table.threshold,
        [trust],
        ["This trust"],
        commenters,
        None,
        rows,
    )


def _cell(cell: Cell) -> str:
    if cell.withheld:
        return WITHHELD
    percent = "" if cell.percent is None else f" ({cell.percent:.0f}%)"
    return f"{cell.respondents}{percent}"


def said(
    store: Store,
    wave_name: str,
    *,
    trust: str | None = None,
    quotes: int = 3,
    cache: dict[str, Any] | None = None,
) -> Said | None:
    """The section for a wave (or one trust of it); None when the team has coded nothing.

    `cache` keeps the wave's themes-by-trust table between the trust reports of one run.
    """
    from sqlalchemy import func, select

    from sharedground.store.textschema import (
        TEAM_CODER,
        CodeFrame,
        Coder,
        Coding,
        TextCode,
        TextSource,
    )
    from sharedground.text import quotations, themes
    from sharedground.text.frames import stored_def
    from sharedground.text.sources import trust_id

    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        busiest = session.execute(
            select(TextCode.frame_id, func.count())
            .join(Coding, Coding.code_id == TextCode.id)
            .join(Coder, Coder.id == Coding.coder_id)
            .join(TextSource, TextSource.id == Coding.source_id)
            .where(Coder.name == TEAM_CODER, TextSource.wave_id == wave.id)
            .group_by(TextCode.frame_id)
            .order_by(func.count().desc(), TextCode.frame_id)
            .limit(1)
        ).first()
        if busiest is None:
            return None
        frame = session.get(CodeFrame, busiest[0])
        assert frame is not None
        organisation = trust_id(session, trust)
        if trust is None:
            table = themes.table(store, session, wave, frame)
        else:
            cache = {} if cache is None else cache
            key = f"{wave_name}/{frame.id}"
            if key not in cache:
                cache[key] = themes.table(store, session, wave, frame, by="trust")
            table = _one_trust(cache[key], trust)
        descriptions = {c.id: c.description for c, _ in stored_def(frame).walk()}
        found = []
        for row in table.rows:
            if row.depth:
                continue
            chosen = quotations.pick(
                store, session, wave, frame, row.code, count=quotes, organisation_id=organisation
            )
            found.append(
                SaidTheme(
                    row.code,
                    row.name,
                    descriptions.get(row.code),
                    [_cell(c) for c in row.cells],
                    _cell(row.total),
                    chosen,
                )
            )
    return Said(
        frame=table.frame,
        labels=table.labels,
        commenters=[WITHHELD if n is None else str(n) for n in table.commenters],
        total_commenters=WITHHELD
        if table.total_commenters is None
        else str(table.total_commenters),
        themes=found,
        threshold=table.threshold,
        show_total=trust is None,
    )
