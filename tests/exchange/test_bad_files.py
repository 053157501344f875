"""The bad-input corpus (tests/data/bad): each file gives its message and changes nothing.

`expected.yaml` beside the files lists, for each, the problems it must give as
(row, column, part of the message). Each file is read on its own, then imported into a wave
that already holds responses and into a new wave, on both backends: every table must keep
its rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from exchange_rows import RowsFile, random_rows, table_counts

from sharedground.exchange.importer import import_file
from sharedground.exchange.problems import InvalidFile
from sharedground.exchange.reader import read_exchange_csv
from sharedground.instrument import Instrument
from sharedground.store import Store

CORPUS = Path(__file__).parent.parent / "data" / "bad"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (CORPUS / "expected.yaml").read_text(encoding="utf-8")
)


def test_every_file_has_an_expectation_and_the_other_way_round() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.csv")) == sorted(EXPECTED)


def test_the_corpus_covers_the_issue() -> None:
    # The cases the issue names, each as one file.
    named = {
        "unknown_column.csv",
        "missing_role_column.csv",
        "duplicate_ids.csv",
        "bad_likert.csv",
        "four_barriers.csv",
        "none_with_option.csv",
        "rating_zero.csv",
        "bad_date.csv",
        "utf16.csv",
        "latin1.csv",
        "empty.csv",
        "header_only.csv",
        "ragged_row.csv",
        "duplicate_header.csv",
    }
    assert named <= set(EXPECTED)


def check(caught: InvalidFile, name: str) -> None:
    expected = EXPECTED[name]
    found = [(p.row, p.column, p.message) for p in caught.problems]
    assert len(found) == expected.get("count", len(expected["problems"])), (name, found)
    for (row, column, part), (got_row, got_column, message) in zip(
        expected["problems"], found, strict=False
    ):
        assert (got_row, got_column) == (row, column), (name, found)
        assert part in message, (name, found)
    # The message printed for the user names the file and says nothing was imported.
    first_line = str(caught).splitlines()[0]
    assert first_line.startswith(str(CORPUS / name))
    assert first_line.endswith("nothing was imported")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_its_message(dmr2015: Instrument, name: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        # The corpus files hold only the columns their problem needs; a missing item column
        # is a problem of its own (test_exchange_reader), so it is allowed here.
        read_exchange_csv(CORPUS / name, dmr2015, allow_missing_items=True)
    check(caught.value, name)


def test_no_bad_file_changes_the_database(
    store: Store, rows_file: RowsFile, dmr2015: Instrument
) -> None:
    # One database per backend for the whole corpus: a fresh one per file would spend
    # a minute on migrations and prove nothing more.
    import_file(store, rows_file(random_rows(dmr2015, 5, seed=31)), "2015")
    before = table_counts(store)
    for name in sorted(EXPECTED):
        for wave in ("2015", "new wave"):
            with pytest.raises(InvalidFile) as caught:
                import_file(store, CORPUS / name, wave, allow_missing_items=True)
            check(caught.value, name)
            assert table_counts(store) == before, name
