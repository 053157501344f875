"""Web survey commands: `wave create`, `links` and `serve`."""

from __future__ import annotations

import datetime as dt
import os

import click

from sharedground.cli._common import console, database_option, open_store
from sharedground.fieldwork import links as lib
from sharedground.instrument import resolve
from sharedground.store import StoreError


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
    envvar=lib.BASE_URL_ENV,
    default=lib.DEFAULT_BASE_URL,
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
    store = open_store(database)
    try:
        with store.session() as session:
            wave_row = store.get_wave(session, wave_name)
            tokens = lib.create_links(session, wave_row, count, role=role, trust=trust)
    finally:
        store.dispose()
    click.echo("\n".join(lib.link_url(base_url, token) for token in tokens))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (each keeps its own rate-limit counts).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log each request (survey tokens are replaced by <token>).",
)
@database_option
def serve(host: str, port: int, workers: int, access_log: bool, database: str | None) -> None:
    """Serve the web survey (respondents open the links printed by `sharedground links`)."""
    import uvicorn

    from sharedground.web.security import install_log_redaction

    store = open_store(database)  # fail here, clearly, before the server starts
    store.dispose()
    os.environ["SHAREDGROUND_DATABASE_URL"] = store.url
    console.print(f"Serving the survey on http://{host}:{port} from {store}")
    install_log_redaction()
    uvicorn.run(
        "sharedground.web.server:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=_log_config(),
        server_header=False,
        # People pause between pages for longer than uvicorn's default 5 s; a connection
        # closed just as a form is sent makes the browser send it again on a new one.
        timeout_keep_alive=30,
    )


def _log_config() -> dict[str, object]:
    """uvicorn's logging, with the token-redacting filter on its loggers."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    config["filters"] = {"redact": {"()": "sharedground.web.security.RedactTokens"}}
    handlers = {
        name: {**spec, "filters": ["redact"]} for name, spec in LOGGING_CONFIG["handlers"].items()
    }
    config["handlers"] = handlers
    return config


COMMANDS = [wave, links, serve]
