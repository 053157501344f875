"""The demo: a fresh database with the synthetic 2015 and 2002 cohorts, summarised, and a
small synthetic programme of initiatives (register, cohorts, pulse answers and five yearly
survey waves of its own trusts) evaluated from the database into the report's "What works".

Later stages (analysis, reports) add themselves here so that `make demo` always shows the
whole pipeline on an embedded SQLite database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from rich.console import Console
from sqlalchemy import func, select

from sharedground import synth
from sharedground.exchange.importer import import_file
from sharedground.store import Contact, Response, Store


@dataclass
class WaveSummary:
    name: str
    instrument: str
    responses: int
    by_role: dict[str, int]


@dataclass
class DemoSummary:
    database: str
    roles: list[str]
    waves: list[WaveSummary] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def _frame(
    store: Store, cohort: pl.DataFrame, wave_name: str, path: Path, seed: int, console: Console
) -> None:
    """Give the wave the sample frame behind its cohort, with who completed (once).

    `status` then shows response rates, and `analyse --weights raked` has a population.
    """
    from sharedground.fieldwork.contacts import import_contacts
    from sharedground.synth.frame import COLUMNS, sample_frame

    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        if session.scalar(select(func.count()).where(Contact.wave_id == wave.id)):
            return
    people = sample_frame(cohort, seed=seed)
    people.select(COLUMNS).write_csv(path)
    summary = import_contacts(store, path, wave_name)
    done = people.filter(pl.col("respondent").is_not_null()).join(
        cohort.select(
            pl.col("respondent_id").alias("respondent"), pl.col("mode"), pl.col("submitted")
        ),
        on="respondent",
    )
    completed = {
        email: (dt.date.fromisoformat(day), mode)
        for email, day, mode in done.select("email", "submitted", "mode").iter_rows()
    }
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        for contact in session.scalars(select(Contact).where(Contact.wave_id == wave.id)):
            if contact.email in completed:
                contact.completed_on, contact.completed_mode = completed[contact.email]
    console.print(
        f"Wave {wave_name}: sample frame of {summary.added} contacts, {len(completed)} "
        f"of them completed, by the published response rates ({path})"
    )


#: The demo's programme: the 200-trust scenario (codes PT001...) over five yearly waves,
#: about 30,000 survey respondents; it loads and evaluates in about 8 s.
PROGRAMME_TRUSTS = 200
PROGRAMME_TRUST_PREFIX = "P"


def _programme(
    store: Store, out: Path, seed: int, console: Console, *, trusts: int = PROGRAMME_TRUSTS
) -> tuple[dict[str, Any], int | None]:
    """Load the synthetic programme (once) and evaluate it from the database; the evaluation
    document is written to `out/evaluation.json` for `report --evaluation`. Returns it and
    the id of an initiative with before/after pulse answers (for the next step)."""
    import json

    from sharedground.evaluation import summary
    from sharedground.evaluation.store import programme_tables
    from sharedground.initiatives.models import PulseTimepoint
    from sharedground.synth.scenario import ScenarioConfig, generate_scenario
    from sharedground.synth.scenario_load import WAVE_PREFIX, load_scenario

    config = ScenarioConfig(trusts=trusts)
    with store.session() as session:
        there = store.find_wave(session, f"{WAVE_PREFIX}{config.waves[0]}") is not None
    if not there:
        with console.status("Loading a synthetic programme of initiatives"):
            scenario = generate_scenario(seed, config)
            loaded = load_scenario(store, scenario, trust_prefix=PROGRAMME_TRUST_PREFIX)
            scenario.truth.write_csv(out / "programme-truth.csv")
        console.print(
            f"Programme: {loaded.initiatives} initiatives in {trusts} trusts, "
            f"{loaded.participants} participants, {loaded.pulse_answers} pulse answers "
            "(cohorts, colleagues and monthly), "
            f"{loaded.responses} survey responses in waves {', '.join(loaded.waves)} "
            f"(planted effects: {out / 'programme-truth.csv'})"
        )
    with console.status("Evaluating the programme from the database"):
        doc = summary.evaluate(programme_tables(store))
    path = out / "evaluation.json"
    path.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
    rolled = sorted({r["kind"] for r in doc["what_works"] if r["verdict"] == "roll out"})
    console.print(
        f"What works: {len(doc['what_works'])} kind-and-measure estimates ({path}); "
        f"'roll out' on some measure: {', '.join(rolled) or 'none'}"
    )
    with store.session() as session:
        example = session.scalar(
            select(PulseTimepoint.initiative_id).order_by(PulseTimepoint.initiative_id).limit(1)
        )
    return doc, example


def _example_trust_report(store: Store, initiative: int, out: Path, console: Console) -> Path:
    """The report of the trust running `initiative`, on the programme's last wave: its "Your
    initiatives" with the pulse's figures and the before/after tests."""
    from sharedground.initiatives.models import Initiative
    from sharedground.report.write import trust_reports
    from sharedground.store.schema import Organisation
    from sharedground.synth.scenario import ScenarioConfig
    from sharedground.synth.scenario_load import WAVE_PREFIX

    with store.session() as session:
        code = session.scalar(
            select(Organisation.code)
            .join(Initiative, Initiative.organisation_id == Organisation.id)
            .where(Initiative.id == initiative)
        )
    assert code is not None
    wave = f"{WAVE_PREFIX}{ScenarioConfig().waves[-1]}"
    with console.status(f"Writing the report of trust {code} on wave {wave}"):
        files = trust_reports(store, wave, out, trusts=[code], workers=1)[code]
    console.print(f"Trust report of {code} (its initiatives, before and after): {files.html}")
    return files.html


def run(
    database: str | None, out: Path, seed: int = 2015, console: Console | None = None
) -> DemoSummary:
    """Build the demo database and files under `out`; returns what is there."""
    console = console or Console(quiet=True)
    out.mkdir(parents=True, exist_ok=True)
    store = Store(database or str(out / "demo.db"))
    store.init()
    summary = DemoSummary(database=str(store), roles=[])
    cohorts: tuple[tuple[Literal["2015", "2002"], str], ...] = (("2015", "2015"), ("2002", "2002"))
    for which, wave_name in cohorts:
        path = out / f"synthetic-{which}.csv"
        with console.status(f"Generating the synthetic {which} cohort"):
            frame = synth.generate(which, seed=seed)
            synth.write(frame, synth.instrument_for(which), path)
        result = import_file(store, path, wave_name, synth.instrument_for(which))
        console.print(
            f"Wave {wave_name}: {result.added} responses imported, "
            f"{result.unchanged} already there ({path})"
        )
        if which == "2015":
            _frame(store, frame, wave_name, out / "frame-2015.csv", seed, console)
    evaluation, example = _programme(store, out, seed, console)
    with store.session() as session:
        for wave in store.list_waves(session):
            if wave.instrument.key == "dmr-pulse":  # an initiative's pulse: summarised above
                continue
            instrument = store.instrument_of(wave)
            if not summary.roles:
                summary.roles = instrument.role_ids()
            counts = dict(
                session.execute(
                    select(Response.role, func.count())
                    .where(Response.wave_id == wave.id)
                    .group_by(Response.role)
                ).all()
            )
            summary.waves.append(
                WaveSummary(wave.name, instrument.key, sum(counts.values()), counts)
            )
    db_option = f"--database {database}" if database else f"--database {out / 'demo.db'}"
    summary.next_steps = [
        f"Export it:  sharedground export --wave 2015 --format xlsx --out {out}/2015.xlsx "
        f"{db_option}",
    ]
    summary.next_steps.append(
        f"Evaluate the programme:  sharedground evaluate --register {db_option}"
        + (f"   (one initiative's before/after: add --initiative {example})" if example else "")
    )
    from sharedground.report.write import national_report

    with console.status("Writing the national report of 2015, compared with 2002"):
        report = national_report(
            store, "2015", out / "report", compare="2002", evaluation=evaluation
        )
    console.print(f"National report: {report.html} and {report.pdf}")
    if example is not None:
        trust_report = _example_trust_report(store, example, out / "report", console)
        summary.next_steps.append(f"A programme trust's report:  {trust_report}")
    summary.next_steps.append(f"Read the report:  {report.html}  (PDF: {report.pdf})")
    store.dispose()
    return summary
