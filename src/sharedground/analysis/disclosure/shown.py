"""Which of a trust's responses its figures read at a moment: live or final.

While fieldwork runs, a trust's live figures read its first `shown` responses in the order
the store received them (`release.release`: whole batches of the suppression threshold, one
batch behind); once it is over, the wave's released set (`final.final_release`: every
response received by the close, late ones in whole batches per role group). Every output a
lead reads during or after fieldwork (the results page, the coding pages, the trust's text
export) asks here, so that they all count the same people and move together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.analysis.disclosure.final import FinalRelease, final_release
from sharedground.analysis.disclosure.release import Release, release
from sharedground.store import Organisation, Response


@dataclass(frozen=True)
class TrustFigures:
    """The trust's responses its figures read now, and why."""

    #: The responses read, in the order the store received them.
    ids: tuple[int, ...]
    #: The trust's responses in the store.
    received: int
    #: While fieldwork runs: the live release (None once final).
    live: Release | None
    #: Once fieldwork is over: the final release, read for the trust (None while live).
    final: FinalRelease | None


def trust_figures(session: Session, wave: Any, trust: str, today: dt.date) -> TrustFigures:
    """The responses of `trust` in `wave` that its figures read on `today`.

    Once fieldwork is over this may set the wave's closing mark (`final.closing_mark`), so
    call it before anything else in the session writes, or in a session of its own.
    """
    final = final_release(session, wave, today, trust)
    if final is not None:
        return TrustFigures(tuple(sorted(final.shown_ids())), final.received, None, final)
    ids = list(
        session.scalars(
            select(Response.id)
            .join(Organisation, Organisation.id == Response.organisation_id)
            .where(Response.wave_id == wave.id, Organisation.code == trust)
            .order_by(Response.id)
        )
    )
    live = release(len(ids), int(wave.suppression_threshold), False)
    # The first `shown` in the order received: a later reading adds whole batches and never
    # takes one away.
    return TrustFigures(tuple(ids[: live.shown]), len(ids), live, None)


__all__ = ["TrustFigures", "trust_figures"]
