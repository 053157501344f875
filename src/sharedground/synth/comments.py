"""Free-text comments, assembled from the project's own sentences (`synth.templates`).

* **Who comments.** A minority per box (`COMMENT_RATES`, 15-22%): the most talkative by a
  respondent trait plus noise, a little more often those with strong (especially negative)
  views, as in most staff surveys.
* **What they write.** One sentence from the box's pool for their tone (positive, mixed or
  negative by their latent attitude), its slots filled from their own answers (a barrier they
  ticked, an initiative they have...), and for `CLOSER_SHARE` of comments a second, generic
  sentence. ``barriers_other`` is filled exactly for those who ticked "something else".
* **Personal data to scrub.** `PII_SHARE` (1%) of all comments, and at least `PII_MIN` (3) in
  any cohort with that many comments, end with a sentence that an anonymiser must catch, cycling
  through an e-mail address (``first.last@example.org``, a reserved domain), a UK telephone
  number from Ofcom's ranges reserved for drama (01632 960xxx, 07700 900xxx) and a person named
  with a title ("Dr Smith", "Mrs Patel"). So the default cohort has at least one of each kind.
  Names are always titled: untitled names cannot be found reliably by an anonymiser, and a
  synthetic cohort that leaked them would only test the impossible.

Everything is vectorised with polars string expressions, one per template, not per respondent.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl
from numpy.typing import NDArray

from sharedground.instrument import Instrument
from sharedground.synth import templates as tx
from sharedground.synth.coded import Coded
from sharedground.synth.plan import GROUPS, round_half_up
from sharedground.synth.population import Population, rng_for

COMMENT_RATES: dict[str, Fraction] = {
    "comments_overall": Fraction(22, 100),
    "comments_statements_1": Fraction(16, 100),
    "comments_statements_2": Fraction(15, 100),
    "comments_statements_3": Fraction(15, 100),
    "comments_statements_4": Fraction(15, 100),
    "comments_statements_5": Fraction(17, 100),
    "comments_barriers": Fraction(18, 100),
    "comments_factors": Fraction(16, 100),
    "comments_initiatives": Fraction(15, 100),
    "comments_final": Fraction(20, 100),
}
CLOSER_SHARE = 0.35
PII_SHARE = Fraction(1, 100)
PII_MIN = 3

#: Latent attitude below / above which comments take the negative / positive pool.
TONE_CUT = 0.35

_POOLS: dict[str, tx.Pools] = {
    "comments_overall": tx.OVERALL,
    "comments_barriers": tx.BARRIERS,
    "comments_factors": tx.FACTORS,
    "comments_initiatives": tx.INITIATIVES,
    "comments_final": tx.FINAL,
}
_TONES = ("pos", "mixed", "neg")
_DOCTORS = {"medical_director", "clinical_director"}


@dataclass(frozen=True)
class Answers:
    """The answers comments may refer to (all in the population's row layout)."""

    #: Multi-choice item -> (option ids, respondents x options ticks).
    ticks: Mapping[str, tuple[Sequence[str], NDArray[np.bool_]]]
    #: Initiative option id -> grid codes (0 = yes, 1 = no, higher = don't know or blank).
    initiatives: Mapping[str, NDArray[np.uint8]]


def _pool(box: str) -> tx.Pools:
    return tx.STATEMENTS if box.startswith("comments_statements") else _POOLS[box]


def _fields(text: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


def _capital(words: Sequence[str]) -> list[str]:
    return [w[:1].upper() + w[1:] for w in words]


def render(texts: Sequence[str], which: NDArray[np.int64], slots: pl.DataFrame) -> pl.Series:
    """Row i reads ``texts[which[i]]`` with its ``{slots}`` filled from row i of `slots`."""
    parts: list[pl.Series] = []
    rows: list[NDArray[np.int64]] = []
    for k, text in enumerate(texts):
        mine = np.flatnonzero(which == k)
        if not mine.size:
            continue
        pieces: list[pl.Expr] = []
        for literal, field, _, _ in string.Formatter().parse(text):
            if literal:
                pieces.append(pl.lit(literal))
            if field:
                pieces.append(pl.col(field))
        # Each template is rendered on its own rows only, then the rows are put back in order.
        if any(field for _, field, _, _ in string.Formatter().parse(text)):
            part = slots[mine].select(pl.concat_str(pieces).alias("text")).to_series()
        else:
            part = pl.repeat(text, mine.size, eager=True, dtype=pl.String).alias("text")
        parts.append(part)
        rows.append(mine)
    if not parts:
        return pl.Series("text", [], dtype=pl.String)
    inverse = np.empty(which.size, dtype=np.int64)
    inverse[np.concatenate(rows)] = np.arange(which.size)
    return pl.concat(parts).gather(pl.Series(inverse.astype(np.uint32)))


class _Slots:
    """Slot values for a set of respondent rows, computed on demand."""

    def __init__(
        self,
        population: Population,
        answers: Answers,
        rows: NDArray[np.int64],
        box: str,
        rng: np.random.Generator,
    ) -> None:
        self.population, self.answers, self.rows, self.box, self.rng = (
            population,
            answers,
            rows,
            box,
            rng,
        )
        #: Option ids already named per row, by multi-choice item.
        self._chosen: dict[str, NDArray[np.object_]] = {}
        self._cache: dict[str, tuple[list[str], NDArray[np.int64]]] = {}

    def _picked(
        self, item: str, words: Mapping[str, str], fallback: str, avoid: str | None = None
    ) -> tuple[list[str], NDArray[np.int64]]:
        """A random ticked option of `item` per row (the fallback when nothing is ticked).

        With `avoid` (a slot already filled), the same option is not picked again unless it is
        the only one ticked, so that one sentence does not name one thing twice.
        """
        options, ticks = self.answers.ticks.get(item, ((), np.zeros((0, 0), dtype=np.bool_)))
        table = [words[o] for o in options] + [fallback]
        if not options:
            return table, np.zeros(self.rows.size, dtype=np.int64)
        mine = ticks[self.rows].copy()
        if avoid is not None and avoid in self._chosen:
            taken = self._chosen[avoid]
            for k, option in enumerate(options):
                clash = (taken == option) & (mine.sum(axis=1) > 1)
                mine[clash, k] = False
        key = mine * (1 + self.rng.random(mine.shape))
        picked = np.where(mine.any(axis=1), key.argmax(axis=1), len(options))
        self._chosen[item] = np.array([*options, ""], dtype=object)[picked]
        return table, picked

    def _initiative(self, code: int, fallback: str) -> tuple[list[str], NDArray[np.int64]]:
        options = list(self.answers.initiatives)
        table = [tx.INITIATIVE_WORDS[o] for o in options] + [fallback]
        if not options:
            return table, np.zeros(self.rows.size, dtype=np.int64)
        mine = np.stack([self.answers.initiatives[o][self.rows] == code for o in options], 1)
        key = mine * (1 + self.rng.random(mine.shape))
        return table, np.where(mine.any(axis=1), key.argmax(axis=1), len(options))

    def _codes(self, base: str) -> tuple[list[str], NDArray[np.int64]]:
        """Slot words and the word of each row, computed once per slot."""
        if base in self._cache:
            return self._cache[base]
        group = self.population.group[self.rows]
        if base in ("own", "other"):
            doctor = np.array([g in _DOCTORS for g in GROUPS])[group]
            table, codes = ["managers", "doctors"], (doctor ^ (base == "other")).astype(np.int64)
        elif base == "role":
            table, codes = [tx.ROLE_WORDS[g] for g in GROUPS], group.astype(np.int64)
        elif base == "topic":
            table = list(tx.TOPICS[self.box])
            codes = self.rng.integers(len(table), size=self.rows.size)
        elif base == "barrier":
            table, codes = self._picked("barriers", tx.BARRIER_WORDS, "the day-to-day pressure")
        elif base == "good_factor":
            table, codes = self._picked("factors_positive", tx.FACTOR_WORDS, "national reviews")
        elif base == "bad_factor":
            self._codes("good_factor")  # so that the two differ where they can
            table, codes = self._picked(
                "factors_negative", tx.FACTOR_WORDS, "national policy", avoid="factors_positive"
            )
        elif base == "have":
            table, codes = self._initiative(0, "joint working")
        elif base == "lack":
            table, codes = self._initiative(1, "joint training")
        else:
            raise KeyError(f"unknown comment slot {base!r}")
        self._cache[base] = (table, codes)
        return table, codes

    def column(self, name: str) -> pl.Series:
        """The slot `name` for every row; a capitalised name gives a capitalised value."""
        table, codes = self._codes(name.lower())
        if name != name.lower():
            table = _capital(table)
        return pl.Series(name, table, dtype=pl.String).gather(codes)


def _commenters(
    population: Population, rate: Fraction, talk: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.int64]:
    count = round_half_up(rate * population.size)
    z = population.latent
    score = talk + 0.3 * np.abs(z) - 0.2 * z + rng.standard_normal(population.size)
    if count >= population.size:
        return np.arange(population.size)
    return (
        np.sort(np.argpartition(-score, count - 1)[:count])
        if count
        else np.empty(0, dtype=np.int64)
    )


def _box_text(
    box: str,
    population: Population,
    answers: Answers,
    rows: NDArray[np.int64],
    rng: np.random.Generator,
) -> pl.Series:
    """The comments of one box: a sentence of the writer's tone, sometimes a closing one."""
    pool = _pool(box)
    texts = [t for tone in _TONES for t in pool[tone]]
    offsets = np.cumsum([0, *(len(pool[tone]) for tone in _TONES)])
    z = population.latent[rows]
    tone = np.where(z < -TONE_CUT, 2, np.where(z > TONE_CUT, 0, 1))
    sizes = np.array([len(pool[t]) for t in _TONES])
    which = offsets[tone] + np.floor(rng.random(rows.size) * sizes[tone]).astype(np.int64)
    slots = _Slots(population, answers, rows, box, rng)
    names = sorted({f for t in texts for f in _fields(t)})
    frame = (
        pl.DataFrame([slots.column(f) for f in names])
        if names
        else pl.DataFrame({"_": np.zeros(rows.size)})
    )
    text = render(texts, which, frame)
    closer = rng.random(rows.size) < CLOSER_SHARE
    closers = pl.Series(tx.CLOSERS).gather(rng.integers(len(tx.CLOSERS), size=rows.size))
    return pl.select(
        pl.when(pl.Series(closer)).then(pl.concat_str([text, pl.lit(" "), closers])).otherwise(text)
    ).to_series()


def _pii(count: int, rng: np.random.Generator) -> pl.Series:
    """`count` sentences with personal data, cycling e-mail, telephone and name."""
    kinds = np.arange(count) % 3
    pools = (tx.PII_EMAIL, tx.PII_PHONE, tx.PII_NAME)
    texts = [t for pool in pools for t in pool]
    offsets = np.cumsum([0, *(len(p) for p in pools)])
    sizes = np.array([len(p) for p in pools])
    which = offsets[kinds] + np.floor(rng.random(count) * sizes[kinds]).astype(np.int64)
    first = pl.Series("first", tx.FIRST_NAMES).gather(rng.integers(len(tx.FIRST_NAMES), size=count))
    last = pl.Series("last", tx.LAST_NAMES).gather(rng.integers(len(tx.LAST_NAMES), size=count))
    digits = pl.Series(rng.integers(0, 1000, size=count)).cast(pl.String).str.zfill(3)
    prefix = pl.Series(["01632 960", "07700 900"]).gather(rng.integers(2, size=count))
    slots = pl.DataFrame({"first": first, "last": last}).with_columns(
        email=pl.concat_str(
            [first.str.to_lowercase(), pl.lit("."), last.str.to_lowercase(), pl.lit("@example.org")]
        ),
        phone=pl.concat_str([prefix, digits]),
    )
    return render(texts, which, slots)


def comments(
    instrument: Instrument, population: Population, answers: Answers, seed: int
) -> dict[str, Coded]:
    """Every free-text column of the instrument, by item id.

    Args:
        instrument: dmr-2015 or dmr-2002.
        population: The respondents.
        answers: Ticks and initiatives the comments may mention.
        seed: The cohort's seed.

    Returns:
        Item id -> coded column (codes index the comments; blank for non-commenters).
    """
    rng = rng_for(seed, "comments")
    talk = rng.standard_normal(population.size)
    n = population.size
    boxes = [i.id for i in instrument.items() if i.type == "text" and i.id in COMMENT_RATES]
    rows: dict[str, NDArray[np.int64]] = {}
    texts: dict[str, pl.Series] = {}
    for box in boxes:
        box_rng = rng_for(seed, "comments", box)
        rows[box] = _commenters(population, COMMENT_RATES[box], talk, box_rng)
        texts[box] = _box_text(box, population, answers, rows[box], box_rng)

    total = sum(r.size for r in rows.values())
    pii_count = min(total, max(PII_MIN, round_half_up(PII_SHARE * total)))
    chosen = (
        np.sort(rng.choice(total, size=pii_count, replace=False))
        if pii_count
        else np.empty(0, dtype=np.int64)
    )
    extra = _pii(pii_count, rng)
    start = 0
    out: dict[str, Coded] = {}
    for box in boxes:
        size = rows[box].size
        mine = chosen[(chosen >= start) & (chosen < start + size)] - start
        text = texts[box]
        if mine.size:
            first = int(np.searchsorted(chosen, start))
            added = extra.slice(first, mine.size)
            text = text.scatter(mine, text.gather(mine) + " " + added)
        codes = np.full(n, size, dtype=np.uint32)
        codes[rows[box]] = np.arange(size, dtype=np.uint32)
        out[box] = Coded(text, codes)
        start += size

    if "barriers_other" in {i.id for i in instrument.items()} and "barriers" in answers.ticks:
        options, ticks = answers.ticks["barriers"]
        other = ticks[:, list(options).index("other")]
        box_rng = rng_for(seed, "comments", "barriers_other")
        codes = np.full(n, len(tx.BARRIER_OTHER), dtype=np.uint8)
        codes[other] = box_rng.integers(len(tx.BARRIER_OTHER), size=int(other.sum()))
        out["barriers_other"] = Coded(tx.BARRIER_OTHER, codes)
    return out
