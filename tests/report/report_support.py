"""Helpers for the report tests: report inputs from the published figures, HTML parsing,
and a small snapshot mechanism for rendered tables.

Snapshots live in `tests/report/__snapshots__/NAME.json`. A missing snapshot fails the test
(so CI never writes one); run with SHAREDGROUND_UPDATE_SNAPSHOTS=1 (`make test-update`) to
write or refresh them knowingly, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from sharedground.instrument import Instrument
from sharedground.reference import group_sizes
from sharedground.report.model import Group, ReportInput
from sharedground.report.published import published_analysis

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
UPDATE = os.environ.get("SHAREDGROUND_UPDATE_SNAPSHOTS") == "1"


def published_input(instrument: Instrument, **changes: Any) -> ReportInput:
    labels = {o.id: o.label for o in instrument.item("role").options}  # type: ignore[union-attr]
    groups = [Group(role, labels[role], n) for role, n in group_sizes(2015).items()]
    data = ReportInput(
        instrument=instrument,
        wave="2015",
        analysis=published_analysis(instrument),
        groups=groups,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def text_of(node: Node) -> str:
    return " ".join(node.text(separator=" ").split())


def parse_tables(html: str, selector: str = "section.table-block") -> list[dict[str, Any]]:
    """The rendered report tables as data: id, heading, header cells, rows of cell text."""
    tree = HTMLParser(html)
    found = []
    for section in tree.css(selector):
        heading = section.css_first("h3")
        table = section.css_first("table.data")
        assert heading is not None and table is not None
        header = [text_of(th) for th in table.css("thead th")]
        rows = [[text_of(cell) for cell in tr.css("th, td")] for tr in table.css("tbody tr")]
        notes = [text_of(p) for p in section.css("div.notes p")]
        found.append(
            {
                "id": section.attributes.get("id"),
                "heading": text_of(heading),
                "header": header,
                "rows": rows,
                "notes": notes,
            }
        )
    return found


def check_snapshot(name: str, value: Any) -> None:
    """Compare `value` with the stored snapshot `name` (or write it when updating)."""
    path = SNAPSHOTS / f"{name}.json"
    rendered = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"no snapshot {path.name}: run with SHAREDGROUND_UPDATE_SNAPSHOTS=1 to write it"
        )
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert value == stored, f"rendered output differs from snapshot {path.name}"
