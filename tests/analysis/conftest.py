"""Fixtures of the analysis tests: a hand-made wave, as a CSV and imported into the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_helpers import HandMade, make_rows, write_rows

from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
from sharedground.store import Store


@pytest.fixture
def hand_made(tmp_path: Path) -> HandMade:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 240, seed=7)
    return HandMade(write_rows(tmp_path / "wave.csv", instrument, rows), instrument, rows)


@pytest.fixture
def loaded(store: Store, hand_made: HandMade) -> HandMade:
    """The hand-made wave imported into the store as wave `w`."""
    import_file(store, hand_made.path, "w", hand_made.instrument)
    return hand_made
