"""Job tests reuse the fieldwork helpers (a sample frame, an aiosmtpd server)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for folder in ("fieldwork", "web", "web/admin"):
    path = str(_TESTS / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
