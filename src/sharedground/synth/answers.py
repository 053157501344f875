"""Attitude answers: Likert statements, ratings, the initiatives grid and pick-up-to-three.

Each function turns the target counts of one cell (`synth.plan`) into a coded column, group by
group, in three steps that keep every count exact:

1. who does not give a valid answer: the most *reticent* respondents (trait + item noise);
   among them the most *skipping* leave the cell blank, the others answer "don't know"
   (`BLANK_SHARE_OF_NONVALID` of the non-valid Likert answers are blank; ratings have no "don't
   know", so all their non-valid answers are blank);
2. among the valid answers, the ranking by ``loading x latent + noise`` (`synth.orientation`)
   gives the counted answer to the top of the ranking and the other side to the rest;
3. each side splits into its extreme and moderate answers by the same ranking.

The initiatives grid (table 2.11) is left wholly blank by as many respondents as every row's
valid n allows (group size minus the largest valid n of any row); the other non-valid answers
are "don't know". Whether an initiative exists is mostly a property of the trust.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from sharedground.instrument import NONE_CHOSEN, GridItem, Likert, LikertItem, MultiItem
from sharedground.synth.assign import assign_blocks, fill_choices, split_sizes
from sharedground.synth.coded import Coded
from sharedground.synth.orientation import (
    BLANK_SHARE_OF_NONVALID,
    CHOICE_LOADING,
    INITIATIVE_LOADING,
    INITIATIVE_TRUST_SD,
    LIKERT_LOADING,
    RATING_LOADING,
    RATING_SPLITS,
    STRONGLY_SHARE,
)
from sharedground.synth.plan import GROUPS, MAX_CHOICES, Blocks, Choices, round_half_up
from sharedground.synth.population import Population, rng_for

LIKERT_VALUES: tuple[str, ...] = tuple(v.value for v in Likert)
_SA, _TA, _TD, _SD, _DK = range(5)
_BLANK_LIKERT = len(LIKERT_VALUES)

GRID_VALUES: tuple[str, ...] = ("yes", "no", "dont_know")
RATING_VALUES: tuple[str, ...] = ("1", "2", "3", "4", "5")


def _noise(rng: np.random.Generator, n: int) -> NDArray[np.float32]:
    """Item noise: two uniform rows for missingness, one standard normal row for the score.

    Single precision: only rankings matter, and it halves the memory traffic of big cohorts.
    """
    noise = np.empty((3, n), dtype=np.float32)
    rng.random((2, n), dtype=np.float32, out=noise[:2])
    noise[:2] *= 2
    rng.standard_normal(n, dtype=np.float32, out=noise[2])
    return noise


def _nonvalid_split(
    population: Population, where: slice, nonvalid: int, blank: int, noise: NDArray[np.float32]
) -> NDArray[np.int8]:
    """Per row of a group: 0 = blank, 1 = don't know, 2 = valid answer.

    `noise` rows 0 and 1 are uniform [0, 2) item noise added to the respondent traits (uniform
    because it is cheap; only the ranking matters here).
    """
    size = where.stop - where.start
    missing = (
        assign_blocks(population.reticence[where] + noise[0, where], [nonvalid, size - nonvalid])
        == 0
    )
    state = np.full(size, 2, dtype=np.int8)
    state[missing] = assign_blocks(
        population.skipping[where][missing] + noise[1, where][missing], [blank, nonvalid - blank]
    )
    return state


def likert(item: LikertItem, blocks: Blocks, population: Population, seed: int) -> Coded:
    """The coded column of one agreement statement."""
    loading = LIKERT_LOADING[item.id]
    rng = rng_for(seed, "likert", item.id)
    noise = _noise(rng, population.size)
    codes = np.full(population.size, _BLANK_LIKERT, dtype=np.uint8)
    # Counted answer first: agreement, or for reverse-scored items disagreement as asked.
    sides = [_SD, _TD, _TA, _SA] if item.reverse else [_SA, _TA, _TD, _SD]
    table = np.array(sides, dtype=np.uint8)
    for g in GROUPS:
        where = population.slice_of(g)
        counted, other, nonvalid = blocks.sizes[g]
        blank = round_half_up(BLANK_SHARE_OF_NONVALID * nonvalid)
        state = _nonvalid_split(population, where, nonvalid, blank, noise)
        group_codes = np.where(state == 0, _BLANK_LIKERT, _DK).astype(np.uint8)
        valid = state == 2
        strong_counted = round_half_up(STRONGLY_SHARE * counted)
        strong_other = round_half_up(STRONGLY_SHARE * other)
        score = np.float32(loading) * population.latent[where][valid] + noise[2, where][valid]
        ranked = assign_blocks(
            score, [strong_counted, counted - strong_counted, other - strong_other, strong_other]
        )
        group_codes[valid] = table[ranked]
        codes[where] = group_codes
    return Coded(LIKERT_VALUES, codes)


def rating(item_id: str, blocks: Blocks, population: Population, seed: int) -> Coded:
    """The coded column of a 1-5 rating (`local_rating` or `nurture_satisfaction`)."""
    loading = RATING_LOADING[item_id]
    splits = RATING_SPLITS[item_id]
    rng = rng_for(seed, "rating", item_id)
    noise = _noise(rng, population.size)
    blank = len(RATING_VALUES)
    codes = np.full(population.size, blank, dtype=np.uint8)
    for g in GROUPS:
        where = population.slice_of(g)
        sizes = dict(zip(blocks.labels, blocks.sizes[g], strict=True))
        missing = sizes.pop("missing")
        state = _nonvalid_split(population, where, missing, missing, noise)
        valid = state == 2
        # Blocks in the order of `blocks.labels`, each split into scale points (high to low).
        points: list[str] = []
        counts: list[int] = []
        for label, size in sizes.items():
            split = splits[label]
            points += [p for p, _ in split]
            counts += split_sizes(size, [s for _, s in split])
        score = np.float32(loading) * population.latent[where][valid] + noise[2, where][valid]
        ranked = assign_blocks(score, counts)
        table = np.array([RATING_VALUES.index(p) for p in points], dtype=np.uint8)
        group_codes = np.full(where.stop - where.start, blank, dtype=np.uint8)
        group_codes[valid] = table[ranked]
        codes[where] = group_codes
    return Coded(RATING_VALUES, codes)


def grid(
    item: GridItem, blocks: Mapping[str, Blocks], population: Population, seed: int
) -> dict[str, Coded]:
    """One coded column per initiative, keyed by option id; blank = whole grid skipped."""
    rng = rng_for(seed, "grid", item.id)
    options = [o.id for o in item.options]
    trust_effect = (
        INITIATIVE_TRUST_SD * rng.standard_normal((len(options), population.n_trusts))
    ).astype(np.float32)
    skip_noise = rng.random(population.size, dtype=np.float32)
    out = {o: np.full(population.size, len(GRID_VALUES), dtype=np.uint8) for o in options}
    for g in GROUPS:
        where = population.slice_of(g)
        size = where.stop - where.start
        skipped = size - max(blocks[o].sizes[g][0] + blocks[o].sizes[g][1] for o in options)
        answering = (
            assign_blocks(
                population.reticence[where] + population.skipping[where] + 2 * skip_noise[where],
                [skipped, size - skipped],
            )
            == 1
        )
        rows = np.flatnonzero(answering)
        reticence = population.reticence[where][rows]
        latent = np.float32(INITIATIVE_LOADING) * population.latent[where][rows]
        trust = population.trust[where][rows]
        for k, option in enumerate(options):
            yes, no, _ = blocks[option].sizes[g]
            knows = (
                assign_blocks(
                    reticence + 2 * rng.random(rows.size, dtype=np.float32),
                    [rows.size - yes - no, yes + no],
                )
                == 1
            )
            score = (
                latent[knows]
                + trust_effect[k, trust[knows]]
                + rng.standard_normal(int(knows.sum()), dtype=np.float32)
            )
            group_codes = np.full(size, len(GRID_VALUES), dtype=np.uint8)
            group_codes[rows] = GRID_VALUES.index("dont_know")
            group_codes[rows[knows]] = assign_blocks(score, [yes, no]).astype(np.uint8)
            out[option][where] = group_codes
    return {o: Coded(GRID_VALUES, c) for o, c in out.items()}


def multi(
    item: MultiItem, choices: Choices, population: Population, seed: int
) -> tuple[Coded, NDArray[np.bool_]]:
    """A pick-up-to-three column and the ticks behind it (respondents x options, item order).

    Everybody answers; a respondent with nothing ticked answers `none`.
    """
    options = [o.id for o in item.options]
    limit = item.max_choices or len(options)
    if limit > MAX_CHOICES:
        raise ValueError(f"{item.id}: the plan allows at most {MAX_CHOICES} choices")
    loadings = CHOICE_LOADING[item.id]
    rng = rng_for(seed, "multi", item.id)
    ticks = np.zeros((population.size, len(options)), dtype=np.bool_)
    for g in GROUPS:
        where = population.slice_of(g)
        size = where.stop - where.start
        counts = [choices.get(g, o) if o in choices.options else 0 for o in options]
        weight = np.array([loadings.get(o, 0.0) for o in options])
        preference = population.latent[where, None] * weight.astype(np.float32) + (
            rng.standard_normal((size, len(options)), dtype=np.float32)
        )
        ticks[where] = fill_choices(preference, counts, limit)
    masks = ticks.astype(np.uint16) @ (1 << np.arange(len(options), dtype=np.uint16))
    return Coded(_mask_labels(options), masks), ticks


def _mask_labels(options: Sequence[str]) -> list[str]:
    """The cell text of every subset of options, indexed by its bit mask."""
    labels = []
    for mask in range(1 << len(options)):
        picked = [o for i, o in enumerate(options) if mask >> i & 1]
        labels.append(";".join(picked) if picked else NONE_CHOSEN)
    return labels
