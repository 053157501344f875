"""Demographic answers: tables 1.1 and 1.2, and the report's summary of who replied.

Tables 1.1 (appointment route, n = 470) and 1.2 (clinical commitments, n = 463) print
percentages per group only. Counts are derived at the published size as
``largest remainder(pct x answered in group / 100)``; the blanks are split between groups as
below, chosen because these are splits under which every derived count rounds back to the
printed percentage (several splits do; the choice is an assumption):

* table 1.1: 2 blank = 1 medical director + 1 directorate manager;
* table 1.2: 9 blank = 1 chief executive, 2 medical directors, 4 directorate managers and
  2 clinical directors.

Other sizes scale these counts by largest remainder. The other items follow the report's
summary (about 88% in England, the rest evenly across Scotland, Wales and Northern Ireland;
about 60% male; 60% medicine, 12% nursing or midwifery, about 10% another clinical profession;
about a third fixed-term) through the per-group shares below, which are assumptions chosen to
reproduce those totals and to be consistent with the role (medical directors are doctors; most
clinical directors are). 1% of each group leaves each of these items blank. Country is a
property of the trust: trusts are shuffled and filled country by country until about 88% of
respondents are in England. Clinical commitments go to respondents with a clinical
qualification first (doctors before other professions), so that nobody without one reports
clinical work while a qualified colleague reports none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cache

import numpy as np
from numpy.typing import NDArray

from sharedground.instrument import Instrument, SingleItem
from sharedground.reference import published_2015
from sharedground.synth.assign import assign_blocks, split_sizes
from sharedground.synth.coded import Coded
from sharedground.synth.plan import GROUPS, Blocks, apportion
from sharedground.synth.population import Population, rng_for

BLANK = "blank"

#: Blanks per group in tables 1.1 and 1.2 (see the module docstring).
TABLE_BLANKS: dict[str, dict[str, int]] = {
    "table_1.1": {
        "chief_executive": 0,
        "medical_director": 1,
        "directorate_manager": 1,
        "clinical_director": 0,
    },
    "table_1.2": {
        "chief_executive": 1,
        "medical_director": 2,
        "directorate_manager": 4,
        "clinical_director": 2,
    },
}
TABLE_ITEMS = {"table_1.1": "appointment_route", "table_1.2": "clinical_commitments"}

ITEM_BLANK_SHARE = Fraction(1, 100)


def _f(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


#: Per-group answer shares (of those answering) for the items the report summarises.
SHARES: dict[str, dict[str, dict[str, Fraction]]] = {
    "gender": {
        "chief_executive": {"female": _f(0.39), "male": _f(0.60), "prefer_not_to_say": _f(0.01)},
        "medical_director": {"female": _f(0.19), "male": _f(0.80), "prefer_not_to_say": _f(0.01)},
        "directorate_manager": {
            "female": _f(0.67),
            "male": _f(0.32),
            "prefer_not_to_say": _f(0.01),
        },
        "clinical_director": {"female": _f(0.31), "male": _f(0.68), "prefer_not_to_say": _f(0.01)},
    },
    "clinical_qualification": {
        "chief_executive": {
            "medicine": _f(0.07),
            "nursing_midwifery": _f(0.17),
            "other_clinical": _f(0.06),
            "no_qualification": _f(0.70),
        },
        "medical_director": {"medicine": _f(1.0)},
        "directorate_manager": {
            "medicine": _f(0.02),
            "nursing_midwifery": _f(0.33),
            "other_clinical": _f(0.31),
            "no_qualification": _f(0.34),
        },
        "clinical_director": {
            "medicine": _f(0.96),
            "nursing_midwifery": _f(0.02),
            "other_clinical": _f(0.02),
        },
    },
    "fixed_term": {
        "chief_executive": {"yes": _f(0.15), "no": _f(0.85)},
        "medical_director": {"yes": _f(0.40), "no": _f(0.60)},
        "directorate_manager": {"yes": _f(0.20), "no": _f(0.80)},
        "clinical_director": {"yes": _f(0.45), "no": _f(0.55)},
    },
}

COUNTRY_SHARES: dict[str, Fraction] = {
    "england": _f(0.88),
    "scotland": _f(0.04),
    "wales": _f(0.04),
    "northern_ireland": _f(0.04),
}

#: Clinical commitments are given out from the heaviest to none, to the most clinical first.
_COMMITMENT_ORDER = (
    "more_than_two_thirds",
    "one_to_two_thirds",
    "less_than_third",
    "no_commitments",
)


@cache
def published_blocks(table_id: str) -> Blocks:
    """Counts per group of a table 1.x at the published size: options then blanks."""
    table = next(t for t in published_2015()["tables"] if t["id"] == table_id)
    sizes = published_2015()["study"]["respondents"]["by_group"]
    out: dict[str, tuple[int, ...]] = {}
    for g in GROUPS:
        blanks = TABLE_BLANKS[table_id][g]
        answered = int(sizes[g]) - blanks
        counts = apportion([Fraction(int(p) * answered, 100) for p in table["rows"][g]], answered)
        out[g] = (*counts, blanks)
    return Blocks((*(str(i) for i in range(len(table["options"]))), BLANK), out)


def _option_ids(instrument: Instrument, item_id: str) -> list[str]:
    item = instrument.item(item_id)
    assert isinstance(item, SingleItem)
    return [o.id for o in item.options]


def _from_shares(shares: Mapping[str, Fraction], options: Sequence[str], n: int) -> list[int]:
    """Counts per option then blank for `n` respondents."""
    answered = n - int(ITEM_BLANK_SHARE * n + Fraction(1, 2))
    parts = split_sizes(answered, [shares.get(o, Fraction(0)) for o in options])
    return [*parts, n - answered]


def _fill(
    codes: NDArray[np.uint8], where: slice, score: NDArray[np.float64], sizes: Sequence[int]
) -> None:
    """Codes 0..k-1 by descending score, code k (blank) last; block sizes as given."""
    codes[where] = assign_blocks(score, sizes).astype(np.uint8)


def demographics(instrument: Instrument, population: Population, seed: int) -> dict[str, Coded]:
    """The demographic columns of the instrument (every single-choice item but `role`).

    Args:
        instrument: dmr-2015 or dmr-2002.
        population: The respondents.
        seed: The cohort's seed.

    Returns:
        Item id -> coded column.
    """
    out: dict[str, Coded] = {}
    n = population.size
    sizes = population.group_sizes
    present = {item.id for item in instrument.items()}
    qualification: NDArray[np.uint8] | None = None
    for item_id in ("gender", "clinical_qualification", "fixed_term"):
        if item_id not in present:
            continue
        options = _option_ids(instrument, item_id)
        codes = np.zeros(n, dtype=np.uint8)
        rng = rng_for(seed, "demographics", item_id)
        for g in GROUPS:
            where = population.slice_of(g)
            counts = _from_shares(SHARES[item_id][g], options, sizes[g])
            _fill(codes, where, rng.random(sizes[g]), counts)
        out[item_id] = Coded(options, codes)
        if item_id == "clinical_qualification":
            qualification = codes

    if "appointment_route" in present:
        options = _option_ids(instrument, "appointment_route")
        blocks = published_blocks("table_1.1").scaled(sizes)
        codes = np.zeros(n, dtype=np.uint8)
        rng = rng_for(seed, "demographics", "appointment_route")
        for g in GROUPS:
            _fill(codes, population.slice_of(g), rng.random(sizes[g]), blocks.sizes[g])
        out["appointment_route"] = Coded(options, codes)

    if "clinical_commitments" in present:
        out["clinical_commitments"] = _commitments(instrument, population, qualification, seed)

    if "country" in present:
        out["country"] = _country(instrument, population, seed)
    return out


def _commitments(
    instrument: Instrument,
    population: Population,
    qualification: NDArray[np.uint8] | None,
    seed: int,
) -> Coded:
    options = _option_ids(instrument, "clinical_commitments")
    blocks = published_blocks("table_1.2").scaled(population.group_sizes)
    rng = rng_for(seed, "demographics", "clinical_commitments")
    n = population.size
    codes = np.zeros(n, dtype=np.uint8)
    # Clinical first, doctors before other professions; random within a level. Codes of
    # clinical_qualification: medicine 0, nursing 1, other clinical 2, none 3, blank 4.
    clinical = (
        np.zeros(n)
        if qualification is None
        else ((qualification == 0) * 2.0 + np.isin(qualification, (1, 2)) * 1.0)
    )
    score = clinical + rng.random(n)
    order = [options.index(o) for o in _COMMITMENT_ORDER]
    for g in GROUPS:
        where = population.slice_of(g)
        counts = blocks.sizes[g]
        size = population.group_sizes[g]
        # Blanks first, at random; then the answers by descending clinical score.
        answered = assign_blocks(rng.random(size), [counts[-1], size - counts[-1]]) == 1
        group_codes = np.full(size, len(options), dtype=np.uint8)
        ranked = assign_blocks(score[where][answered], [counts[i] for i in order])
        group_codes[answered] = np.array(order, dtype=np.uint8)[ranked]
        codes[where] = group_codes
    return Coded(options, codes)


def _country(instrument: Instrument, population: Population, seed: int) -> Coded:
    options = _option_ids(instrument, "country")
    rng = rng_for(seed, "demographics", "country")
    per_trust = np.bincount(population.trust, minlength=population.n_trusts)
    shuffled = rng.permutation(population.n_trusts)
    # A trust's country is set by where the middle of its respondents falls on the cumulative
    # share: about 88% of respondents land in England whatever the trust sizes.
    cumulative = np.cumsum(per_trust[shuffled]) - per_trust[shuffled] / 2
    position = cumulative / max(1, population.size)
    bounds = np.cumsum([float(COUNTRY_SHARES[o]) for o in options])[:-1]
    trust_country = np.empty(population.n_trusts, dtype=np.uint8)
    trust_country[shuffled] = np.searchsorted(bounds, position, side="right").astype(np.uint8)
    codes = trust_country[population.trust]
    for g in GROUPS:
        where = population.slice_of(g)
        size = population.group_sizes[g]
        blanks = int(ITEM_BLANK_SHARE * size + Fraction(1, 2))
        is_blank = assign_blocks(rng.random(size), [blanks, size - blanks]) == 0
        group_codes = codes[where].copy()
        group_codes[is_blank] = len(options)
        codes[where] = group_codes
    return Coded(options, codes)
