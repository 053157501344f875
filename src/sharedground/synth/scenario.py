"""A synthetic programme of initiatives with planted effects, for checking the evaluation.

About 200 trusts are surveyed in yearly waves. Some start one kind of initiative between two
waves (staggered: each trust's first treated wave, its *cohort*, is drawn among the later
waves); the rest never start one. Each kind has a PLANTED effect on the share of positive
answers and on the mean rating (some kinds none), so an estimator can be checked against the
truth it should recover.

The model of one respondent's answers (linear in the probability, so that the planted effect
is exactly the expected difference of a trust's mean, with no link function to undo):

    p = base + u_trust + role_shift + trend * wave_index + effect_kind * treated
    positive ~ Bernoulli(p)
    rating = 1 + Binomial(4, q),  q = p - 0.05   (so E[rating] = 1 + 4 q)

`u_trust` is a trust's random effect (normal, truncated at three standard deviations so that
p stays inside (0, 1) and nothing is clipped: clipping would bend the truth). Clinical
directors are less positive than the other roles (`role_shift`), as in the published survey.

Besides the waves, the scenario holds what an initiative's own evaluation uses: the pulse
answers of its participants and of non-participants of the same trust before and after it
(`scenario_pulse`), and each trust's monthly pulse series for SPC charts (`scenario_monthly`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

ROLES = ("chief_executive", "medical_director", "directorate_manager", "clinical_director")
#: Share of respondents per role and each role's shift of the probability of a positive answer.
ROLE_SHARES = (0.08, 0.12, 0.40, 0.40)
ROLE_SHIFTS = (0.06, 0.04, 0.02, -0.08)


@dataclass(frozen=True)
class KindSpec:
    """One kind of initiative: its planted effect and the share of trusts that start one."""

    name: str
    effect: float  # on the probability of a positive answer (so on the share positive)
    share: float  # of all trusts

    @property
    def rating_effect(self) -> float:
        """The planted effect on the mean 1–5 rating (E[rating] = 1 + 4 q)."""
        return 4.0 * self.effect


#: Named as the initiative register names kinds (the report's table 2.11), so the scenario
#: can be loaded into it; the effects are invented for the test, not the report's findings.
DEFAULT_KINDS: tuple[KindSpec, ...] = (
    KindSpec("paired_learning", 0.08, 0.18),
    KindSpec("management_training_doctors", 0.05, 0.16),
    KindSpec("shadowing", 0.0, 0.14),
    KindSpec("joint_social_events", 0.0, 0.14),
)


@dataclass(frozen=True)
class ScenarioConfig:
    """What the scenario is made of (defaults: the 200-trust, five-wave programme)."""

    trusts: int = 200
    waves: tuple[int, ...] = (2016, 2017, 2018, 2019, 2020)
    respondents_per_trust_wave: float = 30.0
    kinds: tuple[KindSpec, ...] = DEFAULT_KINDS
    base: float = 0.5
    trust_sd: float = 0.06
    trend: float = 0.015  # per wave, common to every trust: the secular change
    participants: int = 20  # per initiative, answering the pulse before and after
    non_participants: int = 20  # per initiative's trust, answering the same pulse
    lost_to_follow_up: float = 0.2
    person_sd: float = 0.05  # within-trust person effect on the pulse (pairs are correlated)
    months_before: int = 18  # monthly pulse series around the start, for SPC
    months_after: int = 18
    monthly_respondents: float = 25.0


@dataclass(frozen=True)
class Scenario:
    """The generated tables (Polars) and the planted truth."""

    config: ScenarioConfig
    seed: int
    trusts: pl.DataFrame  # trust, kind (null: never), cohort (first treated wave, null: never)
    initiatives: pl.DataFrame  # initiative_id, trust, kind, start_date, cohort
    responses: pl.DataFrame  # respondent_id, trust, wave, role, positive (0/1), rating (1-5)
    pulse: pl.DataFrame = field(repr=False)  # see scenario_pulse
    monthly: pl.DataFrame = field(repr=False)  # see scenario_monthly
    truth: pl.DataFrame = field(repr=False)  # kind, measure, effect

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table by name, as written by `sharedground synth --scenario programme`."""
        return {
            "trusts": self.trusts,
            "initiatives": self.initiatives,
            "responses": self.responses,
            "pulse": self.pulse,
            "monthly": self.monthly,
            "truth": self.truth,
        }


def trust_codes(count: int) -> list[str]:
    """Synthetic trust codes T001, T002, … (no real organisation's code)."""
    width = max(3, len(str(count)))
    return [f"T{i + 1:0{width}d}" for i in range(count)]


def _assign_kinds(
    rng: np.random.Generator, config: ScenarioConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Each trust's kind index (-1: never) and cohort index into waves (-1: never)."""
    n = config.trusts
    counts = [round(k.share * n) for k in config.kinds]
    kind = np.full(n, -1, dtype=np.int64)
    order = rng.permutation(n)
    at = 0
    for index, count in enumerate(counts):
        kind[order[at : at + count]] = index
        at += count
    # A trust starts between two waves: its first treated wave is any wave but the first,
    # so every starter has at least one wave before. Equal numbers per start wave, shuffled.
    starts = np.arange(1, len(config.waves))
    cohort = np.full(n, -1, dtype=np.int64)
    for index in range(len(config.kinds)):
        members = np.flatnonzero(kind == index)
        cohort[members] = rng.permutation(np.resize(starts, members.size))
    return kind, cohort


def _trust_effects(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    draws = rng.standard_normal(n)
    # Truncated at 3 SD by redrawing, so no probability ever needs clipping.
    while np.any(bad := np.abs(draws) > 3):
        draws[bad] = rng.standard_normal(int(bad.sum()))
    return sd * draws


def generate_scenario(
    seed: int = 1,
    config: ScenarioConfig | None = None,
    *,
    respondents: int | None = None,
    survey_only: bool = False,
) -> Scenario:
    """Generate the programme scenario.

    `respondents`, if given, sets the expected total of survey respondents (over every trust
    and wave) instead of `config.respondents_per_trust_wave`. `survey_only` leaves the pulse
    and monthly tables empty (the coverage test needs only the waves; the survey's draws come
    first, so they are the same either way).
    """
    from sharedground.synth.scenario_monthly import monthly_series
    from sharedground.synth.scenario_pulse import pulse_answers

    config = config or ScenarioConfig()
    if respondents is not None:
        per = respondents / (config.trusts * len(config.waves))
        config = _replace(config, respondents_per_trust_wave=per)
    _check(config)
    rng = np.random.default_rng(seed)
    kind, cohort = _assign_kinds(rng, config)
    u = _trust_effects(rng, config.trusts, config.trust_sd)
    codes = trust_codes(config.trusts)
    names = [k.name for k in config.kinds]
    effects = np.array([k.effect for k in config.kinds] + [0.0])  # index -1: none

    trusts = pl.DataFrame(
        {
            "trust": codes,
            "kind": [names[k] if k >= 0 else None for k in kind],
            "cohort": [config.waves[c] if c >= 0 else None for c in cohort],
        },
        schema={"trust": pl.String, "kind": pl.String, "cohort": pl.Int64},
    )
    responses = _responses(rng, config, u, kind, cohort, effects, codes)
    initiatives = _initiatives(rng, config, kind, cohort, codes, names)
    none = initiatives.head(0)
    chosen = none if survey_only else initiatives
    pulse = pulse_answers(rng, config, chosen, u, codes, effects, names)
    monthly = monthly_series(rng, config, chosen, u, codes, effects, names)
    truth = pl.DataFrame(
        {
            "kind": [k.name for k in config.kinds for _ in range(2)],
            "measure": ["positive", "rating"] * len(config.kinds),
            "effect": [v for k in config.kinds for v in (k.effect, k.rating_effect)],
        }
    )
    return Scenario(config, seed, trusts, initiatives, responses, pulse, monthly, truth)


def _replace(config: ScenarioConfig, **changes: object) -> ScenarioConfig:
    from dataclasses import replace

    return replace(config, **changes)  # type: ignore[arg-type]


def _check(config: ScenarioConfig) -> None:
    """Refuse a configuration whose probabilities could leave (0, 1) (clipping would bend the
    planted truth). The rating's q is p - 0.05; the pulse adds a person effect (3 SD)."""
    top = max((k.effect for k in config.kinds), default=0.0)
    spread = 3 * config.trust_sd
    person = 3 * config.person_sd
    low = config.base - spread + min(ROLE_SHIFTS) - 0.05 - person
    high_survey = (
        config.base + spread + max(ROLE_SHIFTS) + config.trend * (len(config.waves) - 1) + top
    )
    high_pulse = config.base + spread + max(ROLE_SHIFTS) + person + config.trend + top
    high_monthly = (
        config.base
        + spread
        + config.trend * (config.months_before + config.months_after) / 12
        + top
    )
    high = max(high_survey, high_pulse, high_monthly)
    if low <= 0 or high >= 1:
        raise ValueError(f"scenario probabilities would leave (0, 1): from {low:.2f} to {high:.2f}")
    if sum(k.share for k in config.kinds) > 1:
        raise ValueError("the kinds' shares of trusts add up to more than 1")


def _responses(
    rng: np.random.Generator,
    config: ScenarioConfig,
    u: np.ndarray,
    kind: np.ndarray,
    cohort: np.ndarray,
    effects: np.ndarray,
    codes: list[str],
) -> pl.DataFrame:
    n_trusts, n_waves = config.trusts, len(config.waves)
    sizes = np.maximum(1, rng.poisson(config.respondents_per_trust_wave, size=(n_trusts, n_waves)))
    trust_index = np.repeat(np.repeat(np.arange(n_trusts), n_waves), sizes.ravel())
    wave_index = np.repeat(np.tile(np.arange(n_waves), n_trusts), sizes.ravel())
    role = rng.choice(len(ROLES), size=trust_index.size, p=np.array(ROLE_SHARES))
    treated = (cohort[trust_index] >= 0) & (wave_index >= cohort[trust_index])
    p = (
        config.base
        + u[trust_index]
        + np.array(ROLE_SHIFTS)[role]
        + config.trend * wave_index
        + np.where(treated, effects[kind[trust_index]], 0.0)
    )
    positive = (rng.random(p.size) < p).astype(np.int8)
    rating = 1 + rng.binomial(4, p - 0.05).astype(np.int8)
    return pl.DataFrame(
        {
            "respondent_id": np.arange(1, p.size + 1),
            "trust": pl.Series(codes, dtype=pl.String)[trust_index],
            "wave": np.array(config.waves)[wave_index],
            "role": pl.Series(ROLES, dtype=pl.String)[role],
            "positive": positive,
            "rating": rating,
        }
    )


def _initiatives(
    rng: np.random.Generator,
    config: ScenarioConfig,
    kind: np.ndarray,
    cohort: np.ndarray,
    codes: list[str],
    names: list[str],
) -> pl.DataFrame:
    import datetime as dt

    starters = np.flatnonzero(kind >= 0)
    rows = []
    for number, t in enumerate(starters, start=1):
        # Waves are fielded in spring; the initiative starts in the year before its cohort.
        year = config.waves[cohort[t]] - 1
        start = dt.date(year, 5, 1) + dt.timedelta(days=int(rng.integers(0, 240)))
        rows.append(
            {
                "initiative_id": number,
                "trust": codes[t],
                "kind": names[kind[t]],
                "start_date": start,
                "cohort": config.waves[cohort[t]],
            }
        )
    schema = {
        "initiative_id": pl.Int64,
        "trust": pl.String,
        "kind": pl.String,
        "start_date": pl.Date,
        "cohort": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)
