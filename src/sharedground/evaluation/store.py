"""Reading what the evaluation needs from the store, into the plain tables it takes (`Tables`).

- `responses`: the survey waves' responses (one row each: trust, wave, role, and the key
  measures `positive` and `rating` as `evaluation.items` reads them). A wave's period is the
  year its fieldwork opened, so waves must open in different years.
- `trusts`: every organisation that answered in those waves, with the kind and cohort of its
  first started initiative in the register (`kinds.trusts_from_register`: the cohort is the
  first wave opening on or after the initiative's actual start).
- `initiatives`: the register's started initiatives (id, trust, kind, start date).
- `pulse`: each initiative's `before` and `after` pulse answers paired by participant code
  (participants), and by comparison key (the trust's non-participants), one row per person.
- `monthly`: each initiative's monthly pulse of its trust (its monthly wave): per month the
  answers and how many agreed, and whether the month is on or after the initiative's start.

By default the survey waves are those with an opening date answered by a trust that has an
initiative in the register (so a wave of other trusts, such as a national one-off, is left
out), never the pulse waves themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.evaluation.items import measures_of
from sharedground.evaluation.summary import Tables
from sharedground.evaluation.tables import EvaluationInputError
from sharedground.initiatives.models import (
    Initiative,
    Participant,
    ParticipantCode,
    PulseTimepoint,
)
from sharedground.initiatives.pulse import COMPARISON_PREFIX
from sharedground.store import Response, Store, Wave
from sharedground.store.schema import Organisation

_RESPONSES = {
    "respondent_id": pl.Int64,
    "trust": pl.String,
    "wave": pl.Int64,
    "role": pl.String,
    "positive": pl.Int8,
    "rating": pl.Int8,
}
_PULSE = {
    "initiative_id": pl.Int64,
    "trust": pl.String,
    "person": pl.Int64,
    "role": pl.String,
    "participant": pl.Boolean,
    "before_agree": pl.Int8,
    "after_agree": pl.Int8,
    "before_rating": pl.Int8,
    "after_rating": pl.Int8,
}
_INITIATIVES = {
    "initiative_id": pl.Int64,
    "trust": pl.String,
    "kind": pl.String,
    "start_date": pl.Date,
}


def _pulse_wave_ids(session: Session) -> set[int]:
    """Every wave of the pulse questionnaire (timepoints and monthly pulses)."""
    from sharedground.initiatives.pulse import INSTRUMENT
    from sharedground.store.schema import InstrumentRecord

    on_pulse = select(Wave.id).join(InstrumentRecord, InstrumentRecord.id == Wave.instrument_id)
    return set(session.scalars(on_pulse.where(InstrumentRecord.key == INSTRUMENT))) | set(
        session.scalars(select(PulseTimepoint.wave_id))
    )


def survey_waves(session: Session) -> list[str]:
    """The default waves: not a pulse wave, with an opening date (to place it in time), and
    answered by a trust with a registered initiative; in order of opening."""
    pulse_waves = _pulse_wave_ids(session)
    registered = select(Initiative.organisation_id).distinct()
    rows = session.execute(
        select(Wave.id, Wave.name, Wave.opens)
        .where(
            Wave.id.in_(
                select(Response.wave_id).where(Response.organisation_id.in_(registered)).distinct()
            )
        )
        .order_by(Wave.opens, Wave.id)
    ).all()
    return [name for ident, name, opens in rows if ident not in pulse_waves and opens]


def _waves(session: Session, store: Store, names: list[str]) -> dict[int, tuple[int, dt.date]]:
    """wave id -> (period, opening day), checking each wave is a survey wave with a year."""
    pulse_waves = _pulse_wave_ids(session)
    out: dict[int, tuple[int, dt.date]] = {}
    years: dict[int, str] = {}
    for name in names:
        wave = store.find_wave(session, name)
        if wave is None:
            raise EvaluationInputError(f"no wave named {name!r} in the database")
        if wave.id in pulse_waves:
            raise EvaluationInputError(f"wave {name!r} is an initiative's pulse, not a survey wave")
        if wave.opens is None:
            raise EvaluationInputError(f"wave {name!r} has no opening date to place it in time")
        year = wave.opens.year
        if year in years:
            raise EvaluationInputError(
                f"waves {years[year]!r} and {name!r} both open in {year}: the evaluation "
                "compares one wave a year"
            )
        years[year] = name
        out[wave.id] = (year, wave.opens)
    if len(out) < 2:
        raise EvaluationInputError(
            "the evaluation needs at least two survey waves (before and after a start); "
            f"given: {', '.join(names) or 'none'}"
        )
    return out


def _codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.code)).all())


def register_initiatives(session: Session, initiative: int | None = None) -> pl.DataFrame:
    """The register's started initiatives: initiative_id, trust, kind, start_date."""
    query = (
        select(Initiative.id, Organisation.code, Initiative.kind, Initiative.actual_start)
        .join(Organisation, Organisation.id == Initiative.organisation_id)
        .where(Initiative.actual_start.is_not(None))
        .order_by(Initiative.id)
    )
    if initiative is not None:
        query = query.where(Initiative.id == initiative)
    return pl.DataFrame(
        [tuple(r) for r in session.execute(query)], schema=_INITIATIVES, orient="row"
    )


def survey_responses(
    session: Session, store: Store, waves: list[str]
) -> tuple[pl.DataFrame, dict[int, dt.date]]:
    """The responses table of `waves` and each period's opening day."""
    chosen = _waves(session, store, waves)
    codes = _codes(session)
    rows = []
    for ident, wave_id, role, organisation, answers in session.execute(
        select(
            Response.id, Response.wave_id, Response.role, Response.organisation_id,
            Response.answers,
        )
        .where(Response.wave_id.in_(chosen), Response.organisation_id.is_not(None))
        .order_by(Response.id)
    ):  # fmt: skip
        positive, rating = measures_of(answers or {})
        rows.append((ident, codes[organisation], chosen[wave_id][0], role, positive, rating))
    frame = pl.DataFrame(rows, schema=_RESPONSES, orient="row")
    return frame, {period: opens for period, opens in chosen.values()}


def pulse_answers(session: Session, initiative: int | None = None) -> pl.DataFrame:
    """Before and after pulse answers, one row per person (see the module's docstring)."""
    people = _pulse_people(session, initiative)
    return pl.DataFrame(
        [[row.get(c) for c in _PULSE] for row in people.values()], schema=_PULSE, orient="row"
    )


@dataclass(frozen=True)
class ReadInBatches:
    """One group's pulse as read in whole batches: the pairs read, the pairs there are, and
    who answered before but is not among the pairs read."""

    read: int
    pairs: int
    unread: int


def pulse_in_batches(
    session: Session, initiative: int
) -> tuple[pl.DataFrame, dict[bool, ReadInBatches]]:
    """One initiative's pulse as a reader who may read it after every answer sees it (a trust
    report; issue #15, item 1): per group (participants, the trust's non-participants) only
    the pairs of whole batches of the threshold, in the order their after answer arrived
    (`pulse.whole_batches`, the pairs the initiative page shows a lead), so no figure made
    from them moves by one person. Also, per group (`participant`), how many answered before
    and are not among the pairs read (no after answer, or one waiting for its batch): a
    count of people, not per question, so it does not tell whether one of them answered it."""
    from sharedground.initiatives.pulse import pair_threshold, whole_batches

    people = _pulse_people(session, initiative)
    threshold = pair_threshold(session, initiative)
    rows, counts = [], {}
    for flag in (True, False):
        group = {key: row for key, row in people.items() if row["participant"] == flag}
        pairs = {
            key: (row["_arrived"]["before"], row["_arrived"]["after"])
            for key, row in group.items()
            if {"before", "after"} <= set(row["_arrived"])
        }
        read = whole_batches(pairs, threshold)
        rows += [group[key] for key in read]
        before = sum(1 for row in group.values() if "before" in row["_arrived"])
        counts[flag] = ReadInBatches(len(read), len(pairs), before - len(read))
    frame = pl.DataFrame(
        [[row.get(c) for c in _PULSE] for row in rows], schema=_PULSE, orient="row"
    )
    return frame, counts


def _pulse_people(
    session: Session, initiative: int | None
) -> dict[tuple[int, str], dict[str, Any]]:
    """(initiative, key) -> the person's row, with `_arrived`: timepoint -> response id."""
    points = select(PulseTimepoint).where(PulseTimepoint.timepoint.in_(("before", "after")))
    codes_query = select(Participant.initiative_id, ParticipantCode.code).join(
        ParticipantCode, ParticipantCode.participant_id == Participant.id
    )
    if initiative is not None:
        points = points.where(PulseTimepoint.initiative_id == initiative)
        codes_query = codes_query.where(Participant.initiative_id == initiative)
    cohort = {(i, code) for i, code in session.execute(codes_query)}
    codes = _codes(session)
    people: dict[tuple[int, str], dict[str, Any]] = {}
    for point in session.scalars(points.order_by(PulseTimepoint.initiative_id)):
        for ident, key, role, organisation, answers in session.execute(
            select(
                Response.id, Response.respondent_key, Response.role, Response.organisation_id,
                Response.answers,
            )
            .where(Response.wave_id == point.wave_id)
            .order_by(Response.id)
        ):  # fmt: skip
            member = (point.initiative_id, key) in cohort
            if not member and not key.startswith(COMPARISON_PREFIX):
                continue  # web answers not yet keyed to a code (`pulse collect`)
            row = people.setdefault(
                (point.initiative_id, key),
                {
                    "initiative_id": point.initiative_id,
                    "trust": codes.get(organisation) if organisation else None,
                    "person": len(people) + 1,
                    "role": role,
                    "participant": member,
                    "_arrived": {},
                },
            )
            agree, rating = measures_of(answers or {})
            row[f"{point.timepoint}_agree"] = agree
            row[f"{point.timepoint}_rating"] = rating
            row["_arrived"][point.timepoint] = int(ident)
    return people


_MONTHLY = {
    "initiative_id": pl.Int64,
    "trust": pl.String,
    "month": pl.Date,
    "n": pl.Int64,
    "positive": pl.Int64,
    "after_start": pl.Boolean,
}


def monthly_series(
    session: Session, initiative: int | None = None, *, in_batches: bool = False
) -> pl.DataFrame | None:
    """The monthly pulse of each started initiative (or `initiative`) that has one; None when
    none has. A month with fewer answers than the wave's suppression threshold is left out:
    the chart would show those few people's answers. `in_batches` (a trust report, read
    again after any answer; issue #15, item 1): a month counts its answers in whole batches
    of the threshold, in the order they arrived, as one more answer moved its point by that
    person's answer."""
    from sharedground.initiatives.pulse import monthly_wave_name

    started = register_initiatives(session, initiative)
    names = {
        monthly_wave_name(i): (i, trust, start)
        for i, trust, start in started.select("initiative_id", "trust", "start_date").iter_rows()
    }
    given: dict[tuple[int, dt.date], list[int]] = {}  # agreeing (1) or not, as they arrived
    thresholds: dict[int, int] = {}
    for start in range(0, len(names), 500):
        chunk = list(names)[start : start + 500]
        for name, threshold in session.execute(
            select(Wave.name, Wave.suppression_threshold).where(Wave.name.in_(chunk))
        ):
            thresholds[names[name][0]] = threshold
        for name, day, answers in session.execute(
            select(Wave.name, Response.submitted_on, Response.answers)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.name.in_(chunk), Response.submitted_on.is_not(None))
            .order_by(Response.id)
        ):
            agree, _rating = measures_of(answers or {})
            if agree is None:
                continue
            given.setdefault((names[name][0], day.replace(day=1)), []).append(agree)
    if not given:
        return None
    counts: dict[tuple[int, dt.date], tuple[int, int]] = {}
    for (ident, month), flags in given.items():
        if in_batches:
            flags = flags[: thresholds[ident] * (len(flags) // thresholds[ident])]
        counts[(ident, month)] = (len(flags), sum(flags))
    trust_of = {i: (trust, start) for i, trust, start in names.values()}
    rows = [
        (ident, trust_of[ident][0], month, n, positive,
         month >= trust_of[ident][1].replace(day=1))
        for (ident, month), (n, positive) in sorted(counts.items())
        if n >= thresholds[ident]
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=_MONTHLY, orient="row") if rows else None


def programme_tables(store: Store, waves: list[str] | None = None) -> Tables:
    """Everything the what-works evaluation reads, from the store."""
    from sharedground.evaluation.kinds import trusts_from_register

    with store.session() as session:
        names = waves if waves else survey_waves(session)
        responses, wave_dates = survey_responses(session, store, names)
        initiatives = register_initiatives(session)
        pulse = pulse_answers(session)
        monthly = monthly_series(session)
    trusts = sorted(set(responses["trust"].to_list()))
    register = trusts_from_register(initiatives, wave_dates, trusts)
    if register["kind"].drop_nulls().is_empty():
        raise EvaluationInputError(
            "no trust in these waves started an initiative between two of them: nothing to evaluate"
        )
    return Tables(responses, register, pulse, monthly, initiatives)


def initiative_tables(store: Store, initiative: int) -> Tables:
    """One initiative's before/after pulse answers (its `Tables` has no survey responses)."""
    from sharedground.initiatives.kinds import BUILTIN

    with store.session() as session:
        initiatives = register_initiatives(session, initiative)
        row = session.get(Initiative, initiative)
        if row is None:
            raise EvaluationInputError(f"no initiative {initiative} in the register")
        pulse = pulse_answers(session, initiative)
        monthly = monthly_series(session, initiative)
    if pulse.is_empty():
        kind = BUILTIN.get(row.kind)
        why = (
            f"{kind.label.lower()} has no cohort, so no pulse; evaluate its kind instead "
            f"(--kind {row.kind})"
            if kind is not None and not kind.groups_people
            else "create the pulse waves and `pulse collect` the answers"
        )
        raise EvaluationInputError(
            f"initiative {initiative}: no pulse answers before or after, keyed by participant "
            f"code ({why})"
        )
    empty = pl.DataFrame(schema=_RESPONSES)
    trusts = pl.DataFrame(schema={"trust": pl.String, "kind": pl.String, "cohort": pl.Int64})
    return Tables(empty, trusts, pulse, monthly, initiatives)
