"""`sharedground demo`'s programme of initiatives: its evaluation recovers the planted effects
on the rating (both kinds with an effect "roll out") and calls none where none was planted."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from sharedground.demo import DemoSummary, _evaluate_programme
from sharedground.synth.scenario import DEFAULT_KINDS, generate_scenario


def test_demo_programme_evaluation(tmp_path: Path) -> None:
    summary = DemoSummary(database="x", roles=[])
    scenario = generate_scenario(2015)
    doc = _evaluate_programme(tmp_path, scenario, 2015, Console(quiet=True), summary)
    assert json.loads((tmp_path / "evaluation.json").read_text()) == doc
    assert (tmp_path / "programme" / "responses.csv").exists()
    verdicts = {(r["kind"], r["measure"]): r["verdict"] for r in doc["what_works"]}
    for kind in DEFAULT_KINDS:
        if kind.effect == 0:
            assert all(
                verdicts[(kind.name, m)] != "roll out"
                for m in ("positive", "rating", "positive_cd")
            )
        else:
            assert verdicts[(kind.name, "rating")] == "roll out"
    assert any("sharedground evaluate --from" in step for step in summary.next_steps)
