"""Exporting a wave's responses: the exchange CSV, Excel and Parquet.

SPSS and Stata files, which need variable and value labels, are written by
`sharedground.exchange.labelled`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from sqlalchemy import text

from sharedground.exchange import answers
from sharedground.exchange.columns import item_columns
from sharedground.exchange.csvfile import canonical_frame, free_text_columns, write_csv
from sharedground.exchange.formats import FORMATS, Format
from sharedground.exchange.formulas import neutralise_frame
from sharedground.instrument import Instrument
from sharedground.store import Store

__all__ = ["FORMATS", "WEIGHT_COLUMN", "Format", "export_wave", "wave_frame"]

#: The column (variable) the weights travel in when an export is weighted.
WEIGHT_COLUMN = "weight"


def wave_frame(store: Store, wave_name: str) -> tuple[Instrument, pl.DataFrame]:
    """A wave's responses in the exchange layout, in the order they were stored."""
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        instrument = store.instrument_of(wave)
        wave_id = wave.id
    answers_sql = "r.answers::text" if store.backend == "postgresql" else "r.answers"
    query = text(
        f"SELECT r.respondent_key, r.role, o.code, r.mode, r.submitted_on, {answers_sql} "
        "FROM response r LEFT JOIN organisation o ON o.id = r.organisation_id "
        "WHERE r.wave_id = :wave ORDER BY r.id"
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query, {"wave": wave_id}).all()
    schema = {
        "respondent_id": pl.String,
        "role": pl.String,
        "trust": pl.String,
        "mode": pl.String,
        "submitted": pl.String,
        "answers": pl.String,
    }
    fixed = pl.DataFrame(
        [(k, r, o, m, str(d) if d is not None else None, a) for k, r, o, m, d, a in rows],
        schema=schema,
        orient="row",
    )
    names = [c.name for c in item_columns(instrument)]
    decoded = answers.decode(fixed["answers"], names)
    frame = pl.concat([fixed.drop("answers"), decoded], how="horizontal")
    return instrument, canonical_frame(frame, instrument)


def export_wave(
    store: Store,
    wave_name: str,
    fmt: Format,
    out: str | Path,
    weights: Sequence[float] | None = None,
    weight_label: str = "Weight",
) -> int:
    """Write a wave in one of FORMATS; returns the number of responses written.

    With `weights` (one per response, in stored order), a last column `weight` carries
    them; in SPSS and Stata files it is a numeric variable labelled `weight_label`.
    """
    instrument, frame = wave_frame(store, wave_name)
    out = Path(out)
    if weights is not None:
        if len(weights) != frame.height:
            raise ValueError(
                f"{len(weights)} weights for {frame.height} responses of wave {wave_name!r}"
            )
        if WEIGHT_COLUMN in frame.columns:
            raise ValueError(f"the wave already has a column named {WEIGHT_COLUMN!r}")
        column = pl.Series(WEIGHT_COLUMN, list(weights), dtype=pl.Float64)
        frame = frame.with_columns(column)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        if weights is None:
            write_csv(frame, instrument, out)
        else:
            # The free text neutralised as `write_csv` does (a weighted export is a CSV the
            # system writes too): a comment beginning "=" must not become a formula.
            safe = neutralise_frame(
                canonical_frame(frame, instrument), free_text_columns(instrument)
            )
            safe.with_columns(frame[WEIGHT_COLUMN]).write_csv(
                out, line_terminator="\n", null_value="", quote_style="necessary"
            )
    elif fmt == "parquet":
        frame.write_parquet(out)
    elif fmt == "xlsx":
        frame.write_excel(out, worksheet="responses", autofit=frame.height < 10_000)
    elif fmt in ("sav", "dta"):
        from sharedground.exchange.labelled import write_labelled

        write_labelled(frame, instrument, fmt, out, weight_label if weights is not None else None)
    else:  # pragma: no cover - guarded by the CLI's choices
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return frame.height
