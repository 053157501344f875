"""The PDF report: drawn by WeasyPrint, read back with poppler (pdftoppm, pdftotext) and pypdf.

Pages are rendered to PNG to check that nothing is drawn in the side margins (a table wider
than the page would spill into them) and that every chart's page carries chart colours.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from report_support import full_input, nearly_empty_pages

from sharedground.instrument import Instrument
from sharedground.report.compose import Page, compose
from sharedground.report.render import render_html, write_pdf

DPI = 50
#: The page's side margins are 15 mm; check a strip 13 mm wide on each side.
STRIP_MM = 13


@pytest.fixture(scope="module")
def report(instrument: Instrument, tmp_path_factory: pytest.TempPathFactory) -> tuple[Page, Path]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils (.ci/run does)")
    folder = tmp_path_factory.mktemp("pdf")
    page = compose(full_input(instrument))
    pdf = folder / "report.pdf"
    write_pdf(render_html(page, for_print=True), pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")], check=True)
    return page, pdf


def _pages_text(pdf: Path) -> list[str]:
    reader = PdfReader(pdf)
    return [" ".join((p.extract_text() or "").split()) for p in reader.pages]


def _pngs(pdf: Path) -> list[Path]:
    return sorted(pdf.parent.glob("page-*.png"))


def test_every_page_is_numbered(report: tuple[Page, Path]) -> None:
    texts = _pages_text(report[1])
    assert len(texts) > 10
    for number, text in enumerate(texts, start=1):
        if number == 1:
            continue  # the cover
        assert f"Page {number} of {len(texts)}" in text, number


def test_contents_list_gives_the_right_pages(report: tuple[Page, Path]) -> None:
    page, pdf = report
    layout = subprocess.run(
        ["pdftotext", "-layout", "-f", "2", "-l", "2", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Contents" in layout
    texts = _pages_text(pdf)
    checked = 0
    for entry in page.contents:
        if not entry.title.startswith("Table"):
            continue
        found = re.search(re.escape(entry.title[:40]) + r".*?(\d+)\s*$", layout, re.M)
        assert found, f"{entry.title} is not in the contents list"
        target = int(found.group(1))
        heading = entry.title.split(":")[0] + ":"
        assert heading in texts[target - 1], f"{heading} is not on page {target}"
        checked += 1
    assert checked == len(page.blocks)


def test_every_chart_is_in_the_pdf_as_vectors(report: tuple[Page, Path]) -> None:
    page, pdf = report
    whole = " ".join(_pages_text(pdf))
    for chart in page.charts:
        assert " ".join(f"Figure: {chart.title}".split()) in whole, chart.id
    images = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(images) == 2, "charts must be vectors, not raster images"  # just the header


def _has_colour(path: Path, colours: list[tuple[int, int, int]]) -> bool:
    with Image.open(path) as image:
        found = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    present = {rgb for _, rgb in found}
    return any(
        any(sum(abs(a - b) for a, b in zip(rgb, c, strict=True)) < 30 for rgb in present)
        for c in colours
    )


def test_pages_with_figures_show_chart_colours(report: tuple[Page, Path]) -> None:
    _, pdf = report
    palette = [(0x05, 0x71, 0xB0), (0xCA, 0x00, 0x20), (0xE6, 0x9F, 0x00), (0x56, 0xB4, 0xE9)]
    texts = _pages_text(pdf)
    pngs = _pngs(pdf)
    assert len(pngs) == len(texts)
    with_figures = [i for i, t in enumerate(texts) if "Figure:" in t]
    assert len(with_figures) >= 8
    for index in with_figures:
        assert _has_colour(pngs[index], palette), f"page {index + 1} has a caption but no chart"
    assert not _has_colour(pngs[1], palette)  # the contents page: the check can fail


def test_nothing_is_drawn_in_the_side_margins(report: tuple[Page, Path]) -> None:
    for png in _pngs(report[1]):
        with Image.open(png) as image:
            grey = image.convert("L")
            strip = round(STRIP_MM / 25.4 * DPI)
            for box in (
                (0, 0, strip, grey.height),
                (grey.width - strip, 0, grey.width, grey.height),
            ):
                darkest = grey.crop(box).getextrema()[0]
                assert darkest > 245, f"{png.name}: something is drawn in a side margin"


def test_no_page_is_left_nearly_empty(report: tuple[Page, Path]) -> None:
    """Parts follow on from each other; see test_page_breaks for the check itself."""
    page, pdf = report
    chapters = {c.title for c in page.contents if c.level == 1} | {"Contents"}
    assert nearly_empty_pages(pdf, chapters, page.title) == []


def test_a_too_wide_table_would_be_caught(tmp_path: Path) -> None:
    """The margin check above can fail: a table of long unbreakable cells spills over."""
    cells = "".join(f"<td>{'W' * 30}</td>" for _ in range(8))
    html = (
        f"<html><head><style>@page {{ size: A4; margin: 16mm 15mm }}</style></head>"
        f"<body><table><tr>{cells}</tr></table></body></html>"
    )
    pdf = tmp_path / "wide.pdf"
    write_pdf(html, pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    with Image.open(sorted(tmp_path.glob("page-*.png"))[0]) as image:
        grey = image.convert("L")
        strip = round(STRIP_MM / 25.4 * DPI)
        assert grey.crop((grey.width - strip, 0, grey.width, grey.height)).getextrema()[0] < 200


def test_rendering_runs_without_collector_passes_and_collects_once(tmp_path: Path) -> None:
    """The garbage collector is paused while WeasyPrint renders (see render.py) and the
    render's garbage freed by one young-generation pass; the caller's setting is kept."""
    rows = "".join(f"<tr><th>Row {i}</th><td>{i}%</td><td>{i} (n)</td></tr>" for i in range(400))
    html = f"<html><body><table>{rows}</table></body></html>"
    write_pdf(html, tmp_path / "warm.pdf")  # imports WeasyPrint, loads the fonts
    passes: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(watch)
    try:
        assert gc.isenabled()
        write_pdf(html, tmp_path / "a.pdf")
        assert passes == [0]  # thousands of boxes would have set off many passes
        assert gc.isenabled()
        gc.disable()
        try:
            write_pdf(html, tmp_path / "b.pdf")
            assert not gc.isenabled() and passes == [0]
        finally:
            gc.enable()
    finally:
        gc.callbacks.remove(watch)
    assert PdfReader(tmp_path / "a.pdf").pages


def test_report_stylesheets_draw_what_weasyprint_draws_by_default(tmp_path: Path) -> None:
    """write_pdf swaps a report's inline stylesheet for one parsed once per process, and
    WeasyPrint's user-agent stylesheet for a copy without its note rules; the pages must
    come out as plain WeasyPrint draws the document as it stands."""
    import weasyprint
    from weasyprint import html as weasy_html

    from sharedground.report.render import _html_class, stylesheet

    # The copy is in use (a WeasyPrint that moved its stylesheet would silently lose it).
    sheets = _html_class()(string="<p>x</p>")._ua_stylesheets()
    assert sheets and weasy_html.UA_STYLESHEET not in sheets

    rows = "".join(
        f'<tr><th scope="row">Statement {i}</th><td>{i}% ({i})</td><td class="overall">{i}%</td>'
        f'<td class="bench">{i}%</td></tr>'
        for i in range(40)
    )
    html = (
        f"<html><head><style>\n{stylesheet()}\n</style></head><body>"
        '<header class="cover"><h1>Title</h1></header><main><section class="part">'
        '<h2>Results</h2><table class="data"><thead><tr><th scope="col">Statement</th>'
        '<th scope="col">Group<span class="n">n = 12</span></th><th scope="col">All</th>'
        f'<th scope="col" class="bench">Other</th></tr></thead><tbody>{rows}</tbody></table>'
        "<ul><li>A key point</li><li>Another</li></ul><ol><li>First</li><li>Second</li></ol>"
        "</section></main></body></html>"
    )
    write_pdf(html, tmp_path / "swapped.pdf")
    weasyprint.HTML(string=html, media_type="print").write_pdf(tmp_path / "inline.pdf")
    images = {}
    for name in ("swapped", "inline"):
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
            check=True,
        )
        images[name] = [p.read_bytes() for p in sorted(tmp_path.glob(f"{name}-*.png"))]
    assert len(images["swapped"]) >= 2  # the cover breaks the page: print rules applied
    assert images["swapped"] == images["inline"]
