"""Keying paper questionnaires on the admin pages: twice, blind, then reconciled."""

from __future__ import annotations

import datetime as dt

from adminhelpers import PASSWORD, Site, login
from cryptography.fernet import Fernet
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground.fieldwork.mail import optout_url
from sharedground.fieldwork.personal import Sealer, ensure_links
from sharedground.store import Contact, Response


def _key(client: TestClient, serial: str, data: dict[str, str | list[str]]) -> TestClient:
    page = parse(client.get(f"/admin/paper/{serial}").text)
    assert page.css_first("#keying") is not None
    # Blind: the form holds no earlier answer.
    assert page.css("option[selected]") == [] and page.css("input[checked]") == []
    return client.post(f"/admin/paper/{serial}", data={"csrf_token": csrf_of(page), **data})  # type: ignore[return-value]


def test_two_keyings_that_differ_are_reconciled_into_one_response(site: Site) -> None:
    serial = site.serials["RA1"][0]
    first = {"role": "chief_executive", "local_rating": "4", "barriers": ["lack_trust", "other"]}
    second = {"role": "chief_executive", "local_rating": "5", "barriers": ["other", "lack_trust"]}
    with TestClient(site.app(), base_url="https://testserver") as one:
        login(one, "admin")
        response = _key(one, serial, first)
        assert text_of(parse(response.text), "#status") == "keying"
        # The same person cannot key it again.
        page = parse(one.get(f"/admin/paper/{serial}").text)
        assert page.css_first("#keying") is None and page.css_first("#wait") is not None
    with site.store.session() as session:
        from sharedground.fieldwork import accounts

        accounts.create_user(session, "keyer2", PASSWORD, "administrator")
    with TestClient(site.app(), base_url="https://testserver") as two:
        login(two, "keyer2")
        response = _key(two, serial, second)
        page = parse(response.text)
        rows = {
            tr.attributes["data-field"]: [td.text().strip() for td in tr.css("td")][1:3]
            for tr in page.css("#discrepancies tbody tr")
        }
        assert rows == {"local_rating": ["4", "5"]}  # the ticks in another order agree
        with site.store.session() as session:
            assert session.scalar(select(Response.id)) is None
        form = {"csrf_token": csrf_of(page), "choice:local_rating": "second"}
        done = parse(two.post(f"/admin/paper/{serial}/reconcile", data=form).text)
        assert text_of(done, "#status") == "reconciled"
    with site.store.session() as session:
        [response_row] = session.scalars(select(Response)).all()
    assert response_row.mode == "postal"
    assert response_row.answers == {"local_rating": "5", "barriers": "lack_trust;other"}


def test_bad_value_is_refused_with_the_field_named(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    serial = site.serials["RB2"][0]
    response = _key(admin_client, serial, {"local_rating": "9"})
    assert response.status_code == 422
    assert "local_rating" in text_of(parse(response.text), ".nhsuk-error-summary")


def test_serial_search_checks_the_check_digit(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    serial = site.serials["RA1"][1]
    response = admin_client.get(
        f"/admin/waves/w/paper?serial={serial.replace('-', '')}", follow_redirects=False
    )
    assert response.headers["location"] == f"/admin/paper/{serial}"
    wrong = serial[:-1] + str((int(serial[-1]) + 1) % 10)
    page = parse(admin_client.get(f"/admin/waves/w/paper?serial={wrong}").text)
    assert "not a serial" in text_of(page, ".nhsuk-error-summary")


def test_opt_out_page_needs_a_click_and_then_records_it(site: Site) -> None:
    with site.store.session() as session:
        wave = site.store.get_wave(session, "w")
        contact = session.scalars(select(Contact).order_by(Contact.id)).first()
        assert contact is not None
        token = ensure_links(session, wave, [contact], Sealer(Fernet.generate_key()))[contact.id]
    path = optout_url("", token)
    with TestClient(site.app(), base_url="https://testserver") as client:
        page = parse(client.get(path).text)
        with site.store.session() as session:
            assert session.get(Contact, contact.id).opted_out_at is None  # type: ignore[union-attr]
        client.post(path, data={"csrf_token": csrf_of(page)})
        assert client.get("/optout/" + "x" * 32).status_code == 404
    with site.store.session() as session:
        assert session.get(Contact, contact.id).opted_out_at is not None  # type: ignore[union-attr]


def test_one_click_unsubscribe_from_the_mail_program(site: Site) -> None:
    with site.store.session() as session:
        wave = site.store.get_wave(session, "w")
        contact = session.scalars(select(Contact).order_by(Contact.id.desc())).first()
        assert contact is not None
        token = ensure_links(session, wave, [contact], Sealer(Fernet.generate_key()))[contact.id]
    with TestClient(site.app(), base_url="https://testserver") as client:
        response = client.post(
            optout_url("", token),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
    with site.store.session() as session:
        opted = session.get(Contact, contact.id)
        assert opted is not None and opted.opted_out_at is not None
        # Stored as UTC: its date is UTC's, whatever the server's zone.
        assert opted.opted_out_at.date() == dt.datetime.now(dt.UTC).date()
