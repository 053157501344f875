"""The questionnaire as data: a pydantic model of an instrument.

An instrument is a versioned list of sections, each holding items. The item and option
ids are the interface used everywhere else (import files, the store, analysis output),
so they are validated strictly: lower-case identifiers, unique within their scope.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Ident = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


class Likert(StrEnum):
    """The five-point agreement scale of the survey, in the order it is asked."""

    STRONGLY_AGREE = "strongly_agree"
    TEND_TO_AGREE = "tend_to_agree"
    TEND_TO_DISAGREE = "tend_to_disagree"
    STRONGLY_DISAGREE = "strongly_disagree"
    DONT_KNOW = "dont_know"


LIKERT_LABELS: dict[str, str] = {
    Likert.STRONGLY_AGREE: "Strongly agree",
    Likert.TEND_TO_AGREE: "Tend to agree",
    Likert.TEND_TO_DISAGREE: "Tend to disagree",
    Likert.STRONGLY_DISAGREE: "Strongly disagree",
    Likert.DONT_KNOW: "Don't know / not applicable",
}

GRID_VALUES: dict[str, str] = {"yes": "Yes", "no": "No", "dont_know": "Don't know"}

#: The value written for a multi-choice question answered with nothing ticked.
NONE_CHOSEN = "none"


class LocatedError(ValueError):
    """A problem found by a whole-instrument check, with the place in the data it concerns.

    `path` is a location like pydantic's (`("sections", 2, "items", 0)`), so that the loader
    can name the line, section and item instead of pointing at the top of the file.
    """

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One choice of a single-choice, multi-choice or grid question."""

    id: Ident
    label: str = Field(min_length=1)
    hint: str | None = None

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == NONE_CHOSEN:
            raise ValueError(f"option id {NONE_CHOSEN!r} is reserved for 'nothing ticked'")
        return value


class _ItemBase(_Strict):
    id: Ident
    text: str = Field(min_length=1, description="The wording as asked.")
    hint: str | None = None
    required: bool = False


class LikertItem(_ItemBase):
    """An agreement statement on the five-point Likert scale."""

    type: Literal["likert"]
    reverse: bool = Field(
        default=False,
        description="Asked the other way round: tables report disagreement with `text`.",
    )
    reported_as: str | None = Field(
        default=None, description="The statement as the reverse-scored table prints it."
    )

    @model_validator(mode="after")
    def _reverse_needs_wording(self) -> LikertItem:
        if self.reverse and not self.reported_as:
            raise ValueError("a reverse-scored item needs `reported_as`, the wording tables print")
        if self.reported_as and not self.reverse:
            raise ValueError("`reported_as` is only for reverse-scored items (reverse: true)")
        return self


class RatingItem(_ItemBase):
    """A rating on an integer scale with labelled ends (1 = poor ... 5 = excellent)."""

    type: Literal["rating"]
    min: int = 1
    max: int = 5
    low_label: str
    high_label: str

    @model_validator(mode="after")
    def _range(self) -> RatingItem:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        if self.max - self.min > 10:
            raise ValueError("a rating scale may have at most 11 points")
        return self


class SingleItem(_ItemBase):
    """One answer from a list of options (demographics are single-choice items too)."""

    type: Literal["single"]
    options: list[Option] = Field(min_length=2)


class MultiItem(_ItemBase):
    """Any number of options, or at most `max_choices` ("pick up to three")."""

    type: Literal["multi"]
    options: list[Option] = Field(min_length=2)
    max_choices: int | None = Field(default=None, ge=1)
    none_label: str | None = Field(
        default=None,
        description="Label of an exclusive 'none of these' answer, stored as `none`.",
    )

    @model_validator(mode="after")
    def _max_fits(self) -> MultiItem:
        if self.max_choices is not None and self.max_choices > len(self.options):
            raise ValueError(
                f"max_choices ({self.max_choices}) is more than the {len(self.options)} options"
            )
        return self


class GridItem(_ItemBase):
    """One yes / no / don't know answer per row (for example, initiatives available)."""

    type: Literal["grid"]
    options: list[Option] = Field(min_length=1, description="The rows of the grid.")


class TextItem(_ItemBase):
    """A free-text box."""

    type: Literal["text"]
    max_length: int = Field(default=2000, ge=1, le=100_000)


Item = Annotated[
    LikertItem | RatingItem | SingleItem | MultiItem | GridItem | TextItem,
    Field(discriminator="type"),
]


class Section(_Strict):
    """A page of the questionnaire."""

    id: Ident
    title: str = Field(min_length=1)
    intro: str | None = None
    demographic: bool = False
    items: list[Item] = Field(min_length=1)


Measure = Literal["agree", "rating_high", "rating_low", "chosen", "yes", "distribution"]


class TableRow(_Strict):
    """One row of a report table: what is counted, on which item (and option)."""

    item: Ident
    option: Ident | None = None
    measure: Measure
    label: str = Field(min_length=1)


class Table(_Strict):
    """A report table, with ids as in the published report (`table_2.2`)."""

    id: Annotated[str, Field(pattern=r"^table_[0-9a-z]+(\.[0-9]+)?$")]
    title: str = Field(min_length=1)
    rows: list[TableRow] = Field(min_length=1)


class Instrument(_Strict):
    """A versioned questionnaire definition."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    description: str | None = None
    based_on: str | None = None
    source: str | None = None
    sections: list[Section] = Field(min_length=1)
    tables: list[Table] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        seen_sections: set[str] = set()
        seen_items: set[str] = set()
        for i, section in enumerate(self.sections):
            if section.id in seen_sections:
                raise LocatedError(f"section id {section.id!r} is used twice", ("sections", i))
            seen_sections.add(section.id)
            for j, item in enumerate(section.items):
                where = ("sections", i, "items", j)
                if item.id in seen_items:
                    raise LocatedError(f"item id {item.id!r} is used twice", where)
                seen_items.add(item.id)
                options = getattr(item, "options", None)
                if options is not None:
                    ids = [o.id for o in options]
                    for k, option_id in enumerate(ids):
                        if option_id in ids[:k]:
                            raise LocatedError(
                                f"option id {option_id!r} is used twice", (*where, "options", k)
                            )
        if "role" not in seen_items:
            raise ValueError("an instrument needs a single-choice item `role`")
        role = self.item("role")
        if not isinstance(role, SingleItem):
            section = self.section_of("role")
            where = ("sections", self.sections.index(section), "items", section.items.index(role))
            raise LocatedError("item `role` must be a single-choice item", where)
        for t, table in enumerate(self.tables):
            for r, row in enumerate(table.rows):
                try:
                    _check_row(self, table, row)
                except ValueError as exc:
                    raise LocatedError(str(exc), ("tables", t, "rows", r)) from None
        return self

    # -- look-ups ---------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """`id@version`, the name under which the store keeps this definition."""
        return f"{self.id}@{self.version}"

    def items(self) -> list[AnyItem]:
        """Every item in questionnaire order."""
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> AnyItem:
        """The item with this id; KeyError names the id when there is none."""
        for section in self.sections:
            for item in section.items:
                if item.id == item_id:
                    return item
        raise KeyError(f"no item {item_id!r} in instrument {self.key}")

    def section_of(self, item_id: str) -> Section:
        """The section holding an item."""
        for section in self.sections:
            if any(item.id == item_id for item in section.items):
                return section
        raise KeyError(f"no item {item_id!r} in instrument {self.key}")

    def role_ids(self) -> list[str]:
        """The role groups, in questionnaire order (the report's column order)."""
        role = self.item("role")
        assert isinstance(role, SingleItem)
        return [o.id for o in role.options]

    def table(self, table_id: str) -> Table:
        """The report table with this id."""
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(f"no table {table_id!r} in instrument {self.key}")


AnyItem = LikertItem | RatingItem | SingleItem | MultiItem | GridItem | TextItem

_MEASURES_BY_TYPE: dict[str, set[str]] = {
    "likert": {"agree"},
    "rating": {"rating_high", "rating_low"},
    "single": {"distribution", "chosen"},
    "multi": {"chosen"},
    "grid": {"yes"},
    "text": set(),
}


def _check_row(instrument: Instrument, table: Table, row: TableRow) -> None:
    # The loader names the table and row (from LocatedError's path); say only what is wrong.
    try:
        item = instrument.item(row.item)
    except KeyError:
        raise ValueError(f"no item {row.item!r}") from None
    allowed = _MEASURES_BY_TYPE[item.type]
    if row.measure not in allowed:
        raise ValueError(
            f"measure {row.measure!r} does not apply to a {item.type} item "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
        )
    options = getattr(item, "options", None)
    needs_option = item.type in ("multi", "grid") or row.measure == "chosen"
    if needs_option and row.option is None:
        raise ValueError(f"item {row.item!r} needs an option")
    if row.option is not None and (options is None or row.option not in {o.id for o in options}):
        raise ValueError(f"item {row.item!r} has no option {row.option!r}")


def is_identifier(value: str) -> bool:
    """True when `value` may be used as an item or option id."""
    return re.fullmatch(ID_PATTERN, value) is not None
