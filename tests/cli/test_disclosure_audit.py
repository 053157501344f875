"""`sharedground disclosure audit`: passes on a protected wave, fails (exit 1) and lists cells
when the protection asked for cannot be met."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from sharedground.cli import main
from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
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
    # RA1 holds 2 + 3 x 8 = 26 respondents: no interval can be 1,000 wide.
    bad = runner.invoke(
        main, ["disclosure", "audit", "--wave", "w", "--protection", "1000", "--database", url]
    )
    assert bad.exit_code == 1
    assert "FAIL" in bad.output and "Failing cells" in bad.output and "RA1" in bad.output
    missing = runner.invoke(main, ["disclosure", "audit", "--wave", "nope", "--database", url])
    assert missing.exit_code == 1 and "Traceback" not in missing.output
