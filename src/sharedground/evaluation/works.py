"""What works: one table across all trusts, each kind of initiative on each key measure, with a
verdict from a rule stated here (and printed with the table) so it can be checked by hand.

The rule, for each kind and measure (`RULE` is the same text):

- "not enough to judge": fewer than `min_trusts` trusts that started the kind have data in
  every wave: no p-value is given;
- "roll out": the pooled effect (the difference-in-differences, overall) is in the improving
  direction, its 95% interval excludes no effect, and its p-value stays below 0.05 after the
  Benjamini–Hochberg adjustment across every kind and measure in the table;
- "no sign of benefit": the interval lies wholly below the smallest effect worth having
  (`worthwhile`, per measure), or the effect is in the harmful direction with an adjusted
  p-value below 0.05;
- "keep evaluating": anything else.

The p-value is two-sided, from the bootstrap standard error and Student's t with (treated
trusts - 1) degrees of freedom, the same as the interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sharedground.evaluation.kinds import KindEffect

MIN_TRUSTS = 5
#: Smallest effect worth having, per measure (share: 3 points; 1-5 rating: 0.12).
WORTHWHILE = {"positive": 0.03, "rating": 0.12, "positive_cd": 0.03}

RULE = (
    "Verdicts: 'not enough to judge' when fewer than {min_trusts} trusts that started the kind "
    "have data in every wave; 'roll out' when the pooled difference-in-differences effect is in "
    "the improving direction, its 95% interval excludes zero and its p-value is below 0.05 "
    "after Benjamini-Hochberg adjustment across all {tests} kind-and-measure tests; 'no sign of "
    "benefit' when the interval lies wholly below the smallest worthwhile effect or the effect "
    "is harmful with adjusted p < 0.05; otherwise 'keep evaluating'."
)


@dataclass(frozen=True)
class WorksRow:
    """One kind on one measure."""

    kind: str
    measure: str
    measure_label: str
    trusts: int  # trusts that started the kind and are in the comparison
    controls: int  # never-started trusts (and later starters, with not-yet controls)
    left_out: int  # trusts of the comparison left out for a wave without data on the measure
    waves_after_start: float  # mean number of waves since start, over started trusts
    participants: int | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _p_value(att: float, se: float, treated: int) -> float | None:
    import math

    from scipy.stats import t as t_dist

    if not math.isfinite(se) or se <= 0:
        return None
    return float(2 * t_dist.sf(abs(att) / se, max(treated - 1, 1)))


def what_works(
    effects: list[KindEffect],
    *,
    participants: dict[str, int] | None = None,
    min_trusts: int = MIN_TRUSTS,
    worthwhile: dict[str, float] | None = None,
) -> list[WorksRow]:
    """The table: one row per kind and measure, verdicts by the rule above (`RULE`)."""
    from sharedground.analysis.stats.adjust import adjust

    worthwhile = WORTHWHILE if worthwhile is None else worthwhile
    raw: list[float | None] = []
    for e in effects:
        o = e.result.overall
        enough = o is not None and e.result.n_treated_units >= min_trusts
        raw.append(_p_value(o.att, o.se, o.n_treated) if enough and o is not None else None)
    adjusted = adjust(raw, "bh")
    rows = []
    for e, p, q in zip(effects, raw, adjusted, strict=True):
        r, o = e.result, e.result.overall
        # waves observed since the start, averaged over the started trusts: a cohort has one
        # post-start cell per such wave, each counting its trusts
        post = [c for c in r.cells if c.event_time is not None and c.event_time >= 0]
        sizes = {c.cohort: c.n_treated for c in post}
        since = sum(c.n_treated for c in post) / sum(sizes.values()) if post else 0.0
        if o is None or p is None or q is None:
            verdict = "not enough to judge"
            effect = low = high = None
        else:
            effect, low, high = o.att, o.ci_low, o.ci_high
            floor = worthwhile.get(e.measure.name)
            if effect > 0 and low > 0 and q < 0.05:
                verdict = "roll out"
            elif (floor is not None and high < floor) or (effect < 0 and q < 0.05):
                verdict = "no sign of benefit"
            else:
                verdict = "keep evaluating"
        rows.append(
            WorksRow(
                e.kind,
                e.measure.name,
                e.measure.label,
                r.n_treated_units,
                r.n_units - r.n_treated_units,
                r.dropped,
                since,
                (participants or {}).get(e.kind),
                effect,
                low,
                high,
                p if verdict != "not enough to judge" else None,
                q if verdict != "not enough to judge" else None,
                verdict,
            )
        )
    return rows


def rule_text(rows: list[WorksRow], min_trusts: int = MIN_TRUSTS) -> str:
    tests = sum(1 for r in rows if r.p_value is not None)
    return RULE.format(min_trusts=min_trusts, tests=tests)
