"""SPSS (.sav) and Stata (.dta) exports: numeric codes with variable and value labels.

The exchange CSV keeps answers as option ids; statisticians want numbers with labels.
The coding, one variable per exchange column unless said otherwise:

* Likert: 1 strongly agree, 2 tend to agree, 3 tend to disagree, 4 strongly disagree, and
  "don't know / not applicable" as a *missing* code, because the published tables leave it
  out of every denominator: 9 declared user-missing in SPSS, the extended missing `.a` in
  Stata. `tab` and `FREQUENCIES` then give the report's valid percentages by default and
  still show how many said "don't know" when asked (`tab x, missing`).
* Ratings: the number itself, with the end points labelled (1 "Poor" ... 5 "Excellent").
* Single choice (including `role`): 1..k in questionnaire order, labelled with the options.
* Yes/no grids: 1 yes, 2 no, 9 don't know; here 9 is a valid code in both formats, because
  "don't know whether this initiative exists" is an answer the report keeps in its base.
* Multi-choice: one 0/1 variable per option (`barriers_time_doctors`) plus `barriers_none`
  for "answered with nothing ticked"; all of them missing when the question was skipped.
* Text: string variables (blank when skipped; Stata has no other missing string). SPSS
  pads strings with spaces, so trailing spaces typed at the end of a comment are lost
  in .sav (and a comment of spaces only reads as blank).
* Fixed columns: `respondent_id` and `trust` as strings, `role` and `mode` coded with labels,
  `submitted` as a date.

A blank cell (a skipped question) is system-missing (`.`) in both formats.

Variable names come from the exchange column (`initiatives:paired_learning` becomes
`initiatives_paired_learning`). Names longer than the format allows (64 characters in SPSS,
32 in Stata) are cut and given a 4-character hash of the full name, so the same instrument
always gives the same names; a name that would clash gets `_2`, `_3`. Whenever the
variable name is not the exchange column name, the label starts with that column name
(`factors_positive:regulator_role_changes: Changes in the role of ...`), so nothing is lost
by shortening. Labels are cut at a word boundary with "…" to fit the format (80 characters
for Stata variable labels; 256 characters and 120 bytes for SPSS variable and value labels).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl
import pyreadstat

from sharedground.exchange.columns import GRID_SEPARATOR, MODES, MULTI_SEPARATOR, item_columns
from sharedground.instrument import (
    GRID_VALUES,
    LIKERT_LABELS,
    NONE_CHOSEN,
    GridItem,
    Instrument,
    Likert,
    MultiItem,
    RatingItem,
    SingleItem,
)

LabelledFormat = Literal["sav", "dta"]

LIKERT_CODES: dict[str, int] = {
    Likert.STRONGLY_AGREE: 1,
    Likert.TEND_TO_AGREE: 2,
    Likert.TEND_TO_DISAGREE: 3,
    Likert.STRONGLY_DISAGREE: 4,
    Likert.DONT_KNOW: 9,
}
GRID_CODES: dict[str, int] = {"yes": 1, "no": 2, "dont_know": 9}
MODE_CODES: dict[str, int] = {mode: i for i, mode in enumerate(MODES, start=1)}
MODE_LABELS: dict[str, str] = {"online": "Online", "postal": "Postal", "paper": "Paper entry"}
CHOSEN_LABELS: dict[int, str] = {0: "Not chosen", 1: "Chosen"}
#: The Likert "don't know" code, and the Stata extended missing value that stands for it.
DONT_KNOW_CODE = 9
STATA_DONT_KNOW = "a"

NAME_LIMIT: dict[LabelledFormat, int] = {"sav": 64, "dta": 32}
#: pyreadstat names a Stata value-label set after its variable plus a running number
#: (`role0`, ..., `barriers_none117`), and that name must fit in 32 characters too: labelled
#: Stata variables keep 3 characters for it (up to 999 labelled variables).
STATA_LABEL_SET_DIGITS = 3
LABEL_LIMIT: dict[LabelledFormat, int] = {"sav": 256, "dta": 80}
#: SPSS stores value labels in at most 120 bytes (UTF-8); Stata allows far more.
SAV_VALUE_LABEL_BYTES = 120

# Words the formats reserve; a variable may not be called any of them.
_RESERVED: dict[LabelledFormat, frozenset[str]] = {
    "sav": frozenset(
        ["all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"]
    ),
    "dta": frozenset(
        [
            "_all",
            "_b",
            "byte",
            "_coef",
            "_cons",
            "double",
            "float",
            "if",
            "in",
            "int",
            "long",
            "_n",
            "_pi",
            "_pred",
            "_rc",
            "_se",
            "_skip",
            "strl",
            "using",
            "with",
        ]
    ),
}

Kind = Literal["numeric", "string", "date"]
Measure = Literal["nominal", "ordinal", "scale"]


@dataclass
class Variable:
    """One variable of a labelled export and where its values come from."""

    name: str
    #: The exchange column, or `item:option` for a multi-choice option's 0/1 variable.
    source: str
    label: str
    kind: Kind
    #: Turns the exchange frame's column(s) into this variable's values.
    expr: pl.Expr
    value_labels: dict[int, str] = field(default_factory=dict)
    measure: Measure = "nominal"
    #: True when code 9 means "don't know" and is to be treated as missing.
    dont_know_missing: bool = False
    #: SPSS display format, when not the one the value labels imply.
    sav_format: str | None = None


def variables(instrument: Instrument, fmt: LabelledFormat) -> list[Variable]:
    """The variables of a .sav or .dta export, in file order (a codebook of the export)."""
    specs = _specs(instrument)
    # Exchange columns claim their names first, so that `barriers_other` (a text item) keeps
    # its name and the `other` option of `barriers` is the one renamed.
    order = sorted(range(len(specs)), key=lambda i: (specs[i].derived, i))
    taken: set[str] = set()
    names: dict[int, str] = {}
    for i in order:
        limit = NAME_LIMIT[fmt]
        if fmt == "dta" and specs[i].value_labels:
            limit -= STATA_LABEL_SET_DIGITS
        names[i] = _unique_name(specs[i].source, limit, fmt, taken)
        taken.add(names[i].lower())
    result = []
    for i, spec in enumerate(specs):
        name = names[i]
        label = spec.wording if name == spec.source else f"{spec.source}: {spec.wording}"
        result.append(
            Variable(
                name=name,
                source=spec.source,
                label=_fit_label(label, fmt),
                kind=spec.kind,
                expr=spec.expr.alias(name),
                value_labels={
                    code: _fit_value_label(text, fmt) for code, text in spec.value_labels.items()
                },
                measure=spec.measure,
                dont_know_missing=spec.dont_know_missing,
            )
        )
    return result


def write_labelled(
    frame: pl.DataFrame,
    instrument: Instrument,
    fmt: LabelledFormat,
    out: str | Path,
    weight_label: str | None = None,
) -> None:
    """Write the exchange frame (strings, null = blank) as an SPSS or Stata file.

    With `weight_label`, the frame's `weight` column becomes a last numeric variable so
    labelled (for SPSS's WEIGHT BY or Stata's [pweight=weight]).
    """
    spec = variables(instrument, fmt)
    if weight_label is not None:
        if any(v.name.lower() == "weight" for v in spec):
            raise ValueError("the questionnaire already has a variable named 'weight'")
        spec.append(
            Variable(
                name="weight",
                source="weight",
                label=_fit_label(weight_label, fmt),
                kind="numeric",
                expr=pl.col("weight").cast(pl.Float64).alias("weight"),
                measure="scale",
                sav_format="F12.6",
            )
        )
    coded = frame.select(v.expr for v in spec)
    data = pd.DataFrame(
        {v.name: _column(coded[v.name], v, fmt) for v in spec}, index=pd.RangeIndex(coded.height)
    )
    labels: dict[str, str | None] = {v.name: v.label for v in spec}
    value_labels: dict[str, dict[Any, str]] = {
        v.name: dict(v.value_labels) for v in spec if v.value_labels
    }
    file_label = _fit_label(f"{instrument.title} ({instrument.key})", fmt)
    if fmt == "sav":
        pyreadstat.write_sav(
            data,
            Path(out),
            file_label=file_label,
            column_labels=labels,
            variable_value_labels=value_labels,
            missing_ranges={v.name: [DONT_KNOW_CODE] for v in spec if v.dont_know_missing},
            variable_measure={v.name: v.measure for v in spec if v.kind != "string"},
            variable_format={v.name: _sav_format(v) for v in spec if v.kind == "numeric"},
        )
    else:
        if sum(1 for v in spec if v.value_labels) >= 10**STATA_LABEL_SET_DIGITS:
            raise ValueError("too many labelled variables for a Stata file written by pyreadstat")
        for v in spec:
            if v.dont_know_missing:
                value_labels[v.name].pop(DONT_KNOW_CODE, None)
                value_labels[v.name][STATA_DONT_KNOW] = LIKERT_LABELS[Likert.DONT_KNOW]
        pyreadstat.write_dta(
            data,
            Path(out),
            file_label=file_label,
            column_labels=labels,
            variable_value_labels=value_labels,
            missing_user_values={v.name: [STATA_DONT_KNOW] for v in spec if v.dont_know_missing},
        )


# -- what each item becomes ------------------------------------------------------------------


@dataclass
class _Spec:
    source: str
    wording: str
    kind: Kind
    expr: pl.Expr
    value_labels: dict[int, str] = field(default_factory=dict)
    measure: Measure = "nominal"
    dont_know_missing: bool = False
    #: Made from part of a column (a multi-choice option), so it yields its name on a clash.
    derived: bool = False


def _coded(column: str, codes: dict[str, int]) -> pl.Expr:
    return pl.col(column).replace_strict(codes, default=None, return_dtype=pl.Float64)


def _specs(instrument: Instrument) -> list[_Spec]:
    role = instrument.item("role")
    assert isinstance(role, SingleItem)
    specs = [
        _Spec("respondent_id", "Respondent id", "string", pl.col("respondent_id")),
        _single_spec("role", role),
        _Spec("trust", "Organisation (trust) code", "string", pl.col("trust")),
        _Spec(
            "mode",
            "How the questionnaire was completed",
            "numeric",
            _coded("mode", MODE_CODES),
            {code: MODE_LABELS[mode] for mode, code in MODE_CODES.items()},
        ),
        _Spec(
            "submitted",
            "Date the questionnaire was submitted",
            "date",
            pl.col("submitted").str.to_date("%Y-%m-%d"),
            measure="scale",
        ),
    ]
    for column in item_columns(instrument):
        item = instrument.item(column.item_id)
        if column.kind == "likert":
            likert_labels = {LIKERT_CODES[k]: v for k, v in LIKERT_LABELS.items()}
            specs.append(
                _Spec(
                    column.name,
                    item.text,
                    "numeric",
                    _coded(column.name, LIKERT_CODES),
                    likert_labels,
                    "ordinal",
                    dont_know_missing=True,
                )
            )
        elif column.kind == "rating":
            assert isinstance(item, RatingItem)
            specs.append(
                _Spec(
                    column.name,
                    item.text,
                    "numeric",
                    pl.col(column.name).cast(pl.Float64),
                    {item.min: item.low_label, item.max: item.high_label},
                    "ordinal",
                )
            )
        elif column.kind == "single":
            assert isinstance(item, SingleItem)
            specs.append(_single_spec(column.name, item))
        elif column.kind == "grid":
            assert isinstance(item, GridItem) and column.option_id is not None
            option = next(o for o in item.options if o.id == column.option_id)
            specs.append(
                _Spec(
                    column.name,
                    option.label,
                    "numeric",
                    _coded(column.name, GRID_CODES),
                    {code: GRID_VALUES[value] for value, code in GRID_CODES.items()},
                )
            )
        elif column.kind == "multi":
            assert isinstance(item, MultiItem)
            specs += _multi_specs(column.name, item)
        else:
            specs.append(_Spec(column.name, item.text, "string", pl.col(column.name)))
    return specs


def _single_spec(column: str, item: SingleItem) -> _Spec:
    codes = {option.id: i for i, option in enumerate(item.options, start=1)}
    return _Spec(
        column,
        item.text,
        "numeric",
        _coded(column, codes),
        {i: option.label for i, option in enumerate(item.options, start=1)},
    )


def _multi_specs(column: str, item: MultiItem) -> list[_Spec]:
    chosen = pl.col(column).str.split(MULTI_SEPARATOR)

    def flag(test: pl.Expr) -> pl.Expr:
        return pl.when(pl.col(column).is_null()).then(None).otherwise(test.cast(pl.Float64))

    specs = [
        _Spec(
            f"{column}{GRID_SEPARATOR}{option.id}",
            option.label,
            "numeric",
            flag(chosen.list.contains(option.id)),
            dict(CHOSEN_LABELS),
            derived=True,
        )
        for option in item.options
    ]
    specs.append(
        _Spec(
            f"{column}{GRID_SEPARATOR}{NONE_CHOSEN}",
            item.none_label or "None of these",
            "numeric",
            flag(pl.col(column) == NONE_CHOSEN),
            dict(CHOSEN_LABELS),
            derived=True,
        )
    )
    return specs


# -- names and labels ------------------------------------------------------------------------


def _unique_name(source: str, limit: int, fmt: LabelledFormat, taken: set[str]) -> str:
    """A valid, deterministic variable name of at most `limit` characters, not in `taken`."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", source)
    if not base[:1].isalpha():
        base = f"v_{base}"
    if base.lower() in _RESERVED[fmt]:
        base = f"{base}_"
    if len(base) > limit:
        digest = hashlib.sha1(source.encode()).hexdigest()[:4]
        base = f"{base[: limit - 5].rstrip('_')}_{digest}"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f"_{n}"
        name = f"{base[: limit - len(suffix)]}{suffix}"
    return name


def _cut(text: str, fits: Callable[[str], bool]) -> str:
    """`text`, or its longest word-boundary prefix plus "…" that fits."""
    if fits(text):
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words).rstrip(" ,;:-–(") + "…"
        if fits(candidate):
            return candidate
    # One long word: cut characters.
    candidate = text
    while candidate and not fits(candidate + "…"):
        candidate = candidate[:-1]
    return candidate + "…"


def _fit_label(text: str, fmt: LabelledFormat) -> str:
    limit = LABEL_LIMIT[fmt]
    return _cut(" ".join(text.split()), lambda s: len(s) <= limit)


def _fit_value_label(text: str, fmt: LabelledFormat) -> str:
    if fmt == "dta":
        return text
    return _cut(text, lambda s: len(s.encode("utf-8")) <= SAV_VALUE_LABEL_BYTES)


def _sav_format(variable: Variable) -> str:
    if variable.sav_format is not None:
        return variable.sav_format
    return "F1.0" if all(0 <= c <= 9 for c in variable.value_labels) else "F8.0"


# -- columns for pyreadstat ------------------------------------------------------------------


def _column(series: pl.Series, variable: Variable, fmt: LabelledFormat) -> Iterable[Any]:
    if variable.kind == "numeric":
        values: np.ndarray[Any, Any] = series.cast(pl.Float64).to_numpy()
        if fmt == "dta" and variable.dont_know_missing:
            # Stata's extended missing `.a` is passed to pyreadstat as the letter itself.
            mixed = values.astype(object)
            mixed[values == DONT_KNOW_CODE] = STATA_DONT_KNOW
            return mixed
        return values
    if variable.kind == "date":
        dates: list[dt.date | None] = series.to_list()
        return np.array(dates, dtype=object)
    strings: list[str | None] = series.to_list()
    if fmt == "dta":
        # Stata has no missing string but "", and pyreadstat cannot write a missing value
        # into a long (strL) string column.
        strings = ["" if s is None else s for s in strings]
    return np.array(strings, dtype=object)
