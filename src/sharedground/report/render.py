"""Rendering a composed report: HTML from the package's Jinja2 templates, PDF with WeasyPrint.

The HTML is self-contained (inline CSS and SVG, no scripts, fonts or images fetched), so it
opens anywhere offline; the PDF is drawn from the very same HTML with print rules.
"""

from __future__ import annotations

import base64
import gc
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sharedground.report import svgtext
from sharedground.report.compose import Page


@cache
def environment() -> Environment:
    """The template environment (autoescaping on, undefined names are errors)."""
    env = Environment(
        loader=PackageLoader("sharedground.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data_uri"] = data_uri
    return env


@cache
def stylesheet() -> str:
    return (resources.files("sharedground.report") / "templates" / "report.css").read_text(
        encoding="utf-8"
    )


def render_html(page: Page, *, for_print: bool = False) -> str:
    """The report as one HTML document.

    With `for_print` (the HTML WeasyPrint draws the PDF from) the same document leaves out
    what only works on screen (the skip link, the <details> data tables behind each chart)
    and embeds each chart's identical SVG markup as an SVG image instead of inline: inline
    SVG elements go through WeasyPrint's HTML cascade one by one, which costs about a third
    of the rendering time, while an SVG image is parsed apart and still drawn as vectors.
    """
    return (
        environment()
        .get_template("report.html")
        .render(page=page, css=Markup(stylesheet()), for_print=for_print)
    )


def data_uri(svg: str) -> str:
    """An SVG document as a base64 `data:` URI."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@cache
def _fetcher() -> Any:
    """A URL fetcher for `data:` URIs only, failing the render on anything else.

    The report references nothing outside itself (charts are data: URIs); refusing every
    other fetch keeps it that way: a stray URL stops the render instead of reaching out.
    """
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):  # WeasyPrint 66 and later
        return urls.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - old versions
        if not url.startswith("data:"):
            raise urls.FatalURLFetchingError(f"the report may not load {url}")
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def write_pdf(html: str, path: Path) -> None:
    """Draw `html` as an A4 PDF at `path` with WeasyPrint."""
    # WeasyPrint logs every CSS property it does not support at WARNING level (for example
    # `cursor`, a screen-only rule); those are expected and would only clutter the console.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    # A report's HTML carries the report stylesheet inline (it is self-contained); that text
    # is taken out and the stylesheet parsed once per process is applied instead: parsing
    # it and compiling its selectors cost ~25 ms per report. Applied this way it is a user
    # stylesheet, not an author one, which ranks the same here: it has no !important, and
    # the report's only other styles, its style attributes, win over either.
    sheets = []
    if (css := stylesheet()) in html:
        html = html.replace(css, "", 1)
        sheets.append(_parsed_stylesheet())
    svgtext.install()
    with _collector_paused():
        document = _html_class()(string=html, url_fetcher=_fetcher(), media_type="print")
        document.write_pdf(path, font_config=_font_config(), stylesheets=sheets)


#: WeasyPrint's user-agent rules for footnotes and notes (`::footnote-call`, `::note-marker`
#: and the like): each selects a pseudo-element of every element.
_NOTE_RULES = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}\n]*\}\n", re.MULTILINE)


@cache
def _html_class() -> Any:
    """WeasyPrint's HTML document, with a user-agent stylesheet that has no note rules.

    The footnote and note rules of WeasyPrint's user-agent stylesheet select a
    pseudo-element of every element, so WeasyPrint computes five more styles for each
    element of a report (~8,000 for a trust report, 3% of its rendering) for footnotes and
    notes a report never has. Reports are drawn with that stylesheet less those rules; the
    pages come out the same. WeasyPrint has no public way to change its user-agent
    stylesheet, so this overrides `HTML._ua_stylesheets`; where a WeasyPrint keeps the
    stylesheet elsewhere, its own HTML class (and stylesheet) is used unchanged.
    """
    import weasyprint
    from weasyprint import CSS
    from weasyprint import html as weasy_html

    try:
        default, text = weasy_html.UA_STYLESHEET, weasy_html.UA
        counters = type(weasy_html.UA_COUNTER_STYLE)()
    except AttributeError:  # pragma: no cover - other WeasyPrint versions
        return weasyprint.HTML
    trimmed, found = _NOTE_RULES.subn("", text)
    if not found or not hasattr(weasyprint.HTML, "_ua_stylesheets"):  # pragma: no cover
        return weasyprint.HTML
    # The @counter-style rules of the copy go to a throwaway store: a document's counter
    # styles still come from WeasyPrint's own (`HTML._ua_counter_style`).
    sheet = CSS(string=trimmed, counter_style=counters)

    class ReportHTML(weasyprint.HTML):  # type: ignore[misc]
        def _ua_stylesheets(self, *args: Any, **kwargs: Any) -> list[Any]:
            sheets = super()._ua_stylesheets(*args, **kwargs)
            return [sheet if s is default else s for s in sheets]

    return ReportHTML


@cache
def _parsed_stylesheet() -> Any:
    from weasyprint import CSS

    return CSS(
        string=stylesheet(), media_type="print", font_config=_font_config(), url_fetcher=_fetcher()
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector off, then collect once.

    WeasyPrint makes some 150,000 objects for a trust report (boxes, styles, text layouts),
    many of them in reference cycles. With the collector on, their allocation alone set it
    off about 350 times a report, each pass re-examining everything still alive: a sixth of
    the rendering time. Left off, all of them stay in the youngest generation, and one pass
    over that generation afterwards frees the same garbage at a third of the cost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


@cache
def _font_config() -> Any:
    # One font configuration per process: building it scans the system fonts each time.
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
