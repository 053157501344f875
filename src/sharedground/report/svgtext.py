"""Chart labels drawn by WeasyPrint as whole runs of text rather than letter by letter.

WeasyPrint (up to at least 70) lays out and draws every SVG `<text>` one code point at a
time, so that each could take its own `x`, `y`, `dx`, `dy` or `rotate` value: one Pango
layout and one PDF text object per letter. A trust report's charts hold some 230 labels and
2,100 letters, and drawing them that way took a tenth of the report's rendering. It also
breaks shaping (kerning, ligatures, combining accents): WeasyPrint's own issue #2249 records
the bug and suggests the fix used here, which its pull request #2754 implemented: when a
text node positions no glyph on its own (at most one `x` and `y`, no `dx`/`dy` lists, no
`rotate`, `letter-spacing` or `textLength`), shape and draw the whole run at once.

Our charts (`sharedground.report.charts`) only ever write such simple labels; any other text
node is drawn by WeasyPrint's own function, unchanged. `install` swaps the function in
WeasyPrint's SVG tag table (and the name its text-anchor code compares with), once per
process, and only for the WeasyPrint versions whose function this mirrors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from math import inf
from typing import Any, cast

#: WeasyPrint versions whose SVG text function `_whole_run` reproduces for simple runs.
SUPPORTED = ("70.",)

_GLYPH_ATTRIBUTES = ("dx", "dy", "rotate", "textLength", "letter-spacing")


def _single(value: str | None) -> bool:
    """True when an `x` or `y` attribute is absent or holds exactly one coordinate."""
    from weasyprint.svg.utils import normalize

    return value is None or len(normalize(value).split()) == 1


def is_simple(node: Any) -> bool:
    """True when a text node positions no glyph on its own, so it can be shaped whole."""
    attributes = node.attrib
    return (
        bool(node.text)
        and not any(name in attributes for name in _GLYPH_ATTRIBUTES)
        and _single(attributes.get("x"))
        and _single(attributes.get("y"))
    )


@cache
def install() -> bool:
    """Use whole-run drawing for simple SVG text in this process; False if not supported."""
    import weasyprint
    from weasyprint import svg as weasy_svg

    found: Any = getattr(weasy_svg, "text", None)
    tags = getattr(weasy_svg, "TAGS", None)
    if (
        not weasyprint.__version__.startswith(SUPPORTED)
        or not callable(found)
        or not isinstance(tags, dict)
        or tags.get("text") is not found
    ):
        return False
    original = cast(Callable[[Any, Any, float], None], found)

    def text(svg: Any, node: Any, font_size: float) -> None:
        if node.tag == "text" and is_simple(node) and _whole_run(svg, node, font_size):
            return
        original(svg, node, font_size)

    for tag, function in list(tags.items()):
        if function is original:
            tags[tag] = text
    # `draw_node` recognises text nodes (for text-anchor) by comparing with this name.
    weasy_svg.text = text
    return True


def _whole_run(svg: Any, node: Any, font_size: float) -> bool:
    """Draw `node`'s text as one run, as WeasyPrint's `svg.text.text` draws each letter.

    Mirrors that function for a node with a single position: the same style, cursor,
    bounding box and alignment, with one layout for the whole text. Returns False (having
    drawn nothing) if the text would not fit one line, leaving it to WeasyPrint.
    """
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import normalize, size
    from weasyprint.text.line_break import split_first_line

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = node.get("font-style", "normal")
    weight = node.get("font-weight", 400)
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    if weight == "normal":
        weight = 400
    elif weight == "bold":
        weight = 700
    else:
        try:
            weight = int(weight)
        except ValueError:
            weight = 400
    style["font_weight"] = weight
    style["font_size"] = font_size

    layout, _, resume, width, height, baseline = split_first_line(
        node.text, style, svg.context, inf, 0
    )
    if resume is not None:
        return False

    given_x = given_y = None
    if "x" in node.attrib:
        given_x = size(normalize(node.attrib["x"]).strip(), font_size, svg.inner_width)
    if "y" in node.attrib:
        given_y = size(normalize(node.attrib["y"]).strip(), font_size, svg.inner_height)
    # As WeasyPrint does for a node's first letter (a zero coordinate, being falsy, keeps
    # the running offset there too).
    if given_x:
        svg.cursor_d_position[0] = 0
    if given_y:
        svg.cursor_d_position[1] = 0
    x = svg.cursor_position[0] if given_x is None else given_x
    y = svg.cursor_position[1] if given_y is None else given_y

    # WeasyPrint's approximations of the font's ascent and descent, kept so that a label
    # sits exactly where WeasyPrint would put it.
    ascent, descent = font_size * 0.8, font_size * 0.2
    y_align = 0.0
    display_anchor = node.get("display-anchor")
    alignment_baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if display_anchor == "middle":
        y_align = -height / 2
    elif display_anchor == "top":
        pass
    elif display_anchor == "bottom":
        y_align = -height
    elif alignment_baseline in ("central", "middle"):
        y_align = (ascent + descent) / 2 - descent
    elif alignment_baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        y_align = ascent
    elif alignment_baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        y_align = -descent

    svg.cursor_position = x + width, y
    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + y_align
    points = (
        (x_position, y_position - baseline),
        (x_position + width, y_position - baseline + height),
    )
    node.text_bounding_box = extend_bounding_box(node.text_bounding_box, points)

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    text_box = TextBox(layout, style)
    text_box.baseline = baseline
    matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)
    emojis = draw_first_line(svg.stream, text_box, "none", "none", matrix)
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)
    return True


__all__ = ["install", "is_simple"]
