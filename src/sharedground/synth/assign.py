"""Exact assignment: given target counts, decide who gives which answer.

Two tools, both vectorised (no loop over respondents):

* `assign_blocks` ranks respondents by a score and cuts the ranking into blocks of given sizes,
  so the counts are exact and the answers follow the score (the latent attitude plus noise).
* `fill_choices` fills a respondents x options 0/1 matrix with exact column sums (respondents
  ticking each option) and at most `max_choices` ticks per row, preferring for each option the
  respondents with the highest preference. It processes options from the most to the least
  ticked; for each one it first tries a choice that follows preference with a mild penalty for
  respondents who already ticked much, and falls back to the Gale-Ryser greedy choice (the rows
  with most room left) whenever the preferred choice would leave the remaining options without a
  solution. The greedy choice always keeps a solvable problem solvable, so the fill never fails
  when the targets are feasible.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from sharedground.synth.plan import apportion

#: Preference penalty per choice already made (the first, preference-led attempt).
CHOICE_PENALTY = 0.6

#: A penalty so large that room left decides alone: the Gale-Ryser greedy choice.
_GREEDY = 1e4


def assign_blocks(score: NDArray[np.floating], sizes: Sequence[int]) -> NDArray[np.int8]:
    """Block number per element: the `sizes[0]` highest scores get 0, the next `sizes[1]` 1...

    Args:
        score: One score per element (ties are broken arbitrarily but deterministically).
        sizes: Block sizes; they must add up to the number of elements.

    Returns:
        The block index of every element, as int8.
    """
    n = int(score.shape[0])
    if sum(sizes) != n:
        raise ValueError(f"block sizes add to {sum(sizes)}, not to the {n} elements")
    bounds = np.cumsum(sizes)[:-1]
    kth = np.unique(bounds[(bounds > 0) & (bounds < n)])
    order = np.argpartition(-score, kth) if kth.size else np.arange(n)
    blocks = np.empty(n, dtype=np.int8)
    blocks[order] = np.repeat(np.arange(len(sizes), dtype=np.int8), sizes)
    return blocks


def split_sizes(total: int, shares: Sequence[Fraction]) -> tuple[int, ...]:
    """`total` split by `shares` (which add to 1) with the largest-remainder method."""
    return apportion([s * total for s in shares], total)


def _feasible(room: NDArray[np.int64], counts: Sequence[int], max_choices: int) -> bool:
    """Can `counts` (ticks per option) still be placed, at most one per row and option?

    Gale-Ryser for row capacities: for every m, the m largest option counts must fit into
    sum over rows of min(room, m).
    """
    if not counts:
        return True
    wanted = np.cumsum(sorted(counts, reverse=True))
    histogram = np.bincount(room, minlength=max_choices + 1)
    m = np.arange(1, len(wanted) + 1)
    levels = np.arange(max_choices + 1)
    available = (np.minimum.outer(m, levels) * histogram).sum(axis=1)
    return bool(np.all(wanted <= available))


def fill_choices(
    preference: NDArray[np.floating], counts: Sequence[int], max_choices: int
) -> NDArray[np.bool_]:
    """A 0/1 matrix with column sums `counts` and row sums at most `max_choices`.

    Args:
        preference: Respondents x options; higher = more inclined to tick the option.
        counts: Respondents ticking each option.
        max_choices: The most options one respondent may tick.

    Returns:
        Respondents x options, True where ticked.

    Raises:
        ValueError: When no such matrix exists.
    """
    n, k = preference.shape
    if len(counts) != k:
        raise ValueError(f"{len(counts)} counts for {k} options")
    if any(c < 0 or c > n for c in counts):
        raise ValueError(f"option counts {list(counts)} do not fit {n} respondents")
    room = np.full(n, max_choices, dtype=np.int64)
    if not _feasible(room, list(counts), max_choices):
        raise ValueError(
            f"option counts {list(counts)} need more than {max_choices} choices for some of "
            f"the {n} respondents"
        )
    chosen = np.zeros((n, k), dtype=np.bool_)
    order = sorted(range(k), key=lambda j: (-counts[j], j))
    for step, option in enumerate(order):
        count = counts[option]
        if count == 0:
            continue
        rest = [counts[j] for j in order[step + 1 :]]
        pref = np.clip(preference[:, option].astype(np.float64), -50, 50)
        for penalty in (CHOICE_PENALTY, _GREEDY):
            key = pref + penalty * room
            key[room == 0] = -np.inf
            picked = np.argpartition(-key, count - 1)[:count] if count < n else np.arange(n)
            after = room.copy()
            after[picked] -= 1
            if _feasible(after, rest, max_choices):
                break
        else:  # pragma: no cover - the greedy choice keeps a feasible problem feasible
            raise RuntimeError("pick-up-to-three fill lost feasibility")
        chosen[picked, option] = True
        room = after
    return chosen
