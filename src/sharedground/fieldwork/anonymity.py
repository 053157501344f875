"""Anonymous waves: completed questionnaires join the responses in batches, not one by one.

When a respondent of an anonymous wave submits (online, or by a reconciled paper return),
two things are written: the completion against their link or contact (fieldwork needs it:
no reminders, no double counting) and their answers. Written in one transaction, the two
rows share that transaction's identity: on PostgreSQL every row carries the id of the
transaction that wrote it (the `xmin` system column, readable by anyone who can SELECT),
so the response could be paired with the completed link and hence the person. Even in two
consecutive transactions, consecutive ids would pair them.

So the answers are first *held* (`held_response`, in the completing transaction), and
`release` moves held questionnaires into `response` only when at least `RELEASE_BATCH` of
a wave are waiting, all in one transaction of their own, in random order, each with a
random key. Every response of a batch then carries the same transaction id and sits in
random order among its batch: which of the batch's people wrote which is not in the
database. `release(..., force=True)` empties the hold at the end of fieldwork
(`sharedground wave release`); by then the release is far from any one completion.

Nothing is lost while held: the answers are in the database from the moment the
respondent submits, and a release either moves a held questionnaire whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from sharedground.store import Response, Wave
from sharedground.store.schema import HeldResponse

#: How many anonymous questionnaires of a wave wait before they join the responses.
RELEASE_BATCH = 10
# Respondent keys start with where the answers came from, as named answers' keys do.
_KEY_PREFIX = {"online": "web"}


def hold(
    session: Session,
    wave: Wave | int,
    *,
    role: str,
    organisation_id: int | None,
    mode: str,
    submitted_on: dt.date | None,
    answers: dict[str, Any],
) -> None:
    """Keep an anonymous wave's completed questionnaire until `release` moves it.

    Runs in the transaction that records the completion; nothing in the held row points
    at the link, the contact or the paper return.
    """
    wave_id = wave if isinstance(wave, int) else wave.id
    session.execute(
        insert(HeldResponse).values(
            wave_id=wave_id,
            role=role,
            organisation_id=organisation_id,
            mode=mode,
            submitted_on=submitted_on,
            answers=answers,
        )
    )


def held(session: Session, wave: Wave | int) -> int:
    """How many of a wave's questionnaires are waiting to be released."""
    wave_id = wave if isinstance(wave, int) else wave.id
    return int(
        session.scalar(
            select(func.count()).select_from(HeldResponse).where(HeldResponse.wave_id == wave_id)
        )
        or 0
    )


def release(
    session: Session, wave: Wave | int, *, minimum: int = RELEASE_BATCH, force: bool = False
) -> int:
    """Move a wave's held questionnaires into the responses; returns how many moved.

    Nothing moves while fewer than `minimum` are held, unless `force`. Must run in a
    transaction of its own (never the one that held a questionnaire). Two releases at
    once cannot move a questionnaire twice: each takes the rows it deleted, and a row
    deleted by the other transaction is not returned.
    """
    wave_id = wave if isinstance(wave, int) else wave.id
    if not force and held(session, wave_id) < minimum:
        return 0
    taken = session.execute(
        delete(HeldResponse)
        .where(HeldResponse.wave_id == wave_id)
        .returning(
            HeldResponse.role,
            HeldResponse.organisation_id,
            HeldResponse.mode,
            HeldResponse.submitted_on,
            HeldResponse.answers,
        )
    ).all()
    if not taken:
        return 0
    rows = [
        {
            "wave_id": wave_id,
            "respondent_key": f"{_KEY_PREFIX.get(mode, mode)}-{secrets.token_hex(10)}",
            "role": role,
            "organisation_id": organisation_id,
            "mode": mode,
            "submitted_on": submitted_on,
            "answers": answers,
        }
        for role, organisation_id, mode, submitted_on, answers in taken
    ]
    # Shuffled, so that the order of ids in `response` is not the order of completion.
    random.SystemRandom().shuffle(rows)
    session.execute(insert(Response), rows)
    return len(rows)


def release_due(session: Session, *, minimum: int = RELEASE_BATCH) -> int:
    """`release` every wave with at least `minimum` held; returns how many moved in all."""
    due = session.scalars(
        select(HeldResponse.wave_id)
        .group_by(HeldResponse.wave_id)
        .having(func.count() >= minimum)
        .order_by(HeldResponse.wave_id)
    ).all()
    return sum(release(session, wave_id, minimum=minimum) for wave_id in due)
