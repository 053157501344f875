"""Shared cohorts for the synth tests: built once per session, since several tests read them."""

from __future__ import annotations

import polars as pl
import pytest

from sharedground.synth import generate


@pytest.fixture(scope="session")
def cohort_2015() -> pl.DataFrame:
    """The default 2015 cohort (472 respondents)."""
    return generate("2015", seed=20150501)


@pytest.fixture(scope="session")
def cohort_2015_other_seed() -> pl.DataFrame:
    """The default 2015 cohort from another seed."""
    return generate("2015", seed=99)


@pytest.fixture(scope="session")
def cohort_2002() -> pl.DataFrame:
    """The default 2002 cohort (1,092 respondents)."""
    return generate("2002", seed=20020311)


@pytest.fixture(scope="session")
def cohort_10k() -> pl.DataFrame:
    """A scaled 2015 cohort of 10,000 respondents."""
    return generate("2015", seed=11, respondents=10_000)
