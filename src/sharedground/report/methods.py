"""The methods section: how the wave was run and analysed, from what the store records.

Anything not recorded is said to be so. For the synthetic 2015 cohort, whose fieldwork was
never run here, the published design of the 2015 survey is shown instead and labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sharedground.reference import published_2015
from sharedground.report.model import Fieldwork, Group, ReportInput, whole

NOT_RECORDED = "not recorded"
#: A count withheld by the wave's disclosure decision (as a table's withheld cell).
WITHHELD = "–"

#: Used when the analysis document does not explain its denominator rules itself.
DENOMINATOR_NOTES = {
    "valid_answers": "respondents in the group who answered the question; those who skipped "
    "it or answered “don't know / not applicable” are left out",
    "valid_yes_no": "respondents in the group who answered yes or no for the row",
    "answered_question": "everyone in the group who answered the question",
    "all_respondents": "everyone in the group, whether or not they answered the question",
}


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass
class Methods:
    facts: list[Fact]
    groups_header: list[str]
    groups_rows: list[list[str]]
    modes_rows: list[list[str]]
    tests: list[str]
    denominators: list[str]
    notes: list[str]


def published_fieldwork() -> Fieldwork:
    """The published design of the 2015 survey (Powell & Davies 2016) as fieldwork facts."""
    study = published_2015()["study"]
    fieldwork = study["fieldwork"]
    respondents = study["respondents"]
    days = " and ".join(str(d) for d in fieldwork["online"]["reminders_after_days"])
    postal = fieldwork["postal"]
    shares = ", ".join(
        f"{role.replace('_', ' ')}s: {'all' if v == 'all' else f'{float(v):.0%}'}"
        for role, v in postal["sample"].items()
    )
    return Fieldwork(
        invitations=int(fieldwork["online"]["invited"]),
        reminders=f"e-mail reminders {days} days after the invitation",
        postal_sample=f"{postal['mailed']} questionnaires posted in {postal['period']} ({shares})",
        rate_by_group={k: float(v) for k, v in respondents["response_rate_by_group"].items()},
        rate_overall=float(respondents["response_rate_overall"]),
        source_note=f"Published design of the 2015 survey ({study['source']}); online "
        f"fieldwork {fieldwork['online']['period']}. This wave's responses are synthetic.",
    )


def _date_range(fieldwork: Fieldwork) -> str:
    if fieldwork.opens and fieldwork.closes:
        dates = f"{fieldwork.opens:%d %B %Y} to {fieldwork.closes:%d %B %Y}"
        return f"{dates} ({fieldwork.dates_note})" if fieldwork.dates_note else dates
    if fieldwork.opens:
        return f"from {fieldwork.opens:%d %B %Y}"
    return NOT_RECORDED


def _rate(value: float | None) -> str:
    return NOT_RECORDED if value is None else f"{whole(100 * value)}%"


def _tests(analysis: dict[str, Any]) -> list[str]:
    names: set[str] = set()
    for table in analysis.get("tables", []):
        for row in table["rows"]:
            test = row.get("test")
            if test and test.get("name"):
                names.add(str(test["name"]).lower())
    found = []
    if any("chi" in n for n in names):
        found.append("Chi-squared test of equal proportions across the role groups.")
    if any("fisher" in n or "exact" in n for n in names):
        found.append(
            "Fisher's exact test (Freeman–Halton extension) where expected counts are "
            "small; marked ‡ in the tables."
        )
    if any(n.startswith("rao-scott") for n in names):
        found.append(
            "Rao–Scott test of equal weighted proportions across the groups (second-order "
            "F unless stated; R's svychisq), using the design's strata."
        )
    others = sorted(
        n
        for n in names
        if "chi" not in n and "fisher" not in n and "exact" not in n and "rao-scott" not in n
    )
    found.extend(f"{name}." for name in others)
    if found:
        found.append("Significance: * p < 0.05, ** p < 0.01, *** p < 0.001, n.s. p ≥ 0.05.")
    return found


def largest_shifts(analysis: dict[str, Any], top: int = 3) -> str:
    """What weighting changed: the overall rows it moved most, in points."""
    shifts = []
    for table in analysis.get("tables", []):
        for row in table["rows"]:
            cell = row.get("overall") or {}
            weighted = cell.get("weighted") or {}
            if cell.get("pct") is not None and weighted.get("pct") is not None:
                moved = float(weighted["pct"]) - float(cell["pct"])
                shifts.append((abs(moved), moved, row["label"], cell["pct"], weighted["pct"]))
    if not shifts:
        return "Weighting moved no overall figure."
    shifts.sort(key=lambda s: -s[0])
    listed = "; ".join(
        f"“{label}” {plain:.0f}% unweighted, {weighted:.0f}% weighted ({moved:+.1f} points)"
        for _, moved, label, plain, weighted in shifts[:top]
    )
    return f"Largest shifts from the unweighted figures (overall): {listed}."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _order(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def build_methods(data: ReportInput, groups: list[Group]) -> Methods:
    """The methods facts and tables of one report."""
    fieldwork = data.fieldwork
    responses = sum(fieldwork.responses_by_group.values()) or sum(g.respondents for g in groups)
    facts = [
        Fact("Wave", data.wave),
        Fact("Questionnaire", f"{data.instrument.title} ({data.instrument.key})"),
        Fact("Fieldwork dates", _date_range(fieldwork)),
        Fact(
            "Sample frame",
            NOT_RECORDED if fieldwork.contacts is None else f"{fieldwork.contacts:,} contacts",
        ),
        Fact(
            "Invitations sent",
            NOT_RECORDED if fieldwork.invitations is None else f"{fieldwork.invitations:,}",
        ),
        Fact("Reminders", fieldwork.reminders or NOT_RECORDED),
        Fact("Postal sample", fieldwork.postal_sample or NOT_RECORDED),
        Fact("Responses", f"{responses:,}"),
        Fact("Response rate", _rate(fieldwork.rate_overall)),
        Fact(
            "Suppression threshold",
            f"cells and groups with fewer than {data.threshold} answers are not shown"
            + ("" if data.trust else " (applied in trust reports)"),
        ),
    ]
    if data.comparison is not None:
        facts.append(Fact("Compared with", data.comparison.label))
    header = ["Group", "Responses", "Response rate"]
    rows = []
    for group in groups:
        if not group.shown and group.id not in fieldwork.responses_by_group:
            # Withheld: its number would give away a cell the reports withhold.
            rows.append([group.label, WITHHELD, WITHHELD])
            continue
        n = fieldwork.responses_by_group.get(group.id, group.respondents)
        rate = (fieldwork.rate_by_group or {}).get(group.id)
        rows.append([group.label, f"{n:,}", _rate(rate)])
    modes = []
    for mode, count in sorted(fieldwork.responses_by_mode.items()):
        if count is None:
            modes.append([mode.capitalize(), WITHHELD, WITHHELD])
            continue
        rate = (fieldwork.rate_by_mode or {}).get(mode)
        modes.append([mode.capitalize(), f"{count:,}", _rate(rate)])
    tables_of: dict[str, list[str]] = {}
    for table in data.analysis.get("tables", []):
        for row in table["rows"]:
            rule = row.get("denominator_rule")
            number = str(table["id"]).removeprefix("table_")
            if rule and number not in tables_of.setdefault(str(rule), []):
                tables_of[str(rule)].append(number)
            if row.get("overall_all_respondents") and number not in tables_of.setdefault(
                "all_respondents", []
            ):
                tables_of["all_respondents"].append(number)
    explained = {**DENOMINATOR_NOTES, **data.analysis.get("denominators", {})}
    denominators = [
        f"{_sentence(explained.get(rule, rule))} (table{'s' if len(numbers) > 1 else ''} "
        f"{', '.join(numbers)})."
        for rule, numbers in sorted(tables_of.items(), key=lambda kv: _order(kv[1][0]))
    ]
    notes = [fieldwork.source_note] if fieldwork.source_note else []
    if fieldwork.release_note:
        notes.append(fieldwork.release_note)
    weighting = data.analysis.get("weighting")
    if weighting:
        facts.append(
            Fact(
                "Weights",
                f"{weighting['kind']}: design effect {weighting['design_effect']:.2f}, "
                f"effective sample size {weighting['effective_sample_size']:,.0f}",
            )
        )
        notes.extend(weighting["notes"])
        notes.append(largest_shifts(data.analysis))
    return Methods(facts, header, rows, modes, _tests(data.analysis), denominators, notes)
