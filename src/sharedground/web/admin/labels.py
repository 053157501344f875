"""Words for people: role groups, job states and kinds, as pages show them."""

from __future__ import annotations

ROLE_LABELS = {
    "chief_executive": "Chief executive",
    "medical_director": "Medical director",
    "directorate_manager": "Directorate manager (or similar)",
    "clinical_director": "Clinical director (or similar)",
}

STATE_LABELS = {
    "queued": "Waiting to start",
    "running": "Running",
    "done": "Finished",
    "failed": "Failed",
}


def role_label(role: str | None) -> str:
    """`clinical_director` -> "Clinical director (or similar)"; an unknown id made readable."""
    if not role:
        return ""
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def words(identifier: str | None) -> str:
    """`opted_out` -> "Opted out"."""
    return (identifier or "").replace("_", " ").replace("-", " ").capitalize()
