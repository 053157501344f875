"""Paper returns: double data entry, reconciliation, and counting each person once.

Each returned questionnaire is keyed twice, independently, by two different people. The
two keyings are compared field by field; if they agree the questionnaire becomes a
response at once, otherwise the fields that differ are listed for a reviewer, who picks
or types the right value, and only then does it become a response (mode `postal`: the
mode records the phase that reached the person, as in the 2015 study's tables; `paper`
stays for questionnaires collected on paper by other means).

De-duplication rule: **the first completed response wins.** A paper return counts as
completed when it is first keyed (logged), and claims the contact then: the contact's
personal link is marked complete in the same transaction (so the online survey refuses a
later attempt), and the contact is marked completed by post. A questionnaire keyed for a
contact who had already completed online is kept as a `duplicate`, listed in reports,
and never becomes a response. Nothing is dropped silently.

A contact may also have a half-finished online survey (a draft) when their paper comes
back. The paper is then the first completed response and wins: the draft is deleted when
the return claims the contact, and its answers never join a response. That it happened
stays countable without the answers: a contact completed by post whose personal link
was started online (`monitor` counts these as online drafts superseded by paper). When
the person opens their link again they are told they have already completed the survey.

Anonymous waves: the response gets a random key and nothing in it points back at the
serial; once reconciled, the keyed answers kept with the serial are cleared, so that only
the fact of completion stays with the contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sharedground.exchange import csvparse
from sharedground.exchange.columns import MULTI_SEPARATOR, Column, item_columns
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.fieldwork import anonymity
from sharedground.fieldwork.clock import stored_now, study_day
from sharedground.fieldwork.postal import PostalError, parse_serial
from sharedground.instrument import NONE_CHOSEN, Instrument, loads
from sharedground.store import Contact, Response, Store, Wave
from sharedground.store.schema import Draft, Link, PaperKeying, PaperReturn, PersonalLink

MODE = "postal"
ROLE = "role"


class KeyingError(PostalError):
    """A keying cannot be accepted; `problems` names the fields."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        self.problems = problems or []
        detail = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{message}: {detail}" if detail else message)


def fields_of(instrument: Instrument) -> list[Column]:
    """The fields a keyer fills in: the exchange columns, `role` first."""
    role = Column(ROLE, ROLE, "single", allowed=tuple(instrument.role_ids()))
    return [role, *item_columns(instrument)]


def clean_answers(instrument: Instrument, raw: Mapping[str, str | None]) -> dict[str, str]:
    """Checked answers in canonical form (blank answers left out); KeyingError otherwise."""
    columns = {c.name: c for c in fields_of(instrument)}
    problems: list[Problem] = []
    answers: dict[str, str] = {}
    for name, value in raw.items():
        column = columns.get(name)
        if column is None:
            problems.append(Problem(None, name, "not a question of this questionnaire"))
            continue
        if value is None:
            continue
        text = value if column.kind == "text" else value.strip()
        if text.strip() == "":
            continue
        problem = _check(column, text)
        if problem:
            problems.append(Problem(None, name, problem))
        else:
            answers[name] = _canonical(column, text)
    if problems:
        raise KeyingError("the keyed answers have problems", problems)
    return answers


def _check(column: Column, text: str) -> str | None:
    if column.kind == "text":
        assert column.max_length is not None
        if len(text) > column.max_length:
            return f"{len(text)} characters, at most {column.max_length}"
        return None
    if column.kind == "multi":
        parts = [p.strip() for p in text.split(MULTI_SEPARATOR)]
        if parts == [NONE_CHOSEN]:
            return None
        unknown = [p for p in parts if p not in column.options]
        if unknown:
            return f"{unknown[0]!r} is not an option; use {column.describe_allowed()}"
        if len(set(parts)) != len(parts):
            return "an option is given twice"
        if column.max_choices is not None and len(parts) > column.max_choices:
            # On paper people do tick four of "pick up to three"; the keyer types what is
            # there and the rule of the study (the answer is not usable) is applied here.
            return f"{len(parts)} options ticked, at most {column.max_choices} allowed"
        return None
    if text not in column.allowed:
        return f"{text!r} is not allowed; use {column.describe_allowed()} or leave blank"
    return None


def _canonical(column: Column, text: str) -> str:
    if column.kind != "multi" or text == NONE_CHOSEN:
        return text
    chosen = {p.strip() for p in text.split(MULTI_SEPARATOR)}
    return MULTI_SEPARATOR.join(o for o in column.options if o in chosen)


def differences(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Fields where two keyings differ: name -> (first, second), blank as ""."""
    names = sorted(set(first) | set(second))
    return {
        n: (first.get(n, ""), second.get(n, ""))
        for n in names
        if first.get(n, "") != second.get(n, "")
    }


@dataclass
class KeyResult:
    """What became of one keying."""

    serial: str
    keying: int
    status: str  # keying | discrepant | reconciled | duplicate
    discrepancies: dict[str, tuple[str, str]] = field(default_factory=dict)


def _return_for(session: Session, serial: str) -> tuple[Contact, Wave, PaperReturn | None]:
    contact = session.scalar(select(Contact).where(Contact.serial == serial))
    if contact is None:
        raise KeyingError(f"no questionnaire was printed with serial {serial}")
    wave = session.get(Wave, contact.wave_id)
    assert wave is not None
    paper = session.scalar(select(PaperReturn).where(PaperReturn.contact_id == contact.id))
    return contact, wave, paper


def key_questionnaire(
    session: Session,
    serial_text: str,
    answers: Mapping[str, str | None],
    keyer: str,
    *,
    received_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> KeyResult:
    """Record one keying of a returned questionnaire (the first or the second)."""
    serial = parse_serial(serial_text)
    now = now or stored_now()
    keyer = keyer.strip()
    if not keyer:
        raise KeyingError("each keying needs the name of the person who keyed it")
    contact, wave, paper = _return_for(session, serial)
    instrument = loads(wave.instrument.definition)
    cleaned = clean_answers(instrument, answers)
    if paper is None:
        paper = _log_return(session, contact, serial, received_on or study_day(now))
    keyings = list(
        session.scalars(
            select(PaperKeying)
            .where(PaperKeying.return_id == paper.id)
            .order_by(PaperKeying.keying)
        )
    )
    if paper.status == "reconciled" or len(keyings) >= 2:
        raise KeyingError(f"questionnaire {serial} has been keyed twice already")
    if keyings and keyings[0].keyer == keyer:
        raise KeyingError(
            f"questionnaire {serial} was first keyed by {keyer}; the second keying must be "
            "done by someone else, without looking at the first"
        )
    number = len(keyings) + 1
    session.add(
        PaperKeying(return_id=paper.id, keying=number, keyer=keyer, keyed_at=now, answers=cleaned)
    )
    session.flush()
    result = KeyResult(serial, number, paper.status)
    if number == 2 and paper.status != "duplicate":
        found = differences(keyings[0].answers, cleaned)
        if found:
            paper.status = "discrepant"
            result.discrepancies = found
        else:
            _make_response(session, wave, contact, paper, cleaned, reviewer=None, now=now)
        result.status = paper.status
    return result


def _log_return(session: Session, contact: Contact, serial: str, received: dt.date) -> PaperReturn:
    """Log a return, and claim the contact's completion unless they completed online first."""
    link_id = session.scalar(
        select(PersonalLink.link_id).where(PersonalLink.contact_id == contact.id)
    )
    claimed = True
    if link_id is not None:
        result = session.execute(
            update(Link)
            .where(Link.id == link_id, Link.completed_on.is_(None))
            .values(completed_on=received)
        )
        claimed = result.rowcount == 1  # type: ignore[attr-defined]
    if contact.completed_on is not None:
        claimed = False
    if claimed and link_id is not None:
        # Superseded by this paper. Left in place the draft would be answers beside the
        # person's link for good (in an anonymous wave too) that can never be used.
        session.execute(delete(Draft).where(Draft.link_id == link_id))
    paper = PaperReturn(
        wave_id=contact.wave_id,
        contact_id=contact.id,
        serial=serial,
        received_on=received,
        status="keying" if claimed else "duplicate",
        duplicate_of=None if claimed else (contact.completed_mode or "online"),
    )
    session.add(paper)
    if claimed:
        contact.completed_on = received
        contact.completed_mode = MODE
    session.flush()
    return paper


def completed_on_paper(session: Session, link_id: int) -> bool:
    """Whether a personal link was completed by its contact's paper questionnaire."""
    mode = session.scalar(
        select(Contact.completed_mode)
        .join(PersonalLink, PersonalLink.contact_id == Contact.id)
        .where(PersonalLink.link_id == link_id)
    )
    return mode == MODE


def discrepancies(session: Session, serial_text: str) -> dict[str, tuple[str, str]]:
    """The fields on which the two keyings of a questionnaire differ."""
    serial = parse_serial(serial_text)
    _contact, _wave, paper = _return_for(session, serial)
    if paper is None:
        return {}
    keyings = list(
        session.scalars(
            select(PaperKeying)
            .where(PaperKeying.return_id == paper.id)
            .order_by(PaperKeying.keying)
        )
    )
    if len(keyings) < 2:
        return {}
    return differences(keyings[0].answers, keyings[1].answers)


def reconcile(
    session: Session,
    serial_text: str,
    resolutions: Mapping[str, str | None],
    reviewer: str,
    *,
    now: dt.datetime | None = None,
) -> KeyResult:
    """Resolve every discrepant field (value, or blank for no answer) and store the response."""
    serial = parse_serial(serial_text)
    now = now or stored_now()
    contact, wave, paper = _return_for(session, serial)
    if paper is None or paper.status != "discrepant":
        state = paper.status if paper else "not keyed"
        raise KeyingError(f"questionnaire {serial} has nothing to reconcile ({state})")
    keyings = list(
        session.scalars(
            select(PaperKeying)
            .where(PaperKeying.return_id == paper.id)
            .order_by(PaperKeying.keying)
        )
    )
    found = differences(keyings[0].answers, keyings[1].answers)
    missing = sorted(set(found) - set(resolutions))
    extra = sorted(set(resolutions) - set(found))
    if missing or extra:
        problems = [Problem(None, n, "needs a resolved value (or blank)") for n in missing]
        problems += [Problem(None, n, "was not in dispute") for n in extra]
        raise KeyingError(f"questionnaire {serial} cannot be reconciled", problems)
    instrument = loads(wave.instrument.definition)
    resolved = clean_answers(instrument, {n: v for n, v in resolutions.items()})
    final = {n: v for n, v in keyings[0].answers.items() if n not in found}
    final.update(resolved)
    _make_response(session, wave, contact, paper, final, reviewer=reviewer.strip(), now=now)
    return KeyResult(serial, 2, paper.status)


def _make_response(
    session: Session,
    wave: Wave,
    contact: Contact,
    paper: PaperReturn,
    answers: dict[str, str],
    *,
    reviewer: str | None,
    now: dt.datetime,
) -> None:
    answers = dict(answers)
    role = answers.pop(ROLE, None) or contact.role
    if wave.anonymous:
        # Held and released later in a batch (anonymity.py): written here, the response
        # would share this transaction with the contact's completion and the serial.
        anonymity.hold(
            session,
            wave,
            role=role,
            organisation_id=contact.organisation_id,
            mode=MODE,
            submitted_on=paper.received_on,
            answers=answers,
        )
    else:
        session.add(
            Response(
                wave_id=wave.id,
                respondent_key=f"postal-{paper.serial}",
                role=role,
                organisation_id=contact.organisation_id,
                mode=MODE,
                submitted_on=paper.received_on,
                answers=answers,
            )
        )
    paper.status = "reconciled"
    paper.reviewer = reviewer
    paper.reconciled_at = now
    if wave.anonymous:
        # Keep that it came back, not what it said next to whose serial it was.
        paper.answers = None
        session.execute(
            update(PaperKeying).where(PaperKeying.return_id == paper.id).values(answers={})
        )
    else:
        paper.answers = dict(answers, role=role)
    session.flush()


@dataclass(frozen=True)
class ReturnRow:
    serial: str
    status: str
    keyings: int
    received_on: dt.date
    duplicate_of: str | None


def returns(session: Session, wave: Wave, status: str | None = None) -> list[ReturnRow]:
    """The wave's paper returns (optionally of one status), in serial order."""
    query = select(PaperReturn).where(PaperReturn.wave_id == wave.id).order_by(PaperReturn.serial)
    if status is not None:
        query = query.where(PaperReturn.status == status)
    rows = []
    for paper in session.scalars(query):
        count = len(
            session.scalars(select(PaperKeying.id).where(PaperKeying.return_id == paper.id)).all()
        )
        rows.append(
            ReturnRow(paper.serial, paper.status, count, paper.received_on, paper.duplicate_of)
        )
    return rows


@dataclass
class EntrySummary:
    """What a bulk entry file did."""

    keyings: int = 0
    reconciled: int = 0
    discrepant: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def enter_file(store: Store, path: str | Path) -> EntrySummary:
    """Key questionnaires from a CSV file: `serial, keyer[, received], role, <questions>...`.

    One row is one keying; the same serial on two rows (two keyers) is a double entry. The
    whole file is checked first and applied in one transaction: any problem, and nothing
    is recorded.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidFile(name, [Problem(None, None, f"cannot be read ({exc.strerror})")]) from None
    frame = csvparse.parse(name, csvparse.decode(name, raw, []))
    for required in ("serial", "keyer"):
        if required not in frame.columns:
            raise InvalidFile(name, [Problem(1, required, "required column is missing")])
    summary = EntrySummary()
    with store.session() as session:
        # First every row is checked without writing (all problems listed); then applied in
        # order, where a rule about earlier keyings (same keyer, a third keying) may still
        # refuse a row: the transaction is then rolled back whole.
        problems: list[Problem] = []
        checked: list[tuple[int, str, str, dt.date | None, dict[str, str | None]]] = []
        instruments: dict[int, Instrument] = {}
        for index, row in enumerate(frame.iter_rows(named=True)):
            number = index + 2
            values: dict[str, str | None] = dict(row)
            serial_text = values.pop("serial") or ""
            keyer = (values.pop("keyer") or "").strip()
            received_text = values.pop("received", None)
            try:
                serial = parse_serial(serial_text)
                _contact, wave, _paper = _return_for(session, serial)
                if wave.id not in instruments:
                    instruments[wave.id] = loads(wave.instrument.definition)
                clean_answers(instruments[wave.id], values)
            except KeyingError as exc:
                problems += [Problem(number, p.column, p.message) for p in exc.problems] or [
                    Problem(number, "serial", str(exc))
                ]
                continue
            except PostalError as exc:
                problems.append(Problem(number, "serial", str(exc)))
                continue
            if not keyer:
                problems.append(Problem(number, "keyer", "who keyed this row?"))
            received = None
            if received_text:
                try:
                    received = dt.date.fromisoformat(received_text)
                except ValueError:
                    problems.append(Problem(number, "received", f"{received_text!r} is not a date"))
            checked.append((number, serial, keyer, received, values))
        if problems:
            raise InvalidFile(name, problems)
        for number, serial, keyer, received, values in checked:
            try:
                result = key_questionnaire(session, serial, values, keyer, received_on=received)
            except KeyingError as exc:
                raise InvalidFile(name, [Problem(number, "serial", str(exc))]) from None
            summary.keyings += 1
            if result.status == "reconciled":
                summary.reconciled += 1
            elif result.status == "discrepant":
                summary.discrepant.append(result.serial)
            elif result.status == "duplicate" and result.keying == 1:
                summary.duplicates.append(result.serial)
    with store.session() as session:  # after the keyings' own transaction (anonymity.py)
        anonymity.release_due(session)
    return summary
