"""The store: schema, migrations, the engine and the shared look-ups.

Names are loaded on first use (PEP 562): `from sharedground.store.errors import StoreError`
must not pay for SQLAlchemy, which every command that never opens a database (`--help`,
`instrument list`) would otherwise import at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sharedground.store.engine import database_url as database_url
    from sharedground.store.engine import make_engine as make_engine
    from sharedground.store.errors import StoreError as StoreError
    from sharedground.store.schema import Base as Base
    from sharedground.store.schema import Contact as Contact
    from sharedground.store.schema import InstrumentRecord as InstrumentRecord
    from sharedground.store.schema import Organisation as Organisation
    from sharedground.store.schema import Response as Response
    from sharedground.store.schema import Wave as Wave
    from sharedground.store.store import Store as Store

_WHERE = {
    "database_url": "sharedground.store.engine",
    "make_engine": "sharedground.store.engine",
    "StoreError": "sharedground.store.errors",
    "Base": "sharedground.store.schema",
    "Contact": "sharedground.store.schema",
    "InstrumentRecord": "sharedground.store.schema",
    "Organisation": "sharedground.store.schema",
    "Response": "sharedground.store.schema",
    "Wave": "sharedground.store.schema",
    "Store": "sharedground.store.store",
}

__all__ = [
    "Base",
    "Contact",
    "InstrumentRecord",
    "Organisation",
    "Response",
    "Store",
    "StoreError",
    "Wave",
    "database_url",
    "make_engine",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sharedground.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value
