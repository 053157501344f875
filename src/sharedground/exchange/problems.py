"""Problems found in an input file, each naming the file, row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file.

    `row` counts as a spreadsheet does: the header is row 1, the first respondent row 2.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InvalidFile(ValueError):
    """An input file that was refused whole; nothing was written."""

    def __init__(self, path: str, problems: list[Problem], limit: int = 50) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or "", p.message))
        shown = self.problems[:limit]
        lines = [f"{path}: {len(self.problems)} problem(s); nothing was imported"]
        lines += [f"  {path}: {p}" for p in shown]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        super().__init__("\n".join(lines))
