"""`sharedground serve` starts the job worker beside itself, and never leaves it behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sharedground.store import Store


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        found += [int(t) for t in text]
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if state == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(store: Store, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sharedground",
            "serve",
            "--port",
            str(_port()),
            *extra,
            "--database",
            store.url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _worker_of(process: subprocess.Popen[bytes], timeout: float = 30) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [c for c in _children(process.pid) if _is_worker(c)]
        if workers:
            return workers[0]
        time.sleep(0.1)
    return None


def test_serve_starts_a_worker_that_dies_with_it_even_on_sigkill(store: Store) -> None:
    server = _serve(store)
    try:
        worker = _worker_of(server)
        assert worker is not None, "serve started no worker"
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert _gone(worker, 10), "the worker outlived the killed server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_no_worker_starts_none(store: Store) -> None:
    server = _serve(store, "--no-worker")
    try:
        time.sleep(3)
        assert server.poll() is None
        assert _worker_of(server, timeout=1) is None
    finally:
        server.terminate()
        server.wait(10)
