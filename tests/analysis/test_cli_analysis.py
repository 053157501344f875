"""The analyse, trend and benchmark commands, on a real database, in every output format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from analysis_helpers import HandMade
from click.testing import CliRunner
from openpyxl import load_workbook

from sharedground.cli import main
from sharedground.store import Store


def _run(store: Store, *args: str) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, [*args, "--database", url, "--no-cache"])
    return result.exit_code, result.output


def test_analyse_json_to_stdout(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "analyse", "--wave", "w", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    assert document["wave"] == "w" and document["respondents"] == len(loaded.rows)
    assert [t["id"] for t in document["tables"]][:3] == ["table_1.1", "table_1.2", "table_2.1"]


def test_analyse_csv_is_long_and_complete(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "analyse", "--wave", "w", "--format", "csv", "--by", "mode")
    assert code == 0, output
    lines = list(csv.DictReader(io.StringIO(output)))
    groups = {line["group"] for line in lines}
    assert {"online", "postal", "overall"} <= groups and "paper" not in groups  # unused mode
    line = next(r for r in lines if r["item"] == "doctors_autonomy" and r["group"] == "online")
    kept = [r for r in loaded.rows if r["mode"] == "online"]
    answered = [r for r in kept if r["doctors_autonomy"] not in ("", "dont_know")]
    assert int(line["valid"]) == len(answered)


def test_analyse_xlsx_has_a_sheet_per_table(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    out = tmp_path / "tables.xlsx"
    code, output = _run(store, "analyse", "--wave", "w", "--format", "xlsx", "--out", str(out))
    assert code == 0, output
    book = load_workbook(out, read_only=True)
    try:
        assert {"2_1", "2_11", "long", "notes"} <= set(book.sheetnames)
        header = next(book["2_2"].iter_rows(min_row=2, max_row=2, values_only=True))
        assert header[:3] == ("Row", "Denominator", "Chief executive count")
    finally:
        book.close()


def test_analyse_table_for_the_terminal(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    out = tmp_path / "tables.txt"
    code, output = _run(store, "analyse", "--wave", "w", "--out", str(out), "--adjust", "holm")
    assert code == 0, output
    text = out.read_text(encoding="utf-8")
    assert "Table 2.4: Views on goals" in text and "valid_answers:" in text
    assert "q=" in text


def test_analyse_refuses_bad_requests(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "analyse", "--wave", "nope")
    assert code == 1 and "no wave 'nope' (waves: w)" in output
    code, output = _run(store, "analyse", "--wave", "w", "--by", "shoe_size")
    assert code == 2 and "allows role, trust, mode" in output
    code, output = _run(store, "analyse", "--wave", "w", "--format", "xlsx")
    assert code == 2 and "--out" in output


def test_trend_against_2002(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "trend", "--wave", "w", "--against", "2002", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    assert document["against"] == "2002" and document["against_kind"] == "published"
    row = next(r for r in document["rows"] if r["item"] == "local_rating")
    assert row["groups"]["clinical_director"]["then"]["valid"] == 443
    code, output = _run(store, "trend", "--wave", "w", "--against", "2002", "--format", "csv")
    assert code == 0 and output.startswith("table,item,option,measure,label,group,then_count")


def test_trend_against_a_stored_wave_and_an_unknown_one(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "trend", "--wave", "w", "--against", "wave:w")
    assert code == 0, output
    code, output = _run(store, "trend", "--wave", "w", "--against", "1999")
    assert code == 1 and "no wave '1999'" in output


def test_benchmark_json_and_one_trust(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "benchmark", "--wave", "w", "--format", "json")
    assert code == 0, output
    document = json.loads(output)
    assert {t["id"] for t in document["trusts"]} == {"RA1", "RB2", "RC3"}
    code, output = _run(store, "benchmark", "--wave", "w", "--trust", "RB2")
    assert code == 0 and "RB2" in output
    code, output = _run(store, "benchmark", "--wave", "w", "--trust", "XX")
    assert code == 2 and "no trust 'XX'" in output


def test_cache_option_writes_a_snapshot(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    cache = tmp_path / "cache"
    args = [
        "analyse",
        "--wave",
        "w",
        "--format",
        "json",
        "--database",
        url,
        "--cache-dir",
        str(cache),
    ]
    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, [*args, "--refresh"])
    assert first.exit_code == second.exit_code == 0
    assert json.loads(first.output)["tables"] == json.loads(second.output)["tables"]
    assert list(cache.glob("*.arrow"))
