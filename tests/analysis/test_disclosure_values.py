"""The Likert charts' shares of each answer in the disclosure audit.

The national report draws each role group's share of every answer, a trust's report its
own shares beside the other trusts': per answer, the trust x role table's role and trust
totals. The audit checks the withheld small cells of the Likert rows against them
(`analysis.disclosure.values`); on waves built to be hard nothing can be narrowed, which
takes the linear programme (a printed cell's split between answers is free) where the
answer-by-answer moves fall short.
"""

from __future__ import annotations

import numpy as np
import pytest
from disclosure_helpers import hard_wave

from sharedground.analysis.disclosure.decide import decide
from sharedground.analysis.disclosure.intervals import Published
from sharedground.analysis.disclosure.values import audit_values, chart_rows, required_answer_widths
from sharedground.instrument import Instrument, builtin


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return builtin("dmr-2015")


@pytest.mark.parametrize(
    "small",
    [
        pytest.param({"RA1": 3}, id="one-small-group-in-one-trust"),
        pytest.param({"RA1": 3, "RC3": 2}, id="in-two-trusts"),
        pytest.param({t: 3 for t in ("RA1", "RB2", "RC3", "RD4")}, id="in-every-trust"),
        pytest.param({"RA1": 1, "RB2": 4}, id="one-and-four"),
    ],
)
def test_the_charts_give_nothing_away_on_hard_waves(
    instrument: Instrument, small: dict[str, int]
) -> None:
    data = hard_wave(instrument, small)
    decision = decide(data)
    audited = audit_values(data, decision)
    rows = {index for index, _ in chart_rows(data, decision)}
    assert audited and {c.row for c in audited} <= rows
    assert not [c for c in audited if c.failed]
    # The answer-by-answer moves alone fall short somewhere: the programme decided.
    assert any(i.how == "lp" for c in audited for i in c.intervals.values())


def test_what_the_printed_shares_rule_out_is_not_asked_for() -> None:
    """Nobody in the role column gave the disagreeing answers: the cell's valid answers can
    be uncertain only as far as its agreeing ones can."""
    withheld = np.array([[True, True], [True, True]])
    view = Published(
        quantities={"counted": np.array([[2, 3], [4, 1]]), "not_counted": np.zeros((2, 2), int)},
        withheld=withheld,
        rows_printed=np.array([True, True]),
        cols_printed=np.array([True, True]),
        grand_printed=True,
        real_rows_printed=False,
        cap=np.full((2, 2), -1),
    )
    answers = np.zeros((4, 2, 2), dtype=np.int64)
    answers[0] = [[2, 1], [1, 1]]  # strongly agree
    answers[1] = [[0, 1], [3, 0]]  # tend to agree
    base = {(0, 0): {"counted": 1.0, "not_counted": 1.0, "total": 5.0}}
    need = required_answer_widths(view, answers, [0, 1], base)[(0, 0)]
    # Row 0 and column 0 print 3 and 3 strongly agreeing, 1 and 3 tending to: at most
    # 3 + 1 agreeing, and no disagreeing answer at all, so its 5 cannot be asked for.
    assert need == {"counted": 1.0, "not_counted": 0.0, "total": 4.0}
