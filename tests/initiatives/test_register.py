"""The register on SQLite and PostgreSQL: add, update, end, history, audit, refusals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sharedground.initiatives import kinds, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Initiative, InitiativeStage
from sharedground.store import Store
from sharedground.store.schema import AuditEntry

D = dt.date


def _audit(store: Store) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _add(store: Store, **over: object) -> int:
    fields: dict[str, object] = {
        "trust": "RA1",
        "kind": "paired_learning",
        "title": "Paired learning 2027",
        "actor": "lead-a",
        "planned_start": D(2027, 1, 10),
        "today": D(2026, 12, 1),
    }
    fields.update(over)
    with store.session() as session:
        return register.add(store, session, **fields).id  # type: ignore[arg-type]


def test_table_2_11_kinds_are_the_instruments_options() -> None:
    from sharedground.instrument import builtin

    grid = builtin("dmr-2015").item("initiatives")
    assert [k.id for k in kinds.TABLE_2_11] == [o.id for o in grid.options]
    assert {"shadowing", "coaching", "clinical_director_role"} <= set(kinds.BUILTIN)
    people = {k.id for k in kinds.BUILTIN.values() if k.groups_people}
    assert people == {"paired_learning", "buddying_mentoring", "shadowing", "coaching"}


def test_life_of_an_initiative_keeps_its_history_and_audits_every_change(store: Store) -> None:
    ident = _add(store, directorates=["Surgery", " Medicine ", "Surgery"], progress=1.0)
    with store.session() as session:
        register.update(
            session,
            ident,
            actor="lead-a",
            stage="running",
            progress=2.5,
            note="first pairs",
            today=D(2027, 1, 20),
        )
    with store.session() as session:
        register.update(
            session,
            ident,
            actor="lead-a",
            stage="paused",
            reason="winter pressures",
            today=D(2027, 2, 1),
        )
    with store.session() as session:
        register.end(session, ident, actor="admin", on=D(2027, 6, 30), reason="cohort completed")
    with store.session() as session:
        shown = register.show(session, ident)
    assert shown.directorates == ("Surgery", "Medicine")
    assert shown.actual_start == D(2027, 1, 20)  # set when it started running
    assert shown.ended_on == D(2027, 6, 30) and shown.stage == "ended"
    assert [s[1] for s in shown.stages] == ["planned", "running", "paused", "ended"]
    assert shown.stages[2] == (D(2027, 2, 1), "paused", "winter pressures")
    assert [(on, score) for on, score, _ in shown.scores] == [
        (D(2026, 12, 1), 1.0),
        (D(2027, 1, 20), 2.5),
    ]
    assert shown.progress == 2.5
    entries = _audit(store)
    assert [(e.actor, e.action) for e in entries] == [
        ("lead-a", "initiative add"),
        ("lead-a", "initiative update"),
        ("lead-a", "initiative update"),
        ("admin", "initiative end"),
    ]
    assert all(e.target == f"initiative {ident}" or "RA1" in (e.target or "") for e in entries)
    assert json.loads(entries[2].detail or "{}")["reason"] == "winter pressures"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"progress": 5.5}, "not on the IHI scale"),
        ({"progress": 0.75}, "not on the IHI scale"),
        ({"progress": "lots"}, "not a number"),
        ({"kind": "astrology"}, "unknown kind 'astrology'"),
        ({"stage": "ended"}, "use `initiative end`"),
        ({"stage": "paused"}, "give the reason it is paused"),
        ({"title": "  "}, "title cannot be empty"),
    ],
)
def test_a_refused_update_writes_nothing(store: Store, change: dict, message: str) -> None:
    ident = _add(store)
    before = len(_audit(store))
    with pytest.raises(InitiativeError, match=message), store.session() as session:
        register.update(session, ident, actor="lead-a", **change)
    with store.session() as session:
        row = session.get(Initiative, ident)
        assert row is not None and row.stage == "planned" and row.progress is None
    assert len(_audit(store)) == before
    assert _count(store, InitiativeStage) == 1


def test_dates_out_of_order_are_refused(store: Store) -> None:
    ident = _add(store, stage="running", actual_start=D(2027, 2, 1))
    early = "end 2027-01-31 is before actual_start 2027-02-01"
    with pytest.raises(InitiativeError, match=early), store.session() as session:
        register.end(session, ident, actor="x", on=D(2027, 1, 31), reason="stopped")
    other = _add(store, planned_start=D(2027, 5, 1))
    with pytest.raises(InitiativeError, match="before planned_start"), store.session() as session:
        register.end(session, other, actor="x", on=D(2027, 4, 1), reason="never ran")
    with store.session() as session:
        register.end(session, ident, actor="x", on=D(2027, 2, 1), reason="stopped")
    with pytest.raises(InitiativeError, match="has ended"), store.session() as session:
        register.update(session, ident, actor="x", title="again")


def test_ended_is_not_a_starting_stage_and_unknown_kind_creates_no_trust(store: Store) -> None:
    with pytest.raises(InitiativeError, match="cannot start an initiative"):
        _add(store, stage="ended")
    with pytest.raises(InitiativeError, match="unknown kind"):
        _add(store, trust="RNEW", kind="nope")
    from sharedground.store import Organisation

    assert _count(store, Organisation) == 0
    assert _count(store, Initiative) == 0 and _audit(store) == []


def test_a_trust_sees_only_its_own_initiatives(store: Store) -> None:
    mine = _add(store, trust="RA1")
    theirs = _add(store, trust="RB2", kind="joint_social_spaces", title="Shared cafe")
    with store.session() as session:
        assert [e.id for e in register.list_entries(session, trust="RA1")] == [mine]
        assert [e.id for e in register.list_entries(session)] == [mine, theirs]
        assert register.show(session, mine, trust="RA1").title == "Paired learning 2027"
    for call in (
        lambda s: register.show(s, theirs, trust="RA1"),
        lambda s: register.update(s, theirs, actor="lead-a", trust="RA1", title="mine now"),
        lambda s: register.end(
            s, theirs, actor="lead-a", trust="RA1", on=D(2028, 1, 1), reason="x"
        ),
    ):
        missing = f"no initiative {theirs} of trust RA1"
        with pytest.raises(InitiativeError, match=missing), store.session() as session:
            call(session)
    with store.session() as session:
        assert register.show(session, theirs).title == "Shared cafe"


def test_an_organisations_kinds_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(
        "kinds:\n- id: reverse_mentoring\n  label: Reverse mentoring\n  groups_people: true\n",
        encoding="utf-8",
    )
    found = kinds.load_kinds_file(path, "RA1")
    with store.session() as session:
        register.add_kinds(store, session, "RA1", found, "lead-a")
    ident = _add(store, kind="reverse_mentoring")
    with pytest.raises(InitiativeError, match="unknown kind 'reverse_mentoring'"):
        _add(store, trust="RB2", kind="reverse_mentoring")  # another trust's kind
    with store.session() as session:
        assert register.show(session, ident).kind_label == "Reverse mentoring"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kinds:\n- id: coaching\n  label: x\n- id: Bad Id\n  label: ''\n")
    with pytest.raises(InitiativeError) as refused:
        kinds.load_kinds_file(bad, "RA1")
    text = str(refused.value)
    assert "kinds[1], id: 'coaching' is a built-in kind" in text
    assert "kinds[2], id: 'Bad Id' is not an id" in text and "kinds[2], label: missing" in text
