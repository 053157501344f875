"""Web survey commands: `wave create`, `links` and `serve`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from typing import TYPE_CHECKING

import click

from sharedground.cli._common import console, database_option, open_store
from sharedground.fieldwork.defaults import BASE_URL_ENV, DEFAULT_BASE_URL
from sharedground.store.errors import StoreError

if TYPE_CHECKING:
    from sharedground.web.security import RateLimit

# Spelt out here rather than imported: importing sharedground.web loads the whole app, and
# every other command would pay for it at start-up. The app reads the same names.
RATE_LIMIT_ENV = "SHAREDGROUND_RATE_LIMIT"
TIMEZONE_ENV = "SHAREDGROUND_TIMEZONE"


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2027-03-31", param=param) from None


@click.group()
def wave() -> None:
    """Waves: rounds of fieldwork on one instrument."""


@wave.command("create")
@click.argument("name")
@click.option(
    "--instrument",
    "instrument_name",
    default="dmr-2015",
    show_default=True,
    help="A built-in instrument id or a YAML file.",
)
@click.option(
    "--opens", callback=_date, metavar="DATE", help="First day of fieldwork (YYYY-MM-DD)."
)
@click.option(
    "--closes", callback=_date, metavar="DATE", help="Last day of fieldwork (YYYY-MM-DD)."
)
@click.option(
    "--anonymous",
    is_flag=True,
    help="Keep no link between a response and the link or contact it came from.",
)
@database_option
def wave_create(
    name: str,
    instrument_name: str,
    opens: dt.date | None,
    closes: dt.date | None,
    anonymous: bool,
    database: str | None,
) -> None:
    """Create the wave NAME, open for web answers between --opens and --closes."""
    from sharedground.instrument import resolve

    if opens and closes and closes < opens:
        raise StoreError(f"--closes ({closes}) is before --opens ({opens})")
    instrument = resolve(instrument_name)
    store = open_store(database)
    try:
        with store.session() as session:
            store.create_wave(
                session, name, instrument, opens=opens, closes=closes, anonymous=anonymous
            )
    finally:
        store.dispose()
    window = f"{opens or 'now'} to {closes or 'no closing date'}"
    kind = "anonymous" if anonymous else "named"
    console.print(f"[green]Created[/] {kind} wave {name!r} on {instrument.key}, open {window}")


@wave.command("release")
@click.argument("name")
@database_option
def wave_release(name: str, database: str | None) -> None:
    """Move an anonymous wave's held questionnaires into its responses now.

    Anonymous questionnaires join the responses in batches of ten so that none can be
    paired with its link; run this at the end of fieldwork for the last few (before
    analysing or exporting the wave).
    """
    from sharedground.fieldwork import anonymity

    store = open_store(database)
    try:
        with store.session() as session:
            wave_row = store.get_wave(session, name)
            if not wave_row.anonymous:
                console.print(f"{name} is not anonymous: its responses are never held")
                return
            moved = anonymity.release(session, wave_row, force=True)
    finally:
        store.dispose()
    console.print(f"Released {moved} held questionnaire(s) of {name} to its responses")


@click.command()
@click.argument("wave_name", metavar="WAVE")
@click.option(
    "--count",
    type=click.IntRange(min=1, max=100_000),
    required=True,
    help="How many links to make.",
)
@click.option("--role", default=None, help="Role id the links carry (the role is then not asked).")
@click.option("--trust", default=None, metavar="CODE", help="Organisation code the links carry.")
@click.option(
    "--base-url",
    envvar=BASE_URL_ENV,
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Address the survey is served at ($SHAREDGROUND_BASE_URL).",
)
@database_option
def links(
    wave_name: str,
    count: int,
    role: str | None,
    trust: str | None,
    base_url: str,
    database: str | None,
) -> None:
    """Make personal links for WAVE and print one URL per line.

    The links are printed once and never stored (only their hashes are): keep the output.
    """
    from sharedground.fieldwork import links as lib

    store = open_store(database)
    try:
        with store.session() as session:
            wave_row = store.get_wave(session, wave_name)
            tokens = lib.create_links(session, wave_row, count, role=role, trust=trust)
    finally:
        store.dispose()
    click.echo("\n".join(lib.link_url(base_url, token) for token in tokens))


def _rate_limit(_ctx: click.Context, param: click.Parameter, value: str) -> RateLimit:
    from sharedground.web.security import RateLimit

    try:
        return RateLimit.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _timezone(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    from sharedground.web.clock import study_zone

    try:
        return study_zone(value).key
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def _proxies(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    # uvicorn takes any word it cannot read as an address as a literal host name, so a
    # typo would silently trust nobody (or the wrong host): refuse it here instead.
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} is not an IP address or network (like 127.0.0.1, 10.0.0.0/8 or *)",
                param=param,
            ) from None
    return ",".join(items)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (they share one rate-limit count through the database).",
)
@click.option(
    "--rate-limit",
    envvar=RATE_LIMIT_ENV,
    default="20/600",
    show_default=True,
    metavar="FAILURES/SECONDS",
    callback=_rate_limit,
    help="Wrong links one client may try in a window before every survey page answers 429 "
    f"(${RATE_LIMIT_ENV}); counted across all workers.",
)
@click.option(
    "--timezone",
    envvar=TIMEZONE_ENV,
    default="Europe/London",
    show_default=True,
    metavar="ZONE",
    callback=_timezone,
    help="The study's time zone: waves open and close, and anonymous responses are dated, "
    f"by the date there (${TIMEZONE_ENV}).",
)
@click.option(
    "--forwarded-allow-ips",
    envvar="FORWARDED_ALLOW_IPS",
    default="127.0.0.1,::1",
    show_default=True,
    metavar="IPS",
    callback=_proxies,
    help="Reverse proxies trusted to name the client in X-Forwarded-For (comma-separated "
    "addresses or networks; $FORWARDED_ALLOW_IPS). Only these; never * on an open port.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log each request (survey tokens are replaced by <token>).",
)
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="Also run the background jobs (sending, exports, reports started from /admin) in a "
    "supervised child process; with --no-worker run `sharedground worker` yourself.",
)
@database_option
def serve(
    host: str,
    port: int,
    workers: int,
    rate_limit: RateLimit,
    timezone: str,
    forwarded_allow_ips: str,
    access_log: bool,
    with_worker: bool,
    database: str | None,
) -> None:
    """Serve the web survey (respondents open the links printed by `sharedground links`).

    Rate limits count per client address. Behind a reverse proxy every request comes from
    the proxy, so name it with --forwarded-allow-ips: the client is then the address the
    proxy puts in X-Forwarded-For (the nearest one it did not get from another trusted
    proxy). A header from anyone else is ignored, so clients cannot pick their own address.
    """
    from sharedground.web.security import install_log_redaction

    store = open_store(database)  # fail here, clearly, before the server starts
    store.dispose()
    # Each worker builds its app from the environment (see sharedground.web.server).
    os.environ["SHAREDGROUND_DATABASE_URL"] = store.url
    os.environ[RATE_LIMIT_ENV] = str(rate_limit)
    os.environ[TIMEZONE_ENV] = timezone
    console.print(
        f"Serving the survey on http://{host}:{port} from {store}; dates in {timezone}; "
        f"at most {rate_limit.failures} wrong links per client in {rate_limit.seconds} s"
    )
    install_log_redaction()
    supervisor = None
    if with_worker:
        from sharedground.jobs.files import FILES_ENV, files_dir
        from sharedground.jobs.worker import Supervisor

        # The server lists and serves the files the worker writes: one folder for both.
        os.environ[FILES_ENV] = str(files_dir(store.url).resolve())
        supervisor = Supervisor(store.url, env=dict(os.environ)).start()
        console.print(f"Background jobs run in a worker process; files in {os.environ[FILES_ENV]}")
    try:
        _run_uvicorn(host, port, workers, access_log, forwarded_allow_ips)
    finally:
        if supervisor is not None:
            supervisor.stop()


def _run_uvicorn(
    host: str, port: int, workers: int, access_log: bool, forwarded_allow_ips: str
) -> None:
    import uvicorn

    uvicorn.run(
        "sharedground.web.server:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=_log_config(with_process=workers > 1),
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        # People pause between pages for longer than uvicorn's default 5 s; a connection
        # closed just as a form is sent makes the browser send it again on a new one.
        timeout_keep_alive=30,
        # A new worker imports sharedground before it answers the parent's health check;
        # on a busy two-core machine that can take longer than uvicorn's 5 s, and the
        # parent then kills and restarts it again and again.
        timeout_worker_healthcheck=30,
    )


def _log_config(*, with_process: bool = False) -> dict[str, object]:
    """uvicorn's logging, with the token-redacting filter on its loggers.

    With several workers each line also names the worker process that wrote it.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    if with_process:
        config["formatters"] = {
            name: {
                **spec,
                "fmt": spec["fmt"].replace("%(levelprefix)s", "%(levelprefix)s [%(process)d]"),
            }
            for name, spec in LOGGING_CONFIG["formatters"].items()
        }
    config["filters"] = {"redact": {"()": "sharedground.web.security.RedactTokens"}}
    handlers = {
        name: {**spec, "filters": ["redact"]} for name, spec in LOGGING_CONFIG["handlers"].items()
    }
    config["handlers"] = handlers
    return config


COMMANDS = [wave, links, serve]
