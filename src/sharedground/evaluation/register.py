"""The evaluation's tables read from the initiative register (`sharedground.initiatives`):
an initiative's pulse answers before and after, one row per participant, for `beforeafter`.

The register's pulse is its participants' (there are no non-participants in it); answers are
keyed by a participant's code, never their e-mail. The pulse's `local_rating` (1-5) is the
rating and `work_as_team` the agree/not item (strongly or tend to agree: 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

AGREEING = {"strongly_agree", "tend_to_agree"}
DISAGREEING = {"strongly_disagree", "tend_to_disagree"}


def _rating(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None  # not answered, or "don't know"
    return number if 1 <= number <= 5 else None


def _agree(value: Any) -> int | None:
    if value in AGREEING:
        return 1
    if value in DISAGREEING:
        return 0
    return None


def pulse_frame(session: Any, initiative_id: int) -> pl.DataFrame:
    """initiative_id, participant (True), before_/after_ agree and rating, one row per
    participant who answered the pulse before (after: null if they did not answer later)."""
    from sharedground.initiatives.models import Participant, ParticipantCode, PulseTimepoint
    from sharedground.store import Response

    codes = set(
        session.scalars(
            select(ParticipantCode.code)
            .join(Participant, Participant.id == ParticipantCode.participant_id)
            .where(Participant.initiative_id == initiative_id)
        )
    )
    waves = dict(
        session.execute(
            select(PulseTimepoint.timepoint, PulseTimepoint.wave_id).where(
                PulseTimepoint.initiative_id == initiative_id
            )
        ).all()
    )
    answers: dict[str, dict[str, dict[str, Any]]] = {}
    for point in ("before", "after"):
        if point not in waves:
            answers[point] = {}
            continue
        answers[point] = {
            key: dict(doc)
            for key, doc in session.execute(
                select(Response.respondent_key, Response.answers).where(
                    Response.wave_id == waves[point]
                )
            )
            if key in codes
        }
    rows = []
    for code in sorted(answers["before"]):
        b, a = answers["before"][code], answers["after"].get(code)
        rows.append(
            {
                "initiative_id": initiative_id,
                "participant": True,
                "before_agree": _agree(b.get("work_as_team")),
                "after_agree": None if a is None else _agree(a.get("work_as_team")),
                "before_rating": _rating(b.get("local_rating")),
                "after_rating": None if a is None else _rating(a.get("local_rating")),
            }
        )
    schema = {
        "initiative_id": pl.Int64,
        "participant": pl.Boolean,
        "before_agree": pl.Int64,
        "after_agree": pl.Int64,
        "before_rating": pl.Int64,
        "after_rating": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


#: The pulse items as the trust report names them in its before/after tests.
ITEM_LABELS = {
    "agree": "Doctors and managers work well together as a team (agreeing)",
    "rating": "Overall rating of working relationships (1 to 5)",
}
TEST_NAMES = {"mcnemar": "exact McNemar", "signed_rank": "Wilcoxon signed-rank", "sign": "sign"}


def paired_rows(
    session: Any, initiative_id: int, threshold: int, *, in_batches: bool = False
) -> list[dict[str, str]]:
    """The participants' paired tests as a trust report prints them: item, test, pairs,
    lost to follow-up, change (percentage points for agreeing, points for the rating), its
    95% interval and p; a test on fewer pairs than `threshold` is "not enough to judge".

    `in_batches` (the trust report; issue #15, item 1): the tests read the pairs of whole
    batches only (`evaluation.store.pulse_in_batches`, those of the report's before/after
    table), and "lost" counts everyone who answered before whose after answer is not read
    (not given, or waiting for its batch), besides a read pair's unanswered question."""
    from sharedground.evaluation.beforeafter import before_after
    from sharedground.evaluation.paired import mcnemar, sign_test, signed_rank

    unread = 0
    if in_batches:
        from sharedground.evaluation.store import pulse_in_batches

        frame, left = pulse_in_batches(session, initiative_id)
        frame, unread = frame.filter(pl.col("participant")), left[True].unread
    else:
        frame = pulse_frame(session, initiative_id)
    if frame.height:
        found = [
            (r.item, r.participants.tests)
            for r in before_after(
                frame, {"agree": "agree", "rating": "rating"}, min_pairs=threshold
            )
        ]
    elif unread:  # no whole batch of pairs yet: the tests say so, and who is not read
        none = np.empty(0)
        found = [
            ("agree", [mcnemar(none, none, min_pairs=threshold)]),
            ("rating", [signed_rank(none, none, min_pairs=threshold),
                        sign_test(none, none, min_pairs=threshold)]),
        ]  # fmt: skip
    else:
        return []
    rows = []
    for item, tests in found:
        scale, digits = (100.0, 1) if item == "agree" else (1.0, 2)
        for t in tests:
            judged = t.p_value is not None
            rows.append(
                {
                    "item": ITEM_LABELS[item],
                    "test": TEST_NAMES[t.test],
                    "pairs": str(t.n_pairs),
                    "lost": str(t.n_lost + unread),
                    "change": f"{t.estimate * scale:+.{digits}f}"
                    if judged and t.estimate is not None
                    else "–",
                    "interval": f"{t.ci_low * scale:+.{digits}f} to {t.ci_high * scale:+.{digits}f}"
                    if judged and t.ci_low is not None and t.ci_high is not None
                    else "–",
                    "p": f"{t.p_value:.3f}" if t.p_value is not None else "not enough to judge",
                }
            )
    return rows
