"""The report's "What respondents said": each theme with its counts by role group and a box
of quotations, as the published report has, from the team's resolved coding.

Made only when the team (coder `team`) has coded some of the wave's comments; the frame is
the one holding most of those codings. The themes are the frame's top-level codes (each
counting its sub-codes). Counts and quotations come from `themes` and `quotations`, so the
same suppression applies.

The national report prints each theme by role group, a trust's report the trust's own role
groups and its total. Both read the wave's one text decision (`text.disclosure`): a group the
survey's tables withhold in a trust is withheld in its text table too, and the cells are
withheld across trusts together, so the reports of all trusts and the national report
cannot be set against one another. A quotation is attributed to a role group only where
that report shows the group's count for the theme: quoting a group whose count is withheld
would tell that someone there wrote about it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sharedground.text.quotations import Quotation

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.decide import Decision
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
    #: The trust of a trust's report (its groups and its total), None for the national one.
    trust: str | None = None


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
    survey: Decision | None = None,
    today: dt.date | None = None,
) -> Said | None:
    """The section for a wave (or one trust of it); None when the team has coded nothing.

    `survey` is the wave's disclosure decision (made here when not given); `cache` keeps the
    wave's text decision between the reports of one run; `today` the day the reports are made
    (after the close, their final figures count only the responses released by then).
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
    from sharedground.text.disclosure import text_decision
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
        cache = {} if cache is None else cache
        key = f"{wave_name}/{frame.id}"
        # Made again for another survey decision (a caller may change the wave's threshold).
        if key not in cache or (survey is not None and cache[key].survey is not survey):
            cache[key] = text_decision(
                store, session, wave, frame, TEAM_CODER, survey, with_sources=True, today=today
            )
        table = themes.table(
            store, session, wave, frame, organisation_id=organisation, decision=cache[key]
        )
        descriptions = {c.id: c.description for c, _ in stored_def(frame).walk()}
        found = []
        for row in table.rows:
            if row.depth:
                continue
            shown = {
                g for g, cell in zip(table.groups, row.cells, strict=True) if not cell.withheld
            }
            chosen = quotations.pick(
                store,
                session,
                wave,
                frame,
                row.code,
                count=quotes,
                organisation_id=organisation,
                roles=shown,
                today=today,
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
        trust=trust,
    )
