"""Rendering a composed report: HTML from the package's Jinja2 templates, PDF with WeasyPrint.

The HTML is self-contained (inline CSS and SVG, no scripts, fonts or images fetched), so it
opens anywhere offline; the PDF is drawn from the very same HTML with print rules.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sharedground.report.compose import Page


@cache
def environment() -> Environment:
    """The template environment (autoescaping on, undefined names are errors)."""
    return Environment(
        loader=PackageLoader("sharedground.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def stylesheet() -> str:
    return (resources.files("sharedground.report") / "templates" / "report.css").read_text(
        encoding="utf-8"
    )


def render_html(page: Page) -> str:
    """The report as one HTML document."""
    return environment().get_template("report.html").render(page=page, css=Markup(stylesheet()))


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    # The report references nothing outside itself; refusing every fetch keeps it that way
    # (a stray URL fails loudly instead of silently reaching the network).
    raise ValueError(f"the report may not load external resources (asked for {url})")


def write_pdf(html: str, path: Path) -> None:
    """Draw `html` as an A4 PDF at `path` with WeasyPrint."""
    import weasyprint

    # WeasyPrint logs every CSS property it does not support at WARNING level (for example
    # `cursor`, a screen-only rule); those are expected and would only clutter the console.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch, media_type="print")
    document.write_pdf(path)
