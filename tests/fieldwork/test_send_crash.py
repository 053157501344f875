"""A send killed halfway (SIGKILL, inside an SMTP transaction) and run again.

The sender runs as a real `sharedground send` process against a real SMTP server. The
server holds the DATA of one message unanswered after N were accepted; the test kills the
sender while it waits. Running again must send every message not yet attempted exactly
once, never one recorded as sent, and report the one left in doubt until --retry-unknown.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from fieldhelpers import Frame
from mailserver import Handler, MailServer
from sqlalchemy import select

from sharedground.cli import main
from sharedground.store.schema import Message

HELD_AFTER = 17


def _args(frame: Frame, server: MailServer) -> list[str]:
    return [
        "send",
        "--wave",
        frame.wave,
        "--database",
        frame.store.url,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(server.port),
        "--no-starttls",
        "--from",
        "survey@example.org",
        "--base-url",
        "https://survey.example.org",
    ]


def test_killed_send_resumes_without_sending_anything_twice(
    frame: Frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SHAREDGROUND_LINK_KEY", key)
    handler = Handler(hold_after=HELD_AFTER)
    with MailServer(handler) as server:
        env = {**os.environ, "SHAREDGROUND_LINK_KEY": key}
        process = subprocess.Popen(
            [sys.executable, "-m", "sharedground", *_args(frame, server)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert handler.holding.wait(60), "the sender never reached the held message"
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        assert len(handler.received) == HELD_AFTER
        before_kill = {r.recipients[0] for r in handler.received}
        held_at_data = {h.recipients[0] for h in handler.held}

        with frame.store.session() as session:
            rows = session.execute(select(Message.address, Message.status)).all()
        statuses = collections.Counter(status for _a, status in rows)
        in_doubt = {address for address, status in rows if status == "sending"}
        sent = {address for address, status in rows if status == "sent"}
        # With several SMTP connections, each may have been inside a transaction (or have
        # had its message accepted but not yet recorded): all of those are in doubt.
        assert set(statuses) == {"sent", "sending"} and 1 <= statuses["sending"] <= 4
        assert sent <= before_kill <= sent | in_doubt
        assert held_at_data <= in_doubt
        held = sorted(in_doubt)[0]

        # The killed process's connections stay held: a DATA it sent in full, read by the
        # server only now, is not delivered and so not taken for a resend by the new run.
        handler.generation += 1
        handler.hold_after = None
        runner = CliRunner()
        result = runner.invoke(main, _args(frame, server))
        assert result.exit_code == 0, result.output
        assert "interrupted inside the SMTP transaction" in result.output
        assert all(address in result.output for address in in_doubt)

        counts = collections.Counter(r.recipients[0] for r in handler.received)
        expected = {c.email for c in frame.contacts()} - (in_doubt - before_kill)
        assert set(counts) == expected
        assert max(counts.values()) == 1  # nobody got a second invitation

        # A second plain run still leaves the ones in doubt alone.
        result = runner.invoke(main, _args(frame, server))
        assert result.exit_code == 0 and held in result.output
        assert collections.Counter(r.recipients[0] for r in handler.received) == counts

        # Only the explicit retry sends them (the server may have one already: that is the
        # risk the operator takes knowingly, and the only way a second copy can go out).
        result = runner.invoke(main, [*_args(frame, server), "--retry-unknown"])
        assert result.exit_code == 0, result.output
        assert "interrupted" not in result.output
        counts = collections.Counter(r.recipients[0] for r in handler.received)
        assert all(counts[a] == 1 + (a in before_kill) for a in in_doubt)
        assert len(counts) == 40
        assert all(n == 1 for a, n in counts.items() if a not in in_doubt)
    with frame.store.session() as session:
        statuses = collections.Counter(session.scalars(select(Message.status)))
    assert statuses == {"sent": 40}
