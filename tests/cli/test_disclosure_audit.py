"""`sharedground disclosure audit`: passes on a protected wave, fails (exit 1) and lists cells
when the protection asked for cannot be met."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from sharedground.cli import main
from sharedground.exchange.importer import import_file
from sharedground.instrument import Instrument, builtin
from sharedground.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import write_rows
from disclosure_helpers import ROLES, composed


def test_audit_passes_then_fails_when_asked_for_more_than_can_be_given(
    store: Store, tmp_path: Path
) -> None:
    instrument = builtin("dmr-2015")
    sizes = {t: dict.fromkeys(ROLES, 8) for t in ("RA1", "RB2", "RC3")}
    sizes["RA1"]["clinical_director"] = 2
    path = write_rows(tmp_path / "w.csv", instrument, composed(instrument, sizes))
    import_file(store, path, "w", instrument)
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    ok = runner.invoke(main, ["disclosure", "audit", "--wave", "w", "--database", url])
    assert ok.exit_code == 0, ok.output
    assert "PASS" in ok.output and "Failing cells" not in ok.output
    assert "By mode:" in ok.output and "By country:" in ok.output
    # RA1 holds 2 + 3 x 8 = 26 respondents: no interval can be 1,000 wide (the trust x
    # role table alone shows it; the tables by attribute would only solve more programmes).
    bad = runner.invoke(
        main,
        [
            *("disclosure", "audit", "--wave", "w", "--protection", "1000"),
            *("--by", "none", "--database", url),
        ],
    )
    assert bad.exit_code == 1
    assert "FAIL" in bad.output and "Failing cells" in bad.output and "RA1" in bad.output
    missing = runner.invoke(main, ["disclosure", "audit", "--wave", "nope", "--database", url])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def _paper_rows(instrument: Instrument) -> list[dict[str, str]]:
    """Four trusts of 8 per group but RA1's 3 clinical directors; they and RB2's
    directorate managers answered on paper, everyone else online."""
    sizes = {t: dict.fromkeys(ROLES, 8) for t in ("RA1", "RB2", "RC3", "RD4")}
    sizes["RA1"]["clinical_director"] = 3
    rows = composed(instrument, sizes)
    for row in rows:
        paper = (row["trust"], row["role"]) in {
            ("RA1", "clinical_director"),
            ("RB2", "directorate_manager"),
        }
        row["mode"] = "postal" if paper else "online"
    return rows


def test_audit_and_analyse_by_mode_on_a_wave_answered_partly_on_paper(
    store: Store, tmp_path: Path
) -> None:
    """RA1's 3 clinical directors and RB2's directorate managers answered on paper: the
    table by mode `analyse` prints withholds the paper column (and online, its partner)
    wherever it would give RA1's three away, and the audit of it passes."""
    import json

    instrument = builtin("dmr-2015")
    rows = _paper_rows(instrument)
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    result = runner.invoke(
        main, ["analyse", "--wave", "w", "--by", "mode", "--format", "json", "--database", url]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{") :])
    paper = [row["groups"]["postal"] for t in document["tables"] for row in t["rows"]]
    # Withheld wherever RB2's directorate managers are printed (the audit checks the rest).
    assert sum(cell["count"] is None for cell in paper) >= 0.5 * len(paper)
    audited = runner.invoke(
        main, ["disclosure", "audit", "--wave", "w", "--by", "mode", "--database", url]
    )
    assert audited.exit_code == 0, audited.output
    assert "By mode:" in audited.output and "PASS" in audited.output
    unknown = runner.invoke(
        main, ["disclosure", "audit", "--wave", "w", "--by", "shoe_size", "--database", url]
    )
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output


def test_trend_by_mode_withholds_what_each_wave_withholds(store: Store, tmp_path: Path) -> None:
    """The paper wave above stored twice: `trend --by mode` prints a change only where
    `analyse --by mode` of both waves prints the cell. It printed the paper column in every
    row (each wave suppressed on its own), which less RB2's directorate managers gave RA1's
    three clinical directors back, in the earlier wave and in this one."""
    import json

    instrument = builtin("dmr-2015")
    rows = _paper_rows(instrument)
    path = write_rows(tmp_path / "w.csv", instrument, rows)
    for name in ("then", "now"):
        import_file(store, path, name, instrument)
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    def document(*args: str) -> dict[str, object]:
        result = runner.invoke(main, [*args, "--by", "mode", "--format", "json", "--database", url])
        assert result.exit_code == 0, result.output
        found: dict[str, object] = json.loads(result.output[result.output.index("{") :])
        return found

    analysed = document("analyse", "--wave", "then")
    printed = {
        (t["id"], r["item"], r.get("option"), r["label"])
        for t in analysed["tables"]  # type: ignore[attr-defined]
        for r in t["rows"]
        if r["groups"]["postal"]["count"] is not None
    }
    trend = document("trend", "--wave", "now", "--against", "wave:then")
    changes = [(r, r["groups"].get("postal")) for r in trend["rows"]]  # type: ignore[attr-defined]
    assert changes
    for row, change in changes:
        if change is not None:
            assert (row["table"], row["item"], row.get("option"), row["label"]) in printed
    # Withheld wherever RB2's directorate managers are printed, as `analyse` does.
    assert sum(change is None for _, change in changes) >= 0.5 * len(changes)
