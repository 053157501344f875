"""STARTTLS and login against a real server that requires both (aiosmtpd with TLS and AUTH).

Every connection goes through a wire tap, so that the tests see what the client sent in
clear: after STARTTLS nothing readable, and to a server without STARTTLS never the password.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fieldhelpers import Frame
from sqlalchemy import func, select
from tlsmail import Authenticator, AuthMailServer, Certificates, WireTap, make_certificates

from sharedground.cli import main
from sharedground.fieldwork.mail import Sender, Templates
from sharedground.fieldwork.personal import Sealer
from sharedground.fieldwork.sending import Mailer, SendReport, send_due
from sharedground.fieldwork.smtp import (
    ServerUnavailable,
    SmtpConfigError,
    SmtpSettings,
    SmtpTransport,
)
from sharedground.store.schema import Message

USER, PASSWORD = "survey", "correct horse battery staple"


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def tls_server(certificates: Certificates) -> Iterator[AuthMailServer]:
    with AuthMailServer(Authenticator(USER, PASSWORD), certificates) as server:
        yield server


@pytest.fixture
def plain_server() -> Iterator[AuthMailServer]:
    """Offers AUTH but no STARTTLS: a password sent to it would travel in clear."""
    with AuthMailServer(Authenticator(USER, PASSWORD), None) as server:
        yield server


@pytest.fixture
def key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def secrets_in(wire: bytes, password: str = PASSWORD) -> list[str]:
    """Which forms of the credentials appear in the bytes (AUTH PLAIN and LOGIN encodings)."""
    forms = {
        "password": password.encode(),
        "AUTH PLAIN": base64.b64encode(f"\0{USER}\0{password}".encode()),
        "AUTH LOGIN": base64.b64encode(password.encode()),
    }
    found = [name for name, form in forms.items() if form in wire]
    # Commands are case-insensitive (smtplib writes `ehlo`, `AUTH`).
    return found + (["AUTH command"] if b"auth " in wire.lower() else [])


def send_through(frame: Frame, settings: SmtpSettings, key: bytes) -> SendReport:
    transport = SmtpTransport(settings)
    mailer = Mailer(
        transport=transport,
        sender=Sender("Survey team <survey@example.org>"),
        base_url="https://survey.example.org",
        templates=Templates(),
        sealer=Sealer(key),
    )
    try:
        return send_due(frame.store, frame.wave, mailer, today=dt.date.today())
    finally:
        transport.close()


def messages_by_status(frame: Frame) -> dict[str, int]:
    with frame.store.session() as session:
        counted = session.execute(select(Message.status, func.count()).group_by(Message.status))
        return {status: n for status, n in counted}


def test_starttls_and_login_deliver_with_nothing_readable_on_the_wire(
    frame: Frame, tls_server: AuthMailServer, certificates: Certificates, key: bytes
) -> None:
    with WireTap(tls_server.port) as tap:
        settings = SmtpSettings(
            "127.0.0.1", tap.port, starttls=True, user=USER, password=PASSWORD,
            cafile=str(certificates.ca),
        )  # fmt: skip
        report = send_through(frame, settings, key)
    assert report.stopped is None and report.sent == 40
    assert messages_by_status(frame) == {"sent": 40}
    assert len(tls_server.handler.received) == 40
    assert {a[:2] for a in tls_server.auth.attempts} == {(USER, PASSWORD)}
    wire = tap.sent()
    assert b"starttls" in wire.lower()  # asked for in clear, as it must be
    assert secrets_in(wire) == []  # the login itself went inside TLS
    assert b"Invitation" not in wire and b"person1@example.org" not in wire


def test_wrong_password_is_a_clear_error_and_nothing_is_recorded_sent(
    frame: Frame, tls_server: AuthMailServer, certificates: Certificates, key: bytes
) -> None:
    settings = SmtpSettings(
        "127.0.0.1", tls_server.port, starttls=True, user=USER, password="wrong",
        cafile=str(certificates.ca),
    )  # fmt: skip
    report = send_through(frame, settings, key)
    assert report.stopped is not None
    assert "refused the login of 'survey'" in report.stopped
    assert "535" in report.stopped and "check the SMTP user and password" in report.stopped
    assert report.sent == 0 and report.failed == 0
    assert messages_by_status(frame) == {}  # nothing claimed, so a later run sends them all
    assert tls_server.handler.received == []
    assert (USER, "wrong") in {a[:2] for a in tls_server.auth.attempts}


def test_certificate_is_verified_by_default(
    tls_server: AuthMailServer, certificates: Certificates
) -> None:
    untrusted = SmtpSettings(
        "127.0.0.1", tls_server.port, starttls=True, user=USER, password=PASSWORD
    )
    with SmtpTransport(untrusted) as transport, pytest.raises(ServerUnavailable) as refused:
        transport.connect()
    assert "cannot be verified" in str(refused.value)
    assert "--smtp-cafile" in str(refused.value)
    assert tls_server.auth.attempts == []  # no password for a server that proved nothing
    # The same server, its CA trusted: connected and logged in.
    trusted = SmtpSettings(
        "127.0.0.1", tls_server.port, starttls=True, user=USER, password=PASSWORD,
        cafile=str(certificates.ca),
    )  # fmt: skip
    with SmtpTransport(trusted) as transport:
        transport.connect()
    assert [a[:2] for a in tls_server.auth.attempts] == [(USER, PASSWORD)]


@pytest.mark.parametrize("starttls", [True, None], ids=["required", "when-offered"])
def test_no_starttls_means_no_password_on_the_wire(
    plain_server: AuthMailServer, starttls: bool | None
) -> None:
    with WireTap(plain_server.port) as tap:
        settings = SmtpSettings(
            "127.0.0.1", tap.port, starttls=starttls, user=USER, password=PASSWORD
        )
        with SmtpTransport(settings) as transport, pytest.raises(ServerUnavailable) as refused:
            transport.connect()
        wire = tap.sent()
    if starttls:
        assert "does not offer STARTTLS, which is required" in str(refused.value)
    else:
        assert "refusing to send the SMTP password over an unencrypted" in str(refused.value)
    assert wire.lower().startswith(b"ehlo ")  # the client did talk to it ...
    assert secrets_in(wire) == []  # ... but never sent the login
    assert plain_server.auth.attempts == []


def test_cli_takes_the_ca_file_from_the_environment(
    frame: Frame,
    tls_server: AuthMailServer,
    certificates: Certificates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("SHAREDGROUND_LINK_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("SHAREDGROUND_SMTP_PASSWORD", PASSWORD)
    args = [
        "send", "--wave", frame.wave, "--database", frame.store.url,
        "--smtp-host", "127.0.0.1", "--smtp-port", str(tls_server.port),
        "--smtp-user", USER, "--starttls", "--from", "survey@example.org",
    ]  # fmt: skip
    monkeypatch.setenv("SHAREDGROUND_SMTP_CAFILE", str(certificates.ca.parent / "missing.pem"))
    missing = CliRunner().invoke(main, args)
    assert missing.exit_code != 0
    assert "--smtp-cafile" in missing.output and "missing.pem" in missing.output
    assert messages_by_status(frame) == {}
    monkeypatch.setenv("SHAREDGROUND_SMTP_CAFILE", str(certificates.ca))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(tls_server.handler.received) == 40
    assert messages_by_status(frame) == {"sent": 40}


def test_a_ca_file_that_is_not_certificates_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(SmtpConfigError, match="not a readable PEM file"):
        SmtpSettings.resolve("127.0.0.1", 587, True, USER, PASSWORD, cafile=str(bad))
