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

from sharedground.analysis.source import WaveData
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


def attack(shown: list[int | None], overall: int | None, threshold: int) -> str | None:
    """What subtraction reveals about the withheld cells of one row (None: nothing)."""
    hidden = [i for i, v in enumerate(shown) if v is None]
    if overall is None or not hidden:
        return None
    remainder = overall - sum(v for v in shown if v is not None)
    if len(hidden) == 1:
        return f"group {hidden[0]} is exactly {remainder}"
    if remainder < threshold:
        return f"groups {hidden} together hold only {remainder}"
    return None


def exact_r_by_2(table: list[tuple[int, int]]) -> float:
    """Fisher-Freeman-Halton p-value of an r x 2 table by enumerating every table.

    With the row totals and the first column's total fixed, a table's probability is the
    product of C(n_i, a_i) over C(N, A); the p-value adds up every table no more probable
    than the one observed. Independent of `sharedground.stats`; only for small tables.
    """
    from math import comb

    rows = [a + b for a, b in table]
    first = sum(a for a, _ in table)
    total = sum(rows)
    denominator = comb(total, first)

    def probability(cells: list[int]) -> float:
        product = 1
        for a, n in zip(cells, rows, strict=True):
            product *= comb(n, a)
        return product / denominator

    observed = probability([a for a, _ in table])
    p_value = 0.0

    def walk(i: int, left: int, cells: list[int]) -> None:
        nonlocal p_value
        if i == len(rows) - 1:
            if 0 <= left <= rows[i]:
                p = probability([*cells, left])
                if p <= observed * (1 + 1e-7):
                    p_value += p
            return
        for a in range(0, min(rows[i], left) + 1):
            walk(i + 1, left - a, [*cells, a])

    walk(0, first, [])
    return min(1.0, p_value)


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = running
    return adjusted


def holm(p_values: list[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def wave_from_rows(
    instrument: Instrument, rows: list[dict[str, str]], name: str = "w", threshold: int = 5
) -> WaveData:
    """A wave straight from hand-made rows (no database), for tests of the computation."""
    import polars as pl

    from sharedground.analysis.encoding import encode

    columns = all_column_names(instrument)
    frame = pl.DataFrame(
        {c: [r.get(c) or None for r in rows] for c in columns},
        schema={c: pl.String for c in columns},
    )
    return WaveData(name, instrument, threshold, encode(frame, instrument), "uncached")


Z95 = 1.959963984540054


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson score interval for x/n (95%)."""
    p = x / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * ((p * (1 - p) / n + Z95**2 / (4 * n * n)) ** 0.5) / (1 + Z95**2 / n)
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """x1/n1 - x2/n2 in points with Newcombe's hybrid score interval (his method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    low = d - ((p1 - l1) ** 2 + (u2 - p2) ** 2) ** 0.5
    high = d + ((u1 - p1) ** 2 + (p2 - l2) ** 2) ** 0.5
    return 100 * d, 100 * low, 100 * high


def where(column: str, value: str, equal: bool = True) -> Callable[[dict[str, str]], bool]:
    """A filter on respondents: `column` equal (or not equal) to `value`."""
    if equal:
        return lambda row: row[column] == value
    return lambda row: row[column] != value
