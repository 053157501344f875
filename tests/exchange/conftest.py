"""Fixtures for the exchange tests: the built-in instrument and a way to write test files."""

from __future__ import annotations

from pathlib import Path

import pytest
from exchange_rows import Row, RowsFile, WriteFile, write_rows

from sharedground.instrument import Instrument, builtin


@pytest.fixture(scope="session")
def dmr2015() -> Instrument:
    return builtin("dmr-2015")


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write text (UTF-8, as given) or bytes to a fresh file and return its path."""
    counter = iter(range(1_000_000))

    def write(content: str | bytes, name: str | None = None) -> Path:
        path = tmp_path / (name or f"file{next(counter)}.csv")
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write


@pytest.fixture
def rows_file(write_file: WriteFile, dmr2015: Instrument) -> RowsFile:
    """Write dmr-2015 rows in the canonical form to a fresh file and return its path."""

    def write(rows: list[Row], instrument: Instrument = dmr2015) -> Path:
        return write_rows(rows, instrument, write_file(b""))

    return write
