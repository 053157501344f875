"""`sharedground send` killed with SIGKILL at arbitrary moments, again and again.

`test_send_crash.py` kills the sender at one chosen moment (inside a held DATA). Here the
sender is killed whenever the SMTP server has accepted a given number of messages, wherever
the sender then is (between messages, inside a transaction, recording a result), and run
again, several times over, on SQLite and PostgreSQL. After every run, and at the end:

* nobody has received a message twice (no --retry-unknown was given);
* every message recorded as sent was received exactly once;
* only messages left "sending" (in doubt) may be missing, and the final run names them;
* --retry-unknown then sends those, and only those can arrive twice.

`make test` runs a short version (60 contacts, two kills); `make soak` sets
$SHAREDGROUND_SOAK=1 for the long one (400 contacts, eight kills).
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from fieldhelpers import make_frame
from mailserver import Handler, MailServer
from sqlalchemy import select

from sharedground.cli import main
from sharedground.store import Store
from sharedground.store.schema import Message

SOAK = bool(os.environ.get("SHAREDGROUND_SOAK"))
CONTACTS = 400 if SOAK else 60
KILLS = 8 if SOAK else 2


def _args(wave: str, url: str, server: MailServer) -> list[str]:
    return [
        "send",
        "--wave",
        wave,
        "--database",
        url,
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


def _statuses(store: Store) -> dict[str, str]:
    with store.session() as session:
        return dict(session.execute(select(Message.address, Message.status)).all())


def _check_once(handler: Handler, store: Store) -> collections.Counter[str]:
    received = collections.Counter(r.recipients[0] for r in handler.received)
    assert not received or max(received.values()) == 1, received.most_common(3)
    statuses = _statuses(store)
    sent = {a for a, s in statuses.items() if s == "sent"}
    assert sent <= set(received)  # recorded as sent: really received
    assert set(received) <= set(statuses)  # nothing received that was never recorded
    assert set(received) - sent <= {a for a, s in statuses.items() if s == "sending"}
    return received


def test_send_killed_again_and_again_never_sends_twice(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = make_frame(store, tmp_path, "kills", CONTACTS)
    everyone = {c.email for c in frame.contacts()}
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SHAREDGROUND_LINK_KEY", key)
    env = {**os.environ, "SHAREDGROUND_LINK_KEY": key}
    rng = random.Random(15)
    # Kill once the server has accepted this many messages in all (spread over the run).
    points = sorted(rng.sample(range(3, CONTACTS - 3), KILLS))
    handler = Handler()
    killed = 0
    with MailServer(handler) as server:
        args = _args(frame.wave, store.url, server)
        for point in points:
            if len(handler.received) >= point:
                continue  # the last run went past this point before it was killed
            process = subprocess.Popen(
                [sys.executable, "-m", "sharedground", *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 120
            while len(handler.received) < point and process.poll() is None:
                assert time.monotonic() < deadline, "the sender stalled"
                time.sleep(0.002)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            _out, err = process.communicate(timeout=30)
            assert process.returncode in (-signal.SIGKILL, 0), err.decode()[-2000:]
            _check_once(handler, store)
        assert killed >= 1

        # A plain run finishes the rest and leaves the ones in doubt alone, naming them.
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        received = _check_once(handler, store)
        statuses = _statuses(store)
        in_doubt = {a for a, s in statuses.items() if s == "sending"}
        assert set(statuses) == everyone
        assert set(statuses.values()) <= {"sent", "sending"}
        assert everyone - set(received) <= in_doubt
        assert all(a in result.output for a in in_doubt)
        print(  # shown by `make soak` (pytest -s)
            f"\n{CONTACTS} contacts, {killed} kills: {len(received)} received once, "
            f"{len(in_doubt)} left in doubt ({len(in_doubt & set(received))} of them received)"
        )

        # Only --retry-unknown sends the ones in doubt; only they can arrive twice.
        result = CliRunner().invoke(main, [*args, "--retry-unknown"])
        assert result.exit_code == 0, result.output
        after = collections.Counter(r.recipients[0] for r in handler.received)
        assert set(after) == everyone
        assert all(after[a] == 1 for a in everyone - in_doubt)
        assert all(after[a] == 1 + (a in received) for a in in_doubt)
    assert set(_statuses(store).values()) == {"sent"}
