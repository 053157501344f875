"""Environment variable names and defaults that the command line shows in its options.

Kept apart from the modules that use them (`links`, `personal`) so that `sharedground send
--help` can print them without importing SQLAlchemy and the cryptography library.
"""

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
BASE_URL_ENV = "SHAREDGROUND_BASE_URL"

KEY_ENV = "SHAREDGROUND_LINK_KEY"
DEFAULT_KEY_FILE = "sharedground-link.key"
