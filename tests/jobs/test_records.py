"""The job table's life cycle, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from fieldhelpers import make_frame
from sqlalchemy import select

from sharedground.jobs import records, tasks
from sharedground.jobs.files import job_file, job_folder
from sharedground.jobs.model import Job
from sharedground.jobs.worker import Supervisor
from sharedground.store import Store
from sharedground.store.schema import AuditEntry


@pytest.fixture(autouse=True)
def _files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))


def _job(store: Store, kind: str, wave: str = "w", **params: object) -> int:
    with store.session() as session:
        wave_id = store.get_wave(session, wave).id
        return records.create(session, "alice", kind, wave_id, dict(params)).id


def test_export_job_runs_once_keeps_its_file_until_deleted(store: Store, tmp_path: Path) -> None:
    make_frame(store, tmp_path, "w", 4)
    job_id = _job(store, "export", format="csv")
    assert tasks.execute(store, job_id) == "done"
    assert tasks.execute(store, job_id) == "skipped"  # queued twice: runs once
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.state, job.attempts, job.file_name) == ("done", 1, "w-responses.csv")
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["start job: export", "job done: export"]
    path = job_file(store.url, job_id, "w-responses.csv")
    assert path is not None and path.read_text().startswith("respondent_id,")
    assert job_file(store.url, job_id, "../../etc/passwd") is None
    with store.session() as session:
        assert records.delete_job(session, store.url, "alice", job_id)
    assert not job_folder(store.url, job_id).exists()


def test_a_failing_job_records_its_error(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_frame(store, tmp_path, "w", 2)
    job_id = _job(store, "send")
    monkeypatch.delenv("SHAREDGROUND_MAIL_FROM", raising=False)  # no sender configured
    assert tasks.execute(store, job_id) == "failed"
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.state == "failed"
        assert "SHAREDGROUND_MAIL_FROM" in (job.error or "")


def test_two_sends_of_one_wave_never_run_together(store: Store, tmp_path: Path) -> None:
    make_frame(store, tmp_path, "w", 2)
    make_frame(store, tmp_path, "v", 2)
    first = _job(store, "send")
    second = _job(store, "send")
    other_wave = _job(store, "send", wave="v")
    claimed = records.claim(store, first)
    assert isinstance(claimed, Job) and claimed.state == "running"
    assert records.claim(store, second) is False  # locked by the first
    assert isinstance(records.claim(store, other_wave), Job)  # another wave: free
    records.finish(store, first, summary="ok")
    assert isinstance(records.claim(store, second), Job)


def test_recover_requeues_only_jobs_of_dead_workers(store: Store, tmp_path: Path) -> None:
    make_frame(store, tmp_path, "w", 2)
    dead, live = _job(store, "export"), _job(store, "analysis")

    with store.session() as session:
        for job_id, pid in ((dead, 2**22 + 12345), (live, os.getpid())):
            job = session.get(Job, job_id)
            assert job is not None
            job.state, job.worker = "running", f"{socket.gethostname()}:{pid}"
    assert records.recover(store) == [dead]
    with store.session() as session:
        states = {j.id: j.state for j in session.scalars(select(Job))}
    assert states == {dead: "queued", live: "running"}


def test_supervisor_starts_the_worker_again_after_sigkill(store: Store) -> None:
    supervisor = Supervisor(store.url, env=dict(os.environ)).start()
    try:
        deadline = time.monotonic() + 30
        while supervisor.process is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first = supervisor.process
        time.sleep(1.0)
        assert first.poll() is None
        first.send_signal(signal.SIGKILL)
        while supervisor.process is first or supervisor.process is None:
            assert time.monotonic() < deadline, "not restarted"
            time.sleep(0.05)
        assert supervisor.restarts == 1
        assert supervisor.process.poll() is None
    finally:
        supervisor.stop()
    assert supervisor.process is not None and supervisor.process.poll() is not None
