"""Fieldwork commands: `contacts`, `send`, `postal`, `status` and `admin`."""

from __future__ import annotations

from pathlib import Path

import click

from sharedground.cli._common import console, database_option, open_store
from sharedground.fieldwork import contacts as contacts_lib
from sharedground.store import StoreError


@click.group()
def contacts() -> None:
    """The sample frame: who is asked in a wave."""


@contacts.command("import")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--wave", "wave_name", required=True, help="The wave the contacts belong to.")
@database_option
def contacts_import(path: Path, wave_name: str, database: str | None) -> None:
    """Add the people in FILE (CSV or XLSX) to a wave's sample frame.

    Columns: name, email, postal_address, role, trust, directorate. The whole file is
    checked first; if any row has a problem nothing is added and every problem is listed.
    """
    store = open_store(database)
    try:
        summary = contacts_lib.import_contacts(store, path, wave_name)
    finally:
        store.dispose()
    roles = ", ".join(f"{role} {n}" for role, n in sorted(summary.by_role.items()))
    console.print(
        f"[green]Added[/] {summary.added} contacts to wave {wave_name!r} "
        f"from {summary.trusts} organisations ({roles})"
    )


@contacts.command("opt-out")
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option("--wave", "wave_name", required=True, help="The wave.")
@database_option
def contacts_opt_out(emails: tuple[str, ...], wave_name: str, database: str | None) -> None:
    """Record that the people with these e-mail addresses want no more messages."""
    store = open_store(database)
    try:
        with store.session() as session:
            wave = store.get_wave(session, wave_name)
            found = []
            for email in emails:
                contact = contacts_lib.find_contact(session, wave, email)
                if contact is None:
                    raise StoreError(f"no contact {email!r} in wave {wave_name!r}; nothing changed")
                found.append(contact.id)
            changed = sum(contacts_lib.opt_out(session, ident) for ident in found)
    finally:
        store.dispose()
    console.print(
        f"[green]Opted out[/] {changed} contact(s) ({len(emails) - changed} already were)"
    )


COMMANDS: list[click.Command] = [contacts]
