"""Page breaks of the printed report: no page left nearly empty in the middle of the report.

The demo's national report once had a page holding only the last three lines of the
methods, because every part began on a new page. Pages are rendered with pdftoppm and
measured (`report_support.nearly_empty_pages`); the check is shown to catch that layout on
a small document built to have it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_support import NEARLY_EMPTY, nearly_empty_pages, text_of
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground import demo
from sharedground.report.render import write_pdf

PAGE_CSS = "@page { size: A4; margin: 16mm 15mm 18mm 15mm }"
#: 53 lines of 5 mm fill the 263 mm between the margins.
LINE = '<p style="margin: 0; height: 5mm; line-height: 5mm; font-size: 9pt">{}</p>'


def _document(path: Path, *, spill: int, forced: bool) -> Path:
    """A cover page, then a part one whose last `spill` lines go over onto a second page,
    then part two (after a forced page break when `forced`)."""
    lines = "".join(LINE.format(f"Line {i} of part one.") for i in range(53 + spill - 1))
    brk = "break-before: page" if forced else ""
    html = (
        f"<html><head><style>{PAGE_CSS} h2 {{ margin: 0; height: 5mm; font-size: 9pt }}"
        "</style></head><body>"
        '<section style="break-after: page"><h2>Cover</h2><p>Title</p></section>'
        f"<section><h2>Part one</h2>{lines}</section>"
        f'<section style="{brk}"><h2>Part two</h2>'
        + "".join(LINE.format(f"Line {i} of part two.") for i in range(30))
        + "</section></body></html>"
    )
    write_pdf(html, path)
    return path


CHAPTERS = {"Cover", "Part one", "Part two"}


def test_a_short_spill_before_a_forced_break_is_caught(tmp_path: Path) -> None:
    pdf = _document(tmp_path / "forced.pdf", spill=2, forced=True)
    found = nearly_empty_pages(pdf, CHAPTERS, running_head="")
    assert [page for page, _ in found] == [3]
    assert found[0][1] < NEARLY_EMPTY


def test_parts_that_follow_on_leave_no_empty_page(tmp_path: Path) -> None:
    # The cover is nearly empty too, but it is a whole chapter followed by another: allowed.
    pdf = _document(tmp_path / "flowing.pdf", spill=2, forced=False)
    assert nearly_empty_pages(pdf, CHAPTERS, running_head="") == []


@pytest.mark.slow
def test_demo_report_has_no_nearly_empty_page(tmp_path: Path) -> None:
    """The report `sharedground demo` writes: the synthetic 2015 cohort against 2002."""
    demo.run(None, tmp_path)
    folder = tmp_path / "report"
    tree = HTMLParser((folder / "report-2015.html").read_text(encoding="utf-8"))
    chapters = {text_of(a) for a in tree.css("nav.toc li.toc-1 a")} | {"Contents"}
    title = tree.css_first("h1")
    assert title is not None and {"Key points", "Methods", "Results", "Comments"} <= chapters
    assert "What works" in chapters  # the synthetic programme's evaluation (#12)
    found = nearly_empty_pages(folder / "report-2015.pdf", chapters, text_of(title))
    assert found == [], f"nearly empty pages (page, share filled): {found}"
