"""Importing exchange files on both backends: all or nothing, idempotent, one instrument a wave."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from exchange_rows import RowsFile, WriteFile, random_rows, table_counts
from sqlalchemy import func, select

from sharedground.exchange.importer import import_file
from sharedground.exchange.problems import InvalidFile
from sharedground.instrument import Instrument, builtin
from sharedground.store import Organisation, Response, Store


def import_partial(store: Store, path: str | Path, wave: str, *args: Any, **kwargs: Any) -> Any:
    """`import_file` for files holding only the columns a test needs (the rest are blank)."""
    return import_file(store, path, wave, *args, allow_missing_items=True, **kwargs)


def stored(store: Store, wave: str) -> dict[str, tuple[str, str | None, str, str | None, dict]]:
    with store.session() as session:
        wave_id = store.get_wave(session, wave).id
        rows = session.execute(
            select(
                Response.respondent_key,
                Response.role,
                Organisation.code,
                Response.mode,
                Response.submitted_on,
                Response.answers,
            )
            .outerjoin(Organisation, Organisation.id == Response.organisation_id)
            .where(Response.wave_id == wave_id)
        ).all()
    return {
        key: (role, code, mode, submitted.isoformat() if submitted else None, answers)
        for key, role, code, mode, submitted, answers in rows
    }


HEADER = (
    "respondent_id,role,trust,mode,submitted,"
    "local_rating,barriers,initiatives:paired_learning,comments_final"
)


def test_import_stores_each_answer_as_typed(
    store: Store, write_file: WriteFile, dmr2015: Instrument
) -> None:
    path = write_file(
        f"{HEADER}\n"
        "r1,chief_executive,RXA,postal,2015-10-02,"
        '4,lack_trust;time_doctors,yes,"a ""quoted"", comment"\n'
        "r2,medical_director,,online,,,,,\n"
    )
    result = import_partial(store, path, "2015")
    assert (result.added, result.unchanged, result.rows, result.created_wave) == (2, 0, 2, True)
    assert result.instrument == "dmr-2015@1"
    rows = stored(store, "2015")
    assert rows["r1"] == (
        "chief_executive",
        "RXA",
        "postal",
        "2015-10-02",
        {
            "local_rating": "4",
            "barriers": "time_doctors;lack_trust",
            "initiatives:paired_learning": "yes",
            "comments_final": 'a "quoted", comment',
        },
    )
    # Blank cells are left out of the document altogether.
    assert rows["r2"] == ("medical_director", None, "online", None, {})


def test_one_bad_row_writes_nothing(store: Store, rows_file: RowsFile, dmr2015: Instrument) -> None:
    rows = random_rows(dmr2015, 40, seed=3)
    rows[25]["barriers"] = "time_doctors;lack_trust;other;time_managers"
    path = rows_file(rows)
    before = table_counts(store)
    with pytest.raises(InvalidFile) as caught:
        import_partial(store, path, "2015")
    assert [str(p) for p in caught.value.problems] == [
        "row 27, column barriers: 4 options chosen, at most 3 allowed"
    ]
    assert table_counts(store) == before
    with store.session() as session:
        assert store.find_wave(session, "2015") is None


def test_importing_the_same_file_twice_adds_nothing(
    store: Store, rows_file: RowsFile, dmr2015: Instrument
) -> None:
    path = rows_file(random_rows(dmr2015, 30, seed=4))
    first = import_partial(store, path, "2015")
    after_first = table_counts(store)
    second = import_partial(store, path, "2015")
    assert (first.added, first.unchanged) == (30, 0)
    assert (second.added, second.unchanged, second.created_wave) == (0, 30, False)
    assert table_counts(store) == after_first
    assert after_first["response"] == 30


def test_a_longer_file_adds_only_the_new_respondents(
    store: Store, rows_file: RowsFile, dmr2015: Instrument
) -> None:
    rows = random_rows(dmr2015, 30, seed=5)
    import_partial(store, rows_file(rows[:20]), "2015")
    result = import_partial(store, rows_file(rows), "2015")
    assert (result.added, result.unchanged) == (10, 20)
    assert len(stored(store, "2015")) == 30


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("local_rating", "1"),
        ("trust", "RZZ"),
        ("mode", "paper"),
        ("submitted", "2015-12-01"),
        ("comments_final", "a comment added later"),
        ("role", "medical_director"),
    ],
)
def test_reimport_with_a_changed_answer_is_refused_naming_the_row(
    store: Store, rows_file: RowsFile, dmr2015: Instrument, column: str, value: str
) -> None:
    rows = random_rows(dmr2015, 12, seed=6)
    rows[7]["local_rating"] = "5"
    rows[7]["trust"] = "RXA"
    rows[7]["mode"] = "online"
    rows[7]["submitted"] = "2015-06-01"
    rows[7]["role"] = "chief_executive"
    rows[7]["comments_final"] = None
    import_partial(store, rows_file(rows), "2015")
    before = table_counts(store)
    rows[7][column] = value
    rows.append(random_rows(dmr2015, 1, seed=7, prefix="NEW")[0])
    with pytest.raises(InvalidFile) as caught:
        import_partial(store, rows_file(rows), "2015")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (9, "respondent_id")
    assert "'R00008' is already in this wave with different answers" in problem.message
    # Neither the changed row nor the new one was written.
    assert table_counts(store) == before


def test_a_blank_answer_that_was_given_before_counts_as_a_change(
    store: Store, write_file: WriteFile
) -> None:
    first = write_file("respondent_id,role,local_rating\nr1,chief_executive,3\n")
    import_partial(store, first, "w")
    blanked = write_file("respondent_id,role,local_rating\nr1,chief_executive,\n")
    with pytest.raises(InvalidFile, match="different answers"):
        import_partial(store, blanked, "w")


def test_a_new_wave_takes_the_instrument_given(store: Store, write_file: WriteFile) -> None:
    path = write_file("respondent_id,role,local_rating\nr1,chief_executive,3\n")
    result = import_partial(store, path, "2002", builtin("dmr-2002"))
    assert result.instrument == "dmr-2002@1"
    with store.session() as session:
        assert store.instrument_of(store.get_wave(session, "2002")).key == "dmr-2002@1"
    # Later imports may leave the instrument out or name the same one.
    assert import_partial(store, path, "2002").unchanged == 1
    assert import_partial(store, path, "2002", builtin("dmr-2002")).unchanged == 1


def test_the_wrong_instrument_for_an_existing_wave_is_refused(
    store: Store, write_file: WriteFile
) -> None:
    path = write_file("respondent_id,role\nr1,chief_executive\n")
    import_partial(store, path, "2002", builtin("dmr-2002"))
    before = table_counts(store)
    with pytest.raises(InvalidFile) as caught:
        import_partial(store, path, "2002", builtin("dmr-2015"))
    assert [p.message for p in caught.value.problems] == [
        "wave '2002' uses instrument dmr-2002@1, not dmr-2015@1"
    ]
    assert table_counts(store) == before


def test_columns_are_checked_against_the_waves_instrument(
    store: Store, write_file: WriteFile
) -> None:
    import_partial(
        store, write_file("respondent_id,role\nr1,chief_executive\n"), "2002", builtin("dmr-2002")
    )
    # `initiatives` was new in 2015: not a column of a 2002 wave.
    path = write_file("respondent_id,role,initiatives:paired_learning\nr2,chief_executive,yes\n")
    with pytest.raises(InvalidFile) as caught:
        import_partial(store, path, "2002")
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (1, "initiatives:paired_learning")
    ]


def test_organisations_are_created_once_across_imports(store: Store, write_file: WriteFile) -> None:
    import_partial(
        store,
        write_file("respondent_id,role,trust\nr1,chief_executive,RXA\nr2,chief_executive,RXB\n"),
        "a",
    )
    import_partial(
        store,
        write_file("respondent_id,role,trust\nr1,chief_executive,RXB\nr2,chief_executive,RXC\n"),
        "b",
    )
    with store.session() as session:
        codes = session.scalars(select(Organisation.code).order_by(Organisation.code)).all()
        responses = session.scalar(select(func.count()).select_from(Response))
    assert codes == ["RXA", "RXB", "RXC"]
    assert responses == 4


def test_the_same_id_may_be_used_in_two_waves(store: Store, write_file: WriteFile) -> None:
    path = write_file("respondent_id,role\nr1,chief_executive\n")
    assert import_partial(store, path, "a").added == 1
    assert import_partial(store, path, "b").added == 1


def test_progress_reaches_the_total(store: Store, rows_file: RowsFile, dmr2015: Instrument) -> None:
    seen: list[tuple[int, int]] = []
    path = rows_file(random_rows(dmr2015, 25, seed=8))
    import_partial(store, path, "2015", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (25, 25)
    assert all(done <= total for done, total in seen)


def test_notes_are_passed_on(store: Store, write_file: WriteFile) -> None:
    path = write_file(b"\xef\xbb\xbfrespondent_id,role\r\nr1,chief_executive\r\n")
    result = import_partial(store, path, "w")
    assert result.notes[:2] == [
        "a UTF-8 byte-order mark was skipped",
        "Windows line endings were read as plain newlines",
    ]
    assert result.notes[2].startswith("64 item columns are missing, imported as unanswered: ")


def test_submitted_is_stored_as_a_date(store: Store, write_file: WriteFile) -> None:
    import_partial(
        store, write_file("respondent_id,role,submitted\nr1,chief_executive,2015-6-9\n"), "w"
    )
    with store.session() as session:
        assert session.scalar(select(Response.submitted_on)) == dt.date(2015, 6, 9)
    # The same file again is recognised as the same answers (the date is compared as a date).
    again = import_partial(
        store, write_file("respondent_id,role,submitted\nr1,chief_executive,2015-06-09\n"), "w"
    )
    assert again.unchanged == 1


def test_file_path_types(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("respondent_id,role\nr1,chief_executive\n", encoding="utf-8")
    assert import_partial(store, str(path), "w").added == 1


def test_a_file_missing_item_columns_is_refused_naming_them(
    store: Store, rows_file: RowsFile, write_file: WriteFile, dmr2015: Instrument
) -> None:
    full = rows_file(random_rows(dmr2015, 4, seed=5))
    # Drop two item columns (every cell of them), as a careless copy-and-paste would.
    header = full.read_text(encoding="utf-8").splitlines()[0].split(",")
    dropped = ["local_rating", "outlook_improve"]
    keep = [i for i, name in enumerate(header) if name not in dropped]
    assert len(keep) == len(header) - 2
    rows = list(csv.reader(io.StringIO(full.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[r[i] for i in keep] for r in rows])
    path = write_file(out.getvalue())
    before = table_counts(store)
    with pytest.raises(InvalidFile) as caught:
        import_file(store, path, "2015")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (1, None)
    assert "2 item columns are missing (instrument dmr-2015@1): local_rating, outlook_improve;" in (
        problem.message
    )
    assert "--allow-missing-items" in problem.message
    assert table_counts(store) == before
    result = import_file(store, path, "2015", allow_missing_items=True)
    assert result.added == 4
    assert result.notes == [
        "2 item columns are missing, imported as unanswered: local_rating, outlook_improve"
    ]
