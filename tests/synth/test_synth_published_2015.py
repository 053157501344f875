"""The default 2015 cohort against the published tables, row by row and group by group."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from synth_counting import figures_by_role

from sharedground.reference import ROLES, group_sizes, published_2015

ATTITUDE_TABLES = [f"table_2.{i}" for i in range(1, 12)]


def _rows() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for table in published_2015()["tables"]:
        if table["id"] in ATTITUDE_TABLES:
            out += [(table["id"], i, row) for i, row in enumerate(table["rows"])]
    return out


ROWS = _rows()


def test_every_attitude_table_is_covered() -> None:
    assert {t for t, _, _ in ROWS} == set(ATTITUDE_TABLES)
    assert len(ROWS) == 68


@pytest.mark.parametrize(
    ("table_id", "index", "row"),
    ROWS,
    ids=[f"{t}-{r['item']}-{r.get('option') or i}" for t, i, r in ROWS],
)
def test_row_matches_published_count_and_valid_n(
    cohort_2015: pl.DataFrame, table_id: str, index: int, row: dict[str, Any]
) -> None:
    got = figures_by_role(cohort_2015, table_id, row)
    for role in ROLES:
        expected = (row["groups"][role]["count"], row["inferred_valid_n"][role])
        assert got[role] == expected, f"{table_id} row {index} ({row['item']}), {role}"


def test_group_sizes(cohort_2015: pl.DataFrame) -> None:
    counts = dict(cohort_2015["role"].value_counts().iter_rows())
    assert (
        counts
        == group_sizes(2015)
        == {
            "chief_executive": 59,
            "medical_director": 131,
            "directorate_manager": 132,
            "clinical_director": 150,
        }
    )


def _published_single(table_id: str) -> dict[str, Any]:
    return next(t for t in published_2015()["tables"] if t["id"] == table_id)


@pytest.mark.parametrize(
    ("table_id", "item", "options"),
    [
        (
            "table_1.1",
            "appointment_route",
            [
                "headhunted_outside",
                "headhunted_inside",
                "applied_outside",
                "applied_inside",
                "rotating",
                "other",
            ],
        ),
        (
            "table_1.2",
            "clinical_commitments",
            ["less_than_third", "one_to_two_thirds", "more_than_two_thirds", "no_commitments"],
        ),
    ],
)
def test_demographic_tables_within_rounding(
    cohort_2015: pl.DataFrame, table_id: str, item: str, options: list[str]
) -> None:
    table = _published_single(table_id)
    assert cohort_2015[item].is_not_null().sum() == table["n"]
    for role in ROLES:
        answers = cohort_2015.filter(pl.col("role") == role)[item].drop_nulls()
        for option, pct in zip(options, table["rows"][role], strict=True):
            share = 100 * (answers == option).sum() / answers.len()
            assert abs(share - pct) <= 0.5, f"{table_id} {role} {option}: {share:.2f} vs {pct}"


def _share(frame: pl.DataFrame, item: str, value: str) -> float:
    answered = frame[item].drop_nulls()
    return float((answered == value).sum() / answered.len())


def test_demographic_summary(cohort_2015: pl.DataFrame) -> None:
    assert 0.84 <= _share(cohort_2015, "country", "england") <= 0.92
    for other in ("scotland", "wales", "northern_ireland"):
        assert 0.01 <= _share(cohort_2015, "country", other) <= 0.08
    assert 0.56 <= _share(cohort_2015, "gender", "male") <= 0.64
    assert 0.58 <= _share(cohort_2015, "clinical_qualification", "medicine") <= 0.62
    assert 0.10 <= _share(cohort_2015, "clinical_qualification", "nursing_midwifery") <= 0.14
    assert 0.08 <= _share(cohort_2015, "clinical_qualification", "other_clinical") <= 0.12
    assert 0.28 <= _share(cohort_2015, "fixed_term", "yes") <= 0.38
    medical = cohort_2015.filter(pl.col("role") == "medical_director")["clinical_qualification"]
    assert set(medical.drop_nulls()) == {"medicine"}
    clinical = cohort_2015.filter(pl.col("role") == "clinical_director")
    assert _share(clinical, "clinical_qualification", "medicine") >= 0.9


def test_clinical_commitments_need_a_clinical_qualification(cohort_2015: pl.DataFrame) -> None:
    unqualified = cohort_2015.filter(pl.col("clinical_qualification") == "no_qualification")
    working = unqualified["clinical_commitments"].drop_nulls()
    assert set(working) <= {"no_commitments"}


def test_fixed_columns(cohort_2015: pl.DataFrame) -> None:
    ids = cohort_2015["respondent_id"]
    assert ids.is_unique().all()
    assert ids.str.contains(r"^S2015-\d{6}$").all()
    assert ids[0] == "S2015-000001"
    assert cohort_2015["trust"].str.contains(r"^T\d{3}$").all()
    assert cohort_2015["trust"].n_unique() <= 152
    assert set(cohort_2015["mode"]) == {"online", "postal"}
    submitted = cohort_2015["submitted"].str.to_date("%Y-%m-%d")
    assert submitted.is_sorted()
    online = submitted.filter(cohort_2015["mode"] == "online")
    postal = submitted.filter(cohort_2015["mode"] == "postal")
    assert online.min() >= dt.date(2015, 5, 11) and online.max() <= dt.date(2015, 6, 30)
    assert postal.min() >= dt.date(2015, 10, 1) and postal.max() <= dt.date(2015, 10, 31)
    assert 0.15 <= postal.len() / submitted.len() <= 0.30


def test_at_most_one_chief_executive_and_medical_director_per_trust(
    cohort_2015: pl.DataFrame,
) -> None:
    for role in ("chief_executive", "medical_director"):
        per_trust = cohort_2015.filter(pl.col("role") == role)["trust"].value_counts()
        assert per_trust["count"].max() == 1, role
