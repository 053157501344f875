"""The report's tables, rendered from the published 2015 figures, read back from the HTML."""

from __future__ import annotations

import pytest
from report_support import check_snapshot, parse_tables, published_input

from sharedground.instrument import Instrument
from sharedground.reference import ROLES, published_2015
from sharedground.report.compose import compose
from sharedground.report.render import render_html


@pytest.fixture(scope="module")
def tables(instrument: Instrument) -> list[dict]:
    html = render_html(compose(published_input(instrument)))
    return parse_tables(html)


def test_every_published_table_is_rendered(tables: list[dict]) -> None:
    ids = [t["id"] for t in tables]
    published = [t["id"].replace(".", "-") for t in published_2015()["tables"]]
    assert ids == published


def test_cells_print_the_published_percentage_and_count(tables: list[dict]) -> None:
    by_id = {t["id"]: t for t in tables}
    checked = 0
    for table in published_2015()["tables"]:
        if isinstance(table["rows"], dict):
            continue
        rendered = by_id[table["id"].replace(".", "-")]
        assert len(rendered["rows"]) == len(table["rows"])
        for row, cells in zip(table["rows"], rendered["rows"], strict=True):
            for position, role in enumerate(ROLES, start=1):
                group = row["groups"][role]
                assert cells[position] == f"{group['pct']}% ({group['count']})"
                checked += 1
            assert cells[len(ROLES) + 1].startswith(f"{row['overall_pct']}% (")
    assert checked > 200


def test_stars_and_reverse_marks(tables: list[dict]) -> None:
    by_id = {t["id"]: t for t in tables}
    power = by_id["table_2-2"]
    assert power["header"][-1] == "Test"
    rows = {r[0]: r for r in power["rows"]}
    reversed_rows = [label for label in rows if label.endswith("†")]
    assert len(reversed_rows) == 2  # the two "pressure" items are asked the other way round
    assert any("Reverse-worded" in note for note in power["notes"])
    published = {r["label"]: r["stars"] for r in published_2015()["tables"][3]["rows"]}
    assert [r[-1].rstrip("‡") for r in power["rows"]] == list(published.values())


def test_footnotes_explain_percentages_brackets_and_test(tables: list[dict]) -> None:
    for table in tables:
        notes = " ".join(table["notes"])
        assert "numbers in brackets" in notes or "Numbers in brackets" in notes, table["id"]
        if table["header"][-1] == "Test":
            assert "p < 0.05" in notes


def test_header_gives_each_group_and_its_size(tables: list[dict]) -> None:
    header = tables[2]["header"]
    assert header[1:5] == [
        "Chief executive n = 59",
        "Medical director n = 131",
        "Directorate manager (or similar) n = 132",
        "Clinical director (or similar) n = 150",
    ]


def test_snapshot_of_published_tables(tables: list[dict]) -> None:
    check_snapshot("published_2015_tables", tables)
