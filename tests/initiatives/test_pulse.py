"""The pulse on SQLite and PostgreSQL: timepoint waves of the cohort, answers keyed only by
participant code, before/after pairing, attrition and the threshold, checked by hand."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sharedground.cli import main
from sharedground.exchange.columns import all_column_names
from sharedground.exchange.importer import import_file
from sharedground.initiatives import participants, pulse, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Participant, ParticipantCode
from sharedground.instrument import builtin
from sharedground.store import Contact, Response, Store
from sharedground.store.schema import Link

D = dt.date
PULSE = builtin("dmr-pulse")
LIKERT = ["strongly_disagree", "tend_to_disagree", "tend_to_agree", "strongly_agree"]


def _cohort(store: Store, tmp_path: Path, size: int = 12) -> int:
    with store.session() as session:
        ident = register.add(
            store, session, trust="RA1", kind="paired_learning", title="P", actor="t"
        ).id
    path = tmp_path / "cohort.csv"
    lines = ["email,side,directorate"]
    lines += [f"p{k}@t.nhs.uk,{'doctor' if k % 2 else 'manager'},D{k % 3}" for k in range(size)]
    path.write_text("\n".join(lines) + "\n")
    participants.import_cohort(store, ident, path, actor="t")
    return ident


def _codes(store: Store, ident: int) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(
                select(ParticipantCode.code)
                .join(Participant, Participant.id == ParticipantCode.participant_id)
                .where(Participant.initiative_id == ident)
                .order_by(Participant.email)
            )
        )


def _answers(path: Path, rows: list[tuple[str, int, int]]) -> Path:
    """An exchange file: (code, local_rating, work_as_team score 1-4) per respondent."""
    names = all_column_names(PULSE)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for code, rating, team in rows:
            writer.writerow(
                {
                    "respondent_id": code,
                    "role": "other_doctor",
                    "trust": "RA1",
                    "mode": "online",
                    "submitted": "2026-01-15",
                    "local_rating": str(rating),
                    "work_as_team": LIKERT[team - 1],
                    "shared_goals": "dont_know",
                }
            )
    return path


def test_before_and_after_are_paired_by_code(store: Store, tmp_path: Path) -> None:
    ident = _cohort(store, tmp_path)
    for point, opens in (("before", D(2027, 1, 10)), ("after", D(2027, 7, 1))):
        pulse.create_timepoint(
            store, ident, point, opens=opens, closes=opens + dt.timedelta(days=30), actor="t"
        )
    with store.session() as session:
        wave = store.get_wave(session, pulse.wave_name(ident, "before"))
        contacts = session.scalars(select(Contact).where(Contact.wave_id == wave.id)).all()
        assert sorted(c.email or "" for c in contacts) == sorted(
            f"p{k}@t.nhs.uk" for k in range(12)
        )
        assert {c.role for c in contacts} == {"other_doctor", "other_manager"}
    codes = _codes(store, ident)
    before = [(c, 2 + (k % 2), 2) for k, c in enumerate(codes[:10])]  # 10 answer before
    after = [(c, 4, 3 if k < 4 else 2) for k, c in enumerate(codes[:7])] + [(codes[11], 5, 4)]
    import_file(
        store, _answers(tmp_path / "b.csv", before), pulse.wave_name(ident, "before"), PULSE
    )
    import_file(store, _answers(tmp_path / "a.csv", after), pulse.wave_name(ident, "after"), PULSE)
    with store.session() as session:
        keys = set(session.scalars(select(Response.respondent_key)))
        found = pulse.results(session, ident)
    assert keys <= set(codes)  # nothing but codes keys an answer
    assert found.cohort == 12 and found.responded == {"before": 10, "after": 8}
    assert found.lost_after == 3  # codes 7, 8, 9
    by_item = {r.item: r for r in found.changes["after"]}
    # Paired: codes 0..6. Ratings before 2,3,2,3,2,3,2 (mean 17/7), after all 4.
    rating = by_item["local_rating"]
    assert rating.paired == 7
    assert rating.before == pytest.approx(17 / 7) and rating.after == 4.0
    assert rating.change == pytest.approx(4 - 17 / 7)
    team = by_item["work_as_team"]  # before all 2; after 3,3,3,3,2,2,2
    assert team.paired == 7 and team.change == pytest.approx(4 / 7)
    # "Don't know" is no answer; unanswered items pair nobody: both withheld.
    assert by_item["shared_goals"].paired == 0 and by_item["shared_goals"].change is None
    assert by_item["agree_on_goals"].change is None


def test_fewer_than_the_threshold_is_withheld(store: Store, tmp_path: Path) -> None:
    ident = _cohort(store, tmp_path)
    for point, opens in (("before", D(2027, 1, 10)), ("after", D(2027, 7, 1))):
        pulse.create_timepoint(
            store, ident, point, opens=opens, closes=opens, actor="t", threshold=5
        )
    codes = _codes(store, ident)
    import_file(
        store,
        _answers(tmp_path / "b.csv", [(c, 2, 2) for c in codes[:6]]),
        pulse.wave_name(ident, "before"),
        PULSE,
    )
    import_file(
        store,
        _answers(tmp_path / "a.csv", [(c, 4, 4) for c in codes[:4]]),
        pulse.wave_name(ident, "after"),
        PULSE,
    )
    with store.session() as session:
        rating = pulse.results(session, ident).changes["after"][0]
    assert (rating.paired, rating.before, rating.after, rating.change) == (4, None, None, None)


def test_web_answers_are_keyed_by_code_and_bad_timepoints_refused(
    store: Store, tmp_path: Path
) -> None:
    ident = _cohort(store, tmp_path, size=3)
    name = pulse.create_timepoint(
        store, ident, "before", opens=D(2027, 1, 10), closes=D(2027, 2, 1), actor="t"
    )
    with store.session() as session:
        wave = store.get_wave(session, name)
        contact = session.scalar(
            select(Contact).where(Contact.wave_id == wave.id, Contact.email == "p1@t.nhs.uk")
        )
        assert contact is not None
        link = Link(
            wave_id=wave.id,
            token_hash="x" * 64,
            contact_id=contact.id,
            created_on=D(2027, 1, 10),
            completed_on=D(2027, 1, 11),
        )
        session.add(link)
        session.flush()
        session.add(
            Response(
                wave_id=wave.id,
                respondent_key=f"web-link-{link.id}",
                role="other_doctor",
                mode="online",
                submitted_on=D(2027, 1, 11),
                answers={"local_rating": "3"},
            )
        )
    with store.session() as session:
        assert pulse.results(session, ident).unkeyed == 1
    assert pulse.collect(store, ident) == 1
    with store.session() as session:
        key = session.scalar(select(Response.respondent_key))
        code = session.scalar(
            select(ParticipantCode.code)
            .join(Participant, Participant.id == ParticipantCode.participant_id)
            .where(Participant.email == "p1@t.nhs.uk")
        )
    assert key == code and "link" not in (key or "")
    with pytest.raises(InitiativeError, match="has a before pulse already"):
        pulse.create_timepoint(
            store, ident, "before", opens=D(2027, 3, 1), closes=D(2027, 3, 2), actor="t"
        )
    with pytest.raises(InitiativeError, match="opens \\(2027-01-01\\) before the before pulse"):
        pulse.create_timepoint(
            store, ident, "after", opens=D(2027, 1, 1), closes=D(2027, 3, 2), actor="t"
        )
    with pytest.raises(InitiativeError, match="closes"):
        pulse.create_timepoint(
            store, ident, "after", opens=D(2027, 5, 1), closes=D(2027, 3, 2), actor="t"
        )
    url = store.engine.url.render_as_string(hide_password=False)
    out = CliRunner().invoke(main, ["pulse", "results", str(ident), "--database", url])
    assert out.exit_code == 0 and "before: 1 answered (33%)" in out.output, out.output
