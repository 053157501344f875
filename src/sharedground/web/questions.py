"""An instrument's questions as web form fields: reading, checking and showing answers.

Field names are the exchange-file column names (`barriers`, `initiatives:paired_learning`)
and values are the cell texts of an import file, so a draft and a submitted response hold
exactly what an imported row would. The `role` item is kept under `role` in a draft and
moved to the response's own column on submission.

Everything here is plain data in, plain data out, so the rules are tested without HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sharedground.exchange.columns import GRID_SEPARATOR, MULTI_SEPARATOR
from sharedground.instrument import (
    GRID_VALUES,
    LIKERT_LABELS,
    NONE_CHOSEN,
    AnyItem,
    GridItem,
    Instrument,
    Likert,
    LikertItem,
    MultiItem,
    RatingItem,
    Section,
    SingleItem,
    TextItem,
)

ROLE = "role"
#: Posted values of a form: field name -> every value sent under it.
Raw = Mapping[str, Sequence[str]]
# NUL cannot be stored in PostgreSQL text; other C0 controls are never typed on purpose.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Choice:
    """One radio button or checkbox."""

    id: str
    value: str
    label: str
    checked: bool = False
    hint: str | None = None


@dataclass
class Field:
    """One question as the templates draw it."""

    kind: Literal["radios", "checkboxes", "textarea", "grid", "fixed"]
    name: str
    id: str
    legend: str
    hint: str | None = None
    error: str | None = None
    choices: list[Choice] = field(default_factory=list)
    none_choice: Choice | None = None
    text: str = ""
    max_length: int | None = None
    inline: bool = False
    rows: list[Field] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The id an error-summary link points at: the first input of the field."""
        if self.kind == "grid" and self.rows:
            return self.rows[0].id
        return self.id


@dataclass(frozen=True)
class Problem:
    """A reason a page's answers cannot be saved, tied to one field."""

    name: str
    anchor: str
    message: str


@dataclass(frozen=True)
class SummaryRow:
    """One line of "Check your answers"."""

    key: str
    lines: list[str]
    anchor: str
    answered: bool


def field_id(name: str) -> str:
    """An HTML id for a field name (grid names hold a colon, legal but awkward in CSS)."""
    return "q-" + name.replace(GRID_SEPARATOR, "--")


def names_of(item: AnyItem) -> list[str]:
    """The form field names (and draft keys) an item answers under."""
    if isinstance(item, GridItem):
        return [f"{item.id}{GRID_SEPARATOR}{o.id}" for o in item.options]
    return [item.id]


def section_names(section: Section) -> list[str]:
    return [name for item in section.items for name in names_of(item)]


def raw_from_answers(section: Section, answers: Mapping[str, str]) -> dict[str, list[str]]:
    """Stored answers of a section as posted form values, to fill the form in again."""
    raw: dict[str, list[str]] = {}
    for item in section.items:
        for name in names_of(item):
            value = answers.get(name)
            if value is None:
                continue
            if isinstance(item, MultiItem):
                raw[name] = value.split(MULTI_SEPARATOR)
            else:
                raw[name] = [value]
    return raw


def read_section(
    section: Section, raw: Raw, fixed_role: str | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """The answers a posted page gives, and the problems that stop it being saved.

    Returns every valid answer even when there are problems, so that what the respondent
    got right can be kept while they fix the rest.
    """
    answers: dict[str, str] = {}
    problems: list[Problem] = []
    for item in section.items:
        if item.id == ROLE and fixed_role is not None:
            continue
        for name, value, problem in _read_item(item, raw):
            if problem is not None:
                problems.append(Problem(name, _anchor(item, name), problem))
            elif value is not None:
                answers[name] = value
    return answers, problems


def _anchor(item: AnyItem, name: str) -> str:
    base = field_id(name)
    return base


def _read_item(item: AnyItem, raw: Raw) -> list[tuple[str, str | None, str | None]]:
    """(name, value or None, problem or None) for each field of an item."""
    if isinstance(item, GridItem):
        out: list[tuple[str, str | None, str | None]] = []
        for option, name in zip(item.options, names_of(item), strict=True):
            value = _one(raw, name)
            if value is not None and value not in GRID_VALUES:
                out.append((name, None, f"Select yes, no or don't know for ‘{option.label}’"))
            else:
                out.append((name, value, None))
        return out
    name = item.id
    if isinstance(item, TextItem):
        text = _CONTROL.sub("", (_one(raw, name) or "").replace("\r\n", "\n")).strip()
        if not text:
            return [(name, None, _missing(item))]
        if len(text) > item.max_length:
            return [
                (
                    name,
                    None,
                    f"Your answer must be {item.max_length:,} characters or fewer "
                    f"(it has {len(text):,})",
                )
            ]
        return [(name, text, None)]
    if isinstance(item, MultiItem):
        return [_read_multi(item, raw)]
    value = _one(raw, name)
    if value is None:
        return [(name, None, _missing(item))]
    if value not in allowed_values(item):
        return [(name, None, "Select one of the options given")]
    return [(name, value, None)]


def _read_multi(item: MultiItem, raw: Raw) -> tuple[str, str | None, str | None]:
    chosen = {v for v in raw.get(item.id, ()) if v}
    if not chosen:
        return (item.id, None, _missing(item))
    options = [o.id for o in item.options]
    if chosen - {*options, NONE_CHOSEN}:
        return (item.id, None, "Select from the options given")
    if NONE_CHOSEN in chosen:
        if len(chosen) > 1:
            label = item.none_label or "none"
            return (item.id, None, f"Select the options that apply, or ‘{label}’, not both")
        return (item.id, NONE_CHOSEN, None)
    if item.max_choices is not None and len(chosen) > item.max_choices:
        return (
            item.id,
            None,
            f"Select up to {item.max_choices} options (you selected {len(chosen)})",
        )
    return (item.id, MULTI_SEPARATOR.join(o for o in options if o in chosen), None)


def _one(raw: Raw, name: str) -> str | None:
    values = [v for v in raw.get(name, ()) if v != ""]
    return values[-1] if values else None


def _missing(item: AnyItem) -> str | None:
    """The problem of an unanswered item: none unless the item is required."""
    if not item.required:
        return None
    if item.id == ROLE:
        return "Select which best describes your current role"
    if isinstance(item, TextItem):
        return "Enter your answer"
    return "Select an answer"


def allowed_values(item: AnyItem) -> list[str]:
    """The values a one-answer item may take."""
    if isinstance(item, LikertItem):
        return [v.value for v in Likert]
    if isinstance(item, RatingItem):
        return [str(v) for v in range(item.min, item.max + 1)]
    if isinstance(item, SingleItem):
        return [o.id for o in item.options]
    return []


def missing_required(
    instrument: Instrument, answers: Mapping[str, str], fixed_role: str | None
) -> list[tuple[Section, AnyItem]]:
    """Required items with no answer, in questionnaire order."""
    out = []
    for section in instrument.sections:
        for item in section.items:
            if not item.required or (item.id == ROLE and fixed_role is not None):
                continue
            if not any(name in answers for name in names_of(item)):
                out.append((section, item))
    return out


# -- drawing ---------------------------------------------------------------------------------


def build_fields(
    section: Section,
    raw: Raw,
    problems: Sequence[Problem] = (),
    fixed_role: tuple[str, str] | None = None,
) -> list[Field]:
    """The fields of a page, filled in with `raw` and marked with `problems`.

    Args:
        fixed_role: (id, label) of a role the link carries; the role question is then shown
            as a statement, not asked.
    """
    errors = {p.name: p.message for p in problems}
    return [build_field(item, raw, errors, fixed_role) for item in section.items]


def build_field(
    item: AnyItem,
    raw: Raw,
    errors: Mapping[str, str],
    fixed_role: tuple[str, str] | None = None,
) -> Field:
    """One question's field (see `build_fields`); `errors` maps field names to problems."""
    if item.id == ROLE and fixed_role is not None:
        return Field("fixed", ROLE, field_id(ROLE), item.text, text=fixed_role[1])
    return _field(item, raw, errors)


def _field(item: AnyItem, raw: Raw, errors: Mapping[str, str]) -> Field:
    name = item.id
    ident = field_id(name)
    current = set(raw.get(name, ()))
    error = errors.get(name)
    if isinstance(item, TextItem):
        text = raw.get(name, [""])[-1] if raw.get(name) else ""
        return Field(
            "textarea",
            name,
            ident,
            item.text,
            item.hint,
            error,
            text=text,
            max_length=item.max_length,
        )
    if isinstance(item, GridItem):
        rows = []
        for option, row_name in zip(item.options, names_of(item), strict=True):
            row_id = field_id(row_name)
            picked = set(raw.get(row_name, ()))
            choices = _choices(row_id, list(GRID_VALUES.items()), picked)
            rows.append(
                Field(
                    "radios",
                    row_name,
                    row_id,
                    option.label,
                    option.hint,
                    errors.get(row_name),
                    choices=choices,
                    inline=True,
                )
            )
        return Field("grid", name, ident, item.text, item.hint, rows=rows)
    if isinstance(item, MultiItem):
        options = [(o.id, o.label, o.hint) for o in item.options]
        choices = [
            Choice(ident if i == 0 else f"{ident}-{i + 1}", value, label, value in current, hint)
            for i, (value, label, hint) in enumerate(options)
        ]
        none_choice = None
        if item.none_label:
            none_choice = Choice(
                f"{ident}-none", NONE_CHOSEN, item.none_label, NONE_CHOSEN in current
            )
        hint = item.hint
        if hint is None and item.max_choices:
            hint = f"Select up to {item.max_choices}."
        return Field(
            "checkboxes",
            name,
            ident,
            item.text,
            hint,
            error,
            choices=choices,
            none_choice=none_choice,
        )
    pairs: list[tuple[str, str]]
    hint = item.hint
    inline = False
    if isinstance(item, LikertItem):
        pairs = [(v.value, LIKERT_LABELS[v]) for v in Likert]
    elif isinstance(item, RatingItem):
        pairs = [(str(v), _rating_label(item, v)) for v in range(item.min, item.max + 1)]
        hint = (
            hint
            or f"{item.min} is {item.low_label.lower()}, {item.max} is {item.high_label.lower()}"
        )
    else:
        assert isinstance(item, SingleItem)
        pairs = [(o.id, o.label) for o in item.options]
    return Field(
        "radios",
        name,
        ident,
        item.text,
        hint,
        error,
        choices=_choices(ident, pairs, current),
        inline=inline,
    )


def _choices(ident: str, pairs: Sequence[tuple[str, str]], current: set[str]) -> list[Choice]:
    return [
        Choice(ident if i == 0 else f"{ident}-{i + 1}", value, label, value in current)
        for i, (value, label) in enumerate(pairs)
    ]


def _rating_label(item: RatingItem, value: int) -> str:
    if value == item.min:
        return f"{value} – {item.low_label}"
    if value == item.max:
        return f"{value} – {item.high_label}"
    return str(value)


def summary_rows(
    section: Section, answers: Mapping[str, str], fixed_role: tuple[str, str] | None = None
) -> list[SummaryRow]:
    """The "Check your answers" lines of one section, questionnaire order."""
    rows = []
    for item in section.items:
        if item.id == ROLE and fixed_role is not None:
            continue
        lines = display(item, answers)
        rows.append(
            SummaryRow(
                item.text, lines or ["Not answered"], field_id(names_of(item)[0]), bool(lines)
            )
        )
    return rows


def display(item: AnyItem, answers: Mapping[str, str]) -> list[str]:
    """An item's stored answer in words (one line per choice or grid row; [] = unanswered)."""
    if isinstance(item, GridItem):
        return [
            f"{option.label}: {GRID_VALUES[answers[name]]}"
            for option, name in zip(item.options, names_of(item), strict=True)
            if answers.get(name) in GRID_VALUES
        ]
    value = answers.get(item.id)
    if value is None:
        return []
    if isinstance(item, TextItem):
        return [value]
    if isinstance(item, MultiItem):
        if value == NONE_CHOSEN:
            return [item.none_label or "None"]
        labels = {o.id: o.label for o in item.options}
        return [labels.get(v, v) for v in value.split(MULTI_SEPARATOR)]
    if isinstance(item, LikertItem):
        return [LIKERT_LABELS.get(value, value)]
    if isinstance(item, RatingItem):
        return [_rating_label(item, int(value)) if value.isdigit() else value]
    labels = {o.id: o.label for o in item.options}
    return [labels.get(value, value)]
