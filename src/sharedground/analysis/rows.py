"""What each table row counts, and out of whom: the instrument's `tables:` block made exact.

Every row becomes two Polars expressions over the coded frame, `counted` and `valid`, so
that one grouped pass can count every row of every table at once. The denominator of a
row is always one of a few stated rules (`DENOMINATORS`), never chosen silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sharedground.exchange.columns import GRID_SEPARATOR
from sharedground.instrument import (
    GRID_VALUES,
    GridItem,
    Instrument,
    Likert,
    LikertItem,
    MultiItem,
    RatingItem,
    SingleItem,
    Table,
    TableRow,
)

#: The denominator rules, as the output explains them.
DENOMINATORS: dict[str, str] = {
    "valid_answers": (
        "respondents in the group who answered the question; those who skipped it or "
        "answered 'don't know / not applicable' are left out"
    ),
    "answered_question": (
        "everyone in the group who answered the question (ticking none of the options, or "
        "'none of these', counts as answering); those who skipped it are left out"
    ),
    "valid_yes_no": (
        "respondents in the group who answered yes or no for this row; those who skipped "
        "it or answered 'don't know' are left out"
    ),
    "all_respondents": "everyone in the group, whether or not they answered the question",
}

_LIKERT = [v.value for v in Likert]
_AGREE = [_LIKERT.index(Likert.STRONGLY_AGREE) + 1, _LIKERT.index(Likert.TEND_TO_AGREE) + 1]
_DISAGREE = [
    _LIKERT.index(Likert.TEND_TO_DISAGREE) + 1,
    _LIKERT.index(Likert.STRONGLY_DISAGREE) + 1,
]
_GRID = list(GRID_VALUES)


@dataclass(frozen=True)
class RowSpec:
    """One row of one table, ready to count."""

    table_id: str
    index: int
    item: str
    option: str | None
    measure: str
    label: str
    denominator_rule: str
    #: The coded column the row counts, and its rules as expressions over that column.
    column: str
    counted: pl.Expr
    valid: pl.Expr
    reverse: bool = False
    #: For grid rows: the report's second figure, the count over everyone in the group.
    all_respondents: bool = False

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """(table, item, option, measure): how rows are matched across waves."""
        return (self.table_id, self.item, self.option, self.measure)


def table_rows(instrument: Instrument, table: Table) -> list[RowSpec]:
    """The rows of one table; a distribution row becomes one row per option."""
    specs: list[RowSpec] = []
    for row in table.rows:
        specs.extend(_specs(instrument, table, row, start=len(specs)))
    return specs


def all_rows(instrument: Instrument) -> list[RowSpec]:
    """The rows of every table of the instrument, in order."""
    return [spec for table in instrument.tables for spec in table_rows(instrument, table)]


def _specs(instrument: Instrument, table: Table, row: TableRow, start: int) -> list[RowSpec]:
    item = instrument.item(row.item)
    col = pl.col(row.item)

    def spec(
        rule: str,
        counted: pl.Expr,
        valid: pl.Expr,
        *,
        column: str = row.item,
        option: str | None = row.option,
        label: str = row.label,
        offset: int = 0,
        reverse: bool = False,
        everyone: bool = False,
    ) -> RowSpec:
        return RowSpec(
            table_id=table.id,
            index=start + offset,
            item=row.item,
            option=option,
            measure=row.measure,
            label=label,
            denominator_rule=rule,
            column=column,
            counted=counted,
            valid=valid,
            reverse=reverse,
            all_respondents=everyone,
        )

    if isinstance(item, LikertItem):
        wanted = _DISAGREE if item.reverse else _AGREE
        label = item.reported_as if item.reverse and item.reported_as else row.label
        valid = col.is_in(_AGREE + _DISAGREE)
        return [spec("valid_answers", col.is_in(wanted), valid, label=label, reverse=item.reverse)]
    if isinstance(item, RatingItem):
        points = item.max - item.min + 1
        # Codes run 1..points (0 is blank); "high" and "low" are the top and bottom two
        # points (4-5 and 1-2 on the survey's five-point scales), as the report defines them.
        high = row.measure == "rating_high"
        counted = col >= points - 1 if high else col.is_between(1, 2)
        return [spec("valid_answers", counted, col > 0)]
    if isinstance(item, MultiItem):
        assert row.option is not None  # the instrument model insists on it
        bit = [o.id for o in item.options].index(row.option)
        return [spec("answered_question", (col & (1 << bit)) != 0, col.is_not_null())]
    if isinstance(item, GridItem):
        assert row.option is not None
        name = f"{row.item}{GRID_SEPARATOR}{row.option}"
        cell = pl.col(name)
        yes, no = _GRID.index("yes") + 1, _GRID.index("no") + 1
        return [
            spec("valid_yes_no", cell == yes, cell.is_in([yes, no]), column=name, everyone=True)
        ]
    if isinstance(item, SingleItem):
        distribution = row.measure == "distribution"
        positions = {o.id: i + 1 for i, o in enumerate(item.options)}
        options = [o for o in item.options if distribution or o.id == row.option]
        return [
            spec(
                "answered_question",
                col == positions[option.id],
                col > 0,
                option=option.id,
                label=option.label if distribution else row.label,
                offset=i,
            )
            for i, option in enumerate(options)
        ]
    raise ValueError(f"table {table.id}: item {row.item!r} ({item.type}) cannot be tabulated")
