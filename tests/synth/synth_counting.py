"""Counting published table rows straight from a cohort frame, independently of `synth`.

Deliberately simple: string tests on the exchange cells, the reverse-scoring flag taken from the
reference row (not from the instrument or the synth plan).
"""

from __future__ import annotations

from typing import Any

import polars as pl

AGREE = ["strongly_agree", "tend_to_agree"]
DISAGREE = ["tend_to_disagree", "strongly_disagree"]
SUBSTANTIVE = AGREE + DISAGREE


def row_figures(frame: pl.DataFrame, table_id: str, row: dict[str, Any]) -> pl.DataFrame:
    """Per role: the count meeting the row's criterion and the number of valid answers."""
    item, option = row["item"], row.get("option")
    if table_id == "table_2.11":
        cell = pl.col(f"initiatives:{option}")
        counted, valid = cell == "yes", cell.is_in(["yes", "no"])
    elif option is not None:  # pick up to three: the whole group is the denominator
        counted = pl.col(item).str.split(";").list.contains(option)
        valid = pl.col(item).is_not_null()
    elif item == "local_rating":
        high = row["label"].lower().startswith("positive")
        counted = pl.col(item).is_in(["4", "5"] if high else ["1", "2"])
        valid = pl.col(item).is_not_null()
    elif item == "nurture_satisfaction":
        counted, valid = pl.col(item).is_in(["1", "2"]), pl.col(item).is_not_null()
    else:
        wanted = DISAGREE if row.get("reverse_worded") else AGREE
        counted, valid = pl.col(item).is_in(wanted), pl.col(item).is_in(SUBSTANTIVE)
    return frame.group_by("role").agg(
        count=counted.fill_null(False).sum(), valid=valid.fill_null(False).sum()
    )


def figures_by_role(
    frame: pl.DataFrame, table_id: str, row: dict[str, Any]
) -> dict[str, tuple[int, int]]:
    """``{role: (count, valid)}`` for one published row."""
    out = row_figures(frame, table_id, row)
    return {r["role"]: (int(r["count"]), int(r["valid"])) for r in out.iter_rows(named=True)}
