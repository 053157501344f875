"""The lists the report draws from its tables (boxes 2.1-2.3), computed by rule.

Two rules over the agreement statements, on the overall figure (valid answers):

* widespread agreement: at least `agreement` per cent agree (80 by default, the report's
  "over 80%" box);
* widespread disagreement: at least `disagreement` per cent disagree, i.e. answered but
  did not agree (30 by default; the report's discontent box runs down to 31%).

For a reverse-scored row "agree" means agreeing with the statement as printed
(`reported_as`), so the lists read the same way as the tables. Statements are listed from
the largest share down. Withheld overall figures are never listed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sharedground.analysis.results import Summary, SummaryLine, TableResult

AGREEMENT = 80.0
DISAGREEMENT = 30.0


def summarise(
    tables: Sequence[TableResult], agreement: float = AGREEMENT, disagreement: float = DISAGREEMENT
) -> list[Summary]:
    """The widespread-agreement and widespread-disagreement lists."""
    agreed: list[SummaryLine] = []
    disagreed: list[SummaryLine] = []
    for table in tables:
        for row in table.rows:
            if row.spec.measure != "agree":
                continue
            pct = row.overall.pct
            weighted = row.overall.weighted
            if weighted is not None and weighted.pct is not None:
                pct = weighted.pct  # a weighted analysis lists by its weighted figures
            if pct is None:
                continue
            if pct >= agreement:
                agreed.append(SummaryLine(table.id, row.spec.item, row.spec.label, pct))
            if 100.0 - pct >= disagreement:
                disagreed.append(SummaryLine(table.id, row.spec.item, row.spec.label, 100.0 - pct))
    agreed.sort(key=lambda s: -s.pct)
    disagreed.sort(key=lambda s: -s.pct)
    return [
        Summary(
            "widespread_agreement",
            "Statements most respondents agree with",
            "overall share agreeing (of valid answers) at least the threshold",
            agreement,
            agreed,
        ),
        Summary(
            "widespread_disagreement",
            "Statements a large share disagrees with",
            "overall share disagreeing (of valid answers) at least the threshold",
            disagreement,
            disagreed,
        ),
    ]
