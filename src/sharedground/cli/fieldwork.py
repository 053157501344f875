"""Fieldwork commands: `contacts`, `send`, `bounces`, `postal`, `status` and `admin`."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sharedground.cli._common import (
    console,
    console_err,
    database_option,
    open_store,
    progress_bar,
    store_session,
)
from sharedground.fieldwork.defaults import DEFAULT_BASE_URL, DEFAULT_KEY_FILE, KEY_ENV
from sharedground.store.errors import StoreError

if TYPE_CHECKING:
    from sharedground.fieldwork import sending

# The fieldwork library (SQLAlchemy, cryptography, Jinja) is imported inside each command, so
# that `--help` and every other command start without it.


@click.group()
def contacts() -> None:
    """The sample frame: who is asked in a wave."""


@contacts.command("import")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--wave", "wave_name", required=True, help="The wave the contacts belong to.")
@database_option
def contacts_import(path: Path, wave_name: str, database: str | None) -> None:
    """Add the people in FILE (CSV or XLSX) to a wave's sample frame.

    Columns: name, email, postal_address, role, trust, directorate. The whole file is
    checked first; if any row has a problem nothing is added and every problem is listed.
    """
    from sharedground.fieldwork import contacts as contacts_lib

    store = open_store(database)
    try:
        summary = contacts_lib.import_contacts(store, path, wave_name)
    finally:
        store.dispose()
    roles = ", ".join(f"{role} {n}" for role, n in sorted(summary.by_role.items()))
    console.print(
        f"[green]Added[/] {summary.added} contacts to wave {wave_name!r} "
        f"from {summary.trusts} organisations ({roles})"
    )
    for problem in summary.warnings[:20]:
        console.print(f"  warning: {path}: {problem}", markup=False, soft_wrap=True)
    if len(summary.warnings) > 20:
        console.print(f"  ... and {len(summary.warnings) - 20} more warnings")


@contacts.command("opt-out")
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option("--wave", "wave_name", required=True, help="The wave.")
@database_option
def contacts_opt_out(emails: tuple[str, ...], wave_name: str, database: str | None) -> None:
    """Record that the people with these e-mail addresses want no more messages."""
    from sharedground.fieldwork import contacts as contacts_lib

    store = open_store(database)
    try:
        with store.session() as session:
            wave = store.get_wave(session, wave_name)
            found = []
            for email in emails:
                contact = contacts_lib.find_contact(session, wave, email)
                if contact is None:
                    raise StoreError(f"no contact {email!r} in wave {wave_name!r}; nothing changed")
                found.append(contact.id)
            changed = sum(contacts_lib.opt_out(session, ident) for ident in found)
    finally:
        store.dispose()
    console.print(
        f"[green]Opted out[/] {changed} contact(s) ({len(emails) - changed} already were)"
    )


COMMANDS: list[click.Command] = [contacts]


# -- send -------------------------------------------------------------------------------------


def _days(_ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        days = tuple(sorted({int(part) for part in value.split(",") if part.strip()}))
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give days as numbers, like 9,21", param=param
        ) from None
    if any(d < 1 for d in days):
        raise click.BadParameter("reminder days count from the invitation: 1 or more", param=param)
    return days


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2027-03-31", param=param) from None


@click.command()
@click.option("--wave", "wave_name", required=True, help="The wave to send for.")
@click.option("--dry-run", is_flag=True, help="Show what is due and an example; send nothing.")
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Send again the messages whose outcome is unknown (a run was interrupted mid-send).",
)
@click.option(
    "--reminder-days",
    default="9,21",
    show_default=True,
    callback=_days,
    help="Days after the invitation on which reminders go to those who have not answered.",
)
@click.option("--smtp-host", default=None, help="SMTP server [$SHAREDGROUND_SMTP_HOST, localhost].")
@click.option("--smtp-port", type=int, default=None, help="SMTP port [$SHAREDGROUND_SMTP_PORT].")
@click.option("--smtp-user", default=None, help="SMTP login [$SHAREDGROUND_SMTP_USER].")
@click.option(
    "--smtp-cafile",
    default=None,
    help="CA certificates (PEM) to verify the SMTP server with, instead of the system's "
    "[$SHAREDGROUND_SMTP_CAFILE].",
)
@click.option(
    "--starttls/--no-starttls",
    default=None,
    help="Require (or refuse) STARTTLS [$SHAREDGROUND_SMTP_STARTTLS; default: when offered].",
)
@click.option(
    "--base-url",
    envvar="SHAREDGROUND_BASE_URL",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Where respondents open the survey [$SHAREDGROUND_BASE_URL].",
)
@click.option(
    "--from",
    "from_address",
    envvar="SHAREDGROUND_MAIL_FROM",
    required=True,
    help="Sender address, e.g. 'Survey team <survey@example.org>' [$SHAREDGROUND_MAIL_FROM].",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder of edited e-mail templates (invitation.txt, reminder.html, ...).",
)
@click.option(
    "--link-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Key that seals personal links [${KEY_ENV}; ./{DEFAULT_KEY_FILE}].",
)
@click.option(
    "--connections",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="SMTP connections used at once.",
)
@click.option("--watch", is_flag=True, help="Keep running, sending what falls due.")
@click.option(
    "--interval",
    type=click.IntRange(min=1),
    default=900,
    show_default=True,
    help="Seconds between runs with --watch.",
)
@click.option("--cycles", type=click.IntRange(min=1), default=None, hidden=True)
@click.option("--today", callback=_day, default=None, help="Pretend it is DATE (rehearsals).")
@click.option("--break-lock", is_flag=True, help="Take over a lock left by a dead sender.")
@database_option
def send(
    wave_name: str,
    dry_run: bool,
    retry_unknown: bool,
    reminder_days: tuple[int, ...],
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_user: str | None,
    smtp_cafile: str | None,
    starttls: bool | None,
    base_url: str,
    from_address: str,
    templates_dir: Path | None,
    link_key_file: Path | None,
    connections: int,
    watch: bool,
    interval: int,
    cycles: int | None,
    today: dt.date | None,
    break_lock: bool,
    database: str | None,
) -> None:
    """Send the invitations and reminders due now for a wave.

    Never sends a message twice: each is recorded before and after its SMTP transaction.
    Messages interrupted inside a transaction are reported and sent again only with
    --retry-unknown. The SMTP password comes from $SHAREDGROUND_SMTP_PASSWORD.
    """
    from sharedground.fieldwork import mail, personal, sending, smtp

    settings = smtp.SmtpSettings.resolve(
        smtp_host, smtp_port, starttls, smtp_user, cafile=smtp_cafile
    )
    templates = mail.Templates(templates_dir)
    key = personal.load_key(link_key_file, create=not dry_run)
    store = open_store(database)
    stop = _Stop()
    try:
        cycle = 0
        while True:
            cycle += 1
            with smtp.SmtpTransport(settings) as transport:
                mailer = sending.Mailer(
                    transport=transport,
                    sender=mail.Sender(from_address),
                    base_url=base_url,
                    templates=templates,
                    sealer=personal.Sealer(key),
                    reminder_days=reminder_days,
                    connections=connections,
                )
                with progress_bar("Sending", enabled=console_err.is_terminal) as update:
                    report = sending.send_due(
                        store,
                        wave_name,
                        mailer,
                        today=today,
                        dry_run=dry_run,
                        retry_unknown=retry_unknown,
                        break_lock=break_lock,
                        progress=update,
                    )
            _print_report(report)
            if not watch or stop.requested or (cycles is not None and cycle >= cycles):
                break
            retry_unknown = False  # an explicit retry is for one run, not every cycle
            stop.sleep(interval)
            if stop.requested:
                break
    finally:
        stop.restore()
        store.dispose()
    if report.stopped:
        raise StoreError(f"sending stopped: {report.stopped}")


def _print_report(report: sending.SendReport) -> None:
    planned = ", ".join(f"{n} {kind}" for kind, n in sorted(report.planned.items())) or "nothing"
    if report.dry_run:
        console.print(f"Due now: {planned} (dry run: nothing sent)")
        for example in report.examples:
            console.rule()
            console.print(example, markup=False, highlight=False)
    else:
        console.print(
            f"Due: {planned}. Sent {report.sent}, failed {report.failed}, "
            f"bounced {report.bounced}, outcome unknown {report.unknown}."
        )
    if report.in_doubt:
        console.print(
            f"[yellow]{len(report.in_doubt)} message(s) were interrupted inside the SMTP "
            "transaction; the server may or may not have accepted them:[/]"
        )
        for address, kind in report.in_doubt:
            console.print(f"  {address} ({kind})", markup=False)
        console.print(
            "Check with the mail server's log, then rerun with --retry-unknown to resend."
        )


class _Stop:
    """SIGTERM/SIGINT end a --watch loop between runs, not in the middle of a transaction."""

    def __init__(self) -> None:
        self.requested = False
        self._event = threading.Event()
        self._previous = {
            sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)
        }

    def _handle(self, _signum: int, _frame: object) -> None:
        self.requested = True
        self._event.set()

    def sleep(self, seconds: float) -> None:
        self._event.wait(seconds)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


COMMANDS.append(send)


@click.command()
@click.argument(
    "paths", metavar="PATH...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--wave", "wave_name", required=True, help="The wave the messages were sent for.")
@database_option
def bounces(paths: tuple[Path, ...], wave_name: str, database: str | None) -> None:
    """Record the bounces reported by e-mail after sending (delivery reports).

    PATH is an mbox file, a Maildir folder, a folder of .eml files or an .eml file.
    Permanent failures (Action: failed, status 5.x.x) mark the contact bounced: no more
    reminders go to them. Delays (4.x.x) are listed, not recorded. Running it again on
    the same mail records nothing new.
    """
    from sharedground.fieldwork import bounces as bounces_lib

    store = open_store(database)
    try:
        summary = bounces_lib.bounces_from(store, wave_name, paths)
    finally:
        store.dispose()
    console.print(f"Read {summary.messages} message(s) from {len(paths)} path(s)")
    rows = [
        ("bounces recorded", len(summary.recorded)),
        ("already recorded", len(summary.already)),
        ("delayed, not recorded", len(summary.delayed)),
        (f"not in wave {wave_name}", len(summary.not_in_wave)),
        ("not delivery reports", summary.not_bounces),
        ("unreadable", len(summary.unreadable)),
    ]
    for label, count in rows:
        console.print(f"  {label:<32} {count:>6}", markup=False, highlight=False)
    for notice in summary.delayed:
        who = notice.address or notice.original_to or notice.message_id
        console.print(
            f"  delayed: {who} ({notice.status or 'no status'})", markup=False, soft_wrap=True
        )
    for address in summary.not_in_wave:
        console.print(f"  not in wave {wave_name}: {address}", markup=False, soft_wrap=True)
    for item in summary.unreadable:
        # Paths are long: a line each, never wrapped, so that they can be copied.
        console.print(f"  unreadable {item.source}: {item.reason}", markup=False, soft_wrap=True)


COMMANDS.append(bounces)


# -- postal -----------------------------------------------------------------------------------


@click.group()
def postal() -> None:
    """The postal phase: draw the sample, print the packs, enter the returns."""


@postal.command("sample")
@click.option("--wave", "wave_name", required=True, help="The wave.")
@click.option(
    "--fractions",
    default=None,
    help="ROLE=FRACTION,... [chief_executive=1,medical_director=1,clinical_director=0.10,"
    "directorate_manager=0.16]; roles not named are not sampled.",
)
@click.option("--seed", type=int, required=True, help="Seed of the random draw (reproducible).")
@click.option("--exclude-completed", is_flag=True, help="Leave out those who already answered.")
@click.option("--replace", is_flag=True, help="Draw again, replacing an earlier sample.")
@database_option
def postal_sample(
    wave_name: str,
    fractions: str | None,
    seed: int,
    exclude_completed: bool,
    replace: bool,
    database: str | None,
) -> None:
    """Draw a reproducible stratified random sample for the postal phase."""
    from sharedground.fieldwork import postal as postal_lib

    store = open_store(database)
    try:
        wanted = None
        if fractions is not None:
            with store.session() as session:
                wave = store.get_wave(session, wave_name)
                roles = store.instrument_of(wave).role_ids()
            wanted = postal_lib.parse_fractions(fractions, roles)
        summary = postal_lib.draw_sample(
            store,
            wave_name,
            wanted,
            seed=seed,
            exclude_completed=exclude_completed,
            replace=replace,
        )
    finally:
        store.dispose()
    total = sum(summary.sampled.values())
    for role, population in summary.population.items():
        console.print(f"  {role:<22} {summary.sampled[role]:>6} of {population}")
    serials = f"serials {summary.first_serial} to {summary.last_serial}" if total else "no serials"
    console.print(f"[green]Drew[/] {total} people for the postal phase (seed {seed}; {serials})")


@postal.command("print")
@click.option("--wave", "wave_name", required=True, help="The wave.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--base-url",
    envvar="SHAREDGROUND_BASE_URL",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Where the admin pages are (the QR codes point at the data-entry page).",
)
@click.option("--sender-name", default="The survey team", show_default=True)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with edited letters.html / questionnaire.html.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel processes.")
@database_option
def postal_print(
    wave_name: str,
    out: Path,
    base_url: str,
    sender_name: str,
    templates_dir: Path | None,
    workers: int | None,
    database: str | None,
) -> None:
    """Write one printable PDF per person in the postal sample, and one merged PDF."""
    from sharedground.fieldwork import printing

    store = open_store(database)
    try:
        with progress_bar("Printing", enabled=console_err.is_terminal) as update:
            summary = printing.print_packs(
                store,
                wave_name,
                out,
                base_url=base_url,
                sender_name=sender_name,
                templates=templates_dir,
                workers=workers,
                progress=update,
            )
    finally:
        store.dispose()
    console.print(
        f"[green]Printed[/] {summary.people} questionnaires into {out} "
        f"(one PDF each, and {summary.merged.name} for the mailing house)"
    )
    for warning in summary.warnings[:20]:
        console.print(f"  warning: {warning}", markup=False, soft_wrap=True)
    if len(summary.warnings) > 20:
        console.print(f"  ... and {len(summary.warnings) - 20} more warnings")


@postal.command("enter")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@database_option
def postal_enter(path: Path, database: str | None) -> None:
    """Key returned questionnaires from a CSV file (one row per keying).

    Columns: serial, keyer, received (optional, YYYY-MM-DD), role, then the exchange
    columns of the questions. Key each questionnaire twice, by two people; agreeing
    keyings become a response, the others wait for `postal reconcile`.
    """
    from sharedground.fieldwork import paper

    store = open_store(database)
    try:
        summary = paper.enter_file(store, path)
    finally:
        store.dispose()
    console.print(
        f"[green]Recorded[/] {summary.keyings} keyings: {summary.reconciled} questionnaires "
        f"agreed and were stored, {len(summary.discrepant)} need reconciling"
    )
    for serial in summary.discrepant:
        console.print(f"  to reconcile: {serial}")
    for serial in summary.duplicates:
        console.print(f"  [yellow]duplicate[/] (already completed online): {serial}")


@postal.command("reconcile")
@click.argument("serial")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FIELD=VALUE",
    help="The right value of a field the keyings disagree on (VALUE blank: no answer).",
)
@click.option("--reviewer", default=None, help="Who resolved the differences (with --set).")
@database_option
def postal_reconcile(
    serial: str, settings: tuple[str, ...], reviewer: str | None, database: str | None
) -> None:
    """Show the fields two keyings disagree on, or resolve them all with --set."""
    from sharedground.fieldwork import anonymity, paper

    store = open_store(database)
    try:
        with store.session() as session:
            found = paper.discrepancies(session, serial)
            if not settings:
                if not found:
                    console.print(f"{serial}: nothing to reconcile")
                for name, (first, second) in found.items():
                    console.print(
                        f"  {name}: first {first or '(blank)'!r}, second {second or '(blank)'!r}"
                    )
                return
            if not reviewer:
                raise click.UsageError("--set needs --reviewer (who resolved the differences)")
            resolutions: dict[str, str | None] = {}
            for item in settings:
                name, sep, value = item.partition("=")
                if not sep:
                    raise click.BadParameter(f"{item!r}: use FIELD=VALUE", param_hint="--set")
                resolutions[name.strip()] = value
            paper.reconcile(session, serial, resolutions, reviewer)
        with store.session() as session:  # a transaction of its own (fieldwork/anonymity.py)
            anonymity.release_due(session)
    finally:
        store.dispose()
    console.print(f"[green]Reconciled[/] {serial}: stored as a response")


COMMANDS.append(postal)


# -- status -----------------------------------------------------------------------------------


@click.command()
@click.option("--wave", "wave_name", required=True, help="The wave.")
@click.option("--trust", default=None, help="Only this organisation.")
@database_option
def status(wave_name: str, trust: str | None, database: str | None) -> None:
    """Fieldwork so far: invited, reminded, opted out, bounced, started, completed."""
    from rich.table import Table

    from sharedground.fieldwork import monitor

    # An SQLite file is read without SQLAlchemy (issue #16); anything else, and every
    # error, goes through the store.
    quick = monitor.current_status(database, wave_name, trust)
    if quick is not None:
        figures, held = quick.figures, quick.held
    else:
        from sharedground.fieldwork import anonymity

        store = open_store(database)
        try:
            with store.session() as session:
                wave = store.get_wave(session, wave_name)
                figures = monitor.wave_status(session, wave, trust)
                held = anonymity.held(session, wave) if wave.anonymous else 0
        finally:
            store.dispose()
    for title, rows in (("By role", figures.by_role), ("By trust", figures.by_trust)):
        table = Table(title=f"{title} – wave {wave_name}" + (f", {trust}" if trust else ""))
        table.add_column("group")
        for measure in monitor.MEASURES:
            table.add_column(measure.replace("_", " "), justify="right")
        table.add_column("response rate", justify="right")
        for row in [*rows, figures.total]:
            rate = f"{row.rate:.0%}" if row.rate is not None else "–"
            table.add_row(row.group, *(str(getattr(row, m)) for m in monitor.MEASURES), rate)
        console.print(table)
    modes = ", ".join(f"{mode} {n}" for mode, n in figures.by_mode.items())
    console.print(f"Completed by mode: {modes}")
    if held:
        from sharedground.fieldwork.anonymity import RELEASE_BATCH

        console.print(
            f"Held for anonymity: {held} completed questionnaire(s) join the responses when "
            f"{RELEASE_BATCH} are waiting (`sharedground wave release {wave_name}` "
            "at the end of fieldwork)"
        )
    console.print(
        "Postal: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.postal.items())
    )
    if figures.in_doubt:
        console.print(f"[yellow]{figures.in_doubt} message(s) with unknown outcome[/]")
    if figures.daily:
        console.print("Cumulative completions by day (R = reminders sent that day):")
        marks = {day for day, _kind, _n in figures.reminders}
        peak = max(online + postal for _day, online, postal in figures.daily) or 1
        lines = []
        for day, online, postal in figures.daily:
            width = round(40 * (online + postal) / peak)
            mark = "R" if day in marks else " "
            lines.append(f"  {day} {mark} {'#' * width} {online + postal}")
        # One print, not one a day: the same lines, a quarter of the time.
        console.print("\n".join(lines), highlight=False)


COMMANDS.append(status)


# -- admin ------------------------------------------------------------------------------------


@click.group()
def admin() -> None:
    """Accounts for the admin pages."""


@admin.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["administrator", "lead"]),
    default="administrator",
    show_default=True,
    help="A study administrator sees everything; an organisation lead only their trust.",
)
@click.option("--trust", default=None, help="The lead's organisation code.")
@click.option(
    "--password",
    envvar="SHAREDGROUND_ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given [$SHAREDGROUND_ADMIN_PASSWORD].",
)
@database_option
def admin_create(
    username: str, role: str, trust: str | None, password: str, database: str | None
) -> None:
    """Create an admin account (the first administrator is made this way)."""
    from sharedground.fieldwork import accounts

    with store_session(database) as session:
        accounts.create_user(session, username, password, role, trust)
        accounts.audit(session, "command line", "create account", username, {"role": role})
    where = f" for {trust}" if trust else ""
    console.print(f"[green]Created[/] {role} {username!r}{where}")


COMMANDS.append(admin)
