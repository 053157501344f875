"""Published figures shipped as package data (the yardstick for the synthetic cohort and tests).

`published_2015.yaml` holds every table of Powell & Davies (2016), *Managing doctors, doctors
managing*, Nuffield Trust: per group the percentage and count agreeing, the overall percentage,
the published test and significance mark, the 2002 figures where printed, and denominators
inferred from rounding (`inferred_valid_n`), plus the study design and the 2002 group sizes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

ROLES = ("chief_executive", "medical_director", "directorate_manager", "clinical_director")


@cache
def published_2015() -> dict[str, Any]:
    """The parsed reference file (cached; treat as read-only)."""
    text = (resources.files(__name__) / "published_2015.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def table(table_id: str) -> dict[str, Any]:
    """One published table by id (`table_2.2`)."""
    for t in published_2015()["tables"]:
        if t["id"] == table_id:
            return dict(t)
    raise KeyError(f"no published table {table_id!r}")


def group_sizes(year: int) -> dict[str, int]:
    """Respondents per role group in the published 2015 or 2002 survey."""
    study = published_2015()["study"]
    if year == 2015:
        return dict(study["respondents"]["by_group"])
    if year == 2002:
        return dict(study["y2002_sample"]["respondents"])
    raise ValueError(f"no published wave {year} (known: 2002, 2015)")
