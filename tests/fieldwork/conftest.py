"""Fieldwork fixtures: a wave with a synthetic sample frame on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fieldhelpers import Frame, make_frame
from mailserver import MailServer

from sharedground.store import Store


@pytest.fixture
def frame(store: Store, tmp_path: Path) -> Frame:
    """A named wave `w` with 40 contacts in 3 trusts imported from a CSV file."""
    return make_frame(store, tmp_path, "w", 40)


@pytest.fixture
def anonymous_frame(store: Store, tmp_path: Path) -> Frame:
    return make_frame(store, tmp_path, "anon", 20, anonymous=True)


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) on loopback for one test."""
    with MailServer() as server:
        yield server
