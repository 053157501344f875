"""Converting between exchange-file columns and the stored answers documents (JSON).

A stored document maps each answered column to its cell text, blank cells left out:
`{"local_rating": "4", "barriers": "time_doctors;lack_trust", "initiatives:paired_learning": "no"}`.
Both directions run inside Polars so a million responses convert in seconds.
"""

from __future__ import annotations

import polars as pl


def encode(
    frame: pl.DataFrame, names: list[str], verbatim: frozenset[str] | set[str] = frozenset()
) -> pl.Series:
    """One JSON document per row from the given string columns, blanks left out.

    Members are written in the order of `names`, without spaces (`{"a":"1","b":"x"}`).
    Columns in `verbatim` are known to hold nothing JSON must escape (option ids, numbers,
    `;`), so their cells are copied as they are; every other cell is escaped by Polars'
    JSON encoder. Building the documents with string concatenation instead of encoding a
    struct and deleting its null members keeps a million rows to seconds and to memory
    the size of the result.
    """
    members = [
        pl.lit(f'"{name}":') + _json_string(name, name in verbatim)
        for name in names
        if name in frame.columns
    ]
    if not members:
        return pl.Series("answers", ["{}"] * frame.height, dtype=pl.String)
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return frame.select(
        pl.concat_str([pl.lit("{"), body.fill_null(""), pl.lit("}")]).alias("answers")
    )["answers"]


def _json_string(name: str, verbatim: bool) -> pl.Expr:
    """The cell as a JSON string literal (null stays null, so the member is left out)."""
    cell = pl.col(name).cast(pl.String)
    if verbatim:
        return pl.format('"{}"', cell)  # null stays null
    # A one-field struct encodes as {"k":"escaped"}; keep the value after `{"k":`.
    encoded = pl.struct(cell.alias("k")).struct.json_encode()
    return pl.when(cell.is_null()).then(None).otherwise(encoded.str.slice(5).str.head(-1))


def decode(documents: pl.Series, names: list[str]) -> pl.DataFrame:
    """The columns `names` (strings, null = blank) from a series of JSON documents."""
    dtype = pl.Struct({n: pl.String for n in names})
    if documents.len() == 0:
        return pl.DataFrame(schema={n: pl.String for n in names})
    return (
        documents.str.json_decode(dtype).struct.unnest()
        if names
        else pl.DataFrame({"_": documents}).drop("_")
    )
