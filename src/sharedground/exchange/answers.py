"""Converting between exchange-file columns and the stored answers documents (JSON).

A stored document maps each answered column to its cell text, blank cells left out:
`{"local_rating": "4", "barriers": "time_doctors;lack_trust", "initiatives:paired_learning": "no"}`.
Both directions run inside Polars so a million responses convert in seconds.
"""

from __future__ import annotations

import polars as pl

# Blank cells are left out of the document. Inside a JSON string every quote is escaped, so
# `,"` and `{"` only ever start a member: a comment quoting `"x":null` cannot be matched.
_NULL_MEMBER = r',"[^"\\]*":null'
_LEADING_NULL_MEMBER = r'^\{"[^"\\]*":null,?'


def encode(frame: pl.DataFrame, names: list[str]) -> pl.Series:
    """One JSON document per row from the given string columns, blanks left out."""
    present = [n for n in names if n in frame.columns]
    if not present:
        return pl.Series("answers", ["{}"] * frame.height, dtype=pl.String)
    encoded = frame.select(
        pl.struct([pl.col(n).cast(pl.String) for n in present])
        .struct.json_encode()
        .str.replace_all(_NULL_MEMBER, "")
        .str.replace(_LEADING_NULL_MEMBER, "{")
        .alias("answers")
    )
    return encoded["answers"]


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
