"""Free-text comments by questionnaire section, anonymised and attributed by role group only."""

from __future__ import annotations

import polars as pl

from sharedground.instrument import Instrument, TextItem
from sharedground.report.anonymise import anonymise
from sharedground.report.model import Comment, CommentSection, Group

#: Most comments printed per question; a national wave can have tens of thousands.
DEFAULT_LIMIT = 12


def text_items(instrument: Instrument) -> list[TextItem]:
    """The free-text items whose answers the report prints (`comments_*`, `barriers_other`)."""
    return [
        item
        for item in instrument.items()
        if isinstance(item, TextItem)
        and (item.id.startswith("comments_") or item.id == "barriers_other")
    ]


def collect(
    frame: pl.DataFrame,
    instrument: Instrument,
    groups: list[Group],
    *,
    limit: int = DEFAULT_LIMIT,
    seed: int = 0,
    sampled_from: int | None = None,
) -> list[CommentSection]:
    """Comments per text item, from the shown groups only, at most `limit` each.

    When there are more than `limit`, a seeded random sample is printed (so the same data
    always gives the same report) and the section says how many there were. Comments are
    anonymised after sampling: only printed text needs the (slow) scrubbing.

    Args:
        frame: responses with a `role` column and one column per text item.
        instrument: the questionnaire (section titles and question wording).
        groups: report groups; comments from hidden groups are dropped.
        limit: the most comments printed per question.
        seed: seed of the sample.
    """
    shown = {g.id: g.label for g in groups if g.shown}
    order = {g.id: i for i, g in enumerate(groups)}
    sections: list[CommentSection] = []
    if "role" not in frame.columns:
        return sections
    frame = frame.filter(pl.col("role").is_in(list(shown)))
    for item in text_items(instrument):
        if item.id not in frame.columns:
            continue
        answered = frame.select("role", pl.col(item.id).str.strip_chars().alias("text")).filter(
            pl.col("text").is_not_null() & (pl.col("text").str.len_chars() > 0)
        )
        total = answered.height
        if total == 0:
            continue
        if total > limit:
            answered = answered.sample(n=limit, seed=seed, shuffle=True)
        chosen = sorted(answered.iter_rows(), key=lambda r: (order[r[0]], r[1]))
        section = instrument.section_of(item.id)
        sections.append(
            CommentSection(
                id=item.id,
                title=section.title,
                question=item.text,
                comments=[Comment(item.id, shown[role], anonymise(text)) for role, text in chosen],
                total=total,
                sampled_from=sampled_from,
            )
        )
    return sections
