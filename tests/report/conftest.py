"""Fixtures for the report tests (helpers live in `report_support`)."""

from __future__ import annotations

import pytest

from sharedground.instrument import Instrument, builtin


@pytest.fixture(scope="session")
def instrument() -> Instrument:
    return builtin("dmr-2015")
