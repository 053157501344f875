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
from sharedground.reference import group_sizes, published_2015
from sharedground.report.model import Comparison, Group, ReportInput
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


def full_input(instrument: Instrument, seed: int = 7) -> ReportInput:
    """The published figures plus every optional part: Likert distributions, a comparison
    with the published 2002 figures, funnel plots of 120 made-up trusts and comments (with
    contact details in them) - so that every kind of chart and section is rendered."""
    import numpy as np
    import polars as pl

    from sharedground.instrument import LikertItem
    from sharedground.reference import ROLES
    from sharedground.report import comments
    from sharedground.report.model import Funnel, FunnelPoint

    data = published_input(instrument)
    rng = np.random.default_rng(seed)
    for table in data.analysis["tables"]:
        for row in table["rows"]:
            item = instrument.item(row["item"])
            if not isinstance(item, LikertItem) or row.get("measure") != "agree":
                continue
            by_group = {}
            for role in ROLES:
                cell = row["groups"][role]
                # The table counts agreement with the reported wording; the distribution is
                # of answers as asked, so reverse-worded items swap sides.
                agree, disagree = cell["count"], cell["valid"] - cell["count"]
                if item.reverse:
                    agree, disagree = disagree, agree
                strong_a = int(rng.integers(0, agree + 1))
                strong_d = int(rng.integers(0, disagree + 1))
                by_group[role] = {
                    "strongly_agree": strong_a,
                    "tend_to_agree": agree - strong_a,
                    "tend_to_disagree": disagree - strong_d,
                    "strongly_disagree": strong_d,
                }
            data.distributions[row["item"]] = by_group
    data.comparison = _published_comparison()
    funnels = []
    for table_id, index in (("table_2.1", 0), ("table_2.1", 2)):
        row = next(t for t in data.analysis["tables"] if t["id"] == table_id)["rows"][index]
        p = row["overall"]["pct"] / 100
        sizes = rng.integers(2, 60, size=120)
        points = [
            FunnelPoint(f"T{i:03d}", int(rng.binomial(n, p)), int(n)) for i, n in enumerate(sizes)
        ]
        funnels.append(Funnel(table_id, row["item"], row["label"], row["overall"]["pct"], points))
    data.funnels = funnels
    frame = pl.DataFrame(
        {
            "role": [
                "chief_executive",
                "clinical_director",
                "medical_director",
                "clinical_director",
            ],
            "comments_overall": [
                "Relationships here depend on Dr Jones, call 07700 900123.",
                "Write to me at someone@example.nhs.uk if you want more.",
                None,
                "Patient 943 476 5919 waited while we argued about beds.",
            ],
            "comments_barriers": [None, "Time, always time.", "Job plans leave no room.", None],
        }
    )
    data.comments = comments.collect(frame, instrument, data.groups)
    return data


def _published_comparison() -> Comparison:
    """Published 2015 against published 2002, the change tested here with scipy (a z test of
    two proportions and a Wald interval) - enough to draw the trend section."""
    from scipy.stats import norm

    from sharedground.analysis import published
    from sharedground.report.model import OVERALL, TrendPoint, TrendRow

    now, then = published.reference("2015"), published.reference("2002")
    rows = []
    for key, cells in now.items():
        if key not in then:
            continue
        points = {}
        for group, cell in cells.items():
            old = then[key].get(group)
            if old is None:
                continue
            p1, p0 = cell.count / cell.valid, old.count / old.valid
            pooled = (cell.count + old.count) / (cell.valid + old.valid)
            se0 = (pooled * (1 - pooled) * (1 / cell.valid + 1 / old.valid)) ** 0.5
            se = (p1 * (1 - p1) / cell.valid + p0 * (1 - p0) / old.valid) ** 0.5
            diff = p1 - p0
            points[OVERALL if group == "overall" else group] = TrendPoint(
                100 * p1,
                100 * p0,
                100 * diff,
                100 * (diff - 1.96 * se),
                100 * (diff + 1.96 * se),
                float(2 * norm.sf(abs(diff) / se0)) if se0 else 1.0,
            )
        table = next(t for t in published_2015()["tables"] if t["id"] == key[0])
        label = [r for r in table["rows"] if r["item"] == key[1]][key[3]]["label"]
        rows.append(TrendRow(key[0], key[1], key[2], label, points))
    return Comparison("2002", rows, "2002 figures as published.")


#: A4 with the print stylesheet's top and bottom margins (the running head and the page
#: number sit in them, so they are left out of what counts as the page's content).
PAGE_MM, TOP_MM, BOTTOM_MM = 297, 16, 18
#: Below this share of its height filled, a page counts as nearly empty.
NEARLY_EMPTY = 0.15


def page_fill(png: Path) -> float:
    """How far down the text area a rendered page's content reaches, from 0 to 1.

    Non-white pixels are counted row by row; the page is filled down to its last row with
    ink. (The ink fraction of the whole page says little: a page full of text is about 8%
    ink, a cover with a large title not much less.)
    """
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        grey = np.asarray(image.convert("L"))
    top = round(grey.shape[0] * TOP_MM / PAGE_MM)
    bottom = round(grey.shape[0] * (PAGE_MM - BOTTOM_MM) / PAGE_MM)
    inked = np.flatnonzero((grey[top:bottom] < 200).sum(axis=1) > 0)
    return 0.0 if inked.size == 0 else float(inked[-1] + 1) / (bottom - top)


def pdf_page_lines(pdf: Path) -> list[list[str]]:
    """Each page's non-empty text lines, as poppler lays them out."""
    import subprocess

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [
        [" ".join(line.split()) for line in page.splitlines() if line.strip()] for page in pages
    ]


def nearly_empty_pages(
    pdf: Path, chapters: set[str], running_head: str, dpi: int = 30
) -> list[tuple[int, float]]:
    """Pages (1-based, with their fill) that are nearly empty without good reason.

    A page may be nearly empty only when it is the last one, or when it holds a whole
    chapter (the chapter's heading is on it) and the next page begins another chapter, as a
    cover or a short contents list does. A page that a part merely spilled onto, followed
    by more of the report, is a layout fault: the spill of the methods onto a page of its
    own before a forced break, or a heading left alone above a chart pushed to the next
    page.

    Args:
        pdf: the report.
        chapters: the headings that begin chapters (level-1 headings and "Contents").
        running_head: the text printed at the top of every page but the first.
        dpi: resolution of the rendered pages.
    """
    import subprocess
    import tempfile

    lines = pdf_page_lines(pdf)
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{folder}/page"], check=True)
        fills = [page_fill(png) for png in sorted(Path(folder).glob("page-*.png"))]
    assert len(fills) == len(lines), "poppler's text and pictures disagree on the pages"
    body = [[line for line in page if line != running_head] for page in lines]
    holds_start = [i == 0 or any(line in chapters for line in page) for i, page in enumerate(body)]
    begins = [i == 0 or (bool(page) and page[0] in chapters) for i, page in enumerate(body)]
    return [
        (i + 1, fill)
        for i, fill in enumerate(fills[:-1])
        if fill < NEARLY_EMPTY and not (holds_start[i] and begins[i + 1])
    ]
