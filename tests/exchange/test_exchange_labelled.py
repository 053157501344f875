"""SPSS and Stata exports read back with pyreadstat: names, labels, codes, missing values."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pyreadstat
import pytest
from exchange_rows import Row, RowsFile, random_rows

from sharedground.exchange.columns import item_columns
from sharedground.exchange.csvfile import canonical_frame
from sharedground.exchange.exporter import export_wave
from sharedground.exchange.importer import import_file
from sharedground.exchange.labelled import variables, write_labelled
from sharedground.instrument import Instrument, loads
from sharedground.store import Store

# The coding the statistician was promised (see the module docstring), written out here
# independently of the code under test.
LIKERT = {"strongly_agree": 1, "tend_to_agree": 2, "tend_to_disagree": 3, "strongly_disagree": 4}
GRID = {"yes": 1, "no": 2, "dont_know": 9}
MODE = {"online": 1, "postal": 2, "paper": 3}


def read(path: Path) -> tuple[Any, Any]:
    reader = pyreadstat.read_sav if path.suffix == ".sav" else pyreadstat.read_dta
    return reader(str(path), user_missing=True)


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell(value: object) -> object:
    """A read-back value in a comparable form (None for missing, int for whole numbers)."""
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.fixture
def exported(
    store: Store, rows_file: RowsFile, dmr2015: Instrument, tmp_path: Path
) -> tuple[list[Row], Path, Path]:
    rows = random_rows(dmr2015, 120, seed=21, blank=0.2)
    # Make sure the rarer cases are there whatever the seed gives.
    rows[0]["barriers"] = "none"
    rows[1]["barriers"] = None
    rows[2]["outlook_improve"] = "dont_know"
    rows[3]["submitted"] = None
    rows[4]["trust"] = None
    rows[5]["comments_final"] = "é" * 1500  # over 2045 bytes: a Stata strL
    import_file(store, rows_file(rows), "w")
    sav, dta = tmp_path / "w.sav", tmp_path / "w.dta"
    assert export_wave(store, "w", "sav", sav) == 120
    assert export_wave(store, "w", "dta", dta) == 120
    return rows, sav, dta


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_codes_and_counts_match_the_csv(
    exported: tuple[list[Row], Path, Path], dmr2015: Instrument, fmt: str
) -> None:
    rows, sav, dta = exported
    data, _ = read(sav if fmt == "sav" else dta)
    names = {v.source: v.name for v in variables(dmr2015, fmt)}  # type: ignore[arg-type]
    dont_know = 9 if fmt == "sav" else "a"
    assert len(data) == len(rows)
    assert list(data[names["respondent_id"]]) == [r["respondent_id"] for r in rows]
    roles = dmr2015.role_ids()
    assert [cell(v) for v in data["role"]] == [roles.index(r["role"]) + 1 for r in rows]
    assert [cell(v) for v in data["mode"]] == [MODE[r["mode"]] for r in rows]  # type: ignore[index]
    assert [None if is_missing(v) or v == "" else v for v in data["trust"]] == [
        r["trust"] for r in rows
    ]
    assert [None if is_missing(v) else v.isoformat() for v in data["submitted"]] == [
        r["submitted"] for r in rows
    ]
    for column in item_columns(dmr2015):
        given = [r[column.name] for r in rows]
        if column.kind == "multi":
            for option in (*column.options, "none"):
                got = [cell(v) for v in data[names[f"{column.name}:{option}"]]]
                want = [None if g is None else int(option in g.split(";")) for g in given]
                assert got == want, (column.name, option)
            continue
        got = [cell(v) for v in data[names[column.name]]]
        if column.kind == "likert":
            want = [None if g is None else LIKERT.get(g, dont_know) for g in given]
        elif column.kind == "grid":
            want = [None if g is None else GRID[g] for g in given]
        elif column.kind == "rating":
            want = [None if g is None else int(g) for g in given]
        elif column.kind == "single":
            want = [None if g is None else column.allowed.index(g) + 1 for g in given]
        else:
            got = [None if g == "" else g for g in got]
            want = given
            if fmt == "sav":
                # SPSS strings are fixed width, padded with spaces: trailing ones are lost.
                want = [None if g is None else g.rstrip(" ") or None for g in given]
        assert got == want, column.name
        # Counts per value, as a statistician would tabulate them.
        assert Counter(got) == Counter(want)


def test_spss_labels_and_missing_values(
    exported: tuple[list[Row], Path, Path], dmr2015: Instrument
) -> None:
    _, sav, _ = exported
    _, meta = read(sav)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    values = meta.variable_value_labels
    assert values["outlook_improve"] == {
        1: "Strongly agree",
        2: "Tend to agree",
        3: "Tend to disagree",
        4: "Strongly disagree",
        9: "Don't know / not applicable",
    }
    assert meta.missing_ranges["outlook_improve"] == [{"lo": 9.0, "hi": 9.0}]
    # Only Likert items declare 9 missing; a grid's "don't know" is a valid answer.
    likert = {c.name for c in item_columns(dmr2015) if c.kind == "likert"}
    assert set(meta.missing_ranges) == likert
    assert values["initiatives_paired_learning"] == {1: "Yes", 2: "No", 9: "Don't know"}
    assert values["local_rating"] == {1: "Poor", 5: "Excellent"}
    assert values["role"] == {
        1: "Chief executive",
        2: "Medical director",
        3: "Directorate manager (or similar)",
        4: "Clinical director (or similar)",
    }
    assert values["mode"] == {1: "Online", 2: "Postal", 3: "Paper entry"}
    assert values["barriers_lack_trust"] == {0: "Not chosen", 1: "Chosen"}
    assert labels["local_rating"] == dmr2015.item("local_rating").text
    assert labels["barriers_lack_trust"] == (
        "barriers:lack_trust: Lack of trust between management and medical staff"
    )
    assert labels["barriers_none"] == "barriers:none: There are no significant barriers"
    assert labels["factors_positive_none"] == "factors_positive:none: None of these"
    assert meta.variable_measure["outlook_improve"] == "ordinal"
    assert meta.variable_measure["role"] == "nominal"
    assert meta.original_variable_types["submitted"].startswith("DATE")
    assert meta.original_variable_types["comments_final"].startswith("A")
    # SPSS names may be 64 characters: none needs shortening in dmr-2015.
    assert "factors_positive_regulator_role_changes" in meta.column_names


def test_stata_labels_and_extended_missing(
    exported: tuple[list[Row], Path, Path], dmr2015: Instrument
) -> None:
    rows, _, dta = exported
    data, meta = read(dta)
    values = meta.variable_value_labels
    assert values["outlook_improve"] == {
        1: "Strongly agree",
        2: "Tend to agree",
        3: "Tend to disagree",
        4: "Strongly disagree",
        "a": "Don't know / not applicable",
    }
    assert meta.missing_user_values["outlook_improve"] == ["a"]
    assert data["outlook_improve"][2] == "a"
    assert meta.original_variable_types["submitted"] == "%td"
    # Without user_missing, .a reads as missing, as in Stata's own `tab`.
    plain, _ = pyreadstat.read_dta(str(dta))
    assert is_missing(plain["outlook_improve"][2])
    assert all(len(name) <= 32 for name in meta.column_names)
    assert all(len(label) <= 80 for label in meta.column_labels)
    assert len(set(meta.column_names)) == len(meta.column_names)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    shortened = [v for v in variables(dmr2015, "dta") if len(v.source) > 29]
    assert shortened, "dmr-2015 has names too long for Stata"
    for variable in shortened:
        assert variable.name != variable.source
        assert labels[variable.name].startswith(f"{variable.source}: ")
    assert data["comments_final"][5] == "é" * 1500
    assert (
        data["comments_final"][rows.index(next(r for r in rows if r["comments_final"] is None))]
        == ""
    )


def test_names_are_the_same_every_time(dmr2015: Instrument) -> None:
    for fmt in ("sav", "dta"):
        first = [v.name for v in variables(dmr2015, fmt)]  # type: ignore[arg-type]
        assert first == [v.name for v in variables(dmr2015, fmt)]  # type: ignore[arg-type]


def test_a_text_item_keeps_its_name_when_an_option_variable_would_clash(
    dmr2015: Instrument,
) -> None:
    # `barriers_other` is a text item; `barriers` also has an option `other`.
    named = {v.source: v.name for v in variables(dmr2015, "sav")}
    assert named["barriers_other"] == "barriers_other"
    assert named["barriers:other"] == "barriers_other_2"


LONG = "a" * 56


def awkward_instrument() -> Instrument:
    """Ids that are Stata keywords, too long for either format, or that clash once cut."""
    return loads(
        f"""
id: awkward
version: 1
title: {"A title long enough to need cutting for Stata's eighty character data label " * 2}
sections:
- id: s
  title: S
  items:
  - id: role
    type: single
    text: Role?
    options:
    - id: boss
      label: Boss
    - id: other
      label: "{"Ünïcödé option label longer than SPSS's 120 bytes " * 4}end"
  - id: in
    type: likert
    text: A Stata keyword for a name
  - id: with
    type: likert
    text: A keyword in both formats
  - id: {LONG}_one
    type: likert
    text: {"A very long statement that goes on and on " * 8}
  - id: {LONG}_two
    type: rating
    low_label: Low
    high_label: High
    text: Another
  - id: {LONG}_three
    type: multi
    text: Pick
    options:
    - id: first_option_with_a_long_name
      label: "{"Option label far longer than SPSS allows " * 5}"
    - {{id: second, label: Second}}
""",
        source="awkward.yaml",
    )


@pytest.mark.parametrize(("fmt", "limit"), [("sav", 64), ("dta", 32)])
def test_awkward_ids_give_valid_unique_names(fmt: str, limit: int, tmp_path: Path) -> None:
    instrument = awkward_instrument()
    specs = variables(instrument, fmt)  # type: ignore[arg-type]
    names = [v.name for v in specs]
    assert len(set(names)) == len(names)
    assert all(len(n) <= limit for n in names)
    assert all(n[0].isalpha() and n.replace("_", "").isalnum() for n in names)
    assert "with" not in names and "with_" in names
    assert ("in" in names) == (fmt == "sav")  # `in` is reserved by Stata only
    for v in specs:
        if v.name != v.source:
            assert v.label.startswith(v.source[:20])
    frame = canonical_frame(
        pl.DataFrame(
            {
                "respondent_id": ["x", "y"],
                "role": ["boss", "other"],
                "mode": ["online", "paper"],
                "in": ["dont_know", "tend_to_agree"],
                "with": ["strongly_disagree", None],
                f"{LONG}_one": ["strongly_agree", None],
                f"{LONG}_two": ["3", None],
                f"{LONG}_three": ["first_option_with_a_long_name;second", "none"],
            }
        ),
        instrument,
    )
    out = tmp_path / f"awkward.{fmt}"
    write_labelled(frame, instrument, fmt, out)  # type: ignore[arg-type]
    data, meta = read(out)
    assert meta.column_names == names
    label_limit = 80 if fmt == "dta" else 256
    assert all(len(label) <= label_limit for label in meta.column_labels)
    statement = next(v for v in specs if v.source == f"{LONG}_one")
    long_statement = meta.column_labels[names.index(statement.name)]
    # Cut at a word boundary and marked with an ellipsis; when the name had to be shortened
    # (Stata), the label starts with the full column name.
    prefix = "" if statement.name == statement.source else f"{LONG}_one: "
    assert (prefix != "") == (fmt == "dta")
    full = prefix + instrument.item(f"{LONG}_one").text
    assert long_statement.endswith("…") and long_statement.startswith(prefix)
    kept = long_statement.removesuffix("…")
    assert full.startswith(kept) and full[len(kept)] == " "
    option = next(v for v in specs if v.source.endswith(":first_option_with_a_long_name"))
    label = meta.variable_value_labels.get(option.name, {})
    assert label == {0: "Not chosen", 1: "Chosen"}
    assert [cell(v) for v in data[option.name]] == [1, 0]
    assert len(meta.file_label) <= label_limit
    other = meta.variable_value_labels["role"][2]
    if fmt == "sav":
        assert len(other.encode()) <= 120 and other.endswith("…")
    else:
        assert other == instrument.item("role").options[1].label  # type: ignore[union-attr]
