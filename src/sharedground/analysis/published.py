"""The published waves (2015 and 2002) as reference figures a trend can be measured against.

Both come from `sharedground.reference.published_2015()` (Powell & Davies 2016, which
also prints the 2002 figures of Davies, Hodges & Rundall 2003):

* 2015: the published count per group, out of the denominator inferred from the rounding
  (`inferred_valid_n`); overall, the sum of the groups. Counts are exact; denominators
  are inferred, so the percentages match the report to the printed precision.
* 2002: only percentages were printed. Where the 2003 paper gives the exact fraction (a
  handful of cells, `EXACT_2002`), it is used; otherwise the denominator is the 2002 group
  size (103 / 168 / 376 / 445, 1,092 overall) and the count is rebuilt from the rounded
  percentage. Those cells are marked approximate: their p-values and intervals are too.

Rows are matched on (table, item, option) and, where one item has several rows in a table
(positive and negative ratings), on their order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sharedground.analysis.results import half_up
from sharedground.reference import ROLES, group_sizes, published_2015

PUBLISHED = ("2002", "2015")
OVERALL = "overall"

#: 2002 cells whose exact fraction is known (the reference file's `y2002_sample.note`,
#: from Davies et al. 2003): (table, item, occurrence) -> group -> (count, valid).
EXACT_2002: dict[tuple[str, str, int], dict[str, tuple[int, int]]] = {
    ("table_2.1", "local_rating", 0): {
        "chief_executive": (78, 103),
        "clinical_director": (164, 443),
    },
    ("table_2.1", "outlook_improve", 0): {
        "chief_executive": (80, 102),
        "clinical_director": (123, 439),
    },
    ("table_2.1", "outlook_deteriorate", 0): {"clinical_director": (113, 439)},
}


@dataclass(frozen=True)
class Figure:
    """A reference cell: count out of valid, and whether the count was rebuilt."""

    count: int
    valid: int
    pct: float
    approximate: bool
    basis: str


RowKey = tuple[str, str, str | None, int]


def reference(year: str) -> dict[RowKey, dict[str, Figure]]:
    """Figures of a published wave by (table, item, option, occurrence) and group."""
    if year == "2015":
        return _figures_2015()
    if year == "2002":
        return _figures_2002()
    raise ValueError(f"no published wave {year!r} (known: {', '.join(PUBLISHED)})")


def source(year: str) -> str:
    study = published_2015()["study"]
    if year == "2002":
        return str(study["y2002_sample"]["source"])
    return str(study["source"])


def _rows() -> list[tuple[RowKey, dict[str, Any]]]:
    keyed: list[tuple[RowKey, dict[str, Any]]] = []
    for table in published_2015()["tables"]:
        if not isinstance(table["rows"], list):
            continue  # tables 1.1 and 1.2: percentages only, no trend
        seen: dict[tuple[str, str | None], int] = {}
        for row in table["rows"]:
            pair = (row["item"], row.get("option"))
            occurrence = seen.get(pair, 0)
            seen[pair] = occurrence + 1
            keyed.append(((table["id"], row["item"], row.get("option"), occurrence), row))
    return keyed


def _figures_2015() -> dict[RowKey, dict[str, Figure]]:
    basis = "published count; denominator inferred from the printed rounding"
    out: dict[RowKey, dict[str, Figure]] = {}
    for key, row in _rows():
        cells: dict[str, Figure] = {}
        for role in ROLES:
            count = int(row["groups"][role]["count"])
            valid = int(row["inferred_valid_n"][role])
            cells[role] = Figure(count, valid, 100.0 * count / valid, False, basis)
        count = sum(c.count for c in cells.values())
        valid = sum(c.valid for c in cells.values())
        cells[OVERALL] = Figure(count, valid, 100.0 * count / valid, False, basis)
        out[key] = cells
    return out


def _figures_2002() -> dict[RowKey, dict[str, Figure]]:
    sizes = group_sizes(2002)
    sizes[OVERALL] = sum(sizes.values())
    out: dict[RowKey, dict[str, Figure]] = {}
    for key, row in _rows():
        printed = row.get("y2002")
        if not printed:
            continue
        percentages, basis = _percentages_2002(printed)
        exact = EXACT_2002.get((key[0], key[1], key[3]), {})
        cells: dict[str, Figure] = {}
        for group, pct in percentages.items():
            if group in exact:
                count, valid = exact[group]
                if half_up(100.0 * count / valid) != half_up(pct):
                    raise ValueError(f"2002 {key}: {count}/{valid} does not print as {pct}%")
                cells[group] = Figure(
                    count, valid, 100.0 * count / valid, False, "exact 2002 fraction"
                )
                continue
            valid = sizes[group]
            count = half_up(pct * valid / 100.0)
            note = f"count rebuilt from the printed {pct:g}% of all {valid} in the group{basis}"
            cells[group] = Figure(count, valid, 100.0 * count / valid, True, note)
        out[key] = cells
    return out


def _percentages_2002(printed: dict[str, Any]) -> tuple[dict[str, float], str]:
    """Group -> percentage as the table counts it, and a note on any conversion."""
    plain = {g: float(v) for g, v in printed.items() if g in (*ROLES, OVERALL)}
    if plain:
        return plain, ""
    # A reverse-scored row whose 2002 share is printed for the statement as asked: the
    # row counts the others among valid answers, so the share is its complement.
    suffix = "_agree_with_original_wording"
    flipped = {
        g.removesuffix(suffix): 100.0 - float(v)
        for g, v in printed.items()
        if g.endswith(suffix) and g.removesuffix(suffix) in (*ROLES, OVERALL)
    }
    return flipped, " (100% minus the printed share agreeing with the statement as asked)"
