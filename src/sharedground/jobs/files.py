"""Where finished jobs keep their files (exports, reports, printed packs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

FILES_ENV = "SHAREDGROUND_FILES_DIR"


def files_dir(url: str) -> Path:
    """$SHAREDGROUND_FILES_DIR, else a folder beside an SQLite database, else ./sharedground-files.

    The web server and the worker must agree on it: `serve` passes its own to the worker it
    starts; a worker run apart needs the same setting (a shared folder when on another machine).
    """
    explicit = os.environ.get(FILES_ENV)
    if explicit:
        return Path(explicit)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        database = Path(str(parsed.database))
        return database.with_name(database.name + ".files")
    return Path("sharedground-files")


def job_folder(url: str, job_id: int) -> Path:
    return files_dir(url) / f"job-{job_id}"


def job_file(url: str, job_id: int, file_name: str) -> Path | None:
    """The finished file of a job, if it is there (never a path outside the job's folder)."""
    folder = job_folder(url, job_id).resolve()
    path = (folder / file_name).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path


def remove_job_files(url: str, job_id: int) -> None:
    shutil.rmtree(job_folder(url, job_id), ignore_errors=True)
