"""The job table's life cycle: create, claim, report progress, finish, recover, delete.

A job is claimed with one conditional update (queued -> running), so a job queued twice
(after a recovery) still runs once at a time. Jobs that must not run side by side for one
wave (two senders, two printing runs) take a lock row in `setting` when claimed; a job
whose lock is held stays queued and is tried again a little later.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from typing import Any, Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import stored_now
from sharedground.jobs.files import remove_job_files
from sharedground.jobs.model import Job
from sharedground.store import Store, StoreError
from sharedground.store.schema import Setting

#: Kinds that must run one at a time per wave, by the group that excludes each other.
EXCLUSIVE = {"send": "mail", "print": "print"}
LABELS = {
    "send": "Send invitations and reminders",
    "print": "Print postal packs",
    "export": "Export responses",
    "analysis": "Analysis tables",
    "report": "National report",
    "trust_report": "Trust report",
}


class JobError(StoreError):
    """A job cannot be started, or is not there."""


def me() -> str:
    """This process, as a job's `worker` names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def alive(worker: str | None) -> bool:
    """False only for a process on this host that no longer exists."""
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's: cannot tell, assume it lives
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def create(
    session: Session,
    actor: str,
    kind: str,
    wave_id: int | None,
    params: dict[str, Any] | None = None,
    trust: str | None = None,
) -> Job:
    """A new queued job (audited); the caller enqueues it once this transaction commits."""
    if kind not in LABELS:
        raise JobError(f"unknown kind of job {kind!r}")
    job = Job(
        kind=kind,
        wave_id=wave_id,
        trust=trust,
        params=dict(params or {}),
        state="queued",
        done=0,
        total=0,
        attempts=0,
        created_by=actor,
        created_at=stored_now(),
    )
    session.add(job)
    session.flush()
    accounts.audit(session, actor, f"start job: {kind}", f"job {job.id}", {"params": job.params})
    return job


def _lock_name(job: Job) -> str | None:
    group = EXCLUSIVE.get(job.kind)
    return None if group is None or job.wave_id is None else f"job-lock:{group}:{job.wave_id}"


def claim(store: Store, job_id: int) -> Job | Literal[False] | None:
    """Mark a queued job running in this process.

    Returns the job, None when it is not queued (done, running elsewhere, deleted), or
    False when another job of its wave holds the lock it needs (try again later).
    """
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.state != "queued":
            return None
        lock = _lock_name(job)
        if lock is not None:
            holder = session.get(Setting, lock)
            if holder is not None:
                other = session.get(Job, int(holder.value))
                if other is not None and other.state == "running" and alive(other.worker):
                    return False
                session.delete(holder)  # left by a job that ended or a dead worker
                session.flush()
    try:
        with store.session() as session:
            if lock is not None:
                session.add(Setting(name=lock, value=str(job_id)))
                session.flush()
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == "queued")
                .values(
                    state="running",
                    worker=me(),
                    started_at=stored_now(),
                    attempts=Job.attempts + 1,
                    error=None,
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
    except IntegrityError:
        return False  # another worker took the lock between our read and our insert
    with store.session() as session:
        return session.get(Job, job_id)


class Progress:
    """`(done, total)` callback writing a job's progress at most every `every` seconds."""

    def __init__(self, store: Store, job_id: int, every: float = 0.5) -> None:
        self.store = store
        self.job_id = job_id
        self.every = every
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.every:
            return
        self._last = now
        with self.store.session() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(done=done, total=total))


def finish(
    store: Store,
    job_id: int,
    *,
    summary: str | None = None,
    file_name: str | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome, release the job's lock and audit it."""
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.state = "failed" if error else "done"
        job.error = error
        job.summary = summary
        job.file_name = file_name
        job.finished_at = stored_now()
        if job.total and not error:
            job.done = job.total
        lock = _lock_name(job)
        if lock is not None:
            session.execute(
                delete(Setting).where(Setting.name == lock, Setting.value == str(job_id))
            )
        accounts.audit(
            session,
            "worker",
            f"job {job.state}: {job.kind}",
            f"job {job.id}",
            {"summary": summary, "error": error, "file": file_name},
        )


def recover(store: Store) -> list[int]:
    """Put back in the queue every running job whose worker (on this host) has died.

    Returns the ids of every queued job afterwards: the caller enqueues them all again,
    which is harmless for those still in huey's queue (a job is claimed only once).
    """
    with store.session() as session:
        for job in session.scalars(select(Job).where(Job.state == "running")):
            if not alive(job.worker):
                job.state = "queued"
                job.worker = None
                accounts.audit(
                    session, "worker", f"job requeued: {job.kind}", f"job {job.id}", None
                )
        session.flush()
        return list(session.scalars(select(Job.id).where(Job.state == "queued").order_by(Job.id)))


HEARTBEAT = "worker-seen"


def heartbeat(store: Store) -> None:
    """Note that a worker is alive (every minute, and when it starts)."""
    stamp = stored_now().isoformat()
    try:
        with store.session() as session:
            row = session.get(Setting, HEARTBEAT)
            if row is None:
                session.add(Setting(name=HEARTBEAT, value=stamp))
            else:
                row.value = stamp
    except IntegrityError:
        pass  # another worker wrote it first: it is alive, and so are we


def last_seen(session: Session) -> dt.datetime | None:
    """When a worker last said it was alive (UTC, as stored), if ever."""
    row = session.get(Setting, HEARTBEAT)
    return dt.datetime.fromisoformat(row.value) if row is not None else None


def delete_job(session: Session, store_url: str, actor: str, job_id: int) -> bool:
    """Delete a finished job and its files (audited). A job still queued or running stays."""
    job = session.get(Job, job_id)
    if job is None or job.state in ("queued", "running"):
        return False
    session.delete(job)
    accounts.audit(session, actor, f"delete job: {job.kind}", f"job {job_id}", None)
    session.flush()
    remove_job_files(store_url, job_id)
    return True


def listing(session: Session, wave_ids: list[int] | None = None, limit: int = 200) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if wave_ids is not None:
        query = query.where(Job.wave_id.in_(wave_ids))
    return list(session.scalars(query))


def busy(session: Session, wave_id: int, kind: str) -> Job | None:
    """A queued or running job of the same exclusive group for the wave, if any."""
    group = EXCLUSIVE.get(kind)
    kinds = [k for k, g in EXCLUSIVE.items() if g == group] if group else [kind]
    return session.scalar(
        select(Job).where(
            Job.wave_id == wave_id, Job.kind.in_(kinds), Job.state.in_(("queued", "running"))
        )
    )


def wait_for(store: Store, job_id: int, timeout: float = 60.0, poll: float = 0.1) -> Job:
    """Poll until a job is done or failed (tests, and the command line)."""
    deadline = time.monotonic() + timeout
    while True:
        with store.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobError(f"no job {job_id}")
            if job.state in ("done", "failed"):
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.state} after {timeout} s")
        time.sleep(poll)
