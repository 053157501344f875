"""SVG labels drawn as whole runs (`report.svgtext`): placed where WeasyPrint places them.

The reference is WeasyPrint itself, unpatched, drawing the same chart in a separate Python
process; both PDFs are read back with poppler's `pdftotext -bbox-layout` and every word must
come out with the same text and nearly the same box (whole runs are kerned, letter-by-letter
drawing is not, so a word may end a fraction of a point earlier).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import weasyprint

from sharedground.report import svgtext
from sharedground.report.render import write_pdf

#: A chart with every kind of label our charts write: anchored start, middle and end,
#: vertically centred, bold, grey, inside a translated group, and one rotated by a transform.
SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="400" height="220" viewBox="0 0 400 220">
<rect x="0" y="0" width="400" height="220" fill="#fff"/>
<text x="10" y="20" font-size="12" font-family="sans-serif">Strongly disagree</text>
<text x="200" y="40" text-anchor="middle" font-size="11"
 font-family="sans-serif">Tend to agree</text>
<text x="390" y="60" text-anchor="end" font-size="10" font-family="sans-serif" fill="#555"
>Clinical directors</text>
<text x="10" y="90" dominant-baseline="central" font-weight="bold" font-size="12"
 font-family="sans-serif">Chief executives 59</text>
<g transform="translate(40 120)">
<text x="0" y="0" font-size="9" font-family="sans-serif">Overall (n = 472)</text>
<text x="300" y="24" text-anchor="end" font-size="9" font-family="sans-serif">100%</text></g>
<text x="20" y="210" transform="rotate(-90 20 210)" font-size="9"
 font-family="sans-serif">Per cent</text>
</svg>"""

HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
    f"<figure>{SVG}</figure></body></html>"
)

PLAIN = """
import sys, weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html).write_pdf(sys.argv[2])
"""


def _words(pdf: Path, tmp: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word of the PDF with its box (left, top, right, bottom, in points)."""
    return _boxes(pdf, tmp, "word")


def _lines(pdf: Path, tmp: Path) -> dict[str, tuple[float, float, float, float]]:
    """Every line of text of the PDF (one per label) by its text, with its box."""
    out = tmp / f"{pdf.stem}-lines.html"
    subprocess.run(["pdftotext", "-bbox-layout", str(pdf), str(out)], check=True)
    tree = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out.read_text()))
    lines = {}
    for element in tree.iter():
        if element.tag.endswith("}line"):
            text = " ".join(w.text or "" for w in element if w.tag.endswith("}word"))
            lines[text] = _box(element)
    return lines


def _box(element: ElementTree.Element) -> tuple[float, float, float, float]:
    left, top, right, bottom = (
        float(element.get(k, "0")) for k in ("xMin", "yMin", "xMax", "yMax")
    )
    return left, top, right, bottom


def _boxes(pdf: Path, tmp: Path, kind: str) -> list[tuple[str, float, float, float, float]]:
    out = tmp / f"{pdf.stem}-{kind}.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(out)], check=True)
    # pdftotext writes XHTML; its words are <word xMin=.. yMin=.. xMax=.. yMax=..>text</word>.
    tree = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", out.read_text()))
    words = [
        (element.text or "", *_box(element))
        for element in tree.iter()
        if element.tag.endswith(kind)
    ]
    return sorted(words, key=lambda w: (round(w[2]), w[1]))


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("svgtext")
    source = folder / "chart.html"
    source.write_text(HTML, encoding="utf-8")
    plain = folder / "plain.pdf"
    subprocess.run([sys.executable, "-c", PLAIN, str(source), str(plain)], check=True)
    patched = folder / "patched.pdf"
    write_pdf(HTML, patched)
    return folder, plain, patched


#: Each label and the edge its text-anchor fixes: whole runs are kerned where letter-by-letter
#: drawing is not, so a label may come out a little narrower, but from the anchored edge.
ANCHORS = {
    "Strongly disagree": "start",
    "Tend to agree": "middle",
    "Clinical directors": "end",
    "Chief executives 59": "start",
    "Overall (n = 472)": "start",
    "100%": "end",
    "Per cent": "rotated",
}


def test_labels_are_where_weasyprint_puts_them(pdfs: tuple[Path, Path, Path]) -> None:
    folder, plain, patched = pdfs
    expected = _lines(plain, folder)
    found = _lines(patched, folder)
    assert set(found) == set(expected) == set(ANCHORS)
    for text, anchor in ANCHORS.items():
        (left, top, right, bottom), reference = found[text], expected[text]
        if anchor == "rotated":
            # Drawn bottom to top: the run starts at the bottom edge, and is as wide as
            # WeasyPrint's (pdftotext boxes rotated text by its line).
            assert abs(bottom - reference[3]) < 0.5, (text, found[text], reference)
            assert abs(left - reference[0]) < 0.5, (text, found[text], reference)
            continue
        edge = {
            "start": (left, reference[0]),
            "end": (right, reference[2]),
            "middle": ((left + right) / 2, (reference[0] + reference[2]) / 2),
        }[anchor]
        assert abs(edge[0] - edge[1]) < 0.5, (text, found[text], reference)
        assert abs(top - reference[1]) < 0.5, (text, found[text], reference)
        assert abs(bottom - reference[3]) < 0.5, (text, found[text], reference)
        width, reference_width = right - left, reference[2] - reference[0]
        assert 0.95 * reference_width < width <= reference_width + 0.5, (text, width)


def test_whole_runs_are_in_use_and_anchoring_still_recognises_them() -> None:
    from weasyprint import svg as weasy_svg

    assert weasyprint.__version__.startswith(svgtext.SUPPORTED), (
        "WeasyPrint was upgraded: check svgtext._whole_run against its svg/text.py and "
        "add the version to SUPPORTED"
    )
    assert svgtext.install()
    # draw_node compares a tag's function with the module's `text` to apply text-anchor.
    assert weasy_svg.TAGS["text"] is weasy_svg.text
    assert weasy_svg.TAGS["tspan"] is weasy_svg.text


@pytest.mark.parametrize(
    ("attributes", "simple"),
    [
        ({"x": "10", "y": "20"}, True),
        ({}, True),
        ({"x": "10 20 30", "y": "5"}, False),
        ({"x": "10", "y": "20", "dx": "1 2"}, False),
        ({"x": "10", "y": "20", "rotate": "0 10"}, False),
        ({"x": "10", "y": "20", "letter-spacing": "2"}, False),
        ({"x": "10", "y": "20", "textLength": "100"}, False),
        ({"x": "", "y": "20"}, False),
    ],
)
def test_only_labels_without_glyph_positions_are_drawn_whole(
    attributes: dict[str, str], simple: bool
) -> None:
    class Node:
        attrib = attributes
        text = "Label"

    assert svgtext.is_simple(Node()) is simple


def test_a_label_with_glyph_positions_is_left_to_weasyprint(tmp_path: Path) -> None:
    """Letters given their own x values still land one by one where they were put."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40">'
        '<text x="10 60 110" y="20" font-size="12" font-family="sans-serif">ABC</text></svg>'
    )
    pdf = tmp_path / "spaced.pdf"
    write_pdf(f'<!doctype html><html lang="en"><body>{svg}</body></html>', pdf)
    words = _words(pdf, tmp_path)
    assert [w[0] for w in words] == ["A", "B", "C"]
    lefts = [w[1] for w in words]
    # 50 px apart = 37.5 pt apart in the PDF.
    assert lefts[1] - lefts[0] == pytest.approx(37.5, abs=0.5)
    assert lefts[2] - lefts[1] == pytest.approx(37.5, abs=0.5)
