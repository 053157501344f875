"""Helpers shared by the fieldwork tests (imported as `fieldhelpers`)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from sharedground.fieldwork.contacts import import_contacts
from sharedground.instrument import builtin
from sharedground.store import Contact, Store

ROLES = ("chief_executive", "medical_director", "clinical_director", "directorate_manager")
TRUSTS = ("RA1", "RB2", "RC3")


@dataclass
class Frame:
    store: Store
    wave: str
    csv: Path

    def contacts(self) -> list[Contact]:
        with self.store.session() as session:
            wave = self.store.get_wave(session, self.wave)
            return list(
                session.scalars(
                    select(Contact).where(Contact.wave_id == wave.id).order_by(Contact.id)
                )
            )


def write_contacts(path: Path, n: int, *, start: int = 0) -> Path:
    """A contacts CSV of n people, roles and trusts in rotation, all with e-mail and address."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "postal_address", "role", "trust", "directorate"])
        for i in range(start, start + n):
            writer.writerow(
                [
                    f"Person {i}",
                    f"person{i}@example.org",
                    f"{i} High Street\nTown\nAB{i % 10} 1CD",
                    ROLES[i % 4],
                    TRUSTS[i % 3],
                    f"Directorate {i % 5}" if ROLES[i % 4] in ROLES[2:] else "",
                ]
            )
    return path


def make_frame(store: Store, tmp_path: Path, name: str, n: int, **wave: object) -> Frame:
    with store.session() as session:
        store.create_wave(
            session, name, builtin("dmr-2015"), opens=dt.date.today() - dt.timedelta(days=1), **wave
        )
    path = write_contacts(tmp_path / f"{name}-contacts.csv", n)
    import_contacts(store, path, name)
    return Frame(store, name, path)
