"""The before/after pulse: the short `dmr-pulse` questionnaire at an initiative's timepoints.

Each timepoint (`before`, `after`, `follow_up`) is an ordinary, named wave on `dmr-pulse`
whose contacts are the cohort, so the existing personal links, SMTP sending and reminders
(`sharedground send --wave ...`) reach them. Answers are ordinary responses. Their key is
the participant's pseudonymous code, never a name or address: answers imported from a file
carry the code as `respondent_id`, and `collect` re-keys web answers (which arrive keyed by
their link) to the code, so no response points at a link, a contact or a participant. Before
and after are paired through the code alone.

Results never show an individual: a figure from fewer paired participants than the wave's
suppression threshold is withheld, and attrition is shown as counts of the cohort. For a
reader who can look again after each answer (an organisation lead on the initiative's
page, a trust report: `initiatives.reporting`) nor can one be had by difference (issue
#15, item 1): `results(..., in_batches=True)` reads the pairs in whole batches of the
threshold, in the order their later answer arrived, so a reading taken before and after
someone answers differs by nothing or by a batch of people. Counted over every pair, the
means move with each "after" answer, and n x the new mean less (n - 1) x the old gives that
participant's answers, before and after.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork.accounts import audit
from sharedground.initiatives import participants, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Participant, ParticipantCode, PulseTimepoint
from sharedground.instrument import Instrument, builtin
from sharedground.store import Contact, Response, Store, Wave
from sharedground.store.schema import Link

INSTRUMENT = "dmr-pulse"
TIMEPOINTS = ("before", "after", "follow_up")
#: Agreement as a score, so that a change can be averaged; "don't know" counts as no answer.
LIKERT_SCORE = {
    "strongly_agree": 4.0,
    "tend_to_agree": 3.0,
    "tend_to_disagree": 2.0,
    "strongly_disagree": 1.0,
}
_WEB_KEY = "web-link-"
#: Key prefix of the answers of a trust's non-participants to an initiative's pulse (the
#: comparison group of the evaluation's before/after): never a participant's code, so the
#: cohort's own figures never count them.
COMPARISON_PREFIX = "comparison-"


def email_templates() -> Path:
    """The pulse's invitation and reminder e-mails, for `sharedground send --templates`.

    The survey's own say "about 15 minutes" and speak of a national survey; these say what a
    pulse is and that answers are kept under a code.
    """
    return Path(str(resources.files("sharedground.initiatives") / "templates" / "email"))


def wave_name(initiative_id: int, timepoint: str) -> str:
    return f"initiative-{initiative_id}-pulse-{timepoint}"


#: The wave of an initiative's monthly pulse of its trust (one agreement item, `work_as_team`,
#: asked each month of whoever answers, for the evaluation's SPC chart); linked to the
#: initiative by this name, as it is no timepoint of the cohort.
MONTHLY = "monthly"
#: The role of a monthly answer: the monthly pulse does not ask it.
MONTHLY_ROLE = "not_asked"


def monthly_wave_name(initiative_id: int) -> str:
    return wave_name(initiative_id, MONTHLY)


def pulse_role(member: participants.Member) -> str:
    """The pulse's role answer for a participant whose role may not be known."""
    return member.role or ("other_doctor" if member.side == "doctor" else "other_manager")


@functools.cache
def instrument() -> Instrument:
    """The built-in `dmr-pulse` (parsed once: a report asks for it per initiative)."""
    return builtin(INSTRUMENT)


@functools.cache
def scored_items() -> tuple[tuple[str, str], ...]:
    """(item id, type) of the pulse's rating and agreement items, in questionnaire order."""
    return tuple((i.id, i.type) for i in instrument().items() if i.type in ("rating", "likert"))


def create_timepoint(
    store: Store,
    initiative_id: int,
    timepoint: str,
    *,
    opens: dt.date,
    closes: dt.date,
    actor: str,
    trust: str | None = None,
    threshold: int = 5,
) -> str:
    """Make the timepoint's wave with the cohort as its contacts; returns the wave's name."""
    if timepoint not in TIMEPOINTS:
        raise InitiativeError(f"unknown timepoint {timepoint!r}; use {', '.join(TIMEPOINTS)}")
    if closes < opens:
        raise InitiativeError(f"the {timepoint} pulse closes ({closes}) before it opens ({opens})")
    with store.session() as session:
        initiative = participants.cohort_initiative(session, initiative_id, trust)
        existing = {
            t.timepoint: t
            for t in session.scalars(
                select(PulseTimepoint).where(PulseTimepoint.initiative_id == initiative_id)
            )
        }
        if timepoint in existing:
            raise InitiativeError(f"initiative {initiative_id} has a {timepoint} pulse already")
        order = TIMEPOINTS.index(timepoint)
        for earlier in TIMEPOINTS[:order]:
            before = existing.get(earlier)
            if before is not None and before.due_on is not None and opens < before.due_on:
                raise InitiativeError(
                    f"the {timepoint} pulse opens ({opens}) before the {earlier} pulse "
                    f"({before.due_on})"
                )
        people = participants.members(session, initiative_id)
        if not people:
            raise InitiativeError(f"initiative {initiative_id} has no participants yet")
        name = wave_name(initiative_id, timepoint)
        wave = store.create_wave(
            session,
            name,
            instrument(),
            opens=opens,
            closes=closes,
            anonymous=False,
            suppression_threshold=threshold,
        )
        session.add_all(
            Contact(
                wave_id=wave.id,
                name=m.name,
                email=m.email,
                role=pulse_role(m),
                organisation_id=initiative.organisation_id,
                directorate=m.directorate,
            )
            for m in people
        )
        session.add(
            PulseTimepoint(
                initiative_id=initiative_id, timepoint=timepoint, wave_id=wave.id, due_on=opens
            )
        )
        audit(session, actor, "pulse create", f"initiative {initiative_id}", {"wave": name})
    return name


def collect(store: Store, initiative_id: int, *, trust: str | None = None) -> int:
    """Re-key the web answers of the initiative's pulse waves to participant codes.

    A web response arrives keyed `web-link-N`; N's contact is found by address in the
    cohort and the key becomes that participant's code. Returns how many were re-keyed.
    """
    changed = 0
    with store.session() as session:
        register.get(session, initiative_id, trust)
        codes = _codes_by_email(session, initiative_id)
        for point in _timepoints(session, initiative_id):
            rows = session.execute(
                select(Response.id, Response.respondent_key).where(
                    Response.wave_id == point.wave_id,
                    Response.respondent_key.like(f"{_WEB_KEY}%"),
                )
            ).all()
            if not rows:
                continue
            link_ids = {int(key.removeprefix(_WEB_KEY)): rid for rid, key in rows}
            emails = dict(
                session.execute(
                    select(Link.id, Contact.email)
                    .join(Contact, Contact.id == Link.contact_id)
                    .where(Link.id.in_(list(link_ids)))
                ).all()
            )
            for link_id, response_id in link_ids.items():
                code = codes.get((emails.get(link_id) or "").lower())
                if code is None:
                    continue  # a link made by hand, not for a participant: left as it is
                session.execute(
                    update(Response).where(Response.id == response_id).values(respondent_key=code)
                )
                changed += 1
        audit(
            session, "pulse", "pulse collect", f"initiative {initiative_id}", {"rekeyed": changed}
        )
    return changed


_Key = TypeVar("_Key")


def _codes_by_email(session: Session, initiative_id: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(Participant.email, ParticipantCode.code)
            .join(ParticipantCode, ParticipantCode.participant_id == Participant.id)
            .where(Participant.initiative_id == initiative_id)
        ).all()
    )


def _timepoints(session: Session, initiative_id: int) -> list[PulseTimepoint]:
    rows = session.scalars(
        select(PulseTimepoint).where(PulseTimepoint.initiative_id == initiative_id)
    )
    return sorted(rows, key=lambda t: TIMEPOINTS.index(t.timepoint))


@dataclass(frozen=True)
class ItemChange:
    """One item before and after, over the participants who answered it both times."""

    item: str
    paired: int
    before: float | None  # None when withheld (fewer than the threshold)
    after: float | None
    change: float | None


@dataclass(frozen=True)
class PulseResults:
    threshold: int
    cohort: int
    responded: dict[str, int]  # timepoint -> participants who answered
    #: Participants who answered before but not after (None when there is no after wave).
    lost_after: int | None
    changes: dict[str, list[ItemChange]] = field(default_factory=dict)  # "after", "follow_up"
    #: Web answers not yet keyed by participant code (`collect` keys them); not counted.
    unkeyed: int = 0
    #: Per later timepoint: the pairs its figures read (whole batches of the threshold)
    #: and the pairs there are.
    pairs_shown: dict[str, int] = field(default_factory=dict)
    pairs: dict[str, int] = field(default_factory=dict)

    def rate(self, timepoint: str) -> float | None:
        if not self.cohort or timepoint not in self.responded:
            return None
        return self.responded[timepoint] / self.cohort


def _score(kind: str, value: object) -> float | None:
    if value is None:
        return None
    if kind == "likert":
        return LIKERT_SCORE.get(str(value))
    try:
        return float(str(value))
    except ValueError:
        return None


def whole_batches(arrived: dict[_Key, tuple[int, int]], threshold: int) -> list[_Key]:
    """The keys of the pairs read in whole batches: `arrived` maps a key to the response ids
    of its two answers; a pair joins when its later answer arrives (the higher id), so a new
    pair comes last and the first whole batches of `threshold` never change. Every reader in
    batches (the initiative page, the trust report's tables, tests and differences) reads
    these, so no two of them can be set against each other."""
    order = sorted(arrived, key=lambda key: max(arrived[key]))  # ids are unique: no ties
    return order[: threshold * (len(order) // threshold)]


def pair_threshold(session: Session, initiative_id: int) -> int:
    """The strictest of the timepoint waves' thresholds: a figure pairs answers from two."""
    return max(
        session.scalars(
            select(Wave.suppression_threshold)
            .join(PulseTimepoint, PulseTimepoint.wave_id == Wave.id)
            .where(PulseTimepoint.initiative_id == initiative_id)
        ),
        default=5,
    )


def results(session: Session, initiative_id: int, *, in_batches: bool = False) -> PulseResults:
    """Response at each timepoint, attrition, and each item's paired change from before;
    `in_batches`: the changes over the first whole batches of pairs only (see above)."""
    points = _timepoints(session, initiative_id)
    codes = set(_codes_by_email(session, initiative_id).values())
    cohort = len(codes)
    thresholds = []
    answers: dict[str, dict[str, dict[str, object]]] = {}
    arrived: dict[str, dict[str, int]] = {}  # timepoint -> code -> response id
    unkeyed = 0
    for point in points:
        wave = session.get(Wave, point.wave_id)
        assert wave is not None
        thresholds.append(wave.suppression_threshold)
        answers[point.timepoint], arrived[point.timepoint] = {}, {}
        for ident, key, doc in session.execute(
            select(Response.id, Response.respondent_key, Response.answers)
            .where(Response.wave_id == point.wave_id)
            .order_by(Response.id)
        ):
            if key in codes:
                answers[point.timepoint][key] = dict(doc)
                arrived[point.timepoint][key] = int(ident)
        unkeyed += len(
            session.scalars(
                select(Response.id).where(
                    Response.wave_id == point.wave_id,
                    Response.respondent_key.like(f"{_WEB_KEY}%"),
                )
            ).all()
        )
    # The strictest of the waves' thresholds: a figure pairs answers from two of them.
    threshold = max(thresholds, default=5)
    responded = {t: len(a) for t, a in answers.items()}
    lost = None
    if "before" in answers and "after" in answers:
        lost = len(set(answers["before"]) - set(answers["after"]))
    changes: dict[str, list[ItemChange]] = {}
    base = answers.get("before", {})
    pairs_shown: dict[str, int] = {}
    pairs_all: dict[str, int] = {}
    for later in ("after", "follow_up"):
        if later not in answers or not base:
            continue
        both = {
            code: (arrived["before"][code], arrived[later][code])
            for code in set(base) & set(answers[later])
        }
        read = whole_batches(both, threshold) if in_batches else list(both)
        pairs_shown[later], pairs_all[later] = len(read), len(both)
        rows = []
        for item, kind in scored_items():
            pairs = [
                (b, a)
                for code in read
                if (b := _score(kind, base[code].get(item))) is not None
                and (a := _score(kind, answers[later][code].get(item))) is not None
            ]
            n = len(pairs)
            if n < threshold:
                rows.append(ItemChange(item, n, None, None, None))
                continue
            mean_b = sum(b for b, _ in pairs) / n
            mean_a = sum(a for _, a in pairs) / n
            rows.append(ItemChange(item, n, mean_b, mean_a, mean_a - mean_b))
        changes[later] = rows
    return PulseResults(
        threshold, cohort, responded, lost, changes, unkeyed, pairs_shown, pairs_all
    )
