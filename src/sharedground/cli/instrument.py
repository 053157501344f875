"""`sharedground instrument ...`: list, show, validate and copy questionnaires."""

from __future__ import annotations

from pathlib import Path

import click

from sharedground.cli._common import console


@click.group()
def instrument() -> None:
    """Questionnaire definitions: the built-in ones and your own edited copies."""


@instrument.command("list")
def list_() -> None:
    """List the built-in instruments."""
    from rich.table import Table

    from sharedground import instrument as lib

    table = Table("id", "version", "title", "sections", "items")
    for name in lib.list_builtin():
        inst = lib.builtin(name)
        table.add_row(
            inst.id, str(inst.version), inst.title, str(len(inst.sections)), str(len(inst.items()))
        )
    console.print(table)


@instrument.command()
@click.argument("name")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the full YAML definition.")
def show(name: str, as_yaml: bool) -> None:
    """Show an instrument (a built-in id or a YAML file): sections and items."""
    from sharedground import instrument as lib

    inst = lib.resolve(name)
    if as_yaml:
        click.echo(lib.dumps(inst), nl=False)
        return
    console.print(f"[bold]{inst.title}[/] ({inst.key})")
    for number, section in enumerate(inst.sections, start=1):
        console.print(f"\n[bold]{number}. {section.title}[/]  [dim]{section.id}[/]")
        for item in section.items:
            extra = ""
            if getattr(item, "reverse", False):
                extra = " [dim](reverse-scored)[/]"
            console.print(
                f"  [cyan]{item.id}[/] [dim]{item.type}[/]{extra}: {item.text}", highlight=False
            )


@instrument.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check an instrument file; errors name the line, section and item."""
    from sharedground import instrument as lib

    inst = lib.load_file(file)
    console.print(
        f"[green]OK[/] {file}: {inst.key}, {len(inst.sections)} sections, "
        f"{len(inst.items())} items, {len(inst.tables)} tables"
    )


@instrument.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "source",
    default="dmr-2015",
    show_default=True,
    help="The built-in instrument to copy.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def new(file: Path, source: str, force: bool) -> None:
    """Write an editable copy of a built-in instrument to FILE.

    The copy gets its own id (from the file name) so that it is never confused with the
    built-in questionnaire; keep the item ids you want to compare with published figures.
    """
    from sharedground import instrument as lib

    if file.exists() and not force:
        raise click.UsageError(f"{file} exists; use --force to overwrite it")
    base = lib.builtin(source)
    new_id = file.stem.lower().replace(" ", "-").replace("_", "-")
    if not new_id[:1].isalpha():
        new_id = f"custom-{new_id}"
    copy = base.model_copy(update={"id": new_id, "version": 1, "based_on": base.key})
    text = lib.dumps(copy)
    lib.loads(text, source=str(file))  # what we write must load back
    file.write_text(
        f"# Based on the built-in {base.key}; edit and check with "
        f"`sharedground instrument validate {file}`.\n" + text,
        encoding="utf-8",
    )
    console.print(f"[green]Wrote[/] {file} ({new_id}@1, based on {base.key})")
