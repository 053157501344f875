"""Where a respondent goes next: the order of pages and the addresses of each."""

from __future__ import annotations

from collections.abc import Sequence

from sharedground.fieldwork.links import SURVEY_PATH
from sharedground.instrument import Instrument, Section


def survey_url(token: str, page: str = "") -> str:
    """The address of a page of the survey for this token (`""` is the start page)."""
    base = f"{SURVEY_PATH}{token}"
    return f"{base}/{page}" if page else base


def section_url(token: str, section_id: str) -> str:
    return survey_url(token, f"page/{section_id}")


def first_unanswered(instrument: Instrument, done: Sequence[str]) -> Section | None:
    """The first section not yet saved, or None when every section has been."""
    finished = set(done)
    for section in instrument.sections:
        if section.id not in finished:
            return section
    return None


def resume_url(token: str, instrument: Instrument, done: Sequence[str]) -> str:
    """Where an opened link takes a respondent who has started: the first unanswered page."""
    section = first_unanswered(instrument, done)
    return section_url(token, section.id) if section else survey_url(token, "check")


def position(instrument: Instrument, section_id: str) -> int | None:
    """The 0-based index of a section, or None for an unknown id."""
    for index, section in enumerate(instrument.sections):
        if section.id == section_id:
            return index
    return None
