"""The published 2015 figures in the analysis engine's table schema.

Trust reports print the published national figures beside a trust's own, and the report
can be rendered from the published figures alone (no database), which is how the report's
layout is checked against the printed tables. Denominators are the `inferred_valid_n` of
the reference file: the report prints only percentages and counts.
"""

from __future__ import annotations

from typing import Any

from sharedground.instrument import Instrument, SingleItem
from sharedground.reference import ROLES, group_sizes, published_2015

_STARS_BY_TEST = {"chi2": "chi2", "fisher": "fisher"}


def _cell(count: int, valid: int) -> dict[str, Any]:
    pct = 100.0 * count / valid if valid else None
    return {"count": count, "valid": valid, "pct": pct}


def _distribution_rows(table: dict[str, Any], instrument: Instrument) -> list[dict[str, Any]]:
    """Tables 1.1 and 1.2: one row per option, percentages of each group (counts derived)."""
    item_id = instrument.table(table["id"]).rows[0].item
    item = instrument.item(item_id)
    assert isinstance(item, SingleItem)
    sizes = group_sizes(2015)
    rows = []
    for index, option in enumerate(item.options):
        groups = {}
        for role in ROLES:
            pct = table["rows"][role][index]
            groups[role] = _cell(round(pct * sizes[role] / 100), sizes[role])
            groups[role]["pct"] = float(pct)
        count = sum(g["count"] for g in groups.values())
        valid = sum(sizes.values())
        rows.append(
            {
                "item": item_id,
                "option": option.id,
                "label": option.label,
                "measure": "distribution",
                "denominator_rule": "valid_answers",
                "groups": groups,
                "overall": _cell(count, valid),
                "test": None,
            }
        )
    return rows


def _measure_rows(table: dict[str, Any], instrument: Instrument) -> list[dict[str, Any]]:
    rows = []
    try:
        definitions = instrument.table(table["id"]).rows
    except KeyError:
        definitions = []
    sizes = group_sizes(2015)
    for index, published in enumerate(table["rows"]):
        valid_n = published.get("inferred_valid_n") or sizes
        groups = {role: _cell(published["groups"][role]["count"], valid_n[role]) for role in ROLES}
        for role in ROLES:
            groups[role]["pct"] = float(published["groups"][role]["pct"])
        count = sum(g["count"] for g in groups.values())
        valid = sum(g["valid"] for g in groups.values())
        measure = definitions[index].measure if index < len(definitions) else "agree"
        rule = "valid_answers"
        if table["id"] in ("table_2.8", "table_2.9", "table_2.10"):
            rule = "all_respondents"
        if table["id"] == "table_2.11":
            rule = "valid_yes_no"
        overall = _cell(count, valid)
        overall["pct"] = float(published["overall_pct"])
        everyone = None
        if table["id"] == "table_2.11":
            # The published Overall column of table 2.11 divides by all respondents.
            everyone = _cell(count, sum(sizes.values()))
            everyone["pct"] = float(published["overall_pct"])
        test = None
        if "stars" in published:
            test = {
                "name": _STARS_BY_TEST.get(published.get("test", "chi2"), "chi2"),
                "statistic": None,
                "df": 3,
                "p_value": None,
                "stars": published["stars"],
            }
        row: dict[str, Any] = {
            "item": published["item"],
            "label": published["label"],
            "measure": measure,
            "denominator_rule": rule,
            "groups": groups,
            "overall": overall,
            "test": test,
        }
        if everyone is not None:
            row["overall_all_respondents"] = everyone
        if "option" in published:
            row["option"] = published["option"]
        rows.append(row)
    return rows


def published_analysis(instrument: Instrument) -> dict[str, Any]:
    """Every published table of the 2015 report as an analysis document.

    Args:
        instrument: the 2015 instrument (for option labels of tables 1.1 and 1.2).

    Returns:
        A dict in the analysis engine's schema (`wave` is ``"published 2015"``).
    """
    tables = []
    for table in published_2015()["tables"]:
        if isinstance(table["rows"], dict):
            rows = _distribution_rows(table, instrument)
        else:
            rows = _measure_rows(table, instrument)
        tables.append({"id": table["id"], "title": table["title"], "rows": rows})
    return {
        "wave": "published 2015",
        "instrument": instrument.key,
        "generated_at": None,
        "tables": tables,
    }


def published_2002_overall() -> dict[tuple[str, str | None, str], dict[str, float]]:
    """Published 2002 percentages by (table id, item, row label) and group (`overall` too)."""
    found: dict[tuple[str, str | None, str], dict[str, float]] = {}
    for table in published_2015()["tables"]:
        if isinstance(table["rows"], dict):
            continue
        for row in table["rows"]:
            y2002 = row.get("y2002")
            if not y2002 or not all(k in y2002 for k in (*ROLES, "overall")):
                continue
            found[(table["id"], row["item"], row["label"])] = {
                k: float(y2002[k]) for k in (*ROLES, "overall")
            }
    return found
