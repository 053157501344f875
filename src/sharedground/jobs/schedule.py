"""Automatic sending: a send job for each wave that sends by itself and has messages due.

The worker runs `start_due_sends` every ten minutes (a huey periodic task) and once when
it starts. A wave whose send job is still waiting or running is left alone; the sender
itself never sends a message twice, so a job started by two workers at once would only
find nothing left to send.
"""

from __future__ import annotations

import datetime as dt

from sharedground.fieldwork import sending, waves
from sharedground.fieldwork.clock import study_today
from sharedground.jobs import records
from sharedground.store import Store
from sharedground.store.schema import Wave

ACTOR = "automatic sending"


def start_due_sends(store: Store, today: dt.date | None = None) -> list[int]:
    """Create a send job for every automatic wave with messages due; returns their ids."""
    today = today or study_today()
    started: list[int] = []
    with store.session() as session:
        for wave_id in waves.auto_send_waves(session):
            wave = session.get(Wave, wave_id)
            if wave is None or not waves.is_open(wave, today):
                continue
            if records.busy(session, wave.id, "send") is not None:
                continue
            days = waves.reminder_days(session, wave.id)
            if not sending.plan(session, wave, today, days):
                continue
            job = records.create(
                session,
                ACTOR,
                "send",
                wave.id,
                {"reminder_days": list(days), "connections": 2, "automatic": True},
            )
            started.append(job.id)
    return started
