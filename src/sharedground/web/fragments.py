"""The HTML of a page's questions, drawn once per state and then reused.

Drawing a section's fields through the Jinja macros is most of the work of a page view
(a Likert block is dozens of radios). The HTML of a question depends only on the
questionnaire, the question and which options are ticked, and a stored questionnaire
never changes, so each (instrument, question, ticked options) is drawn once per process
and reused. What is not cached, because it is not a small closed set of states:

* a page with problems (its posted values may be anything; it is also rare);
* free text a respondent typed (their words stay out of a long-lived cache).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from sharedground.instrument import GridItem, Section, TextItem
from sharedground.web.questions import (
    ROLE,
    Field,
    Problem,
    Raw,
    build_field,
    build_fields,
    names_of,
)

# Enough for every state of every question a busy server meets; a full cache is simply
# emptied (the states in use are drawn again on the next page views).
MAX_ENTRIES = 50_000


class FieldDrawer:
    """Draws the fields of a section page, reusing the HTML of states already drawn."""

    def __init__(self, env: jinja2.Environment, max_entries: int = MAX_ENTRIES) -> None:
        self._macros: Any = env.get_template("_fields.html").module
        self._cache: dict[Hashable, Markup] = {}
        self.max_entries = max_entries

    def draw(self, field: Field) -> Markup:
        """One field's HTML, through the templates' `field` macro."""
        return Markup(self._macros.field(field))

    def html(
        self,
        instrument_key: Hashable,
        section: Section,
        raw: Raw,
        problems: Sequence[Problem] = (),
        fixed_role: tuple[str, str] | None = None,
    ) -> Markup:
        """The HTML of every field of `section`, filled in with `raw`, marked with `problems`."""
        if problems:
            fields = build_fields(section, raw, problems, fixed_role)
            return Markup("").join(self.draw(f) for f in fields)
        parts: list[Markup] = []
        for item in section.items:
            if isinstance(item, TextItem) and raw.get(item.id):
                parts.append(self.draw(build_field(item, raw, {}, fixed_role)))
                continue
            state: tuple[Any, ...]
            if isinstance(item, GridItem):
                state = tuple(tuple(raw.get(name, ())) for name in names_of(item))
            else:
                state = tuple(raw.get(item.id, ()))
            role = fixed_role if item.id == ROLE else None
            key = (instrument_key, section.id, item.id, role, state)
            drawn = self._cache.get(key)
            if drawn is None:
                drawn = self.draw(build_field(item, raw, {}, fixed_role))
                if len(self._cache) >= self.max_entries:
                    self._cache.clear()
                self._cache[key] = drawn
            parts.append(drawn)
        return Markup("").join(parts)
