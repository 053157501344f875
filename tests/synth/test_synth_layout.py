"""Every cell of a cohort is valid in the exchange layout; files are canonical and reproducible."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sharedground.exchange.columns import all_column_names, item_columns
from sharedground.instrument import NONE_CHOSEN
from sharedground.reference import published_2015
from sharedground.synth import generate, instrument_for, write


@pytest.mark.parametrize("wave", ["2015", "2002"])
def test_every_cell_is_valid(
    wave: str, cohort_2015: pl.DataFrame, cohort_2002: pl.DataFrame
) -> None:
    frame = cohort_2015 if wave == "2015" else cohort_2002
    instrument = instrument_for(wave)  # type: ignore[arg-type]
    assert frame.columns == all_column_names(instrument)
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame["role"].null_count() == 0
    for column in item_columns(instrument):
        values = frame[column.name].drop_nulls()
        assert (values != "").all(), column.name
        if column.kind == "multi":
            assert frame[column.name].null_count() == 0, f"{column.name}: everybody answers"
            for cell in values.unique():
                picked = cell.split(";")
                if NONE_CHOSEN in picked:
                    assert picked == [NONE_CHOSEN], f"{column.name}: 'none' is exclusive"
                    continue
                assert len(picked) <= (column.max_choices or len(column.options))
                assert set(picked) <= set(column.options), cell
                positions = [column.options.index(p) for p in picked]
                assert positions == sorted(set(positions)), f"{cell}: questionnaire order"
        elif column.kind == "text":
            assert (values.str.len_chars() <= (column.max_length or 0)).all(), column.name
        else:
            assert set(values.unique()) <= set(column.allowed), column.name


def test_barriers_other_only_with_other(cohort_2015: pl.DataFrame) -> None:
    ticked = cohort_2015["barriers"].str.split(";").list.contains("other")
    assert ticked.sum() > 0
    assert (cohort_2015["barriers_other"].is_not_null() == ticked).all()


def test_initiatives_grid_is_skipped_whole(cohort_2015: pl.DataFrame) -> None:
    grid = [c for c in cohort_2015.columns if c.startswith("initiatives:")]
    blanks = cohort_2015.select(pl.sum_horizontal(pl.col(grid).is_null()).alias("n"))["n"]
    assert set(blanks.unique()) <= {0, len(grid)}, "a row is either skipped whole or answered"
    # As many as every row's valid n allows: group size minus the largest valid n of any row.
    table = next(t for t in published_2015()["tables"] if t["id"] == "table_2.11")
    sizes = published_2015()["study"]["respondents"]["by_group"]
    allowed = sum(sizes[g] - max(r["inferred_valid_n"][g] for r in table["rows"]) for g in sizes)
    assert (blanks == len(grid)).sum() == allowed == 39


def test_missing_answers_are_plausible(cohort_2015: pl.DataFrame) -> None:
    likert = [c.name for c in item_columns(instrument_for("2015")) if c.kind == "likert"]
    blank_share = cohort_2015.select(pl.col(likert).null_count()).row(0)
    assert max(blank_share) / cohort_2015.height <= 0.06
    assert sum(blank_share) / (len(likert) * cohort_2015.height) <= 0.03


def test_strongly_and_tend_both_used(cohort_2015: pl.DataFrame) -> None:
    values = set(cohort_2015["work_as_team"].drop_nulls())
    assert {"strongly_agree", "tend_to_agree", "tend_to_disagree", "strongly_disagree"} <= values
    assert set(cohort_2015["local_rating"].drop_nulls()) == {"1", "2", "3", "4", "5"}


def test_same_seed_gives_a_byte_identical_file(tmp_path: Path) -> None:
    instrument = instrument_for("2015")
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write(generate("2015", seed=5), instrument, first)
    write(generate("2015", seed=5), instrument, second)
    write(generate("2015", seed=6), instrument, other)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    back = pl.read_csv(first, infer_schema=False)
    assert back.equals(generate("2015", seed=5))


def _answer_counts(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Respondents per role and answer (per ticked option for multi-choice columns)."""
    if column == "barriers":
        frame = frame.select("role", pl.col(column).str.split(";")).explode(column)
    return frame.group_by("role", column).len().sort("role", column)


@pytest.mark.parametrize(
    "column", ["outlook_improve", "local_rating", "barriers", "initiatives:paired_learning"]
)
def test_other_seed_same_counts(
    cohort_2015: pl.DataFrame, cohort_2015_other_seed: pl.DataFrame, column: str
) -> None:
    other = cohort_2015_other_seed
    assert not other[column].equals(cohort_2015[column])
    assert _answer_counts(other, column).equals(_answer_counts(cohort_2015, column))
