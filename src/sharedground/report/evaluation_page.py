"""The evaluation as a self-contained HTML page (`sharedground evaluate --format html`): the
"What works" table with its rule and event-study charts, or one initiative's before/after
tests and SPC chart. The sections are partial templates (`_what_works.html`,
`_initiative.html`) so the national and trust reports can include them.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

#: Column-sized names of the key measures (the full label is the cell's title).
SHORT = {
    "positive": "share positive",
    "rating": "mean rating (1–5)",
    "positive_cd": "share positive, clinical directors",
}


def _fmt(value: float | None, scale: float = 1.0, digits: int = 1, sign: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value * scale:{'+' if sign else ''}.{digits}f}"


def _scale(measure: str) -> tuple[float, int]:
    return (1.0, 2) if measure == "rating" else (100.0, 1)


def what_works_context(doc: dict[str, Any]) -> dict[str, Any]:
    """The `works` variable of `_what_works.html`."""
    from sharedground.report.charts.event_study import event_study_chart

    rows = []
    for r in doc["what_works"]:
        scale, digits = _scale(r["measure"])
        judged = r["effect"] is not None
        rows.append(
            {
                "kind": r["kind"].replace("_", " "),
                "measure": SHORT.get(r["measure"], r["measure_label"]),
                "measure_label": r["measure_label"],
                "trusts": r["trusts"],
                "controls": r["controls"],
                "since": f"{r['waves_after_start']:.1f}",
                "participants": "–" if r["participants"] is None else f"{r['participants']:,}",
                "effect": _fmt(r["effect"], scale, digits),
                "interval": f"{_fmt(r['ci_low'], scale, digits)} to "
                f"{_fmt(r['ci_high'], scale, digits)}"
                if judged
                else "–",
                "p": _fmt(r["p_adjusted"], 1.0, 4, sign=False) if judged else "–",
                "verdict": r["verdict"],
            }
        )
    charts = []
    for i, study in enumerate(doc["event_studies"]):
        if not study["event"]:
            continue
        scale, _ = _scale(study["measure"])
        charts.append(
            event_study_chart(
                f"event-{i}",
                f"{study['kind'].replace('_', ' ')}: effect on "
                f"{SHORT.get(study['measure'], study['measure'])} by waves since the start",
                study["event"],
                unit="rating points" if study["measure"] == "rating" else "percentage points",
                scale=scale,
            )
        )
    gaps = [r for r in doc["what_works"] if r.get("left_out")]
    left_out = (
        "Left out for a wave without answers on the measure: "
        + "; ".join(
            f"{r['left_out']} trust(s) for {r['kind'].replace('_', ' ')}, "
            f"{SHORT.get(r['measure'], r['measure'])}"
            for r in gaps
        )
        + "."
        if gaps
        else ""
    )
    return {
        "rows": rows,
        "rule": doc["rule"],
        "adjustment": doc["adjustment"],
        "charts": charts,
        "left_out": left_out,
    }


def initiative_context(doc: dict[str, Any], tables: Any) -> dict[str, Any]:
    """The `init` variable of `_initiative.html`."""
    init = doc["initiative"]
    tests, differences = [], []
    for b in init["before_after"]:
        scale, digits = (100.0, 1) if b["item"] == "agree" else (1.0, 2)
        for t in b["tests"]:
            judged = t["p_value"] is not None
            tests.append(
                {
                    "item": b["item"],
                    "group": t["group"].replace("_", "-"),
                    "test": {
                        "mcnemar": "exact McNemar",
                        "signed_rank": "Wilcoxon signed-rank",
                        "sign": "sign test",
                    }[t["test"]],
                    "pairs": t["n_pairs"],
                    "lost": t["n_lost"],
                    "change": _fmt(t["estimate"], scale, digits) if judged else "–",
                    "interval": f"{_fmt(t['ci_low'], scale, digits)} to "
                    f"{_fmt(t['ci_high'], scale, digits)}"
                    if judged
                    else "–",
                    "p": _fmt(t["p_value"], 1.0, 4, sign=False)
                    if judged
                    else "not enough to judge",
                }
            )
        d = b["difference"]
        if d and d["estimate"] is not None:
            unit = "percentage points" if b["item"] == "agree" else "rating points"
            differences.append(
                f"{b['item'].capitalize()}: participants changed by "
                f"{_fmt(d['estimate'], scale, digits)} {unit} more than non-participants of the "
                f"trust (95% interval {_fmt(d['ci_low'], scale, digits)} to "
                f"{_fmt(d['ci_high'], scale, digits)})."
            )
    charts = []
    if getattr(tables, "monthly", None) is not None:
        from sharedground.evaluation.spc import initiative_chart
        from sharedground.report.charts.spc import spc_chart

        chart = initiative_chart(tables.monthly, init["initiative_id"])
        charts.append(
            spc_chart("spc", "Monthly pulse: share agreeing (p-chart)", chart, percent=True)
        )
    return {
        "id": init["initiative_id"],
        "tests": tests,
        "differences": differences,
        "caveat": init["caveat"],
        "charts": charts,
    }


def render_evaluation_html(doc: dict[str, Any], tables: Any = None) -> str:
    """The whole page."""
    from sharedground.report.render import environment, stylesheet

    works = what_works_context(doc) if "what_works" in doc else None
    init = initiative_context(doc, tables) if "initiative" in doc else None
    title = (
        "What works: evaluating initiatives"
        if works
        else f"Initiative {doc['initiative']['initiative_id']}: evaluation"
    )
    return (
        environment()
        .get_template("evaluation.html")
        .render(title=title, works=works, init=init, css=Markup(stylesheet()), for_print=False)
    )
