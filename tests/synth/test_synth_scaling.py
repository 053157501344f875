"""Other cohort sizes keep the published proportions; arguments are checked."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from synth_counting import figures_by_role

from sharedground.reference import ROLES, group_sizes, published_2015
from sharedground.synth import generate
from sharedground.synth.plan import plan_2015, scale
from sharedground.synth.population import default_trusts


def _rows() -> list[tuple[str, dict[str, Any]]]:
    return [
        (t["id"], r)
        for t in published_2015()["tables"]
        if t["id"].startswith("table_2.")
        for r in t["rows"]
    ]


def test_ten_thousand_keep_every_proportion_within_one_point(cohort_10k: pl.DataFrame) -> None:
    sizes = group_sizes(2015)
    got_sizes = dict(cohort_10k["role"].value_counts().iter_rows())
    assert sum(got_sizes.values()) == 10_000
    for role in ROLES:
        assert abs(got_sizes[role] / 10_000 - sizes[role] / 472) < 0.001
    for table_id, row in _rows():
        figures = figures_by_role(cohort_10k, table_id, row)
        for role in ROLES:
            count, valid = figures[role]
            published_valid = row["inferred_valid_n"][role]
            published = row["groups"][role]["count"] / published_valid
            where = f"{table_id} {row['item']} {row.get('option')} {role}"
            assert abs(count / valid - published) < 0.01, where
            assert abs(valid / got_sizes[role] - published_valid / sizes[role]) < 0.01, where


def test_scaling_to_the_published_size_is_the_identity() -> None:
    assert scale(plan_2015(), 472) is plan_2015()
    doubled = scale(plan_2015(), 944)
    for item, blocks in plan_2015().likert.items():
        for role in ROLES:
            assert doubled.likert[item].sizes[role] == tuple(2 * x for x in blocks.sizes[role])


@pytest.mark.parametrize("respondents", [1, 2, 7, 40])
def test_tiny_cohorts(respondents: int) -> None:
    frame = generate("2015", seed=1, respondents=respondents)
    assert frame.height == respondents
    assert frame["barriers"].null_count() == 0
    assert frame["respondent_id"].is_unique().all()


def test_trusts_argument() -> None:
    frame = generate("2015", seed=2, respondents=300, trusts=20)
    assert frame["trust"].n_unique() <= 20
    assert frame["trust"].str.contains(r"^T0(0[1-9]|1\d|20)$").all()
    # 37 chief executives over 20 trusts: spread as evenly as possible.
    per_trust = frame.filter(pl.col("role") == "chief_executive")["trust"].value_counts()
    assert per_trust["count"].max() == 2


def test_default_trusts() -> None:
    assert default_trusts(472) == 152
    assert default_trusts(1) == 1
    assert default_trusts(1_000_000) == 10_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wave": "2010", "seed": 1}, "unknown wave"),
        ({"wave": "2015", "seed": 1, "respondents": 0}, "at least 1"),
        ({"wave": "2015", "seed": 1, "trusts": 0}, "at least 1"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    generate(
        "2002", seed=3, respondents=50, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == list(range(1, len(calls) + 1))
