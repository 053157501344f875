"""Splitting a source into segments: paragraphs (units of a transcript) and sentences.

Segments are spans of the stored text (start inclusive, end exclusive), never copies that
could drift from it. A comment is one unit as a whole; a transcript's units are its
paragraphs (blocks separated by a blank line, or lines when there are no blank lines), which
is how agreement on whole units treats a long document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLANK_LINE = re.compile(r"\n\s*\n")
# A sentence ends at . ! or ? followed by space and a capital, a digit or a quote mark, or
# at a line end; "Dr. Smith" style abbreviations are rare once the anonymiser has run.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(\[A-Z0-9])|\n+")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str


def _spans(text: str, separator: re.Pattern[str]) -> list[Segment]:
    spans = []
    position = 0
    for match in [*separator.finditer(text), None]:
        end = len(text) if match is None else match.start()
        chunk = text[position:end]
        stripped = chunk.strip()
        if stripped:
            start = position + (len(chunk) - len(chunk.lstrip()))
            spans.append(Segment(start, start + len(stripped), stripped))
        if match is not None:
            position = match.end()
    return spans


def paragraphs(text: str) -> list[Segment]:
    """Blocks separated by blank lines; single lines when the text has no blank line."""
    if _BLANK_LINE.search(text):
        return _spans(text, _BLANK_LINE)
    return _spans(text, re.compile(r"\n"))


def sentences(text: str) -> list[Segment]:
    """Sentences of a text, each a span of it."""
    return _spans(text, _SENTENCE_END)


def units(kind: str, text: str) -> list[Segment]:
    """The units a source is coded and compared in: a comment whole, a transcript by paragraph."""
    if kind == "comment":
        stripped = text.strip()
        return [Segment(0, len(text), stripped)] if stripped else []
    return paragraphs(text)
