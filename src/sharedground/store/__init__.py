"""The store: schema, migrations, the engine and the shared look-ups."""

from sharedground.store.engine import database_url, make_engine
from sharedground.store.schema import Base, Contact, InstrumentRecord, Organisation, Response, Wave
from sharedground.store.store import Store, StoreError

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
