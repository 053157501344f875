"""`sharedground evaluate`: did an initiative work, and which kinds work (what works)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sharedground.cli._common import console, database_option, open_store

# The evaluation library (NumPy, SciPy, Polars) is imported inside the command.


@click.command()
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A directory of CSV tables (responses, trusts; pulse, monthly, initiatives), as "
    "`sharedground synth --scenario programme` writes them.",
)
@click.option(
    "--scenario",
    type=click.Choice(["programme"]),
    default=None,
    help="Evaluate a freshly generated synthetic programme instead (planted effects).",
)
@click.option(
    "--register",
    is_flag=True,
    help="Evaluate the database (--database): its register, survey waves and pulse answers "
    "(with --initiative, that initiative's before/after and SPC).",
)
@click.option(
    "--waves",
    default=None,
    metavar="W1,W2,...",
    help="With --register: the stored survey waves to compare (default: every dated survey "
    "wave answered by a trust with an initiative in the register).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Scenario seed.")
@click.option("--initiative", type=int, default=None, help="One initiative: before/after, SPC.")
@click.option("--kind", default=None, help="One kind of initiative, with its group-time cells.")
@click.option("--all", "all_kinds", is_flag=True, help="Every kind (the default).")
@click.option(
    "--control",
    type=click.Choice(["never", "notyet"]),
    default="never",
    show_default=True,
    help="Compare with trusts that never started, or also those that had not started yet.",
)
@click.option("--replicates", type=click.IntRange(99), default=999, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx", "html"]),
    default="table",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@database_option
@click.option(
    "--charts",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the charts as SVG files here (event studies, or the SPC chart).",
)
def evaluate(
    source: Path | None,
    scenario: str | None,
    register: bool,
    waves: str | None,
    seed: int,
    initiative: int | None,
    kind: str | None,
    all_kinds: bool,
    control: str,
    replicates: int,
    fmt: str,
    out: Path | None,
    charts: Path | None,
    database: str | None,
) -> None:
    """Evaluate initiatives: what works across trusts (difference-in-differences with
    staggered starts, bootstrap CIs, a stated verdict rule), or one initiative's
    before/after tests and SPC chart."""
    from sharedground.evaluation import summary

    if sum((source is not None, scenario is not None, register)) != 1:
        raise click.UsageError(
            "give exactly one of --from DIR, --scenario programme and --register"
        )
    if waves and not register:
        raise click.UsageError("--waves goes with --register")
    if sum(x is not None and x is not False for x in (initiative, kind, all_kinds or None)) > 1:
        raise click.UsageError("give at most one of --initiative, --kind and --all")
    if fmt in ("xlsx", "html") and out is None:
        raise click.UsageError(f"--format {fmt} needs --out FILE")
    if register:
        names = [w.strip() for w in (waves or "").split(",") if w.strip()]
        tables = _from_register(database, initiative, names)
    else:
        tables = summary.load_tables(source) if source else summary.from_scenario(seed)
    doc = summary.evaluate(
        tables, kind=kind, initiative=initiative, control=control, replicates=replicates
    )
    if charts is not None:
        from sharedground.report.evaluation_charts import write_charts

        written = write_charts(doc, tables, charts)
        console.print(f"[green]Wrote[/] {len(written)} chart(s) to {charts}")
    if fmt == "json":
        text = json.dumps(doc, indent=2, default=str)
        _emit(text, out)
    elif fmt == "csv":
        from sharedground.exchange.formulas import neutralise_frame

        # Kinds and initiatives are named by people: no name may become a formula.
        _emit(neutralise_frame(_frame(doc)).write_csv(), out)
    elif fmt == "html":
        from sharedground.report.evaluation_page import render_evaluation_html

        assert out is not None
        out.write_text(render_evaluation_html(doc, tables), encoding="utf-8")
        console.print(f"[green]Wrote[/] {out}")
    elif fmt == "xlsx":
        assert out is not None
        _frame(doc).write_excel(out)
        console.print(f"[green]Wrote[/] {out}")
    else:
        _print(doc)
        if out is not None:
            out.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"[green]Wrote[/] {out}")


def _frame(doc: dict[str, Any]) -> Any:
    import polars as pl

    if "initiative" in doc:
        rows = [t for b in doc["initiative"]["before_after"] for t in b["tests"]]
        return pl.DataFrame(rows, infer_schema_length=None)
    return pl.DataFrame(doc["what_works"], infer_schema_length=None)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _print(doc: dict[str, Any]) -> None:
    from rich.table import Table

    if "initiative" in doc:
        init = doc["initiative"]
        table = Table(title=f"Initiative {init['initiative_id']}: before and after")
        for col in ("item", "group", "test", "pairs", "lost", "change", "95% CI", "p"):
            table.add_column(col)
        for b in init["before_after"]:
            for t in b["tests"]:
                ci = (
                    f"{_fmt(t['ci_low'])} to {_fmt(t['ci_high'])}"
                    if t["p_value"] is not None
                    else ""
                )
                table.add_row(
                    b["item"], t["group"], t["test"], str(t["n_pairs"]), str(t["n_lost"]),
                    _fmt(t["estimate"]), ci,
                    _fmt(t["p_value"], 4) if t["p_value"] is not None else "not enough to judge",
                )  # fmt: skip
        console.print(table)
        for b in init["before_after"]:
            d = b["difference"]
            if d and d["estimate"] is not None:
                console.print(
                    f"{b['item']}: participants' change minus non-participants' "
                    f"{_fmt(d['estimate'])} (95% CI {_fmt(d['ci_low'])} to {_fmt(d['ci_high'])})"
                )
        console.print(f"[yellow]Note:[/] {init['caveat']}")
        if "spc" in init:
            spc = init["spc"]
            flagged = sum(1 for p in spc["points"] if p["point_type"] != "common_cause")
            start = spc["milestones"][0][0] if spc["milestones"] else "none"
            console.print(
                f"SPC p-chart of the monthly pulse: {len(spc['points'])} months, {flagged} "
                f"special-cause point(s), rebased at {start}; "
                f"variation icon: {spc['variation_icon']}"
            )
        return
    table = Table(title="What works")
    for col in ("kind", "measure", "trusts", "effect", "95% CI", "p (BH)", "verdict"):
        table.add_column(col)
    for r in doc["what_works"]:
        ci = f"{_fmt(r['ci_low'])} to {_fmt(r['ci_high'])}" if r["effect"] is not None else ""
        table.add_row(
            r["kind"], r["measure"], str(r["trusts"]), _fmt(r["effect"]), ci,
            _fmt(r["p_adjusted"], 4), r["verdict"],
        )  # fmt: skip
    console.print(table)
    console.print(doc["rule"], soft_wrap=True)
    for study in doc["event_studies"]:
        if not study["cells"]:  # only for one --kind: the event study of each measure
            continue
        events = Table(title=f"{study['kind']}, {study['measure']}: by waves since the start")
        for col in ("waves since start", "effect", "95% CI", "trusts"):
            events.add_column(col)
        for e in study["event"]:
            events.add_row(
                str(e["event_time"]), _fmt(e["att"]),
                f"{_fmt(e['ci_low'])} to {_fmt(e['ci_high'])}", str(e["n_treated"]),
            )  # fmt: skip
        console.print(events)


def _from_register(database: str | None, initiative: int | None, waves: list[str]) -> Any:
    """The tables from the database (`evaluation.store`): one initiative's pulse (its
    participants, the trust's non-participants and its monthly pulse), or the survey waves
    (`waves`, default: those of the register's trusts) with the register (what works)."""
    from sharedground.evaluation.store import initiative_tables, programme_tables

    store = open_store(database)
    try:
        if initiative is not None:
            return initiative_tables(store, initiative)
        return programme_tables(store, waves or None)
    finally:
        store.dispose()
