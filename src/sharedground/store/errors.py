"""The store's error, in a module of its own so that the command line can name it (and catch
it) without importing SQLAlchemy."""


class StoreError(RuntimeError):
    """The database cannot be used as asked; the message says what to do."""
