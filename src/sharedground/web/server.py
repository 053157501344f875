"""The app factory uvicorn imports (`sharedground.web.server:app`, factory=True).

Each worker process builds its own app from $SHAREDGROUND_DATABASE_URL, so `serve
--workers N` and the load benchmark run exactly what production runs.
"""

from __future__ import annotations

from starlette.applications import Starlette

from sharedground.store import Store
from sharedground.web.app import create_app
from sharedground.web.security import install_log_redaction


def app() -> Starlette:
    """A fresh app on the database named by the environment."""
    install_log_redaction()
    return create_app(Store())
