"""A real SMTP server for the tests: aiosmtpd on loopback, keeping every message it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Accepts everything, except recipients whose address starts with `bounce` (550).

    Messages to an address starting with a key of `data_replies` are refused at the end of
    DATA with its reply (by default `reject...` permanently, `defer...` for now); every
    DATA is counted by recipient in `data_attempts`.

    `hold_after`: once this many messages were accepted, the next DATA is held (never
    answered) and `holding` is set, so that a test can kill the sender mid-transaction.

    `generation`: a connection belongs to the generation current at its first RCPT, and
    DATA on a connection of an earlier one is held as well. A test that kills the sender
    raises it before running the sender again, so that a DATA the killed process had sent
    in full but the server reads only later (the loop is busy, the machine loaded) is not
    counted as delivered by the new run (CI, 2026-12-04: a killed run's last message was
    read after `hold_after` was lifted and taken for a resend of a message in doubt).
    """

    received: list[Received] = field(default_factory=list)
    hold_after: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    held: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    data_replies: dict[str, str] = field(
        default_factory=lambda: {
            "reject": "554 5.7.1 Message refused by policy",
            "defer": "451 4.3.0 Try again later",
        }
    )
    data_attempts: dict[str, int] = field(default_factory=dict)
    generation: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if not hasattr(session, "generation"):
            session.generation = self.generation  # type: ignore[attr-defined]
        if address.split("@")[0].startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        item = Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.data_attempts[recipient] = self.data_attempts.get(recipient, 0) + 1
        for recipient in envelope.rcpt_tos:
            for prefix, reply in self.data_replies.items():
                if recipient.split("@")[0].startswith(prefix):
                    return reply
        stale = getattr(session, "generation", self.generation) < self.generation
        with self.lock:
            if stale or (self.hold_after is not None and len(self.received) >= self.hold_after):
                self.held.append(item)
                self.holding.set()
                hold = True
            else:
                self.received.append(item)
                hold = False
        if hold:
            await asyncio.sleep(3600)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


class MailServer:
    """`with MailServer() as server:` an SMTP server on 127.0.0.1:server.port."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop(no_assert=True)
