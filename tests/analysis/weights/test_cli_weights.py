"""`sharedground analyse --weights design|raked` on a real database (both backends)."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

import jsonschema
from analysis_helpers import AGREE, DISAGREE, HandMade
from click.testing import CliRunner

from sharedground.cli import main
from sharedground.fieldwork.contacts import import_contacts
from sharedground.fieldwork.postal import DEFAULT_FRACTIONS
from sharedground.store import Store

SCHEMA = json.loads(
    resources.files("sharedground.analysis").joinpath("schema.json").read_text(encoding="utf-8")
)


def _run(store: Store, *args: str) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, [*args, "--database", url, "--no-cache"])
    return result.exit_code, result.output


def _frame(
    store: Store, loaded: HandMade, tmp_path: Path, per_cell: int = 3
) -> dict[tuple[str, str], int]:
    """A frame of contacts: `per_cell` times each role x trust's respondents, plus one."""
    cells: dict[tuple[str, str], int] = {}
    for row in loaded.rows:
        cells[(row["role"], row["trust"])] = cells.get((row["role"], row["trust"]), 0) + 1
    population = {k: per_cell * v + 1 for k, v in cells.items()}
    path = tmp_path / "contacts.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "email", "postal_address", "role", "trust", "directorate"])
        i = 0
        for (role, trust), n in population.items():
            for _ in range(n):
                i += 1
                writer.writerow([f"P {i}", f"p{i}@example.org", f"{i} High St", role, trust, ""])
    import_contacts(store, path, "w")
    return population


def test_design_weights_by_hand(store: Store, loaded: HandMade) -> None:
    code, output = _run(
        store, "analyse", "--wave", "w", "--format", "json", "--weights", "design", "--by", "mode"
    )
    assert code == 0, output
    document = json.loads(output)
    jsonschema.validate(document, SCHEMA)
    assert document["weighting"]["kind"] == "design"
    assert "2015 design is assumed" in document["weighting"]["notes"][0]
    # a Likert row counted by hand: weight 1 online, 1 / fraction for postal
    row = next(r for t in document["tables"] for r in t["rows"] if r["item"] == "doctors_autonomy")
    for mode in ("online", "postal"):
        num = den = 0.0
        for r in loaded.rows:
            if r["mode"] != mode or r["doctors_autonomy"] not in AGREE | DISAGREE:
                continue
            w = 1.0 if mode == "online" else 1.0 / DEFAULT_FRACTIONS[r["role"]]
            den += w
            num += w * (r["doctors_autonomy"] in AGREE)
        cell = row["groups"][mode]["weighted"]
        assert abs(cell["pct"] - 100 * num / den) < 1e-9
        assert cell["weighted_valid"] == den
    assert row["test"]["name"] == "rao-scott-F"


def test_raked_to_the_frame(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    population = _frame(store, loaded, tmp_path)
    code, output = _run(
        store, "analyse", "--wave", "w", "--format", "csv", "--weights", "raked", "--test", "Wald"
    )
    assert code == 0, output
    lines = list(csv.DictReader(io.StringIO(output)))
    assert {"weighted_pct", "se", "ci_logit_low", "ci_beta_high", "ndf"} <= set(lines[0])
    assert {line["test"] for line in lines} <= {"rao-scott-Wald", "none"}
    assert any(line["test"] == "rao-scott-Wald" for line in lines)
    code, output = _run(
        store, "analyse", "--wave", "w", "--format", "json", "--weights", "raked", "--by", "trust"
    )
    assert code == 0, output
    document = json.loads(output)
    jsonschema.validate(document, SCHEMA)
    weighting = document["weighting"]
    # the last margin (trust) is met exactly, so the weights add up to the frame
    assert abs(weighting["sum_of_weights"] - sum(population.values())) < 1e-6
    assert weighting["raking_sweeps"] >= 1 and weighting["design_effect"] >= 1
    # each trust's weighted count of everyone who answered the role question
    for trust in ("RA1", "RB2", "RC3"):
        row = next(
            r for t in document["tables"] for r in t["rows"] if r["item"] == "doctors_autonomy"
        )
        assert row["groups"][trust]["weighted"]["weighted_valid"] <= sum(
            n for (_, t), n in population.items() if t == trust
        )
    code, output = _run(store, "analyse", "--wave", "w", "--weights", "raked")
    assert code == 0, output
    assert "Rao–Scott" in output and "Kish" in output


def test_targets_csv_naming_a_missing_trust(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "role,trust,count\n"
        + "".join(
            f"{role},{trust},50\n"
            for role in loaded.instrument.role_ids()
            for trust in ("RA1", "RB2")
        )
    )
    code, output = _run(
        store, "analyse", "--wave", "w", "--weights", "raked", "--targets", str(targets)
    )
    assert code == 1
    assert "trust 'RC3'" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_raked_without_a_population_stops(store: Store, loaded: HandMade) -> None:
    code, output = _run(store, "analyse", "--wave", "w", "--weights", "raked")
    assert code == 1 and "no population" in output and "--targets" in output


def test_bad_targets_name_row_and_column(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text("role,count\nchief_executive,10\nmedical_director,ten\n")
    code, output = _run(
        store, "analyse", "--wave", "w", "--weights", "raked", "--targets", str(targets)
    )
    assert code == 1 and "row 3, column count" in output


def test_benchmark_weighted(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    _frame(store, loaded, tmp_path)
    code, output = _run(
        store,
        "benchmark",
        "--wave",
        "w",
        "--format",
        "json",
        "--weights",
        "raked",
        "--suppress-below",
        "1",
    )
    assert code == 0, output
    document = json.loads(output)
    assert any("Weighted (raked)" in n for n in document["notes"])
    row = document["tables"][2]["rows"][0]
    cell = row["trusts"]["RA1"]
    assert cell["weighted"]["pct"] is not None
    versus = cell["versus_rest"]
    assert versus["method"] == "wald"
    assert (
        abs(versus["diff_points"] - (cell["weighted"]["pct"] - versus["rest"]["weighted"]["pct"]))
        < 1e-9
    )
