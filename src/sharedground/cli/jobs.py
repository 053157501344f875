"""`sharedground worker`: run the background jobs started from the admin pages."""

from __future__ import annotations

import click

from sharedground.cli._common import console, database_option, open_store


@click.command()
@click.option(
    "--threads",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Jobs run at once (two sends of one wave never run together).",
)
@click.option("--parent", type=int, default=None, hidden=True)
@database_option
def worker(threads: int, parent: int | None, database: str | None) -> None:
    """Run the background jobs (sending, printing, exports, reports) queued in the database.

    `sharedground serve` starts one by default; run this instead (with `serve --no-worker`)
    to keep the jobs on another machine or process. SMTP and sender settings come from the
    same environment variables as `sharedground send`. Stop it with Ctrl-C or SIGTERM; a
    worker killed outright leaves its job to be resumed by the next worker that starts.
    """
    from sharedground.jobs.files import files_dir
    from sharedground.jobs.worker import run_worker

    store = open_store(database)
    url = store.url
    store.dispose()
    if parent is None:
        console.print(f"Running jobs from {store} ({threads} at once); files in {files_dir(url)}")
    run_worker(url, threads=threads, parent=parent)
