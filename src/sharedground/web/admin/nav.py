"""The admin header's navigation: one list of sections, the current one marked.

Add a section by adding one `Section` to SECTIONS (in the order the header shows them);
`current` is the section whose `prefixes` match the page's path best. Pages of one wave
also get the wave's own navigation, WAVE_SECTIONS, built the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sharedground.fieldwork.accounts import Principal

ADMIN = "/admin"


@dataclass(frozen=True)
class Section:
    label: str
    url: str
    #: Paths that belong to the section (its own url is always one).
    prefixes: tuple[str, ...] = ()
    admin_only: bool = True

    def matches(self, path: str) -> int:
        """How specific a match the path is (0: none)."""
        best = 0
        for prefix in (self.url, *self.prefixes):
            exact = path == prefix
            if exact or (prefix != ADMIN and path.startswith(prefix.rstrip("/") + "/")):
                best = max(best, len(prefix) + (1 if exact else 0))
        return best


SECTIONS: list[Section] = [
    Section("Waves", ADMIN, (f"{ADMIN}/waves",), admin_only=False),
    Section("Initiatives", f"{ADMIN}/initiatives", admin_only=False),
    Section("Coding", f"{ADMIN}/coding", admin_only=False),
    Section("Jobs", f"{ADMIN}/jobs"),
    Section("Accounts", f"{ADMIN}/accounts"),
    Section("Audit log", f"{ADMIN}/audit"),
]

# The pages of one wave; `{wave}` is the wave's name. Leads see only their trust's pages.
WAVE_SECTIONS: list[Section] = [
    Section("Settings", f"{ADMIN}/waves/{{wave}}"),
    Section("Monitoring", f"{ADMIN}/waves/{{wave}}/monitor"),
    Section("Sample frame", f"{ADMIN}/waves/{{wave}}/frame"),
    Section("Contacts", f"{ADMIN}/waves/{{wave}}/contacts"),
    Section("Messages", f"{ADMIN}/waves/{{wave}}/messages"),
    Section("Paper entry", f"{ADMIN}/waves/{{wave}}/paper"),
    Section("Data and reports", f"{ADMIN}/waves/{{wave}}/data"),
]


def _items(sections: list[Section], user: Principal, path: str, **names: str) -> list[Any]:
    visible = [s for s in sections if user.is_admin or not s.admin_only]
    filled = [
        Section(s.label, s.url.format(**names), tuple(p.format(**names) for p in s.prefixes))
        for s in visible
    ]
    scores = [s.matches(path) for s in filled]
    top = max(scores, default=0)
    return [
        {
            "label": s.label,
            "url": s.url,
            # aria-current="page" on the page itself, "true" within its section.
            "current": ("page" if path == s.url else "true") if top and score == top else None,
        }
        for s, score in zip(filled, scores, strict=True)
    ]


def items(user: Principal | None, path: str) -> list[dict[str, Any]]:
    """The header's sections for this user, the current one marked."""
    return [] if user is None else _items(SECTIONS, user, path)


def wave_items(user: Principal | None, path: str, wave: str) -> list[dict[str, Any]]:
    """A wave's own pages (administrators only; a lead's pages are their trust's)."""
    if user is None or not user.is_admin:
        return []
    return _items(WAVE_SECTIONS, user, path, wave=wave)
