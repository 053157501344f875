"""Which of a trust's comments its lead may read, at a moment: those whose response the
trust's figures include, and only in whole batches.

A lead who reads the coding pages (or the trust's text export) before and after one
colleague completes the survey must not find that colleague's comment as the one that came
new. So a comment is shown to a lead only once its response is in the trust's figures
(`analysis.disclosure.shown`: during fieldwork the first responses in whole batches of the
suppression threshold, one batch behind; after the close every on-time response and late
ones in whole batches per role group), and the comments shown change by whole batches of
respondents or not at all.

The figures alone do not give that here: comments become sources only when the team adds
them (`text add --wave`, at any time). Had the team added the comments of responses 1-9 and
the figures then took in response 10, the list would gain response 10's comment alone at the
next `text add`. So what is shown is also cut to what the team had added when it last ran:
every response up to the highest one `add_comments` read (`sources.comments_added_to`: it
reads every response of the wave in one go, so each of those has its sources, or wrote
nothing), counted in whole batches as the figures count:

* during fieldwork (and after the close, until the team has added every on-time response's
  comments): the first `shown` responses, cut to a whole number of batches of those added;
* after the close, once it has: every on-time response, and of the late ones in the final
  figures, per trust x role group, whole batches of those added.

Either count is a multiple of the batch, and the step from the first to the second is a
batch or more (the live one lags a batch behind the on-time responses), so every change a
lead can see is a whole batch of respondents. The research team sees every source.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sharedground.analysis.disclosure.final import FinalRelease
from sharedground.analysis.disclosure.release import Release, release
from sharedground.analysis.disclosure.shown import trust_figures


@dataclass(frozen=True)
class CommentsShown:
    """The comments of one wave a trust's lead may read, and when that next changes."""

    wave: str
    #: The responses whose comments are shown.
    responses: frozenset[int]
    batch: int
    #: While fieldwork runs (or the comments of every on-time response are not yet added):
    #: the release the comments follow; None once they follow the final figures.
    live: Release | None
    #: Once fieldwork is over: the trust's final release (None while it runs).
    final: FinalRelease | None
    #: The figures include responses whose comments the team has not added yet: they are
    #: shown, in whole batches, once it has.
    to_add: bool

    def shows(self, response_id: int | None) -> bool:
        return response_id is not None and response_id in self.responses


def _whole(ids: list[int], added_to: int, batch: int) -> list[int]:
    """Of `ids` (in the order received), the first whole batches of those added by now."""
    added = sum(1 for i in ids if i <= added_to)
    return ids[: batch * (added // batch)]


def comments_shown(session: Session, wave: Any, trust: str, today: dt.date) -> CommentsShown:
    """The comments of `wave` that the lead of `trust` may read on `today`.

    Like `trust_figures`, this may set the wave's closing mark: call it before anything else
    in the session writes, or in a session of its own.
    """
    from sharedground.text.sources import comments_added_to

    figures = trust_figures(session, wave, trust, today)
    batch = max(int(wave.suppression_threshold), 1)
    added_to = comments_added_to(session, wave.id)
    final = figures.final
    if final is None or added_to < final.mark:
        if final is None:
            live = figures.live
            assert live is not None
            base = list(figures.ids)
        else:
            # Closed, but the team has not added the comments of every on-time response:
            # they go on as they did while fieldwork ran.
            on_time = [i for i in final.ids if i <= final.mark]
            live = release(len(on_time), batch, False)
            base = on_time[: live.shown]
        shown = _whole(base, added_to, batch)
        return CommentsShown(
            wave.name, frozenset(shown), batch, live, final, len(shown) < len(base)
        )
    late: dict[Any, list[int]] = defaultdict(list)
    keep = [i for i in final.ids if i <= final.mark]
    for i, cell, included in zip(final.ids, final.cells, final.shown, strict=True):
        if i > final.mark and included:
            late[cell].append(i)
    for ids in late.values():
        keep += _whole(ids, added_to, batch)
    return CommentsShown(
        wave.name,
        frozenset(keep),
        batch,
        None,
        final,
        len(keep) < len(figures.ids),
    )


def listed_to_lead(session: Session, wave_id: int, shown: CommentsShown, decided: bool) -> bool:
    """Whether a trust's lead is given the wave's comments at all (its coding pages list
    them, its export carries them): a lead counts them, and the trust's commenters with
    them.

    Once the comments follow the final figures (`shown.live` is None): where the wave's text
    decision prints the trust's number of commenters (`decided`, from
    `text.disclosure.listed_waves`). While they follow the live release: where the released
    responses hold at least a batch of commenters. That count moves only when a batch is
    released, whereas the decision over every stored response could start listing them
    just as the one respondent who completed last wrote a comment.
    """
    if shown.live is None:
        return decided
    from sqlalchemy import distinct, func, select

    from sharedground.store.textschema import TextSource

    if not shown.responses:
        return False
    commenters = session.scalar(
        select(func.count(distinct(TextSource.response_id))).where(
            TextSource.wave_id == wave_id,
            TextSource.kind == "comment",
            TextSource.response_id.in_(sorted(shown.responses)),
        )
    )
    return int(commenters or 0) >= shown.batch


def live_roles(session: Session, wave_id: int, shown: CommentsShown) -> frozenset[str]:
    """While comments follow the live release: the role groups a trust's outputs may name
    on them, by the released commenters alone (the survey's rule within the trust:
    `suppression.suppress` over the commenters per group, a small group's partner withheld
    with it). The wave's text decision counts every stored response, so a group named by it
    could start being named as the one respondent who completed last wrote; this moves
    only with a batch."""
    import numpy as np
    from sqlalchemy import distinct, func, select

    from sharedground.analysis.suppression import suppress
    from sharedground.store.textschema import TextSource

    if not shown.responses:
        return frozenset()
    rows = session.execute(
        select(TextSource.role, func.count(distinct(TextSource.response_id)))
        .where(
            TextSource.wave_id == wave_id,
            TextSource.kind == "comment",
            TextSource.response_id.in_(sorted(shown.responses)),
        )
        .group_by(TextSource.role)
    ).all()
    counts = {str(role): int(n) for role, n in rows if role}
    total = sum(int(n) for _, n in rows)
    if not counts:
        return frozenset()
    roles = sorted(counts)
    withheld, _ = suppress(np.array([counts[r] for r in roles]), total, shown.batch)
    return frozenset(r for r, hidden in zip(roles, withheld, strict=True) if not hidden)


__all__ = ["CommentsShown", "comments_shown", "listed_to_lead", "live_roles"]
