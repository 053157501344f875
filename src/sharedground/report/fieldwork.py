"""Fieldwork facts for the methods section, from the wave's fieldwork records.

The counts are those of `sharedground status` (`fieldwork.monitor.wave_status`): contacts in
the sample frame, invitations and reminders actually sent, the postal sample and the
completions recorded against contacts (which, unlike responses, exist in anonymous waves
too). Response rates are completions over invitations (over the sample frame when no
invitation was e-mailed); by mode, online completions over invitations and postal
completions over the questionnaires posted.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from sharedground.fieldwork.monitor import wave_status
from sharedground.report.model import Fieldwork
from sharedground.store import Wave


def recorded(session: Session, wave: Wave) -> Fieldwork | None:
    """The wave's fieldwork as recorded, or None when it has no sample frame."""
    status = wave_status(session, wave)
    if status.total.contacts == 0:
        return None
    invited = status.total.invited
    base = invited or status.total.contacts
    facts = Fieldwork(
        contacts=status.total.contacts,
        invitations=invited or None,
        invitations_by_group={c.group: c.invited for c in status.by_role} if invited else None,
        rate_by_group={
            c.group: c.completed / (c.invited if invited else c.contacts)
            for c in status.by_role
            if (c.invited if invited else c.contacts)
        },
        rate_overall=status.total.completed / base if base else None,
    )
    sent: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for day, kind, count in status.reminders:
        sent[kind].append((f"{day:%d %B %Y}", count))
    if sent:
        facts.reminders = "; ".join(
            f"{kind.replace('-', ' ')}: " + ", ".join(f"{n:,} on {day}" for day, n in days)
            for kind, days in sorted(sent.items())
        )
    elif invited:
        facts.reminders = "none sent"
    postal = status.postal.get("sampled", 0)
    if postal:
        facts.postal_sample = (
            f"{postal:,} questionnaires posted, {status.postal.get('returned', 0):,} returned"
        )
    rates: dict[str, float] = {}
    if invited:
        rates["online"] = status.by_mode.get("online", 0) / invited
    if postal:
        rates["postal"] = status.by_mode.get("postal", 0) / postal
    facts.rate_by_mode = rates or None
    return facts
