"""The worker process, and the supervisor with which `serve` keeps one running.

The worker first puts back in the queue the jobs that a dead worker was running (a
SIGKILL, a power cut), then runs huey's consumer: `threads` jobs at once, each polling
the queue at most a second apart. The supervisor starts `sharedground worker` as a child
process, starts it again if it dies, and stops it when the server stops; the worker
watches its parent too, so it never outlives a server killed with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from sharedground.jobs import records, tasks
from sharedground.jobs.queue import make_huey
from sharedground.store import Store

log = logging.getLogger("sharedground.worker")


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            # The server that started us has gone: stop as a SIGTERM would (huey finishes
            # nothing half-way that the job table would not recover).
            os.kill(os.getpid(), signal.SIGTERM)
            return


def run_worker(url: str, *, threads: int = 2, parent: int | None = None) -> None:
    """Recover abandoned jobs, then consume the queue until SIGTERM or SIGINT."""
    store = Store(url)
    store.check()
    huey = make_huey(store.url)
    for job_id in records.recover(store):
        tasks.enqueue(huey, job_id)
    huey.send_due()  # then every ten minutes (automatic sending)
    records.heartbeat(store)  # then every minute, for the jobs page
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    consumer = huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=True,
        initial_delay=0.1,
        backoff=1.5,
        max_delay=1.0,
    )
    try:
        consumer.run()
    finally:
        store.dispose()


class Supervisor:
    """Keeps one `sharedground worker` child running beside the server."""

    def __init__(self, url: str, *, threads: int = 2, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.threads = threads
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="worker-supervisor", daemon=True)
        self.restarts = 0

    def _start(self) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "sharedground",
            "worker",
            "--database",
            self.url,
            "--threads",
            str(self.threads),
            "--parent",
            str(os.getpid()),
        ]
        return subprocess.Popen(command, env=self.env)

    def _loop(self) -> None:
        wait = 1.0
        while not self._stop.is_set():
            self.process = self._start()
            started = time.monotonic()
            while self.process.poll() is None and not self._stop.is_set():
                self._stop.wait(0.5)
            if self._stop.is_set():
                return
            # A worker that dies at once (a bad setting) is not restarted in a tight loop.
            wait = 1.0 if time.monotonic() - started > 30 else min(wait * 2, 30.0)
            log.warning(
                "the job worker stopped (exit %s); starting it again in %.0f s",
                self.process.returncode,
                wait,
            )
            self.restarts += 1
            self._stop.wait(wait)

    def start(self) -> Supervisor:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
