"""A worker killed with SIGKILL in the middle of a send job: the next worker resumes it.

Real processes (`python -m sharedground worker`), a real SMTP server (aiosmtpd) and the
store on SQLite and PostgreSQL. The worker is killed once the server has accepted a
number of messages; a second worker recovers the job (its worker is dead), finishes it,
and nobody has received a message twice. The one message that may have been cut inside
its SMTP transaction is left in doubt, listed, and sent only by a "resend these" job.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fieldhelpers import make_frame
from mailserver import Handler, MailServer
from sqlalchemy import select

from sharedground.jobs import records
from sharedground.jobs.model import Job
from sharedground.store import Store
from sharedground.store.schema import Message

CONTACTS = 60


def _worker(url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sharedground", "worker", "--database", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _statuses(store: Store) -> dict[str, str]:
    with store.session() as session:
        return dict(session.execute(select(Message.address, Message.status)).all())


def _start(store: Store, wave: str, **params: object) -> int:
    with store.session() as session:
        wave_id = store.get_wave(session, wave).id
        job = records.create(session, "admin", "send", wave_id, dict(params))
        return job.id


def _enqueue(store: Store, job_id: int) -> None:
    from sharedground.jobs.queue import make_huey
    from sharedground.jobs.tasks import enqueue

    huey = make_huey(store.url)
    enqueue(huey, job_id)
    huey.storage.close()


def test_worker_killed_mid_send_resumes_and_sends_nobody_twice(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = make_frame(store, tmp_path, "kill", CONTACTS)
    everyone = {c.email for c in frame.contacts()}
    handler = Handler()
    with MailServer(handler) as server:
        env = {
            **os.environ,
            "SHAREDGROUND_LINK_KEY": Fernet.generate_key().decode(),
            "SHAREDGROUND_SMTP_HOST": "127.0.0.1",
            "SHAREDGROUND_SMTP_PORT": str(server.port),
            "SHAREDGROUND_SMTP_STARTTLS": "0",
            "SHAREDGROUND_MAIL_FROM": "survey@example.org",
            "SHAREDGROUND_FILES_DIR": str(tmp_path / "files"),
        }
        job_id = _start(store, frame.wave)
        _enqueue(store, job_id)
        first = _worker(store.url, env)
        deadline = time.monotonic() + 120
        while len(handler.received) < CONTACTS // 3 and first.poll() is None:
            assert time.monotonic() < deadline, "the worker stalled"
            time.sleep(0.002)
        assert first.poll() is None, first.communicate()[1].decode()[-2000:]
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        killed_at = len(handler.received)
        assert killed_at < CONTACTS  # killed mid-send, not after
        with store.session() as session:
            job = session.get(Job, job_id)
            assert job is not None and job.state == "running"  # as the dead worker left it

        second = _worker(store.url, env)
        try:
            job = records.wait_for(store, job_id, timeout=120)
        finally:
            second.terminate()
            _out, err = second.communicate(timeout=30)
        assert job.state == "done", (job.error, err.decode()[-2000:])
        assert job.attempts == 2
        received = collections.Counter(r.recipients[0] for r in handler.received)
        assert max(received.values()) == 1, received.most_common(3)
        statuses = _statuses(store)
        assert set(statuses) == everyone
        in_doubt = {a for a, s in statuses.items() if s == "sending"}
        assert len(in_doubt) <= 2  # the transactions the kill may have cut (2 connections)
        assert everyone - set(received) <= in_doubt
        assert f"{len(in_doubt)} in doubt" in (job.summary or "")

        # "Resend these": only the messages in doubt go again, once.
        resend = _start(store, frame.wave, retry_unknown=True)
        _enqueue(store, resend)
        third = _worker(store.url, env)
        try:
            job = records.wait_for(store, resend, timeout=120)
        finally:
            third.terminate()
            third.communicate(timeout=30)
        assert job.state == "done", job.error
        after = collections.Counter(r.recipients[0] for r in handler.received)
        assert set(after) == everyone
        assert all(after[a] == 1 for a in everyone - in_doubt)
        assert all(after[a] == 1 + (a in received) for a in in_doubt)
    assert set(_statuses(store).values()) == {"sent"}
