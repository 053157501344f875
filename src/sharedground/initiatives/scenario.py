"""Loading a synthetic programme (many trusts' initiatives, cohorts and pulse answers) at once.

The scenario generator lives in `synth`; this module only loads what it makes, given as
plain mappings (what a YAML or JSON file holds), so it depends on nothing there:

    - trust: RA1
      kind: paired_learning
      title: Paired learning 2027
      stage: running                 # planned | running | paused | ended
      planned_start: 2027-01-10      # dates as date objects or ISO strings
      actual_start: 2027-01-20
      ended_on: null
      reason: null                   # for paused and ended
      progress: 2.5                  # IHI scale, optional
      directorates: [Surgery]
      cohort:                        # kinds with a cohort only
        - {email: a@ra1.nhs.uk, side: doctor, directorate: Surgery}
      monthly:                       # optional: the trust's monthly pulse, for SPC
        - {month: 2026-07-01, n: 25, positive: 12}   # answers, and how many agreed
      pulse:                         # timepoint -> {opens, answers}
        before:
          opens: 2027-01-10
          answers:                   # keyed by the cohort's e-mail; stored by code only
            - {email: a@ra1.nhs.uk, local_rating: "3", work_as_team: tend_to_agree}
          comparison:                # optional: the trust's non-participants, by any key
            - {key: c1, role: clinical_director, local_rating: "3"}

Everything is checked first and every problem listed (`InitiativeError`); nothing is
written unless all of it can be. Rows go in by the batch (one statement per table and
batch, not one per row), with one audit entry for the load. Participants get fresh random
codes; pulse answers are stored keyed by the code, never the e-mail the scenario used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from sharedground.exchange.reader import TRUST_CODE
from sharedground.fieldwork.accounts import audit
from sharedground.fieldwork.clock import stored_now
from sharedground.initiatives import pulse, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.kinds import BUILTIN
from sharedground.initiatives.models import (
    Initiative,
    InitiativeProgress,
    InitiativeStage,
    Participant,
    ParticipantCode,
    PulseTimepoint,
)
from sharedground.initiatives.participants import SIDE_OF_ROLE, SIDES, new_code
from sharedground.store import Contact, Response, Store, Wave

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Loaded:
    initiatives: int
    participants: int
    pulse_waves: int
    answers: int


def _day(value: object, where: str, problems: list[str]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a date like 2027-01-31")
        return None


def _check(
    index: int, spec: Mapping[str, Any], allowed: dict[str, dict[str, str]], problems: list[str]
) -> dict[str, Any]:
    where = f"initiatives[{index}]"
    trust = str(spec.get("trust") or "")
    if not TRUST_CODE.match(trust):
        problems.append(f"{where}.trust: {trust!r} is not an organisation code")
    kind = str(spec.get("kind") or "")
    if kind not in BUILTIN:
        problems.append(f"{where}.kind: unknown kind {kind!r}")
    title = str(spec.get("title") or "").strip()
    if not title or len(title) > register.MAX_TITLE:
        problems.append(f"{where}.title: missing or longer than {register.MAX_TITLE}")
    stage = str(spec.get("stage") or "planned")
    if stage not in register.STAGES:
        problems.append(f"{where}.stage: {stage!r}; use {', '.join(register.STAGES)}")
    planned = _day(spec.get("planned_start"), f"{where}.planned_start", problems)
    actual = _day(spec.get("actual_start"), f"{where}.actual_start", problems)
    ended = _day(spec.get("ended_on"), f"{where}.ended_on", problems)
    reason = spec.get("reason")
    if stage == "ended" and ended is None:
        problems.append(f"{where}.ended_on: an ended initiative needs its end date")
    if stage in ("ended", "paused") and not reason:
        problems.append(f"{where}.reason: give the reason it is {stage}")
    start = actual or planned
    if ended is not None and start is not None and ended < start:
        problems.append(f"{where}.ended_on: {ended} is before its start {start}")
    progress = spec.get("progress")
    if progress is not None:
        try:
            progress = register.progress_score(progress, f"{where}.progress")
        except InitiativeError as exc:
            problems.append(str(exc))
    cohort = list(spec.get("cohort") or [])
    if cohort and kind in BUILTIN and not BUILTIN[kind].groups_people:
        problems.append(f"{where}.cohort: {kind!r} is a kind without participants")
    emails: set[str] = set()
    people = []
    for k, person in enumerate(cohort):
        email = str(person.get("email") or "").strip().lower()
        role = person.get("role")
        side = person.get("side") or (SIDE_OF_ROLE.get(str(role)) if role else None)
        if not email or "@" not in email:
            problems.append(f"{where}.cohort[{k}].email: {email!r} is not an e-mail address")
        elif email in emails:
            problems.append(f"{where}.cohort[{k}].email: {email} is in the cohort twice")
        emails.add(email)
        if side not in SIDES:
            problems.append(f"{where}.cohort[{k}].side: {side!r}; use doctor or manager")
        people.append({**person, "email": email, "side": side})
    waves = {}
    for point, content in (spec.get("pulse") or {}).items():
        if point not in pulse.TIMEPOINTS:
            problems.append(f"{where}.pulse.{point}: use {', '.join(pulse.TIMEPOINTS)}")
            continue
        opens = _day(content.get("opens"), f"{where}.pulse.{point}.opens", problems)
        answers = list(content.get("answers") or [])
        for k, row in enumerate(answers):
            email = str(row.get("email") or "").strip().lower()
            if email not in emails:
                problems.append(
                    f"{where}.pulse.{point}.answers[{k}]: {email!r} is not in the cohort"
                )
            for item, value in row.items():
                if item != "email" and value is not None:
                    kind_of = allowed.get(item)
                    if kind_of is None or (kind_of and str(value) not in kind_of):
                        problems.append(
                            f"{where}.pulse.{point}.answers[{k}].{item}: {value!r} is not an "
                            "answer of dmr-pulse"
                        )
        comparison = list(content.get("comparison") or [])
        keys: set[str] = set()
        for k, row in enumerate(comparison):
            key = str(row.get("key") or "")
            if not key or key in keys:
                problems.append(
                    f"{where}.pulse.{point}.comparison[{k}].key: missing or given twice"
                )
            keys.add(key)
            for item, value in row.items():
                if item != "key" and value is not None:
                    kind_of = allowed.get(item)
                    if kind_of is None or (kind_of and str(value) not in kind_of):
                        problems.append(
                            f"{where}.pulse.{point}.comparison[{k}].{item}: {value!r} is not "
                            "an answer of dmr-pulse"
                        )
        waves[point] = (opens, answers, comparison)
    monthly = []
    for k, entry in enumerate(spec.get("monthly") or []):
        month = _day(entry.get("month"), f"{where}.monthly[{k}].month", problems)
        n, positive = entry.get("n"), entry.get("positive")
        if not isinstance(n, int) or not isinstance(positive, int) or not 0 <= positive <= n:
            problems.append(
                f"{where}.monthly[{k}]: n and positive must be whole numbers, 0 <= positive <= n"
            )
        elif month is not None:
            monthly.append((month, n, positive))
    return {
        "monthly": monthly,
        "trust": trust,
        "kind": kind,
        "title": title,
        "description": spec.get("description"),
        "directorates": list(spec.get("directorates") or []),
        "owner": spec.get("owner"),
        "stage": stage,
        "reason": reason,
        "planned": planned,
        "actual": actual,
        "ended": ended,
        "progress": progress,
        "cohort": people,
        "pulse": waves,
    }


def _pulse_answers() -> dict[str, dict[str, str]]:
    """Item -> allowed values ({} for any) of the dmr-pulse questionnaire."""
    from sharedground.exchange.columns import item_columns

    instrument = pulse.instrument()
    found: dict[str, dict[str, str]] = {}
    for column in item_columns(instrument):
        found[column.name] = {v: v for v in column.allowed} if column.allowed else {}
    found["role"] = {r: r for r in instrument.role_ids()}
    return found


def load_programme(
    store: Store,
    initiatives: Iterable[Mapping[str, Any]],
    *,
    actor: str = "synthetic programme",
    threshold: int = 5,
    batch: int = 5000,
) -> Loaded:
    """Load a whole synthetic programme, or nothing (InitiativeError lists the problems)."""
    allowed = _pulse_answers()
    problems: list[str] = []
    specs = [_check(i, spec, allowed, problems) for i, spec in enumerate(initiatives)]
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = (
            f"\n  ... and {len(problems) - MAX_PROBLEMS} more" if len(problems) > len(shown) else ""
        )
        raise InitiativeError(
            f"{len(problems)} problem(s); nothing was loaded:\n  " + "\n  ".join(shown) + more
        )
    instrument = pulse.instrument()
    now = stored_now()
    today = dt.date.today()
    counts = Loaded(0, 0, 0, 0)
    with store.session() as session:
        orgs = store.organisation_ids(session, {s["trust"] for s in specs})
        record = store.save_instrument(session, instrument)
        rows = [
            Initiative(
                organisation_id=orgs[s["trust"]],
                kind=s["kind"],
                title=s["title"],
                description=s["description"],
                directorates=s["directorates"],
                owner=s["owner"],
                planned_start=s["planned"],
                actual_start=s["actual"] or (s["planned"] if s["stage"] != "planned" else None),
                ended_on=s["ended"],
                stage=s["stage"],
                stage_reason=s["reason"],
                progress=s["progress"],
                created_at=now,
                updated_at=now,
            )
            for s in specs
        ]
        session.add_all(rows)
        session.flush()  # ids, in one multi-row statement per batch
        stages, scores, people = [], [], []
        for row, s in zip(rows, specs, strict=True):
            begun = row.actual_start or row.planned_start or today
            stages.append(
                {"initiative_id": row.id, "stage": "planned", "reason": None,
                 "on": row.planned_start or begun, "actor": actor, "at": now}
            )  # fmt: skip
            if s["stage"] != "planned":
                stages.append(
                    {"initiative_id": row.id, "stage": s["stage"], "reason": s["reason"],
                     "on": s["ended"] or begun, "actor": actor, "at": now}
                )  # fmt: skip
            if s["progress"] is not None:
                scores.append(
                    {"initiative_id": row.id, "score": s["progress"], "on": begun,
                     "note": None, "actor": actor, "at": now}
                )  # fmt: skip
            for p in s["cohort"]:
                people.append(
                    {"initiative_id": row.id, "name": p.get("name"), "email": p["email"],
                     "side": p["side"], "role": p.get("role"), "directorate": p.get("directorate"),
                     "grade": p.get("grade"), "reports_to": p.get("reports_to"),
                     "prefers": list(p.get("prefers") or []), "contact_id": None}
                )  # fmt: skip
        _insert(session, InitiativeStage, stages, batch)
        _insert(session, InitiativeProgress, scores, batch)
        _insert(session, Participant, people, batch)
        ids = dict(
            ((initiative, email), ident)
            for ident, initiative, email in session.execute(
                select(Participant.id, Participant.initiative_id, Participant.email).where(
                    Participant.initiative_id.in_([r.id for r in rows])
                )
            )
        ) if people else {}  # fmt: skip
        codes = {key: new_code() for key in ids}
        _insert(
            session,
            ParticipantCode,
            [{"participant_id": ids[key], "code": codes[key]} for key in ids],
            batch,
        )
        contacts: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        # Waves go in by the batch too (not `store.create_wave`, which writes the
        # questionnaire's YAML and its hash again for every wave): one stored instrument.
        planned = [
            (row, point, opens)
            for row, s in zip(rows, specs, strict=True)
            for point, (opens, _given, _comparison) in s["pulse"].items()
        ] + [
            (row, pulse.MONTHLY, s["monthly"][0][0])
            for row, s in zip(rows, specs, strict=True)
            if s["monthly"]
        ]
        names = [pulse.wave_name(row.id, point) for row, point, _ in planned]
        taken = (
            set(session.scalars(select(Wave.name).where(Wave.name.in_(names)))) if names else set()
        )
        if taken:
            raise InitiativeError(f"waves exist already: {', '.join(sorted(taken))}")
        _insert(
            session,
            Wave,
            [
                {"name": name, "instrument_id": record.id, "opens": opens, "closes": opens,
                 "anonymous": False, "suppression_threshold": threshold, "created_at": now}
                for name, (_row, _point, opens) in zip(names, planned, strict=True)
            ],
            batch,
        )  # fmt: skip
        wave_ids: dict[str, int] = {}
        for start in range(0, len(names), 500):
            wave_ids.update(
                session.execute(
                    select(Wave.name, Wave.id).where(Wave.name.in_(names[start : start + 500]))
                ).all()
            )
        _insert(
            session,
            PulseTimepoint,
            [
                {"initiative_id": row.id, "timepoint": point,
                 "wave_id": wave_ids[name], "due_on": opens}
                for name, (row, point, opens) in zip(names, planned, strict=True)
                if point != pulse.MONTHLY  # not a timepoint of the cohort
            ],
            batch,
        )  # fmt: skip
        waves = len(names)
        for row, s in zip(rows, specs, strict=True):
            # A non-participant's key gets one fresh random code per initiative, the same at
            # every timepoint (so their answers pair), prefixed so it is never a cohort code.
            others = {
                key: pulse.COMPARISON_PREFIX + new_code()
                for _o, _g, comparison in s["pulse"].values()
                for key in {str(c["key"]) for c in comparison}
            }
            for point, (opens, given, comparison) in s["pulse"].items():
                wave_id = wave_ids[pulse.wave_name(row.id, point)]
                side = {p["email"]: p for p in s["cohort"]}
                for p in s["cohort"]:
                    contacts.append(
                        {"wave_id": wave_id, "name": p.get("name"), "email": p["email"],
                         "role": p.get("role") or f"other_{p['side']}",
                         "organisation_id": row.organisation_id,
                         "directorate": p.get("directorate")}
                    )  # fmt: skip
                for given_row in given:
                    email = str(given_row["email"]).strip().lower()
                    person = side[email]
                    doc = {
                        k: str(v) for k, v in given_row.items()
                        if k not in ("email", "role") and v is not None
                    }  # fmt: skip
                    answers.append(
                        {"wave_id": wave_id, "respondent_key": codes[(row.id, email)],
                         "role": given_row.get("role") or person.get("role")
                         or f"other_{person['side']}",
                         "organisation_id": row.organisation_id, "mode": "online",
                         "submitted_on": opens, "answers": doc}
                    )  # fmt: skip
                for other in comparison:
                    doc = {
                        k: str(v) for k, v in other.items()
                        if k not in ("key", "role") and v is not None
                    }  # fmt: skip
                    answers.append(
                        {"wave_id": wave_id, "respondent_key": others[str(other["key"])],
                         "role": other.get("role") or "other_manager",
                         "organisation_id": row.organisation_id, "mode": "online",
                         "submitted_on": opens, "answers": doc}
                    )  # fmt: skip
        from sharedground.evaluation.items import answers_of  # the item read back for SPC

        for row, s in zip(rows, specs, strict=True):
            if not s["monthly"]:
                continue
            wave_id = wave_ids[pulse.monthly_wave_name(row.id)]
            # Anonymous answers of one item: keyed by month and number, nobody's code.
            for month, n, positive in s["monthly"]:
                answers.extend(
                    {"wave_id": wave_id, "respondent_key": f"monthly-{month}-{k}",
                     "role": pulse.MONTHLY_ROLE, "organisation_id": row.organisation_id,
                     "mode": "online", "submitted_on": month,
                     "answers": answers_of(1 if k < positive else 0, None)}
                    for k in range(n)
                )  # fmt: skip
        _insert(session, Contact, contacts, batch)
        _insert(session, Response, answers, batch)
        audit(
            session,
            actor,
            "initiatives load",
            None,
            {"initiatives": len(rows), "participants": len(people), "answers": len(answers)},
        )
        counts = Loaded(len(rows), len(people), waves, len(answers))
    return counts


def _insert(session: Any, model: type, rows: list[dict[str, Any]], batch: int) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), batch):
        session.execute(insert(table), rows[start : start + batch])
