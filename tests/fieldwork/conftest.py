"""Fieldwork fixtures: a wave with a synthetic sample frame on each backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fieldhelpers import Frame, make_frame  # noqa: E402

from sharedground.store import Store  # noqa: E402


@pytest.fixture
def frame(store: Store, tmp_path: Path) -> Frame:
    """A named wave `w` with 40 contacts in 3 trusts imported from a CSV file."""
    return make_frame(store, tmp_path, "w", 40)


@pytest.fixture
def anonymous_frame(store: Store, tmp_path: Path) -> Frame:
    return make_frame(store, tmp_path, "anon", 20, anonymous=True)
