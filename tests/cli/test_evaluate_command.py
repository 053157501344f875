"""`sharedground evaluate`: JSON valid against its published schema, CSV and XLSX exports,
one initiative, and mistakes reported without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from sharedground.cli import main

SCHEMA = Path(__file__).parents[2] / "src/sharedground/evaluation/schema.json"


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("programme")
    result = CliRunner().invoke(
        main, ["synth", "--scenario", "programme", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["evaluate", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_json_of_every_kind_matches_the_schema(programme: Path) -> None:
    code, out = _run("--from", str(programme), "--format", "json", "--replicates", "199")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    kinds = {r["kind"] for r in doc["what_works"]}
    assert kinds == set(pl.read_csv(programme / "trusts.csv")["kind"].drop_nulls())
    assert len(doc["what_works"]) == 4 * 3 and "Benjamini-Hochberg" in doc["rule"]
    big = [r for r in doc["what_works"] if r["kind"] == "paired_learning"]
    assert {r["measure"]: r["verdict"] for r in big}["rating"] == "roll out"
    for r in doc["what_works"]:
        assert r["participants"] == 36 * 20 if r["kind"] == "paired_learning" else True


def test_one_kind_has_its_cells_and_csv_xlsx_exports(programme: Path, tmp_path: Path) -> None:
    code, out = _run(
        "--from", str(programme), "--kind", "shadowing", "--format", "json",
        "--replicates", "99", "--control", "notyet",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["control"] == "notyet"
    assert {e["kind"] for e in doc["event_studies"]} == {"shadowing"}
    assert all(len(e["cells"]) == 16 for e in doc["event_studies"])  # 4 cohorts x 4 waves
    csv_path = tmp_path / "works.csv"
    code, _ = _run("--from", str(programme), "--kind", "shadowing", "--format", "csv",
                   "--replicates", "99", "--out", str(csv_path))  # fmt: skip
    frame = pl.read_csv(csv_path)
    assert frame["kind"].unique().to_list() == ["shadowing"] and frame.height == 3
    xlsx = tmp_path / "works.xlsx"
    code, _ = _run("--from", str(programme), "--format", "xlsx", "--replicates", "99",
                   "--out", str(xlsx))  # fmt: skip
    assert code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["kind", "measure"] and sheet.max_row == 1 + 12


def test_one_initiative_before_after_and_spc(programme: Path) -> None:
    code, out = _run("--from", str(programme), "--initiative", "2", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    init = doc["initiative"]
    assert [b["item"] for b in init["before_after"]] == ["agree", "rating"]
    assert "secular" in init["caveat"]
    assert init["spc"]["chart"] == "p" and len(init["spc"]["points"]) == 36
    code, text = _run("--from", str(programme), "--initiative", "2")
    assert code == 0 and "cannot separate the initiative" in text.replace("\n", " ")


def test_mistakes_are_one_line(tmp_path: Path, programme: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--from", str(tmp_path)])
    assert result.exit_code == 1
    assert "responses.csv: not found" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["evaluate", "--from", str(programme), "--kind", "nope"])
    assert result.exit_code == 1 and "no trust started" in result.output
    result = CliRunner().invoke(
        main, ["evaluate", "--scenario", "programme", "--from", str(programme)]
    )
    assert result.exit_code == 2 and "exactly one" in result.output
    result = CliRunner().invoke(main, ["evaluate", "--waves", "a,b", "--from", str(programme)])
    assert result.exit_code == 2 and "--waves goes with --register" in result.output


def test_charts_are_written_as_svg(programme: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    out = tmp_path / "charts"
    code, _ = _run("--from", str(programme), "--kind", "shadowing", "--replicates", "99",
                   "--charts", str(out))  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"event_study_shadowing_{m}.svg" for m in ("positive", "positive_cd", "rating")
    ]
    for path in out.iterdir():
        assert ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    code, _ = _run("--from", str(programme), "--initiative", "3", "--charts", str(out))
    assert code == 0 and (out / "spc_initiative_3.svg").exists()


def test_one_kind_in_the_terminal_prints_its_event_study(programme: Path) -> None:
    code, out = _run("--from", str(programme), "--kind", "shadowing", "--replicates", "99")
    assert code == 0
    assert "shadowing, rating: by waves since the start" in out
    assert "What works" in out and "Verdicts:" in out
