"""The issue's round trip on real data: synth -> import -> export gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharedground import synth
from sharedground.exchange.exporter import export_wave
from sharedground.exchange.importer import import_file
from sharedground.store import Store


@pytest.mark.parametrize("which", ["2015", "2002"])
def test_synthetic_cohort_comes_back_byte_identical(
    store: Store, tmp_path: Path, which: str
) -> None:
    source = tmp_path / f"synthetic-{which}.csv"
    instrument = synth.instrument_for(which)  # type: ignore[arg-type]
    synth.write(synth.generate(which, seed=7), instrument, source)  # type: ignore[arg-type]

    result = import_file(store, source, f"wave-{which}", instrument)
    exported = tmp_path / "exported.csv"
    count = export_wave(store, f"wave-{which}", "csv", exported)

    assert result.added == count == (472 if which == "2015" else 1092)
    assert exported.read_bytes() == source.read_bytes()
