"""The whole evaluation of a programme as one JSON-ready document (what `sharedground
evaluate` prints and exports; its schema is `schema.json` beside this module).

Input is a set of plain tables (`Tables`): the survey's `responses`, the `trusts` with their
kind and cohort, and optionally the pulse answers (`pulse`), the monthly pulse (`monthly`) and
the `initiatives`. `load_tables` reads them from a directory of CSV files in the layout that
`sharedground synth --scenario programme` writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from sharedground.evaluation.tables import EvaluationInputError

SCHEMA_VERSION = 1
ITEMS = {"agree": "agree", "rating": "rating"}


@dataclass(frozen=True)
class Tables:
    responses: pl.DataFrame
    trusts: pl.DataFrame
    pulse: pl.DataFrame | None = None
    monthly: pl.DataFrame | None = None
    initiatives: pl.DataFrame | None = None


def load_tables(directory: Path) -> Tables:
    """Read responses.csv and trusts.csv (required), pulse.csv, monthly.csv, initiatives.csv."""
    found: dict[str, pl.DataFrame | None] = {}
    for name in ("responses", "trusts", "pulse", "monthly", "initiatives"):
        path = directory / f"{name}.csv"
        if not path.exists():
            if name in ("responses", "trusts"):
                raise EvaluationInputError(f"{path}: not found (needed for the evaluation)")
            found[name] = None
            continue
        try:
            found[name] = pl.read_csv(path, try_parse_dates=True)
        except pl.exceptions.PolarsError as exc:
            raise EvaluationInputError(f"{path}: cannot be read as CSV: {exc}") from exc
    responses, trusts = found["responses"], found["trusts"]
    assert responses is not None and trusts is not None
    return Tables(responses, trusts, found["pulse"], found["monthly"], found["initiatives"])


def from_scenario(seed: int) -> Tables:
    from sharedground.synth.scenario import generate_scenario

    s = generate_scenario(seed)
    return Tables(s.responses, s.trusts, s.pulse, s.monthly, s.initiatives)


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _estimate(e: Any) -> dict[str, Any]:
    return {
        "label": e.label,
        "cohort": e.cohort,
        "period": e.period,
        "event_time": e.event_time,
        "att": _num(e.att),
        "se": _num(e.se),
        "ci_low": _num(e.ci_low),
        "ci_high": _num(e.ci_high),
        "n_treated": e.n_treated,
        "n_control": e.n_control,
    }


def _participants(tables: Tables) -> dict[str, int] | None:
    if tables.pulse is None or tables.initiatives is None:
        return None
    joined = tables.pulse.filter(pl.col("participant")).join(
        tables.initiatives.select("initiative_id", "kind"), on="initiative_id"
    )
    return dict(joined.group_by("kind").len().iter_rows())


def evaluate(
    tables: Tables,
    *,
    kind: str | None = None,
    initiative: int | None = None,
    control: str = "never",
    replicates: int = 999,
    seed: int = 0,
    min_pairs: int | None = None,
) -> dict[str, Any]:
    """The evaluation document: what works (every kind, or `kind`) with event studies, or one
    initiative's before/after tests and SPC chart (a test from fewer than `min_pairs` pairs,
    by default the paired tests' own minimum, is "not enough to judge")."""
    from sharedground.evaluation.kinds import kind_effects
    from sharedground.evaluation.works import rule_text, what_works

    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "control": control}
    if initiative is not None:
        doc["initiative"] = _initiative(tables, initiative, min_pairs)
        return doc
    kinds = [kind] if kind else None
    if kind and kind not in set(tables.trusts["kind"].drop_nulls().to_list()):
        raise EvaluationInputError(f"no trust started an initiative of kind {kind!r}")
    effects = kind_effects(
        tables.responses,
        tables.trusts,
        kinds=kinds,
        control=control,  # type: ignore[arg-type]
        replicates=replicates,
        seed=seed,
    )
    rows = what_works(effects, participants=_participants(tables))
    doc["rule"] = rule_text(rows)
    doc["adjustment"] = "Benjamini-Hochberg across every kind and measure in the table"
    doc["what_works"] = [
        {k: (_num(v) if isinstance(v, float) else v) for k, v in r.as_dict().items()} for r in rows
    ]
    doc["event_studies"] = [
        {
            "kind": e.kind,
            "measure": e.measure.name,
            "uniform_crit": _num(e.result.uniform_crit),
            "overall": _estimate(e.result.overall) if e.result.overall else None,
            "event": [_estimate(x) for x in e.result.event],
            "cells": [_estimate(x) for x in e.result.cells] if kind else [],
        }
        for e in effects
    ]
    return doc


def _initiative(tables: Tables, initiative: int, min_pairs: int | None) -> dict[str, Any]:
    from sharedground.evaluation.beforeafter import CAVEAT, before_after
    from sharedground.evaluation.paired import MIN_PAIRS
    from sharedground.evaluation.spc import initiative_chart

    if tables.pulse is None:
        raise EvaluationInputError("the pulse answers (pulse.csv) are needed for an initiative")
    results = before_after(
        tables.pulse,
        ITEMS,  # type: ignore[arg-type]
        initiative_id=initiative,
        min_pairs=min_pairs or MIN_PAIRS,
    )
    if not results:
        raise EvaluationInputError(f"initiative {initiative}: no pulse answers")
    out: dict[str, Any] = {"initiative_id": initiative, "caveat": CAVEAT, "before_after": []}
    for r in results:
        d = r.difference
        out["before_after"].append(
            {
                "item": r.item,
                "tests": [
                    {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
                    for row in r.rows()
                ],
                "difference": None
                if d is None
                else {
                    "estimate": _num(d.estimate),
                    "ci_low": _num(d.ci_low),
                    "ci_high": _num(d.ci_high),
                    "p_value": _num(d.p_value),
                    "note": d.note,
                },
            }
        )
    if tables.monthly is not None:
        chart = initiative_chart(tables.monthly, initiative)
        out["spc"] = {
            "chart": chart.chart,
            "variation_icon": chart.variation_icon,
            "assurance_icon": chart.assurance_icon,
            "milestones": [[str(x), label] for x, label in chart.milestones],
            "points": [{**p, "x": str(p["x"])} for p in chart.rows()],
        }
    return out
