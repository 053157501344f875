"""`sharedground text` and `sharedground codes` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from text_helpers import COMMENTS, comment_wave

from sharedground.cli import main
from sharedground.store import Store


def test_comments_codes_and_csv_coding(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def run(*args: str) -> str:
        done = runner.invoke(main, [*args, "--database", url])
        assert done.exit_code == 0, done.output
        return done.output

    assert f"{len(COMMENTS)} comment(s) of w added" in run("text", "comments", "--wave", "w")
    assert "6 source(s)" in run("text", "list", "--wave", "w")
    assert "stored (13 codes)" in run("codes", "import", "dmr-themes")
    assert "dmr-themes@1" in run("codes", "list")
    assert "external_finance: Finance" in run("codes", "show", "dmr-themes")
    codings = tmp_path / "ann.csv"
    codings.write_text("source,code\n1,variation\n2,external_finance\n", encoding="utf-8")
    assert "2 coding(s) by ann" in run(
        "text", "code", str(codings), "--coder", "ann", "--frame", "dmr-themes"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("source,code,start,end\n1,variation,3,2\n", encoding="utf-8")
    failed = runner.invoke(
        main,
        ["text", "code", str(bad), "--coder", "ann", "--frame", "dmr-themes", "--database", url],
    )
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "row 2, columns start/end" in failed.output
    missing = runner.invoke(main, ["text", "comments", "--wave", "nope", "--database", url])
    assert missing.exit_code == 1 and "no wave 'nope'" in missing.output


def test_codes_new_writes_an_editable_copy(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    done = CliRunner().invoke(main, ["codes", "new", str(out)])
    assert done.exit_code == 0, done.output
    shown = CliRunner().invoke(main, ["codes", "show", str(out)])
    assert shown.exit_code == 0 and "change_since_2002" in shown.output
