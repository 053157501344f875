"""The built-in instruments against the published report (sharedground.reference)."""

from __future__ import annotations

from typing import Any

import pytest

from sharedground.instrument import (
    GridItem,
    Instrument,
    LikertItem,
    MultiItem,
    SingleItem,
    builtin,
    dumps,
    list_builtin,
    loads,
)
from sharedground.reference import ROLES, published_2015, table

DMR_2015 = builtin("dmr-2015")
DMR_2002 = builtin("dmr-2002")
ITEM_TABLES = [f"table_2.{n}" for n in range(1, 12)]


def published_rows(table_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table(table_id)["rows"]
    return rows


def test_list_builtin() -> None:
    assert list_builtin() == ["dmr-2002", "dmr-2015", "dmr-pulse"]
    assert DMR_2015.key == "dmr-2015@1" and DMR_2002.key == "dmr-2002@1"


@pytest.mark.parametrize("table_id", ITEM_TABLES)
def test_every_published_row_has_its_item_and_option(table_id: str) -> None:
    ours = DMR_2015.table(table_id)
    published = [(r["item"], r.get("option")) for r in published_rows(table_id)]
    assert [(r.item, r.option) for r in ours.rows] == published
    for item_id, option_id in published:
        item = DMR_2015.item(item_id)
        if option_id is not None:
            assert option_id in [o.id for o in item.options]  # type: ignore[union-attr]


def test_the_tables_are_the_published_ones() -> None:
    assert [t.id for t in DMR_2015.tables] == [t["id"] for t in published_2015()["tables"]]


def test_reverse_scored_items_are_exactly_those_with_original_wording() -> None:
    published = {
        row["item"]: row
        for table_id in ITEM_TABLES
        for row in published_rows(table_id)
        if "original_wording" in row
    }
    assert len(published) == 3
    reversed_items = {
        item.id: item for item in DMR_2015.items() if isinstance(item, LikertItem) and item.reverse
    }
    assert set(reversed_items) == set(published)
    for item_id, row in published.items():
        item = reversed_items[item_id]
        # Asked with the original wording; reported as the table prints it.
        assert item.text == row["original_wording"]
        assert item.reported_as == row["label"]


def options_of(item_id: str, instrument: Instrument = DMR_2015) -> list[str]:
    item = instrument.item(item_id)
    assert isinstance(item, SingleItem | MultiItem | GridItem)
    return [o.id for o in item.options]


def published_options(table_id: str) -> list[str]:
    return [r["option"] for r in published_rows(table_id)]


def test_barriers() -> None:
    barriers = DMR_2015.item("barriers")
    assert isinstance(barriers, MultiItem) and barriers.max_choices == 3
    # The seven published barriers, in the report's order, and "something else".
    assert options_of("barriers") == [*published_options("table_2.8"), "other"]
    assert len(published_options("table_2.8")) == 7
    assert barriers.none_label


@pytest.mark.parametrize(
    ("item_id", "table_id"), [("factors_positive", "table_2.9"), ("factors_negative", "table_2.10")]
)
def test_external_factors(item_id: str, table_id: str) -> None:
    item = DMR_2015.item(item_id)
    assert isinstance(item, MultiItem) and item.max_choices == 3
    assert options_of(item_id) == published_options(table_id)
    assert len(set(options_of(item_id))) == 8
    # Both questions offer the same eight factors.
    assert set(options_of("factors_positive")) == set(options_of("factors_negative"))


def test_initiatives_grid() -> None:
    item = DMR_2015.item("initiatives")
    assert isinstance(item, GridItem)
    assert options_of("initiatives") == published_options("table_2.11")
    assert len(item.options) == 8


def test_demographics() -> None:
    assert DMR_2015.role_ids() == list(ROLES)
    assert set(published_2015()["study"]["respondents"]["by_group"]) == set(ROLES)
    route = DMR_2015.item("appointment_route")
    assert isinstance(route, SingleItem)
    assert [o.label for o in route.options] == table("table_1.1")["options"]
    commitments = DMR_2015.item("clinical_commitments")
    assert isinstance(commitments, SingleItem)
    assert len(commitments.options) == len(table("table_1.2")["options"]) == 4
    assert DMR_2015.section_of("role").demographic


def test_likert_items_of_the_tables_are_likert() -> None:
    for table_id in ITEM_TABLES[1:7]:
        for row in published_rows(table_id):
            assert isinstance(DMR_2015.item(row["item"]), LikertItem), row["item"]


def test_2002_is_a_subset_of_2015_with_the_same_questions() -> None:
    ours = {item.id: item for item in DMR_2015.items()}
    for item in DMR_2002.items():
        assert item.id in ours, item.id
        twin = ours[item.id]
        assert item.type == twin.type, item.id
        assert getattr(item, "options", None) == getattr(twin, "options", None), item.id
        assert getattr(item, "max_choices", None) == getattr(twin, "max_choices", None)
        assert getattr(item, "reverse", None) == getattr(twin, "reverse", None)
    # The questions new in 2015 are not in the 2002 subset.
    ids_2002 = {item.id for item in DMR_2002.items()}
    assert {"factors_positive", "factors_negative", "initiatives"}.isdisjoint(ids_2002)
    assert DMR_2002.based_on == DMR_2015.key


@pytest.mark.parametrize("instrument", [DMR_2015, DMR_2002], ids=lambda i: i.id)
def test_dump_and_load_give_the_same_instrument(instrument: Instrument) -> None:
    assert loads(dumps(instrument)) == instrument


def test_unknown_builtin_lists_the_known_ones() -> None:
    from sharedground.instrument import InstrumentError

    with pytest.raises(
        InstrumentError,
        match=r"no built-in instrument 'dmr-1999' \(available: dmr-2002, dmr-2015, dmr-pulse\)",
    ):
        builtin("dmr-1999")
