"""Who the synthetic respondents are: group, trust, latent attitude, mode and date of reply.

Rows are laid out group by group while answers are assigned (each group is one contiguous
slice); `Population.order` is the final row order, by date of submission, in which
`respondent_id` numbers the rows.

Assumptions, all documented here because the report does not give them:

* **Trusts.** By default ``round(N / 3.1)`` trusts (152 for the 472 respondents of 2015, close to
  the number of acute trusts a UK survey reaches), at most ``MAX_DEFAULT_TRUSTS`` (10,000) so
  that large benchmark cohorts keep about a hundred respondents per trust. Trusts differ in
  size (log-normal weights, sd 0.5). Chief executives and medical directors are spread one per
  trust while there are enough trusts (and as evenly as possible otherwise); directorate
  managers and clinical directors are drawn by trust size.
* **Latent attitude.** Standard normal; ``TRUST_SHARE`` (15%) of its variance is shared within a
  trust, so trusts differ (see `synth.orientation`).
* **Missing answers.** Two respondent traits: *reticence* (more "don't know" and blanks) and
  *skipping* (blanks rather than "don't know"), the latter higher for postal returns, since
  paper forms are left incomplete more often than web forms.
* **Mode and dates, 2015.** Online phase: invitation Monday 11 May 2015, reminders 9 and 21 days
  later (20 May, 1 June), closed 30 June; 55% reply after the invitation, 28% after the first
  reminder, 17% after the second, each after an exponential delay (mean 2 days). Postal phase:
  mailed Thursday 1 October 2015, replies 3 days plus an exponential delay (mean 5 days), by
  31 October. Postal share of respondents: ``POSTAL_SHARE_2015`` (30% of chief executives and
  medical directors, who were all mailed; 20% of directorate managers and 15% of clinical
  directors, who were sampled at 16% and 10%): 22% overall.
* **Mode and dates, 2002.** All postal: mailed Monday 11 March 2002, a reminder mailing on
  15 April (30% of replies), closed 31 May 2002.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from sharedground.synth.assign import assign_blocks, split_sizes
from sharedground.synth.orientation import TRUST_SHARE
from sharedground.synth.plan import GROUPS, Wave

RESPONDENTS_PER_TRUST = 3.1
MAX_DEFAULT_TRUSTS = 10_000
TRUST_SIZE_SD = 0.5

POSTAL_SHARE_2015: dict[str, Fraction] = {
    "chief_executive": Fraction(30, 100),
    "medical_director": Fraction(30, 100),
    "directorate_manager": Fraction(20, 100),
    "clinical_director": Fraction(15, 100),
}


@dataclass(frozen=True)
class _Phase:
    """Contacts of one fieldwork phase: (first day, share of replies) and the closing day."""

    contacts: tuple[tuple[str, float], ...]
    closes: str
    min_delay_days: int
    mean_delay_days: float


_ONLINE_2015 = _Phase(
    (("2015-05-11", 0.55), ("2015-05-20", 0.28), ("2015-06-01", 0.17)), "2015-06-30", 0, 2.0
)
_POSTAL_2015 = _Phase((("2015-10-01", 1.0),), "2015-10-31", 3, 5.0)
_POSTAL_2002 = _Phase((("2002-03-11", 0.7), ("2002-04-15", 0.3)), "2002-05-31", 3, 6.0)


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """An independent random stream per purpose, so that changing one part of the cohort does
    not shift the random numbers of every other part."""
    return np.random.default_rng([seed % 2**64, *(zlib.crc32(n.encode()) for n in names)])


def default_trusts(respondents: int) -> int:
    """The default number of trusts for a cohort (see the module docstring)."""
    return max(1, min(MAX_DEFAULT_TRUSTS, round(respondents / RESPONDENTS_PER_TRUST)))


@dataclass(frozen=True)
class Population:
    """Per-respondent traits, in group-by-group layout."""

    wave: Wave
    group_sizes: Mapping[str, int]
    group: NDArray[np.int8]
    trust: NDArray[np.int64]
    n_trusts: int
    latent: NDArray[np.float32]
    reticence: NDArray[np.float32]
    skipping: NDArray[np.float32]
    postal: NDArray[np.bool_]
    submitted: NDArray[np.datetime64]
    #: Final row order: row i of the output is respondent ``order[i]`` of this layout.
    order: NDArray[np.int64]

    @property
    def size(self) -> int:
        """Respondents in all."""
        return int(self.group.shape[0])

    def slice_of(self, group: str) -> slice:
        """The rows of one role group."""
        start = sum(self.group_sizes[g] for g in GROUPS[: GROUPS.index(group)])
        return slice(start, start + self.group_sizes[group])


def _one_per_trust(
    n: int, weights: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.int64]:
    """`n` trusts, each used at most ceil(n / trusts) times, larger trusts more likely."""
    trusts = weights.shape[0]
    rounds, rest = divmod(n, trusts)
    # Weighted sampling without replacement: the largest log-weight + Gumbel keys.
    keys = np.log(weights) + rng.gumbel(size=trusts)
    extra = np.argpartition(-keys, rest - 1)[:rest] if rest else np.empty(0, dtype=np.int64)
    picked = np.concatenate([np.repeat(np.arange(trusts), rounds), extra])
    return rng.permutation(picked.astype(np.int64))


def _dates(phase: _Phase, n: int, rng: np.random.Generator) -> NDArray[np.datetime64]:
    starts = np.array([day for day, _ in phase.contacts], dtype="datetime64[D]")
    shares = np.array([share for _, share in phase.contacts])
    contact = rng.choice(len(starts), size=n, p=shares / shares.sum())
    delay = phase.min_delay_days + np.floor(rng.exponential(phase.mean_delay_days, size=n))
    days = starts[contact] + delay.astype("timedelta64[D]")
    closed: NDArray[np.datetime64] = np.minimum(days, np.datetime64(phase.closes, "D"))
    return closed


def build_population(
    wave: Wave, group_sizes: Mapping[str, int], trusts: int, seed: int
) -> Population:
    """Draw the respondents of a cohort.

    Args:
        wave: "2015" or "2002".
        group_sizes: Respondents per role group.
        trusts: Number of trusts (at least 1).
        seed: The cohort's seed.

    Returns:
        The population, group by group.
    """
    if trusts < 1:
        raise ValueError(f"trusts must be at least 1 (got {trusts})")
    n = sum(group_sizes.values())
    group = np.repeat(np.arange(len(GROUPS), dtype=np.int8), [group_sizes[g] for g in GROUPS])

    rng = rng_for(seed, "trusts")
    weights = rng.lognormal(0.0, TRUST_SIZE_SD, size=trusts)
    trust = np.empty(n, dtype=np.int64)
    start = 0
    for g in GROUPS:
        size = group_sizes[g]
        if g in ("chief_executive", "medical_director"):
            trust[start : start + size] = _one_per_trust(size, weights, rng)
        else:
            trust[start : start + size] = rng.choice(trusts, size=size, p=weights / weights.sum())
        start += size

    rng = rng_for(seed, "latent")
    trust_effect = rng.standard_normal(trusts)
    latent = (
        np.sqrt(TRUST_SHARE) * trust_effect[trust]
        + np.sqrt(1 - TRUST_SHARE) * (rng.standard_normal(n))
    ).astype(np.float32)

    rng = rng_for(seed, "mode")
    postal = np.ones(n, dtype=np.bool_)
    if wave == "2015":
        start = 0
        for g in GROUPS:
            size = group_sizes[g]
            share = POSTAL_SHARE_2015[g]
            sizes = split_sizes(size, [share, 1 - share])
            postal[start : start + size] = assign_blocks(rng.random(size), sizes) == 0
            start += size
    submitted = np.empty(n, dtype="datetime64[D]")
    if wave == "2015":
        submitted[~postal] = _dates(_ONLINE_2015, int((~postal).sum()), rng)
        submitted[postal] = _dates(_POSTAL_2015, int(postal.sum()), rng)
    else:
        submitted[:] = _dates(_POSTAL_2002, n, rng)
    order = np.lexsort((rng.random(n), submitted)).astype(np.int64)

    rng = rng_for(seed, "missing")
    reticence = rng.standard_normal(n, dtype=np.float32)
    skipping = (rng.standard_normal(n, dtype=np.float32) + 0.7 * postal).astype(np.float32)
    return Population(
        wave,
        dict(group_sizes),
        group,
        trust,
        trusts,
        latent,
        reticence,
        skipping,
        postal,
        submitted,
        order,
    )
