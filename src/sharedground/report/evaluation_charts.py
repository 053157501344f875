"""The evaluation's charts written as SVG files: an event study for every kind and measure of
an evaluation document, or an initiative's SPC chart (`sharedground evaluate --charts DIR`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_charts(doc: dict[str, Any], tables: Any, directory: Path) -> list[Path]:
    """Write the document's charts into `directory`; returns the files written."""
    from sharedground.report.charts.event_study import event_study_chart

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for study in doc.get("event_studies", []):
        if not study["event"]:
            continue
        share = study["measure"] != "rating"
        name = f"event_study_{study['kind']}_{study['measure']}"
        chart = event_study_chart(
            name,
            f"{study['kind'].replace('_', ' ')}: {study['measure'].replace('_', ' ')}",
            study["event"],
            unit="percentage points" if share else "rating points",
            scale=100.0 if share else 1.0,
        )
        path = directory / f"{name}.svg"
        path.write_text(str(chart.svg), encoding="utf-8")
        written.append(path)
    if "initiative" in doc and getattr(tables, "monthly", None) is not None:
        from sharedground.evaluation.spc import initiative_chart
        from sharedground.report.charts.spc import spc_chart

        init = doc["initiative"]["initiative_id"]
        drawn = spc_chart(
            f"spc_{init}",
            f"Initiative {init}: monthly pulse, share agreeing",
            initiative_chart(tables.monthly, init),
        )
        path = directory / f"spc_initiative_{init}.svg"
        path.write_text(str(drawn.svg), encoding="utf-8")
        written.append(path)
    return written
