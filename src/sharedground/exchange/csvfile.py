"""Writing exchange files in their one canonical form.

One writer for exports and the synthetic cohort, so that `synth -> import -> export` and
`export -> import -> export` give byte-identical files: UTF-8 without BOM, `\\n` line endings,
quotes only where needed, blank for a question not answered, columns in instrument order.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sharedground.exchange.columns import all_column_names, item_columns
from sharedground.exchange.formulas import neutralise_frame
from sharedground.instrument import Instrument


def canonical_frame(frame: pl.DataFrame, instrument: Instrument) -> pl.DataFrame:
    """The frame with every exchange column, as strings, in order; empty strings as null."""
    names = all_column_names(instrument)
    missing = [n for n in names if n not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
    return frame.select(
        pl.when(pl.col(n).cast(pl.String) == "")
        .then(None)
        .otherwise(pl.col(n).cast(pl.String))
        .alias(n)
        for n in names
    )


def free_text_columns(instrument: Instrument) -> list[str]:
    """The columns whose cells may begin with a formula's first character.

    Every other column holds validated values that cannot: option, role and Likert ids
    begin with a lowercase letter (`instrument.model.ID_PATTERN`), dates and positive
    ratings with a digit, and a negative rating is a plain number, which is written as it
    is anyway (tests/exchange/test_exchange_formulas.py checks this for the instruments).
    """
    text = [c.name for c in item_columns(instrument) if c.kind == "text"]
    return ["respondent_id", "trust", *text]


def write_csv(frame: pl.DataFrame, instrument: Instrument, path: str | Path) -> None:
    """Write an exchange file in canonical form."""
    neutralise_frame(canonical_frame(frame, instrument), free_text_columns(instrument)).write_csv(
        Path(path), line_terminator="\n", null_value="", quote_style="necessary"
    )
