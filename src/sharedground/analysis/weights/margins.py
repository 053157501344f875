"""The cells to weight to: role, trust, or their cross, with thin cells collapsed (and said).

A cell with fewer than `min_cell` respondents makes weights that swing on one person, so
such cells are pooled before weighting:

* on a one-variable margin (role, trust), the thin cells are pooled into one cell; if that
  cell is still thin it joins the smallest of the others;
* on the cross (role x trust), a role's thin trusts are pooled into "role x other trusts";
  if that is still thin it joins the role's smallest other cell.

Every pooling is written into the margin's notes, for the report's methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from sharedground.analysis.weights.raking import Floats, Ints, Margin, WeightingError

#: Population counts: (role, trust) -> count; trust None for counts by role only.
Population = Mapping[tuple[str, str | None], float]


def respondents_cells(
    name: str, values: pl.Series, population: Mapping[str, float]
) -> tuple[Ints, list[str], Floats]:
    """Each respondent's cell index in the population's cells, refusing unknown values."""
    labels = sorted(population)
    # Through an Enum of the population's labels: its physical codes are the cells'
    # indices (unknown values and blanks become null), cheaper than replacing strings.
    codes = (
        values.cast(pl.String)
        .cast(pl.Enum(labels), strict=False)
        .to_physical()
        .cast(pl.Int64)
        .fill_null(-1)
        .to_numpy()
    )
    if (codes < 0).any():
        unknown = values.filter(pl.Series(codes < 0))
        first = unknown[0]
        count = int((unknown == first).sum()) if first is not None else unknown.null_count()
        shown = "no value" if first is None else repr(first)
        raise WeightingError(
            f"{name} {shown}: {count} respondent(s) in a cell the population does not have; "
            f"add it to the targets or weight without {name}"
        )
    totals = np.array([float(population[label]) for label in labels])
    return codes.astype(np.int64), labels, totals


def collapse(margin: Margin, min_cell: int) -> Margin:
    """Pool the cells with fewer than `min_cell` respondents (see the module docstring)."""
    counts = np.bincount(margin.codes, minlength=len(margin.labels))
    groups = _pool([list(range(len(margin.labels)))], counts, min_cell)
    return _regroup(margin, groups, counts, min_cell)


def collapse_within(margin: Margin, parent: Sequence[str], min_cell: int) -> Margin:
    """Pool thin cells within each parent (a cross cell's role)."""
    counts = np.bincount(margin.codes, minlength=len(margin.labels))
    by_parent: dict[str, list[int]] = {}
    for k, p in enumerate(parent):
        by_parent.setdefault(p, []).append(k)
    groups = _pool(list(by_parent.values()), counts, min_cell)
    return _regroup(margin, groups, counts, min_cell)


def _pool(families: list[list[int]], counts: Ints, min_cell: int) -> list[list[int]]:
    groups: list[list[int]] = []
    for family in families:
        thin = [k for k in family if counts[k] < min_cell]
        thick = [[k] for k in family if counts[k] >= min_cell]
        if thin and thick and (len(thin) == 1 or sum(counts[k] for k in thin) < min_cell):
            min(thick, key=lambda g: counts[g[0]]).extend(thin)
        elif thin:
            thick.append(thin)
        groups.extend(thick)
    return groups


def _regroup(margin: Margin, groups: list[list[int]], counts: Ints, min_cell: int) -> Margin:
    if all(len(g) == 1 for g in groups):
        return margin
    new_of = np.empty(len(margin.labels), dtype=np.int64)
    labels: list[str] = []
    notes = list(margin.notes)
    for j, group in enumerate(sorted(groups, key=min)):
        new_of[group] = j
        if len(group) == 1:
            labels.append(margin.labels[group[0]])
            continue
        names = [margin.labels[k] for k in sorted(group)]
        labels.append(
            " + ".join(names) if len(names) <= 3 else f"{names[0]} + {len(names) - 1} more"
        )
        respondents = int(sum(counts[k] for k in group))
        notes.append(
            f"{margin.name}: {len(names)} cells with fewer than {min_cell} respondents pooled "
            f"({', '.join(names)}; {respondents} respondents together)"
        )
    totals = np.bincount(new_of, weights=margin.totals, minlength=len(labels)).astype(np.float64)
    return Margin(margin.name, new_of[margin.codes], labels, totals, notes)


def role_margin(roles: pl.Series, population: Population, min_cell: int) -> Margin:
    totals: dict[str, float] = {}
    for (role, _), count in population.items():
        totals[role] = totals.get(role, 0.0) + float(count)
    codes, labels, values = respondents_cells("role", roles, totals)
    return collapse(Margin("role", codes, labels, values), min_cell)


def trust_margin(trusts: pl.Series, population: Population, min_cell: int) -> Margin:
    totals: dict[str, float] = {}
    for (_, trust), count in population.items():
        if trust is None:
            raise WeightingError(
                "trust: the population has counts by role only; weight by role (--rake-on role)"
            )
        totals[trust] = totals.get(trust, 0.0) + float(count)
    codes, labels, values = respondents_cells("trust", trusts, totals)
    return collapse(Margin("trust", codes, labels, values), min_cell)


def cross_margin(
    roles: pl.Series,
    trusts: pl.Series,
    population: Population,
    min_cell: int,
) -> Margin:
    totals: dict[str, float] = {}
    parent: dict[str, str] = {}
    for (role, trust), count in population.items():
        if trust is None:
            raise WeightingError(
                "role*trust: the population has counts by role only; weight by role"
            )
        key = f"{role} x {trust}"
        totals[key] = float(count)
        parent[key] = role
    keys = pl.select(pl.concat_str([pl.lit(roles), pl.lit(" x "), pl.lit(trusts)])).to_series()
    codes, labels, values = respondents_cells("role*trust", keys, totals)
    margin = Margin("role*trust", codes, labels, values)
    return collapse_within(margin, [parent[label] for label in labels], min_cell)
