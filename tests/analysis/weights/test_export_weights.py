"""`sharedground export --weights design`: the weights travel in every format."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pyreadstat
import pytest
from analysis_helpers import HandMade
from click.testing import CliRunner

from sharedground.cli import main
from sharedground.fieldwork.postal import DEFAULT_FRACTIONS
from sharedground.store import Store


def _export(store: Store, fmt: str, out: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    args = ["export", "--wave", "w", "--format", fmt, "--out", str(out), "--weights", "design"]
    result = CliRunner().invoke(main, [*args, "--database", url])
    assert result.exit_code == 0, result.output


def _expected(loaded: HandMade) -> dict[str, float]:
    return {
        r["respondent_id"]: 1.0 if r["mode"] == "online" else 1 / DEFAULT_FRACTIONS[r["role"]]
        for r in loaded.rows
    }


def test_csv_and_parquet_carry_the_design_weight(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    expected = _expected(loaded)
    _export(store, "csv", tmp_path / "w.csv")
    with (tmp_path / "w.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-1] == "weight"
    assert {r["respondent_id"]: float(r["weight"]) for r in rows} == pytest.approx(expected)
    _export(store, "parquet", tmp_path / "w.parquet")
    frame = pl.read_parquet(tmp_path / "w.parquet")
    got = dict(zip(frame["respondent_id"].to_list(), frame["weight"].to_list(), strict=True))
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_spss_and_stata_have_a_labelled_weight(
    store: Store, loaded: HandMade, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"w.{fmt}"
    _export(store, fmt, out)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    data, meta = reader(str(out))
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["weight"].startswith("sharedground design weight")
    ids = data["respondent_id"].tolist()
    expected = _expected(loaded)
    assert data["weight"].tolist() == pytest.approx([expected[i] for i in ids])
