"""`sharedground initiative ...` on SQLite and PostgreSQL: what it prints and refuses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sharedground.cli import main
from sharedground.store import Store


def _run(store: Store, *args: str) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, [*args, "--database", url])
    return result.exit_code, result.output


def test_register_a_scheme_and_follow_it(store: Store, tmp_path: Path) -> None:
    code, out = _run(
        store,
        "initiative",
        "add",
        "--trust",
        "RA1",
        "--kind",
        "paired_learning",
        "--title",
        "Pairs",
        "--directorate",
        "Surgery",
        "--planned-start",
        "2027-01-10",
        "--progress",
        "1.5",
    )
    assert code == 0, out
    assert (
        _run(
            store,
            "initiative",
            "update",
            "1",
            "--stage",
            "running",
            "--on",
            "2027-01-12",
            "--progress",
            "2",
            "--note",
            "met",
        )[0]
        == 0
    )
    code, out = _run(store, "initiative", "end", "1", "--on", "2027-07-01", "--reason", "done")
    assert code == 0, out
    code, out = _run(store, "initiative", "show", "1", "--format", "json")
    shown = json.loads(out)
    assert shown["stage"] == "ended" and shown["actual_start"] == "2027-01-12"
    assert shown["scope"] == "Surgery" and shown["progress"] == 2.0
    assert [s[1] for s in shown["stages"]] == ["planned", "running", "ended"]
    code, out = _run(store, "initiative", "list", "--format", "json", "--trust", "RA1")
    assert [e["id"] for e in json.loads(out)] == [1]


def test_bad_requests_are_one_line_without_a_traceback(store: Store, tmp_path: Path) -> None:
    _run(store, "initiative", "add", "--trust", "RA1", "--kind", "coaching", "--title", "C")
    cases = [
        (
            ("initiative", "add", "--trust", "RA1", "--kind", "tarot", "--title", "x"),
            "unknown kind 'tarot'",
        ),
        (("initiative", "update", "1", "--progress", "7"), "not on the IHI scale"),
        (("initiative", "show", "1", "--trust", "RB2"), "no initiative 1 of trust RB2"),
        (("initiative", "end", "9", "--on", "2027-01-01", "--reason", "x"), "no initiative 9"),
        (
            (
                "initiative",
                "add",
                "--trust",
                "RA1",
                "--kind",
                "coaching",
                "--title",
                "x",
                "--planned-start",
                "2027-02-30",
            ),
            "not a date",
        ),
        (
            ("initiative", "kinds", "--load", str(tmp_path / "none.yaml"), "--trust", "RA1"),
            "no such file",
        ),
    ]
    for args, message in cases:
        code, out = _run(store, *args)
        assert code != 0, args
        assert message in out and "Traceback" not in out, out
    code, out = _run(store, "initiative", "list", "--format", "json")
    assert len(json.loads(out)) == 1


def test_kinds_lists_the_builtin_and_the_trusts_own(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text("kinds:\n- id: grand_rounds\n  label: Joint grand rounds\n")
    code, out = _run(store, "initiative", "kinds", "--trust", "RA1", "--load", str(path))
    assert code == 0, out
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert len(ids) == 12 and "grand_rounds" in ids and "paired_learning" in ids
    code, out = _run(store, "initiative", "kinds")
    assert len(out.splitlines()) == 11


def test_import_and_export_commands(store: Store, tmp_path: Path) -> None:
    good = tmp_path / "in.csv"
    good.write_text("trust,kind,title,planned_start\nRA1,coaching,Coaching,2027-01-01\n")
    code, out = _run(store, "initiative", "import", str(good))
    assert code == 0 and "Added 1 initiative" in out, out
    bad = tmp_path / "bad.csv"
    bad.write_text("trust,kind,title,planned_start\nRA1,coaching,Other,2027-31-01\n")
    code, out = _run(store, "initiative", "import", str(bad))
    assert code == 1 and "row 2, column planned_start" in out and "Traceback" not in out
    code, out = _run(store, "initiative", "export", "--out", str(tmp_path / "out.xlsx"))
    assert code == 0 and (tmp_path / "out.xlsx").stat().st_size > 0
