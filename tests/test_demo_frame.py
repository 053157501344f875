"""The demo's 2015 wave gets the sample frame behind its cohort (issue #14's "done when":
`analyse --wave 2015 --weights raked` on the demo database, with no --targets)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from sharedground import synth
from sharedground.cli import main
from sharedground.demo import _frame
from sharedground.exchange.importer import import_file
from sharedground.fieldwork.monitor import wave_status
from sharedground.store import Store


def test_the_demo_frame_gives_rates_and_a_population(store: Store, tmp_path: Path) -> None:
    cohort = synth.generate("2015", seed=2015)
    path = tmp_path / "cohort.csv"
    synth.write(cohort, synth.instrument_for("2015"), path)
    import_file(store, path, "2015", synth.instrument_for("2015"))
    quiet = Console(quiet=True)
    _frame(store, cohort, "2015", tmp_path / "frame.csv", 2015, quiet)
    _frame(store, cohort, "2015", tmp_path / "again.csv", 2015, quiet)  # once only
    assert not (tmp_path / "again.csv").exists()
    with store.session() as session:
        status = wave_status(session, store.get_wave(session, "2015"))
    rows = {r.group: (r.contacts, r.completed) for r in status.by_role}
    assert rows == {
        "chief_executive": (174, 59),
        "medical_director": (320, 131),
        "directorate_manager": (1015, 132),
        "clinical_director": (1667, 150),
    }
    assert status.by_mode["online"] + status.by_mode["postal"] == 472
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        ["analyse", "--wave", "2015", "--weights", "raked", "--format", "json", "--database", url],
    )
    assert result.exit_code == 0, result.output
    weighting = json.loads(result.stdout)["weighting"]
    assert weighting["kind"] == "raked"
