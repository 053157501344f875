"""Admin fixtures: a wave with contacts, a postal sample and accounts, on each backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from adminhelpers import Site, make_site
from starlette.testclient import TestClient
from webhelpers import LiveServer

from sharedground.store import Store


@pytest.fixture
def site(store: Store, tmp_path: Path) -> Site:
    return make_site(store, tmp_path)


@pytest.fixture
def admin_client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app(), base_url="https://testserver") as client:
        yield client


@pytest.fixture
def server(site: Site) -> Iterator[LiveServer]:
    """The admin pages served by uvicorn, for the browser tests."""
    with LiveServer(site.app()) as live:
        yield live


# The messages tests use the fieldwork tests' SMTP server (aiosmtpd).
_FIELDWORK = str(Path(__file__).resolve().parents[2] / "fieldwork")
if _FIELDWORK not in sys.path:
    sys.path.append(_FIELDWORK)
