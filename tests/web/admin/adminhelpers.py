"""Helpers for the admin tests (imported as `adminhelpers`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from webhelpers import LiveServer, csrf_of, parse

from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.contacts import import_contacts
from sharedground.fieldwork.postal import draw_sample
from sharedground.instrument import builtin
from sharedground.store import Contact, Organisation, Store
from sharedground.text.disclosure import wait_for_decisions
from sharedground.web import create_app

PASSWORD = "a-long-test-password"
ROLES = ("chief_executive", "medical_director", "clinical_director", "directorate_manager")
TRUSTS = ("RA1", "RB2")


@dataclass
class Site:
    store: Store
    wave: str
    serials: dict[str, list[str]]  # trust -> serials

    def app(self) -> Starlette:
        return create_app(self.store, key=b"admin-test-key")


def make_site(store: Store, tmp_path: Path, n: int = 16) -> Site:
    """A wave `w` with n contacts over two trusts, a full postal sample, and three accounts:
    `admin` (administrator), `lead-a` (lead of RA1) and `lead-b` (lead of RB2)."""
    with store.session() as session:
        store.create_wave(session, "w", builtin("dmr-2015"), opens=study_today())
    path = tmp_path / "contacts.csv"
    lines = ["name,email,postal_address,role,trust,directorate"]
    for i in range(n):
        lines.append(f"P{i},p{i}@example.org,{i} Road,{ROLES[i % 4]},{TRUSTS[i % 2]},")
    path.write_text("\n".join(lines) + "\n")
    import_contacts(store, path, "w")
    draw_sample(store, "w", dict.fromkeys(ROLES, 1.0), seed=1)
    with store.session() as session:
        accounts.create_user(session, "admin", PASSWORD, "administrator")
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
        accounts.create_user(session, "lead-b", PASSWORD, "lead", "RB2")
    serials: dict[str, list[str]] = {t: [] for t in TRUSTS}
    with store.session() as session:
        for contact in session.query(Contact).order_by(Contact.serial):
            code = TRUSTS[int(contact.name[1:]) % 2]  # type: ignore[index]
            serials[code].append(str(contact.serial))
    return Site(store, "w", serials)


def settled(client: TestClient, url: str) -> str:
    """The page at `url` once the wave's disclosure decision is made. The first view after
    the close finds it being made (in the background) and shows none of the figures it
    could withhold; this waits for it, as a lead reloading later would, and reads again."""
    text = client.get(url).text
    if 'id="final-pending"' in text or 'id="role-pending"' in text:
        wait_for_decisions(timeout=120)
        text = client.get(url).text
        assert 'id="final-pending"' not in text and 'id="role-pending"' not in text
    return text


def login(client: TestClient, username: str, password: str = PASSWORD) -> int:
    page = parse(client.get("/admin/login").text)
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_of(page),
            "username": username,
            "password": password,
            "next": "/admin",
        },
        follow_redirects=False,
    )
    return response.status_code


def sign_in(page: Any, server: LiveServer, username: str, password: str = PASSWORD) -> Any:
    """Sign a Playwright page in through the login form; returns it on the admin home."""
    page.goto(f"{server.url}/admin")
    assert "/admin/login" in page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/admin")
    return page


def close_yesterday(store: Store, wave: str = "w") -> None:
    """Fieldwork of `wave` ran for the last 30 days and closed yesterday."""
    with store.session() as session:
        found = store.find_wave(session, wave)
        assert found is not None
        found.opens = study_today() - dt.timedelta(days=30)
        found.closes = study_today() - dt.timedelta(days=1)


def contacts_by_trust_and_role(store: Store) -> dict[str, dict[str, list[int]]]:
    """Contact ids by trust code and role, in the order they were added."""
    people: dict[str, dict[str, list[int]]] = {}
    with store.session() as session:
        for contact in session.scalars(select(Contact).order_by(Contact.id)):
            code = session.get(Organisation, contact.organisation_id)
            assert code is not None
            people.setdefault(code.code, {}).setdefault(contact.role, []).append(contact.id)
    return people
