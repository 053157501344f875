"""Agreement between coders: percent agreement, Cohen's kappa and Krippendorff's alpha.

Statistics (all nominal):

* **percent agreement**: the share of units on which every coder who coded it made the same
  decision (the code is there, or not);
* **Cohen's kappa** (two coders; scikit-learn's `cohen_kappa_score`): agreement beyond what
  the coders' own rates give by chance, on the units both coded (Cohen 1960);
* **Krippendorff's alpha** (the `krippendorff` package; any number of coders, units a coder
  did not code left out of that coder's pairs): 1 - observed / expected disagreement
  (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").

Per code each decision is binary, and a code counts as applied where any code under it is
(as the themes table counts a theme), so the seven themes of the starter frame get figures
even when coders use only their sub-codes. Overall, every (unit, code) decision is pooled into one
binary table, so codes used often weigh more, as they do in a reader's sense of agreement.

Two ways to count:

* **units**: a comment is one unit; a transcript's units are its paragraphs
  (`segments.units`). A coder codes a unit with a code when any of their codings of the code
  touches it. Units of a source a coder made no coding on are missing for that coder (alpha
  allows it; kappa uses the units both coded), unless `all_coded` says every coder read every
  source of the sample, when no coding means "no code";
* **characters**, as NVivo's coding comparison does: each character of a source both coders
  coded is a decision per code, so the size of an overlap counts.

The disagreements listed for the coders to settle (`text resolve`) are the units on which
their decisions on a code differ, except a theme's that follow only from its sub-codes (no
coder put the theme itself on the unit, and a code under it disagrees there): settling the
sub-code settles the theme, and listing both invited settling the theme alone, which left
the sub-code, and so the theme, in place.

A 95% confidence interval for the unit statistics comes from a seeded bootstrap over sources
(so a transcript's paragraphs move together): resampled `replicates` times, percentiles
2.5 and 97.5 of the replicates where the statistic is defined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sharedground.text.coding import CodingRow
from sharedground.text.errors import TextError
from sharedground.text.segments import units

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store.textschema import CodeFrame

FloatArray = npt.NDArray[np.float64]
NAN = float("nan")


# -- the statistics ----------------------------------------------------------------------------


def _pairable(data: FloatArray) -> FloatArray:
    """Columns (units) with at least two values."""
    return data[:, (~np.isnan(data)).sum(axis=0) >= 2]


def krippendorff_alpha(data: Sequence[Sequence[float]] | FloatArray) -> float:
    """Nominal alpha of a coders x units table (NaN where a coder gave no value).

    NaN when it is undefined: no unit has two values, or every value is the same (there is
    no disagreement to expect, so none can be observed beyond it).
    """
    import krippendorff

    table = _pairable(np.asarray(data, dtype=float))
    values = table[~np.isnan(table)]
    if values.size == 0 or np.unique(values).size < 2:
        return NAN
    return float(krippendorff.alpha(reliability_data=table, level_of_measurement="nominal"))


def cohen_kappa(first: Sequence[float] | FloatArray, second: Sequence[float] | FloatArray) -> float:
    """Cohen's kappa of two coders on the units both coded; NaN when undefined."""
    from sklearn.metrics import cohen_kappa_score

    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    if a.size == 0:
        return NAN
    # Chance agreement of 1 (both coders gave one and the same value throughout) makes
    # kappa 0/0; scikit-learn would warn and return NaN, so say so here without the warning.
    if np.unique(np.concatenate([a, b])).size < 2:
        return NAN
    return float(cohen_kappa_score(a, b))


def percent_agreement(data: Sequence[Sequence[float]] | FloatArray) -> float:
    """Share of units with two or more values on which all values are the same."""
    table = _pairable(np.asarray(data, dtype=float))
    if table.shape[1] == 0:
        return NAN
    low = np.nanmin(table, axis=0)
    high = np.nanmax(table, axis=0)
    return float(np.mean(low == high))


# -- from codings to tables --------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    source_id: int
    start: int
    end: int


@dataclass
class Statistics:
    """Agreement of one code (or all codes pooled)."""

    code: str
    units: int
    percent: float
    kappa: float
    alpha: float
    kappa_ci: tuple[float, float] = (NAN, NAN)
    alpha_ci: tuple[float, float] = (NAN, NAN)
    chars: int = 0
    chars_percent: float = NAN
    chars_kappa: float = NAN
    chars_alpha: float = NAN


@dataclass(frozen=True)
class Disagreement:
    source_id: int
    start: int
    end: int
    code: str
    decisions: dict[str, bool]


@dataclass
class Agreement:
    coders: list[str]
    codes: list[Statistics]
    overall: Statistics
    disagreements: list[Disagreement] = field(default_factory=list)


def _with_parents(frame: CodeFrame, found: list[CodingRow]) -> list[CodingRow]:
    """The codings, and for each the same span under every code above its code."""
    parent = {code.id: code.parent_id for code in frame.codes}
    key_of = {code.id: code.key for code in frame.codes}
    id_of = {code.key: code.id for code in frame.codes}
    extended = list(found)
    for row in found:
        above = parent[id_of[row.code]]
        while above is not None:
            extended.append(CodingRow(row.source_id, key_of[above], row.coder, row.start, row.end))
            above = parent[above]
    return extended


def _covers(row: CodingRow, unit: Unit, length: int) -> bool:
    start = 0 if row.start is None else row.start
    end = length if row.end is None else row.end
    return start < unit.end and unit.start < end


def compare(
    session: Session,
    frame: CodeFrame,
    coders: Sequence[str],
    *,
    source_ids: Sequence[int] | None = None,
    all_coded: bool = False,
    replicates: int = 1000,
    seed: int = 0,
) -> Agreement:
    """Agreement of `coders` on the frame's codes, over the sources any of them coded."""
    from sharedground.store.textschema import TextSource
    from sharedground.text import coding

    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise TextError("agreement needs two or more coders (--coders ann,bob)")
    direct = coding.rows(session, frame, coders=coders, source_ids=source_ids)
    found = _with_parents(frame, direct)
    known = {row.coder for row in found}
    absent = [name for name in coders if name not in known]
    if absent:
        raise TextError(f"no codings by {', '.join(absent)} in frame {frame.key}@{frame.version}")
    sample = sorted(set(source_ids) if source_ids is not None else {r.source_id for r in found})
    texts = {
        s.id: (s.kind, s.content)
        for s in (session.get(TextSource, ident) for ident in sample)
        if s is not None
    }
    keys = [code.key for code in sorted(frame.codes, key=lambda c: c.id)]
    by_source: dict[int, list[CodingRow]] = {}
    for row in found:
        by_source.setdefault(row.source_id, []).append(row)

    # decisions[code] is coders x units; groups[i] is the source of unit i (for the bootstrap).
    unit_list: list[Unit] = []
    for ident in sample:
        kind, content = texts[ident]
        unit_list += [Unit(ident, seg.start, seg.end) for seg in units(kind, content)]
    decisions = {key: np.full((len(coders), len(unit_list)), NAN) for key in keys}
    for j, unit in enumerate(unit_list):
        rows_here = by_source.get(unit.source_id, [])
        length = len(texts[unit.source_id][1])
        for i, name in enumerate(coders):
            mine = [r for r in rows_here if r.coder == name]
            if not mine and not all_coded:
                continue
            for key in keys:
                decisions[key][i, j] = float(
                    any(r.code == key and _covers(r, unit, length) for r in mine)
                )
    groups = np.array([unit.source_id for unit in unit_list])

    chars = _character_tables(coders, keys, sample, texts, by_source, all_coded)
    stats = [_statistics(key, decisions[key], groups, chars[key], replicates, seed) for key in keys]
    pooled = np.concatenate([decisions[key] for key in keys], axis=1)
    pooled_groups = np.concatenate([groups for _ in keys])
    pooled_chars = np.concatenate([chars[key] for key in keys], axis=1)
    overall = _statistics("overall", pooled, pooled_groups, pooled_chars, replicates, seed)

    # A theme's disagreement that comes only from its sub-codes' is settled with theirs, so it
    # is not listed: no coder put the theme itself there, and a code under it disagrees.
    def disagree(key: str, j: int) -> bool:
        column = decisions[key][:, j]
        given = column[~np.isnan(column)]
        return bool(given.size >= 2 and given.min() != given.max())

    children: dict[str, list[str]] = {key: [] for key in keys}
    key_of = {code.id: code.key for code in frame.codes}
    for code in frame.codes:
        if code.parent_id is not None:
            children[key_of[code.parent_id]].append(code.key)
    direct_by_source: dict[int, list[CodingRow]] = {}
    for row in direct:
        direct_by_source.setdefault(row.source_id, []).append(row)

    def follows_from_sub_codes(key: str, j: int, unit: Unit) -> bool:
        if not any(disagree(child, j) for child in children[key]):
            return False
        length = len(texts[unit.source_id][1])
        return not any(
            r.code == key and _covers(r, unit, length)
            for r in direct_by_source.get(unit.source_id, [])
        )

    disagreements = []
    for key in keys:
        table = decisions[key]
        for j, unit in enumerate(unit_list):
            column = table[:, j]
            if disagree(key, j) and not follows_from_sub_codes(key, j, unit):
                disagreements.append(
                    Disagreement(
                        unit.source_id,
                        unit.start,
                        unit.end,
                        key,
                        {
                            name: bool(column[i])
                            for i, name in enumerate(coders)
                            if not math.isnan(column[i])
                        },
                    )
                )
    disagreements.sort(key=lambda d: (d.source_id, d.start, d.code))
    return Agreement(coders, stats, overall, disagreements)


def _character_tables(
    coders: list[str],
    keys: list[str],
    sample: list[int],
    texts: dict[int, tuple[str, str]],
    by_source: dict[int, list[CodingRow]],
    all_coded: bool,
) -> dict[str, FloatArray]:
    """Per code, coders x characters (of the sources every coder coded) with 1 where coded."""
    tables: dict[str, list[FloatArray]] = {key: [] for key in keys}
    for ident in sample:
        length = len(texts[ident][1])
        rows_here = by_source.get(ident, [])
        if not all_coded and any(not [r for r in rows_here if r.coder == c] for c in coders):
            continue
        for key in keys:
            table = np.zeros((len(coders), length))
            for i, name in enumerate(coders):
                for r in rows_here:
                    if r.coder == name and r.code == key:
                        table[
                            i,
                            0 if r.start is None else r.start : length if r.end is None else r.end,
                        ] = 1
            tables[key].append(table)
    empty = np.zeros((len(coders), 0))
    return {key: np.concatenate(parts, axis=1) if parts else empty for key, parts in tables.items()}


def _statistics(
    key: str,
    table: FloatArray,
    groups: npt.NDArray[np.int64],
    chars: FloatArray,
    replicates: int,
    seed: int,
) -> Statistics:
    two = table.shape[0] == 2
    kappa = cohen_kappa(table[0], table[1]) if two else NAN
    result = Statistics(
        code=key,
        units=int(_pairable(table).shape[1]),
        percent=percent_agreement(table),
        kappa=kappa,
        alpha=krippendorff_alpha(table),
        chars=int(chars.shape[1]),
        chars_percent=percent_agreement(chars) if chars.shape[1] else NAN,
        chars_kappa=cohen_kappa(chars[0], chars[1]) if two and chars.shape[1] else NAN,
        chars_alpha=krippendorff_alpha(chars) if chars.shape[1] else NAN,
    )
    if replicates > 0 and not math.isnan(result.alpha):
        result.alpha_ci, result.kappa_ci = _bootstrap(table, groups, replicates, seed, two)
    return result


def binary_alpha(table: FloatArray) -> float:
    """Nominal alpha of 0/1 decisions from the coincidence counts (the bootstrap's fast path).

    With m_u values in unit u, n0_u zeros and n1_u ones, the off-diagonal coincidences are
    o01 = sum n0_u n1_u / (m_u - 1) and alpha = 1 - (n - 1) o01 / (n0 n1) (Krippendorff 2011,
    section C, for two values). `tests/text/test_agreement.py` holds it to `krippendorff`.
    """
    table = _pairable(table)
    ones = np.nansum(table, axis=0)
    counts = (~np.isnan(table)).sum(axis=0)
    zeros = counts - ones
    n, n1 = counts.sum(), ones.sum()
    n0 = n - n1
    if n0 == 0 or n1 == 0:
        return NAN
    observed = float((zeros * ones / (counts - 1)).sum())
    return float(1.0 - (n - 1) * observed / (n0 * n1))


def binary_kappa(first: FloatArray, second: FloatArray) -> float:
    """Cohen's kappa of 0/1 decisions on the units both coded (the bootstrap's fast path)."""
    both = ~np.isnan(first) & ~np.isnan(second)
    a, b = first[both], second[both]
    if a.size == 0:
        return NAN
    observed = float(np.mean(a == b))
    pa, pb = float(a.mean()), float(b.mean())
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance == 1.0:
        return NAN
    return (observed - chance) / (1 - chance)


def _bootstrap(
    table: FloatArray, groups: npt.NDArray[np.int64], replicates: int, seed: int, two: bool
) -> tuple[tuple[float, float], tuple[float, float]]:
    rng = np.random.default_rng(seed)
    sources = np.unique(groups)
    columns = {g: np.flatnonzero(groups == g) for g in sources}
    alphas, kappas = [], []
    for _ in range(replicates):
        drawn = rng.choice(sources, size=sources.size, replace=True)
        picked = np.concatenate([columns[g] for g in drawn])
        sample = table[:, picked]
        alphas.append(binary_alpha(sample))
        if two:
            kappas.append(binary_kappa(sample[0], sample[1]))
    return _interval(alphas), _interval(kappas)


def _interval(values: list[float]) -> tuple[float, float]:
    kept = np.array([v for v in values if not math.isnan(v)])
    if kept.size == 0:
        return NAN, NAN
    low, high = np.percentile(kept, [2.5, 97.5])
    return float(low), float(high)
