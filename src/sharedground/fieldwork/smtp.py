"""Talking to the SMTP server: settings from flags or the environment, and one transaction.

A transaction is run step by step (MAIL, RCPT, DATA) rather than with `sendmail`, so that
a failure can be placed: a refusal or a broken connection before DATA means the message
was certainly not accepted (it may be tried again, unless the refusal was permanent: a 5xx
at RCPT or at the end of DATA is a bounce, never retried), while a connection lost during DATA
leaves its fate unknown (the server may have accepted it), and such a message is only
resent when asked explicitly.

The server's certificate is always verified, against the system's trusted authorities or,
for a server whose certificate an organisation signs itself, against the CA file given
with `--smtp-cafile` / $SHAREDGROUND_SMTP_CAFILE. There is no way to turn verification
off: a password sent to a server that cannot prove who it is may as well be sent in clear.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from enum import Enum

from sharedground.store import StoreError

ENV = {
    "host": "SHAREDGROUND_SMTP_HOST",
    "port": "SHAREDGROUND_SMTP_PORT",
    "user": "SHAREDGROUND_SMTP_USER",
    "password": "SHAREDGROUND_SMTP_PASSWORD",
    "starttls": "SHAREDGROUND_SMTP_STARTTLS",
    "cafile": "SHAREDGROUND_SMTP_CAFILE",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SmtpConfigError(StoreError):
    """The SMTP settings cannot work; the message says which one and what is allowed."""


class Outcome(Enum):
    SENT = "sent"
    FAILED = "failed"  # certainly not accepted; may be tried again
    BOUNCED = "bounced"  # the server refused the recipient or the message for good (5xx)
    UNKNOWN = "unknown"  # the connection broke during DATA


class ServerUnavailable(Exception):
    """The server could not be reached or refused the sender: stop the batch."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. `starttls` None means: use it when the server offers it."""

    host: str = "localhost"
    port: int = 25
    starttls: bool | None = None
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0
    cafile: str | None = None  # trust this CA (PEM) instead of the system's

    def tls_context(self) -> ssl.SSLContext:
        """The context STARTTLS uses: certificate and host name always verified."""
        return ssl.create_default_context(cafile=self.cafile)

    @classmethod
    def resolve(
        cls,
        host: str | None = None,
        port: int | None = None,
        starttls: bool | None = None,
        user: str | None = None,
        password: str | None = None,
        cafile: str | None = None,
    ) -> SmtpSettings:
        """Settings from the flags given, else the environment, else localhost:25."""
        env = os.environ
        host = host or env.get(ENV["host"]) or "localhost"
        if port is None:
            raw = env.get(ENV["port"])
            if raw:
                if not raw.isdigit() or not 0 < int(raw) < 65536:
                    raise SmtpConfigError(f"${ENV['port']}={raw!r} is not a port number")
                port = int(raw)
            else:
                port = 587 if (user or env.get(ENV["user"])) else 25
        if starttls is None:
            raw = env.get(ENV["starttls"], "").strip().lower()
            if raw in _TRUE:
                starttls = True
            elif raw in _FALSE:
                starttls = False
            elif raw:
                raise SmtpConfigError(f"${ENV['starttls']}={raw!r}: use 1 or 0 (or leave unset)")
        user = user or env.get(ENV["user"]) or None
        password = password or env.get(ENV["password"]) or None
        if user and not password:
            raise SmtpConfigError(f"an SMTP user is given but no password (${ENV['password']})")
        cafile = cafile or env.get(ENV["cafile"]) or None
        if cafile is not None:
            try:
                ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise SmtpConfigError(
                    f"--smtp-cafile {cafile}: not a readable PEM file of certificates "
                    f"({getattr(exc, 'strerror', None) or exc})"
                ) from None
        return cls(host, port, starttls, user, password, cafile=cafile)


class SmtpTransport:
    """One connection to the server, reopened when it drops; send one message at a time."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def connect(self) -> smtplib.SMTP:
        """The open connection (made, secured and logged in when needed)."""
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            use_tls = s.starttls if s.starttls is not None else smtp.has_extn("starttls")
            if use_tls:
                if not smtp.has_extn("starttls"):
                    raise ServerUnavailable(
                        f"{s.host}:{s.port} does not offer STARTTLS, which is required "
                        f"(--starttls or ${ENV['starttls']}); nothing was sent to it"
                    )
                smtp.starttls(context=s.tls_context())
                smtp.ehlo()
            if s.user:
                if not use_tls:
                    raise ServerUnavailable(
                        "refusing to send the SMTP password over an unencrypted connection; "
                        "use a server that offers STARTTLS"
                    )
                smtp.login(s.user, s.password or "")
        except BaseException as exc:
            if smtp is not None:
                smtp.close()
            raise self._explain(exc) from None
        self._smtp = smtp
        return smtp

    def _explain(self, exc: BaseException) -> BaseException:
        """A failure to connect, secure or log in, in words an operator can act on."""
        s = self.settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return ServerUnavailable(
                f"{s.host}:{s.port} refused the login of {s.user!r}: {_text(exc)}; "
                "check the SMTP user and password"
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ServerUnavailable(
                f"the certificate of SMTP server {s.host}:{s.port} cannot be verified "
                f"({exc.verify_message}); if your organisation signs its own, give its CA "
                f"with --smtp-cafile or ${ENV['cafile']}"
            )
        if isinstance(exc, smtplib.SMTPException | OSError):
            return ServerUnavailable(f"cannot reach SMTP server {s.host}:{s.port}: {exc}")
        return exc

    def send(self, message: bytes, sender: str, recipient: str) -> tuple[Outcome, str]:
        """Run one transaction; the outcome and the server's words."""
        smtp = self.connect()
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise ServerUnavailable(
                    f"the server refused sender {sender}: {code} {_decode(reply)}"
                )
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                outcome = Outcome.BOUNCED if 500 <= code < 600 else Outcome.FAILED
                return outcome, f"{code} {_decode(reply)}"
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return Outcome.FAILED, f"connection lost before the message was sent: {exc}"
        try:
            code, reply = smtp.data(message)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            smtp.rset()
            return _refused(exc.smtp_code), f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return Outcome.UNKNOWN, f"connection lost while the message was being sent: {exc}"
        if code != 250:  # the message was refused at its end (content, policy, size, spam)
            return _refused(code), f"{code} {_decode(reply)}"
        return Outcome.SENT, f"{code} {_decode(reply)}"

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _refused(code: int) -> Outcome:
    """A refusal of the message: for good (5xx, never sent again) or for now (4xx, retried).

    RFC 5321 makes 5xx permanent wherever it comes: sending the same message again can only
    be refused again, so it counts as a bounce like a 5xx at RCPT.
    """
    return Outcome.BOUNCED if 500 <= code < 600 else Outcome.FAILED


def _decode(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _text(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_decode(exc.smtp_error)}"
