"""`sharedground text` (sources, codings, agreement, themes, exchange) and `sharedground codes`
(coding frames). A thin layer over `sharedground.text`; the library is imported inside the
commands so that `--help` stays light."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sharedground.cli._common import console, database_option, open_store, store_session

if TYPE_CHECKING:
    from rich.table import Table

    from sharedground.text.frames import FrameDef
    from sharedground.text.themes import Cell, ThemeTable


@click.group()
def text() -> None:
    """What people wrote: comments and transcripts, coding, agreement, themes, REFI-QDA."""


@click.group()
def codes() -> None:
    """Coding frames: codes with a hierarchy, a description and an example each (YAML)."""


# -- sources -----------------------------------------------------------------------------------


@text.command()
@click.option("--wave", required=True, help="The wave whose free-text answers to add.")
@database_option
def comments(wave: str, database: str | None) -> None:
    """Add every answer to the wave's text items as a source to code (anonymised; once)."""
    from sharedground.text import sources

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave)
            done = sources.add_comments(store, session, row)
    finally:
        store.dispose()
    console.print(
        f"{done.added} comment(s) of {wave} added; {done.already} were there already "
        f"(from {done.commenters} of the wave's {done.respondents} respondents)."
    )


@text.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--attr",
    "attrs",
    multiple=True,
    metavar="NAME=VALUE",
    help="An attribute of every file: role, trust, date, kind or mode (repeatable).",
)
@click.option("--wave", default=None, help="The wave the transcripts belong to.")
@database_option
def add(
    files: tuple[Path, ...], attrs: tuple[str, ...], wave: str | None, database: str | None
) -> None:
    """Add interview or focus-group transcripts (.txt, .md, .docx), all or none."""
    from sharedground.text import sources

    attributes = sources.parse_attributes(attrs)
    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave) if wave else None
            added = sources.add_documents(store, session, files, attributes, wave=row)
            listed = [(source.id, source.name, len(source.content)) for source in added]
    finally:
        store.dispose()
    for ident, name, length in listed:
        console.print(f"source {ident}: {name} ({length} characters)")


@text.command(name="list")
@click.option("--wave", default=None, help="Only this wave's sources.")
@click.option("--kind", type=click.Choice(["comment", "transcript"]), default=None)
@click.option("--trust", default=None, help="Only sources of this trust (code).")
@click.option("--limit", default=50, show_default=True, help="Most sources listed.")
@database_option
def list_(
    wave: str | None, kind: str | None, trust: str | None, limit: int, database: str | None
) -> None:
    """List sources: id, kind, role group, trust and the start of the text."""
    from rich.table import Table

    from sharedground.text import sources

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave) if wave else None
            organisation = sources.trust_id(session, trust)
            found = sources.list_sources(session, wave=row, kind=kind, organisation_id=organisation)
            table = Table("id", "kind", "role", "trust", "text")
            for source in found[:limit]:
                snippet = source.content[:60] + ("…" if len(source.content) > 60 else "")
                table.add_row(
                    str(source.id),
                    source.kind,
                    source.role or "",
                    str(source.attributes.get("trust") or ""),
                    snippet,
                )
    finally:
        store.dispose()
    console.print(table)
    console.print(f"{len(found)} source(s){'' if len(found) <= limit else f', {limit} listed'}.")


# -- coding ------------------------------------------------------------------------------------


@text.command(name="sample")
@click.option("--wave", required=True)
@click.option("--size", default=50, show_default=True, help="Comments in the sample.")
@click.option("--seed", default=1, show_default=True, help="The same seed, the same sample.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The coding sheet.")
@database_option
def sample_(wave: str, size: int, seed: int, out: Path, database: str | None) -> None:
    """Draw a seeded sample of a wave's comments as a CSV coding sheet for each coder."""
    from sharedground.text import coding, sources

    store = open_store(database)
    try:
        with store.session() as session:
            chosen = sources.sample(session, store.get_wave(session, wave), size, seed)
            coding.write_sample(out, chosen)
    finally:
        store.dispose()
    console.print(
        f"wrote {out}: {len(chosen)} comment(s). Each coder fills the code column (a row per "
        "code; start/end for a span) and loads it with `sharedground text code`.",
        soft_wrap=True,
    )


@text.command()
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option("--coder", required=True, help="Whose codings these are.")
@click.option("--frame", "frame_name", required=True, help="The coding frame (id or id@version).")
@database_option
def code(csv_file: Path, coder: str, frame_name: str, database: str | None) -> None:
    """Import one coder's codings from CSV (source, code[, start, end, memo]), all or none."""
    from sharedground.text import coding, frames

    with store_session(database) as session:
        frame = frames.get(session, frame_name)
        count = coding.import_csv(session, csv_file, frame, coder)
    console.print(f"{count} coding(s) by {coder} recorded against {frame_name}.")


@text.command()
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option("--source", "source_id", type=int, required=True)
@click.option("--code", "code_key", required=True)
@click.option("--keep/--drop", required=True, help="The code is, or is not, on the source.")
@click.option(
    "--start",
    type=int,
    default=None,
    help="With --end: settle only these characters (a transcript's paragraph, as "
    "`text agreement` lists it as [start:end]) [default: the whole source].",
)
@click.option("--end", type=int, default=None)
@database_option
def resolve(
    frame_name: str,
    source_id: int,
    code_key: str,
    keep: bool,
    start: int | None,
    end: int | None,
    database: str | None,
) -> None:
    """Settle a disagreement in the team's coding (coder `team`).

    --drop also drops the codes under a theme (a theme counts wherever a sub-code is)."""
    from sharedground.text import coding, frames, sources

    with store_session(database) as session:
        frame = frames.get(session, frame_name)
        source = sources.get_source(session, source_id)
        done = coding.resolve(session, frame, source, code_key, keep=keep, start=start, end=end)
        whole = (start is None and end is None) or (start == 0 and end == len(source.content))
    where = f"source {source_id}" + ("" if whole else f" [{start}:{end}]")
    if keep:
        message = (
            f"team: {code_key} kept on {where}."
            if done.added
            else f"team: {code_key} was already on {where}; nothing changed."
        )
    elif done.dropped:
        removed = ", ".join(f"{n} coding(s) of {key}" for key, n in done.dropped.items())
        message = f"team: dropped from {where}: {removed}."
    else:
        message = (
            f"team: no coding of {code_key} (or a code under it) on {where}; nothing changed "
            "(`text adopt` first starts the team's coding from one coder's)."
        )
    console.print(message, highlight=False, soft_wrap=True)


@text.command()
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option("--coder", required=True, help="The coder whose codings start the team's.")
@database_option
def adopt(frame_name: str, coder: str, database: str | None) -> None:
    """Start the team's coding from one coder's; then `text resolve` the disagreements."""
    from sharedground.text import coding, frames

    with store_session(database) as session:
        count = coding.adopt(session, frames.get(session, frame_name), coder)
    console.print(f"{count} coding(s) of {coder} copied into the team's coding.")


# -- coding frames -----------------------------------------------------------------------------


@codes.command(name="list")
@database_option
def codes_list(database: str | None) -> None:
    """Built-in frames and the frames stored in the database."""
    from sharedground.text import frames

    console.print("built-in: " + ", ".join(frames.list_builtin()))
    with store_session(database) as session:
        stored = [(f.key, f.version, f.title) for f in frames.list_stored(session)]
    for key, version, title in stored:
        console.print(f"stored: {key}@{version}  {title}")


@codes.command()
@click.argument("name")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the YAML definition.")
@database_option
def show(name: str, as_yaml: bool, database: str | None) -> None:
    """Show a frame's codes: a built-in id, a YAML file, or a stored id[@version]."""
    from sharedground.text import frames

    frame = _frame_def(name, database)
    if as_yaml:
        click.echo(frames.dumps(frame), nl=False)
        return
    console.print(f"[bold]{frame.title}[/] ({frame.id}@{frame.version})", highlight=False)
    for flat in frames.flatten(frame):
        console.print(
            f"{'  ' * flat.depth}{flat.key}: {flat.name}"
            + (f" — {flat.description}" if flat.description else ""),
            highlight=False,
        )


def _frame_def(name: str, database: str | None) -> FrameDef:
    from sharedground.text import frames

    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return frames.load_file(path)
    if path.suffix in (".qdc", ".qdpx"):
        from sharedground.text import refi

        return refi.read_codebook(path)
    if name in frames.list_builtin():
        return frames.builtin(name)
    with store_session(database) as session:
        return frames.stored_def(frames.get(session, name))


@codes.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--from", "origin", default="dmr-themes", show_default=True)
def new(out: Path, origin: str) -> None:
    """Write an editable copy of a frame (the built-in starter by default) as YAML."""
    from sharedground.text import frames

    frame = frames.builtin(origin) if origin in frames.list_builtin() else frames.load_file(origin)
    if out.exists():
        raise click.ClickException(f"{out} exists already; choose another name")
    out.write_text(frames.dumps(frame), encoding="utf-8")
    console.print(
        f"wrote {out}: edit it, raise its version, then `sharedground codes import {out}`"
    )


@codes.command(name="import")
@click.argument("name")
@database_option
def codes_import(name: str, database: str | None) -> None:
    """Store a frame from a YAML file, a REFI-QDA codebook (.qdc) or a built-in id."""
    from sharedground.text import frames

    frame = _frame_def(name, database)
    with store_session(database) as session:
        record = frames.save(session, frame)
        label = f"{record.key}@{record.version}"
    console.print(f"coding frame {label} stored ({sum(1 for _ in frame.walk())} codes).")


@codes.command(name="export")
@click.argument("name")
@click.option("--out", required=True, type=click.Path(path_type=Path), help=".yaml or .qdc")
@database_option
def codes_export(name: str, out: Path, database: str | None) -> None:
    """Write a frame as YAML or as a REFI-QDA codebook (.qdc, validated against its schema)."""
    from sharedground.text import frames

    frame = _frame_def(name, database)
    if out.suffix == ".qdc":
        from sharedground.text import refi

        refi.write_codebook(frame, out)
    else:
        out.write_text(frames.dumps(frame), encoding="utf-8")
    console.print(f"wrote {out}")


# -- agreement ---------------------------------------------------------------------------------


def _figure(value: float, digits: int = 3) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


@text.command(name="agreement")
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option("--coders", required=True, help="Two or more coders, comma-separated.")
@click.option(
    "--all-coded",
    is_flag=True,
    help="Every coder read every source of the sample: no coding means no code "
    "(otherwise a source a coder did not code is missing for them).",
)
@click.option(
    "--sample",
    "sample_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A CSV with a source column (the coding sheet of `text sample`): compare on these "
    "sources [default: the sources any of the coders coded].",
)
@click.option("--replicates", default=1000, show_default=True, help="Bootstrap replicates.")
@click.option("--seed", default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--show", default=20, show_default=True, help="Disagreements listed.")
@database_option
def agreement_(
    frame_name: str,
    coders: str,
    all_coded: bool,
    sample_file: Path | None,
    replicates: int,
    seed: int,
    show: int,
    database: str | None,
) -> None:
    """Percent agreement, Cohen's kappa and Krippendorff's alpha per code and overall."""
    from rich.table import Column, Table

    from sharedground.text import agreement, frames
    from sharedground.text.coding import sheet_sources

    names = [name.strip() for name in coders.split(",") if name.strip()]
    sample = sheet_sources(sample_file) if sample_file is not None else None
    with store_session(database) as session:
        frame = frames.get(session, frame_name)
        result = agreement.compare(
            session,
            frame,
            names,
            source_ids=sample,
            all_coded=all_coded,
            replicates=replicates,
            seed=seed,
        )
    # Two narrow tables rather than one wide one: in an 80-column terminal the wide one cut
    # the code names to "vari…", so no row could be told from its neighbour.
    units = Table(
        Column("code", no_wrap=True),
        Column("units", justify="right"),
        Column("agree", justify="right"),
        Column("kappa", justify="right"),
        Column("alpha", justify="right"),
        Column("alpha 95% CI", justify="right"),
        title=f"Agreement of {', '.join(result.coders)} on units (a comment; a transcript's "
        "paragraph)",
    )
    chars = Table(
        Column("code", no_wrap=True),
        Column("characters", justify="right"),
        Column("agree", justify="right"),
        Column("kappa", justify="right"),
        Column("alpha", justify="right"),
        title=f"Agreement of {', '.join(result.coders)} on characters (as NVivo compares)",
    )
    for stats in [*result.codes, result.overall]:
        low, high = stats.alpha_ci
        units.add_row(
            stats.code,
            str(stats.units),
            _figure(stats.percent),
            _figure(stats.kappa),
            _figure(stats.alpha),
            "" if low != low else f"{low:.3f} to {high:.3f}",
        )
        chars.add_row(
            stats.code,
            str(stats.chars),
            _figure(stats.chars_percent),
            _figure(stats.chars_kappa),
            _figure(stats.chars_alpha),
        )
    console.print(units)
    console.print(chars)
    console.print(
        "agree: share of units (characters) on which the coders made the same decision; "
        "kappa: Cohen's (two coders); alpha: Krippendorff's (nominal); a theme counts where "
        "any of its sub-codes is.",
        soft_wrap=True,
    )
    console.print(
        f"{len(result.disagreements)} disagreement(s) to settle"
        + (f"; the first {show}:" if len(result.disagreements) > show else ":")
    )
    for item in result.disagreements[:show]:
        said = ", ".join(f"{name} {'yes' if yes else 'no'}" for name, yes in item.decisions.items())
        console.print(
            f"  source {item.source_id} [{item.start}:{item.end}] {item.code}: {said}",
            highlight=False,
        )
    if result.disagreements:
        from sharedground.store.textschema import TEAM_CODER

        start_team = (
            ""
            if TEAM_CODER in result.coders
            else f"`sharedground text adopt --frame {frame_name} --coder {result.coders[0]}` "
            "once, then "
        )
        console.print(
            f"Settle them in the team's coding (coder `{TEAM_CODER}`): {start_team}for each "
            f"`text resolve --frame {frame_name} --source N --code C --keep|--drop` (add "
            "--start S --end E for a transcript's paragraph [S:E]). A theme's disagreement "
            "that comes from a sub-code is settled with the sub-code and not listed.",
            soft_wrap=True,
            highlight=False,
        )


# -- exchange ----------------------------------------------------------------------------------


@text.command(name="export")
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["qdpx", "qdc", "csv"]),
    required=True,
    help="qdpx: REFI-QDA project; qdc: REFI-QDA codebook; csv: the codings.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--wave", default=None, help="Only this wave's sources.")
@click.option(
    "--trust",
    default=None,
    help="Only this trust's sources (role groups its report withholds unnamed).",
)
@database_option
def export_(
    frame_name: str,
    fmt: str,
    out: Path,
    wave: str | None,
    trust: str | None,
    database: str | None,
) -> None:
    """Write a REFI-QDA project or codebook (validated against the official schema), or CSV."""
    from sharedground.text import coding, frames, refi, sources

    store = open_store(database)
    try:
        with store.session() as session:
            frame = frames.get(session, frame_name)
            wave_id = store.get_wave(session, wave).id if wave else None
            organisation = sources.trust_id(session, trust)
            if fmt == "qdc":
                refi.write_codebook(frames.stored_def(frame), out)
                message = f"wrote {out}: codebook {frame.key}@{frame.version}"
            elif fmt == "csv":
                chosen = None
                left: str = ""
                if wave_id is not None or organisation is not None:
                    row = store.get_wave(session, wave) if wave else None
                    listed = sources.list_sources(session, wave=row, organisation_id=organisation)
                    chosen = [source.id for source in listed]
                if organisation is not None:
                    # What the trust's .qdpx carries, memos anonymised as there.
                    part = refi.for_trust(store, session, frame, listed, organisation)
                    found = part.codings
                    left = _left_out(
                        part.codes_left_out, part.coders_left_out, part.held_back
                    ) + _unlisted(part.unlisted)
                else:
                    found = coding.rows(session, frame, source_ids=chosen)
                coding.export_csv(
                    out,
                    found,
                    anonymised=organisation is not None,
                    source_names=(
                        None if organisation is None else refi.trust_source_names(part.sources)
                    ),
                )
                message = f"wrote {out}: {len(found)} coding(s){left}"
            else:
                done = refi.export_project(
                    session,
                    frame,
                    out,
                    wave_id=wave_id,
                    organisation_id=organisation,
                    store=store,
                )
                message = (
                    f"wrote {out}: {done.sources} source(s), {done.cases} case(s), "
                    f"{done.codings} coding(s); valid against Project-mrt2019.xsd"
                    + (
                        f"; role group withheld on {done.withheld_roles} source(s) "
                        "of groups the wave's disclosure decision withholds in the trust"
                        if done.withheld_roles
                        else ""
                    )
                    + _left_out(done.codes_left_out, done.coders_left_out, done.held_back)
                    + _unlisted(done.unlisted)
                )
    finally:
        store.dispose()
    console.print(message, highlight=False, soft_wrap=True)


def _unlisted(waves: list[str]) -> str:
    """What a trust's export says of waves whose comments it leaves out altogether."""
    return "".join(
        f"; the comments of wave {name} left out: the trust's report withholds its number "
        "of commenters, which they would give"
        for name in waves
    )


def _left_out(codes: dict[str, dict[str, int]], coders: int, held_back: int) -> str:
    """What a trust's export left out, for the team running it (the counts stay here: the
    codings left out of a code are the count its report withholds)."""
    said = ""
    codings = sum(sum(found.values()) for found in codes.values())
    if codings:  # the codes left out with none to leave are named in the project only
        n = sum(len(found) for found in codes.values())
        listed = "; ".join(
            (f"wave {wave}: " if wave else "") + ", ".join(found)
            for wave, found in sorted(codes.items())
        )
        said += (
            f"; the team's codings of {n} code(s) left out, {codings} coding(s) ({listed}): "
            "the wave's disclosure decision withholds a count in the trust they would give"
        )
    if coders:
        said += f"; {coders} coding(s) of individual coders left out (the team's coding only)"
    if held_back:
        said += (
            f"; {held_back} comment(s) left out until their response's batch is in the "
            "trust's figures (during fieldwork, or late returns after it)"
        )
    return said


@text.command(name="import")
@click.argument("project", type=click.Path(path_type=Path))
@click.option("--frame", "frame_name", required=True, help="The frame the codes belong to.")
@database_option
def import_(project: Path, frame_name: str, database: str | None) -> None:
    """Take back the codings of a REFI-QDA project (.qdpx) made in another tool; all or none."""
    from sharedground.text import frames, refi

    with store_session(database) as session:
        done = refi.import_project(session, frames.get(session, frame_name), project)
    console.print(f"{done.codings} coding(s) imported from {project} ({', '.join(done.coders)}).")


# -- themes and quotations ---------------------------------------------------------------------


@text.command(name="themes")
@click.option("--wave", required=True)
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option("--coder", default=None, help="Whose coding [default: the team's].")
@click.option("--by", type=click.Choice(["role", "trust"]), default="role", show_default=True)
@click.option("--trust", default=None, help="Only this trust's comments (a trust's report).")
@database_option
def themes_(
    wave: str,
    frame_name: str,
    coder: str | None,
    by: str,
    trust: str | None,
    database: str | None,
) -> None:
    """Respondents (and comments) coded with each code, by role group, suppressed."""
    from sharedground.text import frames, sources, themes

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave)
            organisation = sources.trust_id(session, trust)
            result = themes.table(
                store,
                session,
                row,
                frames.get(session, frame_name),
                coder=coder,
                by=by,
                organisation_id=organisation,
            )
    finally:
        store.dispose()

    tables, key = _themes_tables(result, console.width)
    for table in tables:
        console.print(table)
    if key:
        console.print(key, highlight=False)
    console.print(
        f"– withheld: fewer than {result.threshold} respondents, or needed to protect such a "
        "cell (the wave's suppression threshold)."
    )


def _initials(labels: list[str]) -> list[str] | None:
    """Each label's initials ("Directorate manager (or similar)" -> "DM"), or None when two
    would be the same (the labels are then used whole)."""
    found = ["".join(w[0].upper() for w in label.split("(")[0].split()) for label in labels]
    if not all(found) or len(set(found)) < len(found):
        return None
    return found


def _themes_tables(result: ThemeTable, width: int) -> tuple[list[Table], str | None]:
    """`text themes` as tables that fit `width` columns, and the key to short group names.

    In one wide table (code, a column per group, All, the test) an 80-column terminal cut the
    code names and folded the role labels and the figures into pieces, so no row could be
    read. Here the code names stay whole on one line, role groups are headed by their
    initials (the key below the tables names them) and the test has a table of its own. A
    cell reads "6 (25%)" where that fits, "6 25%" where only that does, then respondents
    and % on two lines; only when none puts every group in one table (a table by trust of a
    national wave) are the groups split over several tables.
    """
    from rich.table import Column, Table

    short = _initials(result.labels) if result.by == "role" else None
    heads = [*(short or result.labels), "All"]
    key = (
        None
        if short is None
        else "; ".join(f"{s} {label}" for s, label in zip(short, result.labels, strict=True))
    )
    sizes = [f"n={'–' if n is None else n}" for n in [*result.commenters, result.total_commenters]]
    names = ["  " * row.depth + row.name for row in result.rows]
    raw = [[c for c in [*row.cells, row.total]] for row in result.rows]

    def shown(cell: Cell, form: str) -> str:
        if cell.withheld:
            return "–"
        if cell.percent is None:
            return str(cell.respondents)
        percent = f"{cell.percent:.0f}%"
        if form == "wide":
            return f"{cell.respondents} ({percent})"
        return f"{cell.respondents}{' ' if form == 'narrow' else chr(10)}{percent}"

    code_width = max([len("code"), *(len(n) for n in names)])

    def column_width(j: int, form: str) -> int:
        pieces = [heads[j], sizes[j]]
        for row in raw:
            pieces += shown(row[j], form).split("\n")
        return max(len(p) for p in pieces)

    def fits(columns: list[int], form: str) -> bool:
        # Rich's box: a border before each column and after the last, one space each side.
        used = code_width + sum(column_width(j, form) for j in columns)
        return used + 3 * (len(columns) + 1) + 1 <= width

    every = list(range(len(heads)))
    form = next((f for f in ("wide", "narrow", "two") if fits(every, f)), "wide")
    chunks: list[list[int]] = []
    for j in every:
        if chunks and fits([*chunks[-1], j], form):
            chunks[-1].append(j)
        else:
            chunks.append([j])
    two_lines = form == "two" and any("\n" in shown(c, form) for row in raw for c in row)
    title = f"Respondents coded, % of commenters ({result.coder}'s coding of {result.wave})"
    tables = []
    for number, chunk in enumerate(chunks, 1):
        part = f" ({number} of {len(chunks)})" if len(chunks) > 1 else ""
        table = Table(
            Column("code", no_wrap=code_width <= width // 2),
            *[Column(f"{heads[j]}\n{sizes[j]}", justify="right", no_wrap=True) for j in chunk],
            title=title + part,
            show_lines=two_lines,
        )
        for name, row in zip(names, raw, strict=True):
            table.add_row(name, *[shown(row[j], form) for j in chunk])
        tables.append(table)
    tested = [(name, row.test) for name, row in zip(names, result.rows, strict=True)]
    if any(test is not None and test.p_value is not None for _, test in tested):
        table = Table(
            Column("code", no_wrap=code_width <= width // 2),
            Column("test"),
            Column("p", justify="right", no_wrap=True),
            title="Groups compared (the survey tables' test, groups shown)",
        )
        for name, test in tested:
            if test is not None and test.p_value is not None:
                kind = "exact" if test.test == "fisher" else "chi-squared"
                table.add_row(name, kind, f"{test.p_value:.3g} {test.stars}".strip())
        tables.append(table)
    return tables, key


@text.command(name="matrix")
@click.option("--wave", required=True)
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option(
    "--by",
    type=click.Choice(["case", "role", "trust"]),
    default="case",
    show_default=True,
    help="case: one row per respondent, each cell the ids of their sources coded there (for "
    "the team only, unsuppressed); role/trust: counts, suppressed.",
)
@click.option("--coder", default=None, help="Whose coding [default: the team's].")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="A .csv file.")
@database_option
def matrix_(
    wave: str, frame_name: str, by: str, coder: str | None, out: Path, database: str | None
) -> None:
    """Write the framework matrix (codes as columns) as CSV."""
    from sharedground.text import frames, themes

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave)
            frame = frames.get(session, frame_name)
            result: themes.ThemeTable | tuple[list[str], list[themes.CaseRow]]
            if by == "case":
                result = themes.case_matrix(session, row, frame, coder=coder)
                size = len(result[1])
            else:
                result = themes.table(store, session, row, frame, coder=coder, by=by)
                size = len(result.groups)
            themes.write_matrix(out, result)
    finally:
        store.dispose()
    console.print(f"wrote {out}: {size} row(s) by {by}", soft_wrap=True)


@text.command(name="quotations")
@click.option("--wave", required=True)
@click.option("--frame", "frame_name", required=True, help="The coding frame.")
@click.option(
    "--code", "code_key", required=True, help="The code (a theme includes its sub-codes)."
)
@click.option("--count", default=4, show_default=True)
@click.option("--coder", default=None, help="Whose coding [default: the team's].")
@click.option("--trust", default=None, help="Only this trust's comments.")
@database_option
def quotations_(
    wave: str,
    frame_name: str,
    code_key: str,
    count: int,
    coder: str | None,
    trust: str | None,
    database: str | None,
) -> None:
    """Short typical quotations for a code, one per respondent, by role group only.

    Only groups whose count for the code the wave's disclosure decision shows (nationally,
    or in the trust) are quoted.
    """
    from sharedground.text import frames, quotations, sources, themes

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave)
            organisation = sources.trust_id(session, trust)
            frame = frames.get(session, frame_name)
            table = themes.table(
                store, session, row, frame, coder=coder, organisation_id=organisation
            )
            theme = next((r for r in table.rows if r.code == code_key), None)
            shown = (
                set()
                if theme is None
                else {g for g, c in zip(table.groups, theme.cells, strict=True) if not c.withheld}
            )
            chosen = quotations.pick(
                store,
                session,
                row,
                frame,
                code_key,
                count=count,
                coder=coder,
                organisation_id=organisation,
                roles=shown,
            )
    finally:
        store.dispose()
    if not chosen:
        console.print(
            "No quotation can be shown (no coded comment from a group whose count for the "
            "code is shown)."
        )
    for quotation in chosen:
        console.print(f"“{quotation.text}” — {quotation.role}", highlight=False, soft_wrap=True)


@text.command(name="suggest")
@click.option("--wave", required=True)
@click.option("--topics", default=7, show_default=True, help="Candidate themes to suggest.")
@click.option("--seed", default=0, show_default=True, help="The same seed, the same suggestions.")
@click.option("--frame", "frame_name", default=None, help="List comments no code covers yet.")
@click.option("--coder", default=None, help="Whose coding covers [default: the team's].")
@database_option
def suggest_(
    wave: str,
    topics: int,
    seed: int,
    frame_name: str | None,
    coder: str | None,
    database: str | None,
) -> None:
    """Suggest candidate themes in a wave's comments (TF-IDF + NMF, offline, seeded)."""
    from sharedground.text import frames, suggest

    store = open_store(database)
    try:
        with store.session() as session:
            row = store.get_wave(session, wave)
            frame = frames.get(session, frame_name) if frame_name else None
            found = suggest.for_wave(session, row, topics, seed=seed, frame=frame, coder=coder)
    finally:
        store.dispose()
    console.print(f"[bold]{suggest.NOTICE}[/]", soft_wrap=True)
    for topic in found.suggestions.topics:
        console.print(
            f"\n[bold]Candidate {topic.number}[/] ({topic.size} comment(s)): "
            + ", ".join(topic.terms),
            highlight=False,
            soft_wrap=True,
        )
        for index in topic.typical:
            console.print(
                f"  source {found.source_ids[index]}: {found.texts[index]}",
                highlight=False,
                soft_wrap=True,
            )
    if frame is not None:
        console.print(
            f"\n{len(found.uncovered)} comment(s) no code covers yet"
            + (": sources " + ", ".join(map(str, found.uncovered[:30])) if found.uncovered else "")
            + (" …" if len(found.uncovered) > 30 else ""),
            soft_wrap=True,
        )
