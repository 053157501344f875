"""Which columns an exchange file has for an instrument, and what each may hold.

The layout is the interface for import files, exports and the synthetic cohort:

* `respondent_id, role, trust, mode, submitted`, then one column per item in questionnaire
  order (the `role` item is the fixed column of that name);
* Likert answers `strongly_agree | tend_to_agree | tend_to_disagree | strongly_disagree |
  dont_know`; ratings the integer; single choice the option id; multi-choice `;`-separated
  option ids in questionnaire order, or `none` when answered with nothing ticked;
* a yes/no grid is one column per row, named `item:option`, holding `yes | no | dont_know`;
* a blank cell is a question not answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sharedground.instrument import (
    GRID_VALUES,
    NONE_CHOSEN,
    GridItem,
    Instrument,
    Likert,
    LikertItem,
    MultiItem,
    RatingItem,
    SingleItem,
    TextItem,
)

FIXED_COLUMNS = ("respondent_id", "role", "trust", "mode", "submitted")
MODES = ("online", "postal", "paper")
GRID_SEPARATOR = ":"
MULTI_SEPARATOR = ";"

Kind = Literal["likert", "rating", "single", "multi", "grid", "text"]


@dataclass(frozen=True)
class Column:
    """One item column of an exchange file."""

    name: str
    item_id: str
    kind: Kind
    option_id: str | None = None
    #: The allowed values of a one-value cell (empty for multi-choice and text).
    allowed: tuple[str, ...] = ()
    #: Multi-choice: option ids in questionnaire order, and the most that may be chosen.
    options: tuple[str, ...] = ()
    max_choices: int | None = None
    max_length: int | None = None

    def describe_allowed(self) -> str:
        """What a cell may hold, in words for error messages."""
        if self.kind == "multi":
            limit = f", at most {self.max_choices}" if self.max_choices else ""
            return (
                f"option ids separated by ';'{limit} ({', '.join(self.options)}), "
                f"or '{NONE_CHOSEN}'"
            )
        if self.kind == "text":
            return f"text of at most {self.max_length} characters"
        return " | ".join(self.allowed)


def item_columns(instrument: Instrument) -> list[Column]:
    """The item columns of an instrument's exchange file, in order."""
    columns: list[Column] = []
    for item in instrument.items():
        if item.id == "role":
            continue
        if isinstance(item, LikertItem):
            columns.append(
                Column(item.id, item.id, "likert", allowed=tuple(v.value for v in Likert))
            )
        elif isinstance(item, RatingItem):
            values = tuple(str(v) for v in range(item.min, item.max + 1))
            columns.append(Column(item.id, item.id, "rating", allowed=values))
        elif isinstance(item, SingleItem):
            columns.append(
                Column(item.id, item.id, "single", allowed=tuple(o.id for o in item.options))
            )
        elif isinstance(item, MultiItem):
            columns.append(
                Column(
                    item.id,
                    item.id,
                    "multi",
                    options=tuple(o.id for o in item.options),
                    max_choices=item.max_choices,
                )
            )
        elif isinstance(item, GridItem):
            for option in item.options:
                columns.append(
                    Column(
                        f"{item.id}{GRID_SEPARATOR}{option.id}",
                        item.id,
                        "grid",
                        option_id=option.id,
                        allowed=tuple(GRID_VALUES),
                    )
                )
        elif isinstance(item, TextItem):
            columns.append(Column(item.id, item.id, "text", max_length=item.max_length))
    return columns


def all_column_names(instrument: Instrument) -> list[str]:
    """Every column of the exchange file, fixed columns first."""
    return [*FIXED_COLUMNS, *(c.name for c in item_columns(instrument))]
