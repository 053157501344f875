"""Hand-made waves for the analysis tests, and a plain-Python way to count them.

The answers are drawn with `random` from a fixed seed and written as an exchange CSV, so a
test can import them through the real importer and compare the analysis with counts made
here, one respondent at a time, from the CSV text (no Polars, no codes).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sharedground.exchange.columns import all_column_names, item_columns
from sharedground.instrument import Instrument, LikertItem

AGREE = {"strongly_agree", "tend_to_agree"}
DISAGREE = {"tend_to_disagree", "strongly_disagree"}


@dataclass
class HandMade:
    """A CSV of hand-made answers and its rows as dictionaries of cell text."""

    path: Path
    instrument: Instrument
    rows: list[dict[str, str]]


def make_rows(
    instrument: Instrument,
    n: int,
    seed: int,
    trusts: list[str] | None = None,
    roles: list[str] | None = None,
    blank: float = 0.08,
) -> list[dict[str, str]]:
    """`n` respondents answering at random, some questions skipped."""
    rng = random.Random(seed)
    trusts = trusts or ["RA1", "RB2", "RC3"]
    roles = roles or instrument.role_ids()
    rows = []
    for i in range(n):
        row = {
            "respondent_id": f"h{seed}-{i}",
            "role": rng.choice(roles),
            "trust": rng.choice(trusts),
            "mode": rng.choice(["online", "postal"]),
            "submitted": "2015-06-01",
        }
        for column in item_columns(instrument):
            if column.kind == "text" or rng.random() < blank:
                row[column.name] = ""
            elif column.kind == "multi":
                limit = column.max_choices or len(column.options)
                k = rng.randint(0, limit)
                chosen = set(rng.sample(column.options, k))
                row[column.name] = ";".join(o for o in column.options if o in chosen) or "none"
            else:
                row[column.name] = rng.choice(column.allowed)
        rows.append(row)
    return rows


def write_rows(path: Path, instrument: Instrument, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, all_column_names(instrument), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in all_column_names(instrument)})
    return path


def naive(
    instrument: Instrument, item: str, option: str | None, measure: str
) -> tuple[Callable[[dict[str, str]], bool], Callable[[dict[str, str]], bool]]:
    """(counted, valid) as predicates on one respondent's cell texts, from the issue's rules."""
    definition = instrument.item(item)
    if measure == "agree":
        reverse = isinstance(definition, LikertItem) and definition.reverse
        wanted = DISAGREE if reverse else AGREE
        return (lambda r: r[item] in wanted), (lambda r: r[item] in AGREE | DISAGREE)
    if measure == "rating_high":
        return (lambda r: r[item] in {"4", "5"}), (lambda r: r[item] != "")
    if measure == "rating_low":
        return (lambda r: r[item] in {"1", "2"}), (lambda r: r[item] != "")
    if measure == "yes":
        cell = f"{item}:{option}"
        return (lambda r: r[cell] == "yes"), (lambda r: r[cell] in {"yes", "no"})
    if definition.type == "multi":
        return (lambda r: option in r[item].split(";")), (lambda r: r[item] != "")
    return (lambda r: r[item] == option), (lambda r: r[item] != "")


def tally(
    rows: list[dict[str, str]],
    instrument: Instrument,
    item: str,
    option: str | None,
    measure: str,
    keep: Callable[[dict[str, str]], bool] = lambda r: True,
) -> tuple[int, int]:
    """(count, valid) over the rows `keep` accepts."""
    counted, valid = naive(instrument, item, option, measure)
    chosen = [r for r in rows if keep(r)]
    return sum(1 for r in chosen if counted(r)), sum(1 for r in chosen if valid(r))
