"""The disclosure audit: every withheld cell of a wave, and what a reader can work out.

For each table of the wave (the respondents per group and every table row), every small
cell that is withheld gets the interval of values consistent with everything the wave's
outputs print (`intervals`); the audit fails when one is narrower than the protection
asked for (by default the suppression threshold). `sharedground disclosure audit` runs
it; the tests run it on waves built to be hard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sharedground.analysis.disclosure.decide import Decision, required_widths
from sharedground.analysis.disclosure.intervals import Interval, intervals


@dataclass(frozen=True)
class CellAudit:
    """One withheld small cell: where it is, its value, and its intervals."""

    table: str  # "respondents" or "<table id> <row label>"
    row: int | None  # the row spec's index (None: respondents)
    trust: str | None  # None: respondents without a trust
    role: str | None  # None: respondents without a role
    value: int  # valid answers (respondents for the respondents table)
    intervals: dict[str, Interval]
    required: dict[str, float]

    @property
    def failed(self) -> list[str]:
        return [
            name
            for name, width in self.required.items()
            if self.intervals[name].width < width - 1e-9
        ]


@dataclass
class AuditResult:
    wave: str
    threshold: int
    protection: int
    cells: list[CellAudit] = field(default_factory=list)
    withheld_primary: int = 0
    withheld_secondary: int = 0
    solved: int = 0

    @property
    def failures(self) -> list[CellAudit]:
        return [c for c in self.cells if c.failed]

    @property
    def narrowest(self) -> CellAudit | None:
        def width(cell: CellAudit) -> float:
            name = "total" if "total" in cell.intervals else "respondents"
            return cell.intervals[name].width

        return min(self.cells, key=width, default=None)


def audit(
    decision: Decision, wave: str, protection: int | None = None, *, exact: bool = False
) -> AuditResult:
    """Audit every withheld small cell of the wave against `protection` (default threshold)."""
    cells = decision.cells
    protection = decision.threshold if protection is None else protection
    result = AuditResult(wave, decision.threshold, protection)
    for index in [None, *range(len(cells.specs))]:
        table = decision.respondents if index is None else decision.tables[index]
        view = decision.published(index)
        required = required_widths(view, table.primary, protection)
        found = intervals(view, list(required), required, exact=exact)
        # Counted over cells someone is in: a hidden trust's empty groups are withheld too
        # but hide no one.
        present = (cells.respondents > 0)[:-1, :-1]
        result.withheld_primary += int((table.withheld & table.primary)[:-1, :-1].sum())
        result.withheld_secondary += int((table.secondary[:-1, :-1] & present).sum())
        if index is None:
            name, values = "respondents", cells.respondents
        else:
            spec = cells.specs[index]
            name, values = (
                f"{spec.item}{'/' + spec.option if spec.option else ''} {spec.measure}",
                cells.valid[index],
            )
        for cell, need in required.items():
            got = found[cell]
            result.solved += any(i.how == "lp" for i in got.values())
            t, r = cell
            result.cells.append(
                CellAudit(
                    table=name,
                    row=index,
                    trust=cells.trusts[t] if t < len(cells.trusts) else None,
                    role=cells.roles[r] if r < len(cells.roles) else None,
                    value=int(values[t, r]),
                    intervals=got,
                    required=need,
                )
            )
    return result


__all__ = ["AuditResult", "CellAudit", "audit"]
