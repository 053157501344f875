"""Small-cell suppression that cannot be undone by subtraction.

A cell (count, denominator, percentage) is withheld when fewer than `threshold` people gave
a valid answer in it (primary suppression). Because the overall figure is printed too, one
withheld group could be recovered as "overall minus the groups shown", so more groups are
withheld (secondary suppression) until the withheld groups together hold at least
`threshold` valid answers and are at least two, smallest shown groups first. When even
that cannot protect them, the overall figure is withheld as well. Where the row prints
counts, the withheld groups must also hold together some answers counted and some not:
"overall minus the groups shown" gives their count too, and a sum of 0 pins every one.

The count and the denominator of a cell are withheld together, so a complementary count
(those not agreeing = denominator - count) is never derivable from what is shown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]

DEFAULT_THRESHOLD = 5


def suppress(
    valid: npt.NDArray[np.int64],
    overall_valid: int,
    threshold: int,
    counted: npt.NDArray[np.int64] | None = None,
) -> tuple[BoolArray, bool]:
    """Which groups to withhold, and whether to withhold the overall figure as well.

    Args:
        valid: valid answers per group.
        overall_valid: valid answers overall (the groups plus anyone ungrouped).
        threshold: the smallest number of valid answers that may be shown.
        counted: the answers counted per group (those agreeing, choosing the option), when
            the row prints them: the withheld groups together must then hold some answers
            counted and some not (see below).

    Returns:
        A mask of withheld groups and a flag for the overall figure.
    """
    withheld = np.asarray(valid) < threshold
    if threshold <= 0:
        return np.zeros(len(valid), dtype=bool), False
    overall_withheld = overall_valid < threshold
    if overall_withheld or not withheld.any():
        return withheld, overall_withheld
    # Ungrouped respondents are not printed as a column, but a reader may know there are
    # none; so "overall minus the shown groups" is assumed to reveal the withheld total.
    order = np.argsort(valid, kind="stable")
    while withheld.sum() == 1 or int(np.asarray(valid)[withheld].sum()) < threshold:
        candidates = [i for i in order if not withheld[i]]
        if not candidates:
            break
        withheld[candidates[0]] = True
    if counted is not None:
        _mixed(np.asarray(valid), np.asarray(counted), withheld, order)
    if int(np.asarray(valid)[withheld].sum()) < threshold or withheld.sum() == 1:
        # Every group is withheld and together they are still too few (or there is just
        # one group): the overall figure would give them away.
        overall_withheld = True
    return withheld, overall_withheld


def _mixed(
    valid: npt.NDArray[np.int64],
    counted: npt.NDArray[np.int64],
    withheld: BoolArray,
    order: npt.NDArray[np.intp],
) -> None:
    """Withhold more groups until the withheld ones hold answers counted and not counted.

    "Overall minus the groups shown" gives the withheld groups' count together as well as
    their valid answers. When none of them (or all of them) gave the answer, that sum is 0
    (or all they have), and every withheld group's count is known exactly however many
    they are: nine people in two small trusts, none of whom chose "other". The smallest
    group that gave the missing kind of answer is withheld too; if no group shown did, the
    overall figure already says it of everyone and nothing more can hide it.
    """
    for side in (counted, valid - counted):
        while int(valid[withheld].sum()) and not int(side[withheld].sum()):
            candidates = [i for i in order if not withheld[i] and side[i] > 0]
            if not candidates:
                break
            withheld[candidates[0]] = True
