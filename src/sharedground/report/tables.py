"""Turning the analysis engine's tables into the cells, headers and footnotes a reader sees.

Cells print "72% (42)": the percentage of the group's denominator and, in brackets, the
number counted, as in the published report. In a trust report groups below the suppression
threshold have no column, a cell whose denominator is below the threshold prints "–", the
trust's own "All" column sums only the groups shown (so a hidden group cannot be recovered
by subtraction) and benchmark columns print percentages only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sharedground.instrument import AnyItem, Instrument, LikertItem, TableRow
from sharedground.report.model import Group, ReportInput, whole

SUPPRESSED = "–"
REVERSE_MARK = "†"
FISHER_MARK = "‡"
FLAGS = {"above": "▲", "below": "▼"}

STARS_NOTE = "* p < 0.05, ** p < 0.01, *** p < 0.001, n.s. not significant (p ≥ 0.05)"


@dataclass
class Cell:
    text: str
    pct: float | None = None
    count: int | None = None
    valid: int | None = None
    suppressed: bool = False


@dataclass
class RowView:
    key: tuple[str, str, str | None, int]
    item: str
    option: str | None
    label: str
    measure: str
    reverse: bool
    cells: list[Cell]
    overall: Cell
    benchmarks: list[Cell] = field(default_factory=list)
    test: str = ""
    q_value: str = ""


@dataclass
class TableView:
    id: str
    number: str
    title: str
    kind: str
    columns: list[str]
    groups: list[Group]
    rows: list[RowView]
    footnotes: list[str]
    has_test: bool
    has_q: bool
    benchmark_labels: list[str]

    @property
    def anchor(self) -> str:
        return self.id.replace(".", "-")


def table_number(table_id: str) -> str:
    """`table_2.11` -> `2.11`."""
    return table_id.removeprefix("table_")


def row_keys(
    table_id: str, rows: list[dict[str, Any]]
) -> Iterator[tuple[str, str, str | None, int]]:
    """Keys that match rows across analysis documents: (table, item, option, occurrence).

    The occurrence index tells apart rows on one item and option (the positive and negative
    rows of the local rating), whose labels differ between documents.
    """
    seen: Counter[tuple[str, str | None]] = Counter()
    for row in rows:
        pair = (row["item"], row.get("option"))
        yield (table_id, row["item"], row.get("option"), seen[pair])
        seen[pair] += 1


def _definition_rows(
    instrument: Instrument, table_id: str
) -> dict[tuple[str, str | None, int], TableRow]:
    try:
        table = instrument.table(table_id)
    except KeyError:
        return {}
    found: dict[tuple[str, str | None, int], TableRow] = {}
    seen: Counter[tuple[str, str | None]] = Counter()
    for row in table.rows:
        pair = (row.item, row.option)
        found[(row.item, row.option, seen[pair])] = row
        seen[pair] += 1
    return found


def format_cell(cell: dict[str, Any] | None, threshold: int, *, counts: bool = True) -> Cell:
    """A cell of the analysis document as printed; small denominators are suppressed."""
    if not cell or cell.get("valid") in (None, 0):
        return Cell(SUPPRESSED, suppressed=True)
    valid = int(cell["valid"])
    count = int(cell["count"]) if cell.get("count") is not None else None
    if valid < threshold:
        return Cell(SUPPRESSED, valid=valid, suppressed=True)
    pct = cell.get("pct")
    weighted = cell.get("weighted")
    if weighted and weighted.get("pct") is not None:
        pct = float(weighted["pct"])  # weighted reports show weighted %, unweighted counts
    if pct is None and count is not None:
        pct = 100.0 * count / valid
    text = f"{whole(pct)}%" if pct is not None else SUPPRESSED
    if counts and count is not None:
        text += f" ({count})"
    return Cell(text, pct=pct, count=count, valid=valid)


def _test_text(test: dict[str, Any] | None) -> str:
    if not test or not test.get("stars"):
        return ""
    stars = str(test["stars"])
    if "fisher" in str(test.get("name", "")).lower():
        stars += FISHER_MARK
    return stars


def _footnotes(
    kinds: set[str],
    rules: set[str],
    view: TableView,
    threshold: int,
    trust: bool,
    instrument: Instrument,
) -> list[str]:
    notes: list[str] = []
    if "agree" in kinds:
        notes.append(
            "Percentages are of those in each group who answered the statement, excluding "
            "“don't know”; numbers in brackets are the numbers who strongly agreed or tended "
            "to agree."
        )
    if kinds & {"rating_high", "rating_low"}:
        notes.append(
            "Ratings are on a scale of 1 (poor) to 5 (excellent); percentages are of those "
            "giving a rating; numbers in brackets are the numbers giving the rating described."
        )
    if "chosen" in kinds:
        notes.append(
            "Percentages are of all respondents in each group; numbers in brackets are the "
            "numbers choosing the option. Respondents could choose up to three, so columns "
            "add to more than 100%."
        )
    if "distribution" in kinds:
        notes.append(
            "Percentages are of those in each group who answered the question; numbers in "
            "brackets are the numbers choosing each answer."
        )
    if "yes" in kinds:
        if "overall_all_respondents" in rules or "groups_valid_overall_all" in rules:
            notes.append(
                "Group percentages are of those in the group who answered; the All column "
                "divides by all respondents, including those who skipped the question, as "
                "the published report does. Numbers in brackets answered yes."
            )
        else:
            notes.append("Percentages are of those who answered; numbers in brackets answered yes.")
    reversed_rows = [r for r in view.rows if r.reverse]
    for row in reversed_rows:
        item = instrument.item(row.item)
        notes.append(
            f"{REVERSE_MARK} Reverse-worded: the statement as asked was “{item.text}”; the "
            "row reports those who disagreed with it."
        )
    if view.has_test:
        fisher = any(r.test.endswith(FISHER_MARK) for r in view.rows)
        test = "Chi-squared test of equality across the groups"
        if fisher:
            test += f" (Fisher's exact test where marked {FISHER_MARK})"
        notes.append(f"{test}: {STARS_NOTE}.")
    if view.has_q:
        notes.append(
            "q: p-value adjusted for the number of rows tested (Benjamini–Hochberg false "
            "discovery rate)."
        )
    if trust:
        # Said once, at the head of the results (`_trust_reading.html`); a short pointer here.
        notes.append(f"{SUPPRESSED} withheld; ▲ / ▼ see “Reading the tables” above.")
    return notes


def build_table(table: dict[str, Any], data: ReportInput) -> TableView:
    """The printed form of one analysis table."""
    groups = data.shown_groups
    trust = data.trust is not None
    definitions = _definition_rows(data.instrument, table["id"])
    benchmark_rows: dict[str, dict[tuple[str, str, str | None, int], dict[str, Any]]] = {}
    for label, document in data.benchmarks.items():
        for other in document.get("tables", []):
            if other["id"] == table["id"]:
                benchmark_rows[label] = dict(
                    zip(row_keys(other["id"], other["rows"]), other["rows"], strict=True)
                )
    rows: list[RowView] = []
    kinds: set[str] = set()
    rules: set[str] = set()
    for key, row in zip(row_keys(table["id"], table["rows"]), table["rows"], strict=True):
        definition = definitions.get(key[1:]) or definitions.get((key[1], None, 0))
        measure = str(row.get("measure") or (definition.measure if definition else "agree"))
        kinds.add(measure)
        rules.add(str(row.get("denominator_rule") or ""))
        item = _item(data.instrument, row["item"])
        reverse = bool(row.get("reverse_scored")) or (isinstance(item, LikertItem) and item.reverse)
        cells = [format_cell(row["groups"].get(g.id), data.threshold) for g in groups]
        everyone = row.get("overall_all_respondents")
        if everyone is not None:
            rules.add("overall_all_respondents")
        overall = format_cell(everyone or row.get("overall"), data.threshold)
        if trust and "Other trusts" in benchmark_rows and not overall.suppressed:
            flag = (benchmark_rows["Other trusts"].get(key) or {}).get("flag")
            if flag in FLAGS:
                overall.text += f" {FLAGS[flag]}"
        benchmarks = [
            format_cell(
                (benchmark_rows[label].get(key) or {}).get("overall"), data.threshold, counts=False
            )
            for label in data.benchmarks
            if label in benchmark_rows
        ]
        q = row.get("q_value")
        rows.append(
            RowView(
                key=key,
                item=row["item"],
                option=row.get("option"),
                label=row["label"] + (f" {REVERSE_MARK}" if reverse else ""),
                measure=measure,
                reverse=reverse,
                cells=cells,
                overall=overall,
                benchmarks=benchmarks,
                test="" if trust else _test_text(row.get("test")),
                q_value="" if trust or q is None else _q_text(float(q)),
            )
        )
    labels = [label for label in data.benchmarks if label in benchmark_rows]
    columns = ["", *(g.label for g in groups), "This trust" if trust else "All", *labels]
    view = TableView(
        id=table["id"],
        number=table_number(table["id"]),
        title=table["title"],
        kind=_kind(kinds),
        columns=columns,
        groups=groups,
        rows=rows,
        footnotes=[],
        has_test=any(r.test for r in rows),
        has_q=any(r.q_value for r in rows),
        benchmark_labels=labels,
    )
    if view.has_test:
        view.columns.append("Test")
    if view.has_q:
        view.columns.append("q")
    view.footnotes = _footnotes(kinds, rules, view, data.threshold, trust, data.instrument)
    weighting = data.analysis.get("weighting")
    if weighting:
        view.footnotes = [
            n.replace("Chi-squared test of equality", "Rao–Scott test of equality")
            for n in view.footnotes
        ]
        view.footnotes.append(weights_footnote(weighting))
    return view


def weights_footnote(weighting: dict[str, Any]) -> str:
    """Every table of a weighted report says so."""
    return (
        f"Weighted ({weighting['kind']}; see Methods): percentages are weighted, numbers in "
        "brackets unweighted; tests are Rao–Scott second-order F tests of the weighted table."
    )


def _q_text(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"{q:.3f}"


def _item(instrument: Instrument, item_id: str) -> AnyItem | None:
    try:
        return instrument.item(item_id)
    except KeyError:
        return None


def _kind(kinds: set[str]) -> str:
    if kinds == {"agree"}:
        return "likert"
    if kinds == {"chosen"}:
        return "chosen"
    if kinds == {"distribution"}:
        return "distribution"
    if kinds == {"yes"}:
        return "grid"
    return "mixed"


def build_tables(data: ReportInput) -> list[TableView]:
    """Every table of the analysis document, in its order."""
    return [build_table(t, data) for t in data.analysis.get("tables", [])]
