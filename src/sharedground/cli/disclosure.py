"""`sharedground disclosure audit`: can anything withheld be worked out from what a wave prints?"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from sharedground.cli._common import console, database_option, open_store

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.audit import CellAudit
    from sharedground.analysis.disclosure.decide import Decision
    from sharedground.analysis.source import WaveData


@click.group()
def disclosure() -> None:
    """Disclosure control: the cells every output of a wave withholds, and their audit."""


@disclosure.command()
@click.option("--wave", required=True, help="The wave to audit.")
@click.option(
    "--protection",
    type=click.IntRange(0),
    default=None,
    help="Width each withheld small cell's interval must reach [default: the wave's "
    "suppression threshold].",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Solve a linear programme for every withheld small cell, not only where the "
    "quicker certified moves fall short (slower; the same verdict).",
)
@click.option("--show", default=10, show_default=True, help="Cells to list (narrowest first).")
@click.option(
    "--by",
    "attributes",
    multiple=True,
    metavar="ATTRIBUTE",
    help="Audit the national tables by these attributes too (mode, or a single-choice "
    "question such as country; repeatable) [default: every one `analyse --by` prints]; "
    "`--by none` for none.",
)
@database_option
def audit(
    wave: str,
    protection: int | None,
    exact: bool,
    show: int,
    attributes: tuple[str, ...],
    database: str | None,
) -> None:
    """Check every withheld small cell of a wave against everything the wave prints.

    For each table row and the respondents per group, the cells of the trust x role table
    that the national report, the benchmarks and the trust reports withhold are decided
    once; each small one gets the interval of values consistent with every printed figure
    (linear programming, SciPy's HiGHS). The national tables by mode and by each
    single-choice question are audited over the trust x role x category table
    (`analysis.disclosure.attributes`), the Likert charts' shares of each answer over the
    trust x role x answer table, and the text tables of the team's coded comments
    (commenters and each code by trust x role, `text.disclosure`) the same way. Exits 1,
    listing them, when any is narrower than the protection.
    """
    from rich.table import Table

    from sharedground.analysis.disclosure.audit import audit as run_audit
    from sharedground.analysis.disclosure.decide import decide
    from sharedground.analysis.disclosure.final import released_data
    from sharedground.analysis.source import load_wave
    from sharedground.text.disclosure import audit_wave as audit_text

    store = open_store(database)
    try:
        # What the wave's outputs print: its final figures once fieldwork is over.
        data, _ = released_data(store, load_wave(store, wave))
        decision = decide(data)
        result = run_audit(decision, wave, protection, exact=exact)
        texts = audit_text(store, wave, decision, protection, exact=exact)
    finally:
        store.dispose()
    console.print(
        f"Wave {wave}: {len(result.cells)} withheld small cell(s) audited over "
        f"{len(decision.tables) + 1} table(s); {result.withheld_primary} withheld for their "
        f"size, {result.withheld_secondary} more so that they cannot be worked out; "
        f"{result.solved} solved by linear programming. Protection: {result.protection}."
    )
    result.cells.extend(_attributes(data, decision, attributes, protection, exact))
    from sharedground.analysis.disclosure.values import audit_values

    charted = audit_values(data, decision, protection)
    console.print(
        f"Charts: {len(charted)} withheld small cell(s) of the Likert rows audited against "
        "the shares of each answer the reports' charts print."
    )
    result.cells.extend(charted)
    cells = list(result.cells)
    failures = list(result.failures)
    for frame, found in texts:
        console.print(
            f"Comments coded with {frame}: {len(found.cells)} withheld small text cell(s) "
            f"audited; {found.withheld_primary} withheld for their size, "
            f"{found.withheld_secondary} more so that they cannot be worked out; "
            f"{found.solved} linear programme(s) solved."
        )
        cells += found.cells
        failures += found.failures
    listed = failures or sorted(cells, key=_width)[:show]
    if listed:
        table = Table(
            "table",
            "trust",
            "role",
            "value",
            "interval",
            "width",
            "needed",
            "how",
            title="Failing cells" if failures else "Narrowest withheld cells",
        )
        for cell in listed[: max(show, len(failures))]:
            interval = cell.intervals[_key(cell)]
            table.add_row(
                cell.table,
                cell.trust or "(no trust)",
                cell.role or "(no role)",
                str(cell.value),
                f"[{interval.low:g}, {interval.high:g}]",
                f"{interval.width:g}",
                ", ".join(f"{k} {v:g}" for k, v in cell.required.items()),
                interval.how,
            )
        console.print(table)
    if failures:
        console.print(
            f"[bold red]FAIL[/]: {len(failures)} withheld cell(s) can be narrowed "
            f"below the protection."
        )
        sys.exit(1)
    console.print("[green]PASS[/]: no withheld cell can be narrowed below the protection.")


def _key(cell: CellAudit) -> str:
    """The quantity to list: a survey cell's total (or respondents); for a text cell, the
    one with the least width to spare."""
    for key in ("total", "respondents"):
        if key in cell.intervals:
            return key
    return min(cell.required, key=lambda k: cell.intervals[k].width - cell.required[k])


def _attributes(
    data: WaveData,
    decision: Decision,
    asked: tuple[str, ...],
    protection: int | None,
    exact: bool,
) -> list[CellAudit]:
    """The withheld small cells audited against the national tables by each attribute."""
    from sharedground.analysis.disclosure.attributes import (
        audit_attribute,
        decide_attribute,
        published_by,
    )
    from sharedground.analysis.grouping import GroupingError

    names = published_by(data.instrument) if not asked else [a for a in asked if a != "none"]
    found: list[CellAudit] = []
    for by in names:
        try:
            table = decide_attribute(data, by, decision)
        except GroupingError as exc:
            raise click.UsageError(str(exc)) from None
        cells = audit_attribute(table, protection, exact=exact)
        rows = sum(bool(t.coordinated.any()) for t in [table.respondents, *table.tables])
        console.print(
            f"By {by}: {len(cells)} withheld small cell(s) audited against the national "
            f"table by {by}; {rows} of its {len(table.tables) + 1} rows withhold more than "
            "their own rule so that they give none away."
        )
        found.extend(cells)
    return found


def _width(cell: CellAudit) -> float:
    return float(cell.intervals[_key(cell)].width)


COMMANDS = [disclosure]
