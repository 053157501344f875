"""Initiative commands: `initiative`, `participants`, `pairs` and `pulse`.

The library (SQLAlchemy, SciPy, openpyxl) is imported inside each command, so that
`--help` and every other command start without it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from sharedground.cli._common import console, database_option, open_store, store_session

ACTOR = "command line"


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2027-03-31", param=param) from None


def _actor_option(func: Any) -> Any:
    return click.option(
        "--actor",
        default=ACTOR,
        show_default=True,
        help="Who makes the change, as the audit log records it.",
    )(func)


@click.group()
def initiative() -> None:
    """The register of initiatives a trust runs to improve doctor–manager relationships."""


@initiative.command("kinds")
@click.option("--trust", default=None, help="Also list (or load) this organisation's own kinds.")
@click.option(
    "--load",
    "path",
    type=click.Path(path_type=Path),
    default=None,
    help="A YAML kinds file (kinds: [{id, label, groups_people}]) to add for --trust.",
)
@_actor_option
@database_option
def kinds_(trust: str | None, path: Path | None, actor: str, database: str | None) -> None:
    """List the kinds of initiative (table 2.11's eight and more), or load a kinds file."""
    from sharedground.initiatives import kinds as kinds_lib
    from sharedground.initiatives import register
    from sharedground.initiatives.errors import InitiativeError

    store = open_store(database)
    try:
        with store.session() as session:
            if path is not None:
                if trust is None:
                    raise InitiativeError("--load needs --trust: whose kinds are these?")
                added = register.add_kinds(
                    store, session, trust, kinds_lib.load_kinds_file(path, trust), actor
                )
                click.echo(f"Loaded {added} kind(s) for {trust} from {path}")
            org = None if trust is None else register.organisation_id(session, trust)
            found = register.kinds_for(session, org)
    finally:
        store.dispose()
    for kind in found.values():
        people = "  (has a cohort)" if kind.groups_people else ""
        click.echo(f"{kind.id:30} {kind.label}  [{kind.source}]{people}")


@initiative.command("add")
@click.option("--trust", required=True, help="The organisation's code.")
@click.option("--kind", required=True, help="A kind (see `initiative kinds`).")
@click.option("--title", required=True)
@click.option("--description", default=None)
@click.option(
    "--directorate",
    "directorates",
    multiple=True,
    help="A directorate it covers (repeat); none means the whole trust.",
)
@click.option("--owner", default=None, help="Who runs it.")
@click.option("--planned-start", callback=_date, default=None, metavar="DATE")
@click.option("--actual-start", callback=_date, default=None, metavar="DATE")
@click.option("--stage", type=click.Choice(["planned", "running", "paused"]), default="planned")
@click.option("--reason", default=None, help="Why it is at this stage (for paused).")
@click.option("--progress", default=None, help="IHI progress score, 0.5 to 5.0.")
@_actor_option
@database_option
def add(database: str | None, actor: str, **fields: Any) -> None:
    """Register an initiative."""
    from sharedground.initiatives import register

    store = open_store(database)
    try:
        with store.session() as session:
            row = register.add(store, session, actor=actor, **fields)
            ident = row.id
    finally:
        store.dispose()
    console.print(f"[green]Registered[/] initiative {ident}: {fields['title']}")


@initiative.command("list")
@click.option("--trust", default=None)
@click.option("--kind", default=None)
@click.option("--stage", default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@database_option
def list_(
    trust: str | None, kind: str | None, stage: str | None, fmt: str, database: str | None
) -> None:
    """List the register (optionally one trust, kind or stage)."""
    from sharedground.initiatives import register

    with store_session(database) as session:
        entries = register.list_entries(session, trust=trust, kind=kind, stage=stage)
    if fmt == "json":
        click.echo(json.dumps([_as_json(e) for e in entries], indent=2, default=str))
        return
    if not entries:
        console.print("No initiatives registered.")
        return
    from rich.table import Table

    table = Table("id", "trust", "kind", "title", "stage", "since", "progress")
    for e in entries:
        since = e.actual_start or e.planned_start
        table.add_row(
            str(e.id),
            e.trust,
            e.kind,
            e.title,
            e.stage,
            str(since or ""),
            "" if e.progress is None else f"{e.progress:.1f}",
        )
    console.print(table)


def _as_json(entry: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(entry)
    data["scope"] = entry.scope
    return data


@initiative.command("show")
@click.argument("ident", metavar="ID", type=int)
@click.option("--trust", default=None, help="Only if it belongs to this trust.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@database_option
def show(ident: int, trust: str | None, fmt: str, database: str | None) -> None:
    """Show an initiative with its stage and progress history."""
    from sharedground.initiatives import register

    with store_session(database) as session:
        e = register.show(session, ident, trust)
    if fmt == "json":
        click.echo(json.dumps(_as_json(e), indent=2, default=str))
        return
    lines = [
        f"Initiative {e.id}: {e.title}",
        f"  trust:     {e.trust}",
        f"  kind:      {e.kind_label} ({e.kind})",
        f"  scope:     {e.scope}",
        f"  owner:     {e.owner or '-'}",
        f"  planned:   {e.planned_start or '-'}   started: {e.actual_start or '-'}"
        f"   ended: {e.ended_on or '-'}",
        f"  stage:     {e.stage}" + (f" ({e.stage_reason})" if e.stage_reason else ""),
        f"  progress:  {'-' if e.progress is None else f'{e.progress:.1f}'}",
    ]
    if e.description:
        lines.append(f"  about:     {e.description}")
    lines.append("  stages:")
    lines += [f"    {on}  {stage}" + (f"  ({why})" if why else "") for on, stage, why in e.stages]
    if e.scores:
        lines.append("  progress history:")
        lines += [f"    {on}  {score:.1f}" + (f"  {n}" if n else "") for on, score, n in e.scores]
    click.echo("\n".join(lines))


@initiative.command("update")
@click.argument("ident", metavar="ID", type=int)
@click.option("--trust", default=None, help="Refuse unless it belongs to this trust.")
@click.option("--title", default=None)
@click.option("--description", default=None)
@click.option("--kind", default=None)
@click.option("--directorate", "directorates", multiple=True, help="Replace the scope (repeat).")
@click.option("--whole-trust", is_flag=True, help="Set the scope to the whole trust.")
@click.option("--owner", default=None)
@click.option("--planned-start", callback=_date, default=None, metavar="DATE")
@click.option("--actual-start", callback=_date, default=None, metavar="DATE")
@click.option("--stage", type=click.Choice(["planned", "running", "paused"]), default=None)
@click.option("--reason", default=None, help="Why the stage changed.")
@click.option("--progress", default=None, help="A new IHI progress score, 0.5 to 5.0.")
@click.option("--note", default=None, help="A note with the progress score.")
@click.option("--on", "today", callback=_date, default=None, metavar="DATE", help="Day of it.")
@_actor_option
@database_option
def update(
    ident: int,
    whole_trust: bool,
    directorates: tuple[str, ...],
    actor: str,
    database: str | None,
    **fields: Any,
) -> None:
    """Change an initiative: fields, stage (with --reason) or progress score."""
    from sharedground.initiatives import register

    keep = {"trust", "reason", "note", "today"}
    changes = {k: v for k, v in fields.items() if v is not None or k in keep}
    if whole_trust:
        changes["directorates"] = []
    elif directorates:
        changes["directorates"] = list(directorates)
    with store_session(database) as session:
        register.update(session, ident, actor=actor, **changes)
    console.print(f"[green]Updated[/] initiative {ident}")


@initiative.command("end")
@click.argument("ident", metavar="ID", type=int)
@click.option("--on", "on", callback=_date, required=True, metavar="DATE")
@click.option("--reason", required=True, help="Why it ended (completed, stopped, ...).")
@click.option("--trust", default=None, help="Refuse unless it belongs to this trust.")
@_actor_option
@database_option
def end(
    ident: int, on: dt.date, reason: str, trust: str | None, actor: str, database: str | None
) -> None:
    """End an initiative on a day, with the reason."""
    from sharedground.initiatives import register

    with store_session(database) as session:
        register.end(session, ident, actor=actor, on=on, reason=reason, trust=trust)
    console.print(f"[green]Ended[/] initiative {ident} on {on}")


@initiative.command("import")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--trust", default=None, help="Refuse rows of any other trust (a lead's import).")
@_actor_option
@database_option
def import_(path: Path, trust: str | None, actor: str, database: str | None) -> None:
    """Add the initiatives in FILE (CSV or XLSX): every row, or none if any has a problem.

    Columns: trust, kind, title, description, directorates (separated by ;), owner,
    planned_start, actual_start, ended_on, stage, stage_reason, progress.
    """
    from sharedground.initiatives import io

    store = open_store(database)
    try:
        added = io.import_register(store, path, actor=actor, trust=trust)
    finally:
        store.dispose()
    console.print(f"[green]Added[/] {added} initiative(s) from {path}")


@initiative.command("export")
@click.option("--out", "path", required=True, type=click.Path(path_type=Path))
@click.option("--trust", default=None, help="Only this trust's initiatives.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="Default: from the file's extension.",
)
@database_option
def export(path: Path, trust: str | None, fmt: str | None, database: str | None) -> None:
    """Write the register as CSV or XLSX (the columns `initiative import` reads, after id)."""
    from sharedground.initiatives import io

    store = open_store(database)
    try:
        written = io.export_register(store, path, trust=trust, fmt=fmt)
    finally:
        store.dispose()
    console.print(f"[green]Wrote[/] {written} initiative(s) to {path}")


# -- participants ------------------------------------------------------------------------------


@click.group()
def participants() -> None:
    """The cohort of a programme (paired learning, shadowing, mentoring, coaching)."""


@participants.command("import")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--trust", default=None, help="Refuse unless the initiative is this trust's.")
@_actor_option
@database_option
def participants_import(
    ident: int, path: Path, trust: str | None, actor: str, database: str | None
) -> None:
    """Add the people in FILE (CSV or XLSX) to the cohort: every row, or none.

    Columns: name, email, side (doctor|manager), role, directorate, grade, reports_to
    (line manager's e-mail), prefers (e-mails separated by ;).
    """
    from sharedground.initiatives import participants as lib

    store = open_store(database)
    try:
        added = lib.import_cohort(store, ident, path, actor=actor, trust=trust)
    finally:
        store.dispose()
    console.print(f"[green]Added[/] {added} participant(s) to initiative {ident}")


@participants.command("add-contacts")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.argument("emails", metavar="EMAIL...", nargs=-1, required=True)
@click.option("--wave", "wave_name", required=True, help="The wave whose contacts they are.")
@click.option("--trust", default=None, help="Refuse unless the initiative is this trust's.")
@_actor_option
@database_option
def participants_add_contacts(
    ident: int,
    emails: tuple[str, ...],
    wave_name: str,
    trust: str | None,
    actor: str,
    database: str | None,
) -> None:
    """Add contacts of a wave (by e-mail) to the cohort; their role gives their side."""
    from sharedground.initiatives import participants as lib

    store = open_store(database)
    try:
        added = lib.add_from_contacts(
            store, ident, wave_name, list(emails), actor=actor, trust=trust
        )
    finally:
        store.dispose()
    console.print(f"[green]Added[/] {added} participant(s) to initiative {ident}")


@participants.command("list")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option("--trust", default=None)
@database_option
def participants_list(ident: int, trust: str | None, database: str | None) -> None:
    """List the cohort by side."""
    from sharedground.initiatives import participants as lib

    with store_session(database) as session:
        lib.cohort_initiative(session, ident, trust)
        people = lib.members(session, ident)
    for m in people:
        click.echo(
            f"{m.side:8} {m.email:40} {m.name or '-':30} {m.role or '-':20} {m.directorate or '-'}"
        )
    sides = {s: sum(m.side == s for m in people) for s in lib.SIDES}
    click.echo(f"{sides['doctor']} doctor(s), {sides['manager']} manager(s)")


# -- pairs -------------------------------------------------------------------------------------


@click.group()
def pairs() -> None:
    """Doctor–manager pairs of a programme: propose, change, confirm, log activity."""


@pairs.command("propose")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option(
    "--cross-directorate/--any-directorate",
    default=True,
    show_default=True,
    help="Never pair two people of the same directorate.",
)
@click.option("--trust", default=None)
@_actor_option
@database_option
def pairs_propose(
    ident: int, cross_directorate: bool, trust: str | None, actor: str, database: str | None
) -> None:
    """Propose pairs (SciPy's assignment solver) for everyone not in a confirmed pair."""
    from sharedground.initiatives import pairs as lib

    store = open_store(database)
    try:
        proposal = lib.propose(
            store, ident, cross_directorate=cross_directorate, actor=actor, trust=trust
        )
    finally:
        store.dispose()
    for p in proposal.pairs:
        why = "; ".join(p.reasons) or "no preference given"
        click.echo(
            f"{p.doctor.name or p.doctor.email}  +  {p.manager.name or p.manager.email}  ({why})"
        )
    click.echo(proposal.message())
    for person, why in proposal.unpaired:
        click.echo(f"  not paired: {person.name or person.email} ({person.side}): {why}")
    for line in proposal.unmet_wishes:
        click.echo(f"  wish not met: {line}")


@pairs.command("list")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option("--trust", default=None)
@database_option
def pairs_list(ident: int, trust: str | None, database: str | None) -> None:
    """List the pairs with their activity; pairs with nothing logged for 6 weeks are flagged."""
    from sharedground.initiatives import pairs as lib
    from sharedground.initiatives import participants as plib

    with store_session(database) as session:
        plib.cohort_initiative(session, ident, trust)
        found = lib.list_pairs(session, ident)
    for p in found:
        flag = "  NOTHING LOGGED FOR 6 WEEKS" if p.stale else ""
        click.echo(
            f"{p.id:5} {p.status:10} {p.doctor.email} + {p.manager.email}  "
            f"{p.activities} activities, last {p.last_activity or '-'}{flag}"
        )


@pairs.command("set")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.argument("doctor", metavar="EMAIL")
@click.argument("manager", metavar="EMAIL")
@click.option("--trust", default=None)
@_actor_option
@database_option
def pairs_set(
    ident: int, doctor: str, manager: str, trust: str | None, actor: str, database: str | None
) -> None:
    """Pair a doctor and a manager by hand (before confirming)."""
    from sharedground.initiatives import pairs as lib

    with store_session(database) as session:
        pair = lib.set_pair(session, ident, doctor, manager, actor=actor, trust=trust)
        pair_id = pair.id
    console.print(f"[green]Pair {pair_id}[/] proposed: {doctor} + {manager}")


@pairs.command("confirm")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option("--trust", default=None)
@_actor_option
@database_option
def pairs_confirm(ident: int, trust: str | None, actor: str, database: str | None) -> None:
    """Confirm every proposed pair."""
    from sharedground.initiatives import pairs as lib

    with store_session(database) as session:
        confirmed = lib.confirm(session, ident, actor=actor, trust=trust)
    console.print(f"[green]Confirmed[/] {confirmed} pair(s)")


@pairs.command("log")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.argument("pair_id", metavar="PAIR", type=int)
@click.option("--on", "on", callback=_date, required=True, metavar="DATE")
@click.option(
    "--kind",
    type=click.Choice(["meeting", "shadowing_day", "workshop", "joint_project"]),
    required=True,
)
@click.option("--attended", default="doctor,manager", show_default=True)
@click.option("--minutes", default=None, help="Notes of what was done.")
@click.option("--trust", default=None)
@_actor_option
@database_option
def pairs_log(
    ident: int,
    pair_id: int,
    on: dt.date,
    kind: str,
    attended: str,
    minutes: str | None,
    trust: str | None,
    actor: str,
    database: str | None,
) -> None:
    """Log a pair's meeting, shadowing day, workshop or joint-project step."""
    from sharedground.initiatives import pairs as lib

    with store_session(database) as session:
        lib.log_activity(
            session,
            ident,
            pair_id,
            on=on,
            kind=kind,
            attended=attended.split(","),
            minutes=minutes,
            actor=actor,
            trust=trust,
        )
    console.print(f"[green]Logged[/] {kind} of pair {pair_id} on {on}")


# -- pulse -------------------------------------------------------------------------------------


@click.group()
def pulse() -> None:
    """The before/after pulse questionnaire (dmr-pulse) of a programme's participants."""


@pulse.command("create")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.argument("timepoint", type=click.Choice(["before", "after", "follow_up"]))
@click.option("--opens", callback=_date, required=True, metavar="DATE")
@click.option("--closes", callback=_date, required=True, metavar="DATE")
@click.option(
    "--threshold",
    type=int,
    default=5,
    show_default=True,
    help="Fewest paired participants a figure may come from.",
)
@click.option("--trust", default=None)
@_actor_option
@database_option
def pulse_create(
    ident: int,
    timepoint: str,
    opens: dt.date,
    closes: dt.date,
    threshold: int,
    trust: str | None,
    actor: str,
    database: str | None,
) -> None:
    """Make a timepoint's wave with the cohort as contacts (then `sharedground send --wave`)."""
    from sharedground.initiatives import pulse as lib

    store = open_store(database)
    try:
        name = lib.create_timepoint(
            store,
            ident,
            timepoint,
            opens=opens,
            closes=closes,
            actor=actor,
            trust=trust,
            threshold=threshold,
        )
    finally:
        store.dispose()
    click.echo(f"Created wave {name!r}; send it with")
    click.echo(f"  sharedground send --wave {name} --templates {lib.email_templates()} --from ...")


@pulse.command("collect")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option("--trust", default=None)
@database_option
def pulse_collect(ident: int, trust: str | None, database: str | None) -> None:
    """Key the web answers of the initiative's pulse waves by participant code."""
    from sharedground.initiatives import pulse as lib

    store = open_store(database)
    try:
        changed = lib.collect(store, ident, trust=trust)
    finally:
        store.dispose()
    console.print(f"[green]Keyed[/] {changed} answer(s) by participant code")


@pulse.command("results")
@click.argument("ident", metavar="INITIATIVE", type=int)
@click.option("--trust", default=None)
@database_option
def pulse_results(ident: int, trust: str | None, database: str | None) -> None:
    """Response at each timepoint, attrition, and each item's paired change."""
    from sharedground.initiatives import pulse as lib
    from sharedground.initiatives import register

    with store_session(database) as session:
        register.get(session, ident, trust)
        found = lib.results(session, ident)
    click.echo(f"cohort: {found.cohort}")
    if found.unkeyed:
        click.echo(
            f"note: {found.unkeyed} web answer(s) not yet keyed by participant code and not "
            f"counted; run `sharedground pulse collect {ident}`"
        )
    for point, n in found.responded.items():
        click.echo(f"{point}: {n} answered ({found.rate(point):.0%})")
    if found.lost_after is not None:
        click.echo(f"answered before but not after: {found.lost_after}")
    for later, rows in found.changes.items():
        click.echo(f"before -> {later} (withheld below {found.threshold} paired):")
        for r in rows:
            if r.change is None:
                click.echo(f"  {r.item:32} paired {r.paired:4}  withheld")
            else:
                click.echo(
                    f"  {r.item:32} paired {r.paired:4}  {r.before:.2f} -> {r.after:.2f}"
                    f"  ({r.change:+.2f})"
                )
