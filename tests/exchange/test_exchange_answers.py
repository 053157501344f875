"""Answers documents: one JSON object per response, blanks left out, any text kept exactly."""

from __future__ import annotations

import json

import polars as pl
import pytest
from exchange_rows import TRICKY_TEXTS
from hypothesis import given, settings
from hypothesis import strategies as st

from sharedground.exchange import answers

NAMES = ["local_rating", "barriers", "initiatives:paired_learning", "comments_final"]


def frame(*rows: tuple[str | None, ...]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={n: pl.String for n in NAMES}, orient="row")


def test_blank_cells_are_left_out() -> None:
    docs = answers.encode(
        frame(
            ("4", "time_doctors;lack_trust", "no", None),
            (None, None, "yes", None),
            (None, "none", None, "x"),
            (None, None, None, None),
        ),
        NAMES,
    )
    assert [json.loads(d) for d in docs] == [
        {
            "local_rating": "4",
            "barriers": "time_doctors;lack_trust",
            "initiatives:paired_learning": "no",
        },
        {"initiatives:paired_learning": "yes"},
        {"barriers": "none", "comments_final": "x"},
        {},
    ]


@pytest.mark.parametrize("comment", TRICKY_TEXTS)
def test_tricky_text_survives(comment: str) -> None:
    rows = frame(
        (None, None, None, comment), ("1", None, None, comment), (None, None, "no", comment)
    )
    docs = answers.encode(rows, NAMES)
    # Every document is valid JSON holding the text exactly.
    assert [json.loads(d)["comments_final"] for d in docs] == [comment] * 3
    assert answers.decode(docs, NAMES).equals(rows)


def test_a_json_null_member_inside_a_comment_is_not_removed() -> None:
    # The encoder removes `,"x":null` members with a regular expression; text that looks
    # like one must not be touched.
    comment = 'a,"b":null,"c":null} and {"d":null,'
    rows = frame(("2", None, None, comment), (None, None, None, comment))
    docs = answers.encode(rows, NAMES)
    assert [json.loads(d) for d in docs] == [
        {"local_rating": "2", "comments_final": comment},
        {"comments_final": comment},
    ]


def test_columns_absent_from_the_frame_are_blank() -> None:
    only_rating = pl.DataFrame({"local_rating": ["3", None]})
    docs = answers.encode(only_rating, NAMES)
    assert docs.to_list() == ['{"local_rating":"3"}', "{}"]
    assert answers.encode(pl.DataFrame({"other": ["x"]}), NAMES).to_list() == ["{}"]


def test_decode_reads_postgresql_jsonb_text() -> None:
    # PostgreSQL prints jsonb with spaces and its own key order.
    docs = pl.Series(['{"barriers": "none", "local_rating": "5"}', "{}"])
    assert answers.decode(docs, NAMES).to_dicts() == [
        {
            "local_rating": "5",
            "barriers": "none",
            "initiatives:paired_learning": None,
            "comments_final": None,
        },
        {
            "local_rating": None,
            "barriers": None,
            "initiatives:paired_learning": None,
            "comments_final": None,
        },
    ]


def test_decode_of_nothing() -> None:
    empty = answers.decode(pl.Series([], dtype=pl.String), NAMES)
    assert empty.columns == NAMES and empty.height == 0


# Any text at all, including control characters and every JSON-significant character.
_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*(st.none() | _ANY_TEXT for _ in NAMES)), min_size=1, max_size=5))
def test_encode_then_decode_gives_the_frame_back(rows: list[tuple[str | None, ...]]) -> None:
    original = frame(*rows)
    docs = answers.encode(original, NAMES)
    for doc, row in zip(docs, rows, strict=True):
        assert json.loads(doc) == {n: v for n, v in zip(NAMES, row, strict=True) if v is not None}
    assert answers.decode(docs, NAMES).equals(original)


def test_verbatim_columns_give_the_same_documents() -> None:
    # The importer copies validated ids and numbers without escaping; the result must be
    # the same text the escaping path gives.
    rows = frame(("4", "time_doctors;lack_trust", "no", 'a "quote"'), (None, "none", None, None))
    escaped = answers.encode(rows, NAMES)
    verbatim = answers.encode(rows, NAMES, verbatim=set(NAMES[:3]))
    assert verbatim.to_list() == escaped.to_list()
    assert verbatim.to_list()[0] == (
        '{"local_rating":"4","barriers":"time_doctors;lack_trust",'
        '"initiatives:paired_learning":"no","comments_final":"a \\"quote\\""}'
    )
