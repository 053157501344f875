"""Automatic sending: the worker's periodic check starts a send job when messages fall due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fieldhelpers import make_frame
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork import waves
from sharedground.fieldwork.clock import study_today
from sharedground.jobs import records
from sharedground.jobs.model import Job
from sharedground.jobs.schedule import start_due_sends
from sharedground.store import Contact, Store
from sharedground.store.schema import Message


def _auto(store: Store, name: str, on: bool = True) -> None:
    with store.session() as session:
        wave = store.get_wave(session, name)
        settings = waves.WaveSettings(
            wave.opens, wave.closes, (9, 21), wave.suppression_threshold, auto_send=on
        )
        waves.update(session, wave, settings, study_today())


def test_only_automatic_open_waves_with_something_due_get_a_job(
    store: Store, tmp_path: Path
) -> None:
    make_frame(store, tmp_path, "auto", 3)
    make_frame(store, tmp_path, "manual", 3)
    assert start_due_sends(store) == []  # nobody asked for automatic sending
    _auto(store, "auto")
    (first,) = start_due_sends(store)
    assert start_due_sends(store) == []  # its job is still waiting
    with store.session() as session:
        job = session.get(Job, first)
        assert job is not None and job.kind == "send" and job.params["automatic"] is True
        assert store.get_wave(session, "auto").id == job.wave_id
    # Once the invitations are recorded sent, nothing is due until the first reminder day.
    records.finish(store, first, summary="done")
    with store.session() as session:
        wave = store.get_wave(session, "auto")
        contacts = [c.id for c in wave_contacts(session, wave.id)]
        for contact_id in contacts:
            session.add(
                Message(
                    wave_id=wave.id,
                    contact_id=contact_id,
                    kind="invitation",
                    status="sent",
                    address=f"{contact_id}@example.org",
                    message_id=f"<{contact_id}@x>",
                    attempts=1,
                    started_at=dt.datetime(2026, 1, 1),
                )
            )
    today = dt.date(2026, 1, 1) + dt.timedelta(days=5)
    with store.session() as session:
        store.get_wave(session, "auto").opens = dt.date(2025, 12, 1)
    assert start_due_sends(store, today) == []
    assert len(start_due_sends(store, dt.date(2026, 1, 10))) == 1  # day 9: reminder 1
    _auto(store, "auto", on=False)
    with store.session() as session:
        session.execute(update(Job).values(state="done"))
    assert start_due_sends(store, dt.date(2026, 1, 10)) == []  # switched off


def wave_contacts(session: Session, wave_id: int) -> list[Contact]:
    return list(session.scalars(select(Contact).where(Contact.wave_id == wave_id)))
