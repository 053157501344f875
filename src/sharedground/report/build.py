"""Gathering a report's input from the store: analysis, distributions, comments, fieldwork.

A wave is loaded once (`load`) and every report of it, national or per trust, is made from
that: the coded frame from the analysis engine (`sharedground.analysis`), the analysis
document for the whole wave and, per trust, for the trust and by trust (the funnel plots).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select

from sharedground.analysis import trend as analysis_trend
from sharedground.analysis.benchmark import benchmark
from sharedground.analysis.disclosure.decide import Decision, decide
from sharedground.analysis.disclosure.final import FinalRelease, released_data
from sharedground.analysis.results import Analysis
from sharedground.analysis.source import WaveData, load_wave
from sharedground.analysis.tables import Options, analyse
from sharedground.analysis.weights.weighting import WaveWeights, WeightOptions, wave_weights
from sharedground.instrument import Instrument
from sharedground.report import comments as comment_module
from sharedground.report import trend
from sharedground.report.compose import OTHERS, TRUST
from sharedground.report.gather import Distributions, distributions, scan, wave_fieldwork
from sharedground.report.model import (
    OVERALL,
    Comparison,
    Fieldwork,
    Funnel,
    FunnelPoint,
    Group,
    Initiatives,
    ReportInput,
)
from sharedground.report.published import published_analysis
from sharedground.store import Organisation, Store

#: Most comments printed per question in a trust report: a board reads a handful; every
#: printed comment is also a little more risk of recognising its author.
TRUST_COMMENTS = 5

#: (table, row index) of the key ratings drawn as funnel plots.
FUNNEL_ROWS = (("table_2.1", 0), ("table_2.1", 2), ("table_2.1", 4))


class ReportError(ValueError):
    """A report cannot be made as asked; the message says why and what is possible."""


@dataclass
class WaveContext:
    """One wave, loaded once, from which its national and trust reports are made."""

    wave: str
    data: WaveData
    national: dict[str, Any]
    groups: list[Group]
    fieldwork: Fieldwork
    texts: pl.DataFrame
    trust_names: dict[str, str | None]
    comparison: Comparison | None = None
    benchmarks: dict[str, Any] | None = None
    published: dict[str, Any] | None = None
    comment_limit: int = comment_module.DEFAULT_LIMIT
    extras: dict[str, Any] = field(default_factory=dict)
    #: The stored wave compared with, for trust-level change (None: none, or published).
    earlier: WaveData | None = None
    #: The published figures compared with ("2002" or "2015"), which exist only nationally.
    published_year: str | None = None

    @property
    def instrument(self) -> Instrument:
        return self.data.instrument

    @property
    def threshold(self) -> int:
        return self.data.suppression_threshold

    @property
    def disclosure(self) -> Decision:
        """Which cells every output of the wave withholds (decided once, when first needed).

        A trust's role cells are withheld by this one decision over the trust x role table
        and its printed margins, so the national figures by role minus the other trusts'
        reports cannot recover them (`sharedground.analysis.disclosure`).
        """
        # Keyed by the wave's data too: a caller may swap `data` (tests change the threshold).
        if "disclosure" not in self.extras or self.extras["disclosure"][0] is not self.data:
            self.extras["disclosure"] = (self.data, decide(self.data))
        found: Decision = self.extras["disclosure"][1]
        return found

    @property
    def earlier_disclosure(self) -> Decision | None:
        """The compared stored wave's own disclosure decision (None: no stored wave).

        A trust's change since that wave prints its earlier figures: they are withheld
        where that wave's outputs withheld them, or its own margins would give them away.
        """
        if self.earlier is None:
            return None
        if "earlier_disclosure" not in self.extras or (
            self.extras["earlier_disclosure"][0] is not self.earlier
        ):
            self.extras["earlier_disclosure"] = (self.earlier, decide(self.earlier))
        found: Decision = self.extras["earlier_disclosure"][1]
        return found

    @property
    def distributions(self) -> Distributions:
        """Likert answers of the whole wave (computed once)."""
        if "distributions" not in self.extras:
            self.extras["distributions"] = distributions(self.data.frame, self.instrument)
        found: Distributions = self.extras["distributions"]
        return found

    @property
    def trusts(self) -> list[str]:
        """Codes of the trusts with responses in the wave (computed once)."""
        if "trusts" not in self.extras:
            self.extras["trusts"] = sorted(self._parts("data"))
        found: list[str] = self.extras["trusts"]
        return found

    def _parts(self, which: str) -> dict[str, pl.DataFrame]:
        """The wave's (`data`) or the earlier wave's (`earlier`) responses by trust, split
        once for all the trust reports."""
        key = f"by_trust_{which}"
        data = self.data if which == "data" else self.earlier
        frame = None if data is None else data.frame
        # Keyed by the frame too: a caller may swap `data` for another (tests do).
        if key not in self.extras or self.extras[key][0] is not frame:
            self.extras[key] = (frame, trend.by_trust(data) if data is not None else {})
        found: dict[str, pl.DataFrame] = self.extras[key][1]
        return found

    def trust_data(self, trust: str) -> WaveData:
        """One trust's responses in the wave."""
        return trend.trust_subset(self.data, trust, self._parts("data"))

    def trust_earlier(self, trust: str) -> WaveData | None:
        """One trust's responses in the earlier stored wave (None: no stored wave)."""
        if self.earlier is None:
            return None
        return trend.trust_subset(self.earlier, trust, self._parts("earlier"))


def _groups(document: dict[str, Any], threshold: int) -> list[Group]:
    return [
        Group(
            g["id"],
            g["label"],
            int(g["respondents"] or 0),
            shown=g["respondents"] is not None and int(g["respondents"]) >= threshold,
        )
        for g in document["groups"]
    ]


def load(
    store: Store,
    wave: str,
    *,
    compare: str | None = None,
    cache_dir: Path | None = None,
    comment_limit: int = comment_module.DEFAULT_LIMIT,
    weights: WeightOptions | None = None,
    today: dt.date | None = None,
) -> WaveContext:
    """Load a wave and everything its reports need.

    Once the wave's fieldwork is over (on `today`, default the study's today) its reports
    read the wave's final figures, the released set the leads' results pages show too
    (`analysis.disclosure.final`): late returns join in whole batches per role group, so
    two reports made either side of one late return differ by no one's answers.

    Args:
        store: the database.
        wave: the wave's name.
        compare: a stored wave's name, or "2002"/"2015" for the published figures when no
            wave of that name is stored.
        cache_dir: the analysis engine's snapshot folder (None: no cache).
        comment_limit: the most comments printed per question.
        weights: how to weight the national tables, trend and benchmarks (None or kind
            "none": unweighted, as the published report).
        today: the day the reports are made (the jobs pass the day they were asked for).
    """
    data, final = released_data(store, load_wave(store, wave, cache_dir), today)
    made = None
    if weights is not None and weights.kind != "none":
        made = wave_weights(store, wave, data.frame, data.instrument, weights)
    national = analyse(data, None, made).to_json()
    # Trust reports weight their tables with the same weights, their own rows of them.
    context_weights = made
    with store.session() as session:
        wave_id = store.get_wave(session, wave).id
        names = dict(session.execute(select(Organisation.code, Organisation.name)).all())
        stored = {w.name for w in store.list_waves(session)}
    keep = None if final is None or not final.held_back else final.shown_ids()
    scanned = scan(store, wave_id, data.instrument, data.frame.height, keep)
    context = WaveContext(
        wave=wave,
        data=data,
        national=national,
        groups=_groups(national, 0),
        fieldwork=wave_fieldwork(store, wave, data, scanned.first, scanned.last, scanned.sampled),
        texts=scanned.texts,
        trust_names=names,
        comment_limit=comment_limit,
    )
    if data.instrument.id == "dmr-2015":
        context.published = published_analysis(data.instrument)
    if compare is not None:
        if compare == wave:
            raise ReportError(f"--compare {compare}: a wave cannot be compared with itself")
        if compare in stored:
            then, _ = released_data(store, load_wave(store, compare, cache_dir), today)
            context.comparison = trend.from_analysis(
                analysis_trend.against_wave(
                    data,
                    then,
                    weights=made,
                    weights_then=None
                    if made is None or weights is None
                    else wave_weights(store, compare, then.frame, then.instrument, weights),
                ),
                compare,
            )
            context.earlier = then
        elif compare in ("2002", "2015"):
            context.comparison = trend.from_analysis(
                analysis_trend.against_published(data, compare, None, made),
                f"{compare} (published)",
            )
            context.published_year = compare
        else:
            known = ", ".join(sorted(stored)) or "none"
            raise ReportError(
                f"--compare {compare}: no stored wave of that name (stored: {known}); "
                "2002 and 2015 also mean the published figures"
            )
    if context.trusts:
        context.benchmarks = benchmark(data, None, made).to_json()
    from sharedground.initiatives import reporting

    context.extras["register"] = reporting.summarise(store, data.suppression_threshold, national)
    # "What respondents said" reads the coded comments from the store when a report asks.
    context.extras["said_from"] = (store, wave, today)
    context.extras["weights"] = context_weights
    context.extras["final"] = final
    if final is not None:
        context.fieldwork.release_note = final.describe()
    return context


def _trust_weights(context: WaveContext, trust: str, subset: WaveData) -> WaveWeights | None:
    """The wave's weights of one trust's respondents (None: the report is unweighted).

    The trust's rows keep the weights made for the whole wave (raked to every trust's and
    role's totals): weighting a trust's few respondents on their own would rake to nothing.
    """
    made: WaveWeights | None = context.extras.get("weights")
    if made is None:
        return None
    import dataclasses

    from sharedground.analysis.weights.raking import kish

    mine = (context.data.frame["trust"] == trust).fill_null(False).to_numpy()
    values, strata = made.values[mine], made.strata[mine]
    if len(values) != subset.frame.height:  # the split by trust keeps the wave's order
        raise ReportError(f"trust {trust}: its weights do not line up with its responses")
    return dataclasses.replace(made, values=values, strata=strata, kish=kish(values))


def _initiatives(context: WaveContext, trust: str | None) -> Initiatives | None:
    """The register's section of a report: None when there is nothing to say."""
    summary = context.extras.get("register")
    if summary is None or summary.empty:
        return None
    if trust is None:
        return Initiatives(
            context.threshold, kinds=summary.kinds, trusts_in_register=summary.trusts_in_register
        )
    own = summary.for_trust(trust)
    if not own:
        return None
    return Initiatives(context.threshold, trust=own, **_paired_tests(summary, trust, own))


def _paired_tests(summary: Any, trust: str, own: list[Any]) -> dict[str, Any]:
    """The before/after tests of the trust's initiatives (the evaluation's paired tests on
    their participants' pulse), in the order of `own`."""
    from sharedground.evaluation.beforeafter import CAVEAT
    from sharedground.evaluation.register import paired_rows

    entries = summary.trusts[trust]
    with summary.store.session() as session:
        # Whole batches of pairs, as the section's table above (`initiatives.reporting`).
        tests = [
            paired_rows(session, e.id, i.threshold, in_batches=True)
            for e, i in zip(entries, own, strict=True)
        ]
    return {"tests": tests, "caveat": CAVEAT if any(tests) else ""}


def _said(context: WaveContext, trust: str | None) -> Any:
    """The themes and quotations section, when the team has coded the wave's comments."""
    source = context.extras.get("said_from")
    if source is None:
        return None
    from sharedground.text.said import said

    store, wave, today = source
    cache = context.extras.setdefault("said_cache", {})
    return said(store, wave, trust=trust, cache=cache, survey=context.disclosure, today=today)


def _benchmark_rows(context: WaveContext) -> dict[tuple[str, int], dict[str, Any]]:
    """The analysis engine's benchmark rows by (table, row index)."""
    if not context.benchmarks:
        return {}
    return {
        (table["id"], index): row
        for table in context.benchmarks["tables"]
        for index, row in enumerate(table["rows"])
    }


def _funnels(context: WaveContext, highlight: str | None) -> list[Funnel]:
    rows = _benchmark_rows(context)
    funnels = []
    for key in FUNNEL_ROWS:
        row = rows.get(key)
        if row is None or row["national"].get("pct") is None:
            continue
        points = [
            FunnelPoint(trust, int(cell["count"]), int(cell["valid"]), cell.get("funnel"))
            for trust, cell in row["trusts"].items()
            if cell.get("count") is not None and cell.get("valid")
        ]
        limits = [
            (int(x["n"]), x["lower_95"], x["upper_95"], x["lower_998"], x["upper_998"])
            for x in row["funnel"].get("limits", [])
        ]
        funnels.append(
            Funnel(
                key[0],
                row["item"],
                row["label"],
                float(row["national"]["pct"]),
                points,
                highlight,
                limits,
            )
        )
    return funnels


def _national_fieldwork(context: WaveContext) -> Fieldwork:
    """The fieldwork facts as the national report prints them: responses (and response
    rates) by role and by mode withheld where the wave's decision withholds them.

    The number of each role's respondents is a margin of the trust x role table, and by
    mode one of the trust x role x mode table (`analysis.disclosure.attributes`): printed
    whole, a small group's count would be the nation less the groups the trust reports
    print.
    """
    import dataclasses

    from sharedground.analysis.disclosure.attributes import decide_attribute

    fieldwork = context.fieldwork
    decision = context.disclosure
    roles = decision.cells.roles
    hidden = {r for i, r in enumerate(roles) if decision.respondents.roles[i]}
    modes = decide_attribute(context.data, "mode", decision, rows=False)
    withheld = {m for i, m in enumerate(modes.cells.ids) if modes.respondents.withheld[i]}

    def keep(values: dict[str, Any] | None, out: set[str]) -> dict[str, Any] | None:
        return None if values is None else {k: v for k, v in values.items() if k not in out}

    return dataclasses.replace(
        fieldwork,
        responses_by_group=keep(fieldwork.responses_by_group, hidden) or {},
        rate_by_group=keep(fieldwork.rate_by_group, hidden),
        responses_by_mode={
            m: (None if m in withheld else n) for m, n in fieldwork.responses_by_mode.items()
        },
        rate_by_mode=keep(fieldwork.rate_by_mode, withheld),
    )


def national_input(context: WaveContext) -> ReportInput:
    """The national report of the loaded wave."""
    return ReportInput(
        instrument=context.instrument,
        wave=context.wave,
        analysis=context.national,
        groups=context.groups,
        threshold=context.threshold,
        distributions=context.distributions,
        comparison=context.comparison,
        funnels=_funnels(context, None),
        fieldwork=_national_fieldwork(context),
        comments=comment_module.collect(
            context.texts,
            context.instrument,
            context.groups,
            limit=context.comment_limit,
            sampled_from=context.fieldwork.comments_sample,
        ),
        initiatives=_initiatives(context, None),
        said=_said(context, None),
    )


def _others(context: WaveContext, trust: str) -> dict[str, Any]:
    """Everyone else in the wave, per row, from the analysis engine's benchmarks.

    Only the percentage is printed; `flag` says whether the trust is significantly above or
    below everyone else (two-proportion test, p < 0.05).
    """
    tables = []
    by_row = _benchmark_rows(context)
    for table in context.national["tables"]:
        rows = []
        for index, row in enumerate(table["rows"]):
            bench = by_row.get((table["id"], index))
            cell = (bench or {}).get("trusts", {}).get(trust) or {}
            versus = cell.get("versus_rest") or {}
            rows.append(
                {
                    **row,
                    "overall": versus.get("rest") or {},
                    "flag": versus.get("flag"),
                    "overall_all_respondents": None,
                }
            )
        tables.append({"id": table["id"], "title": table["title"], "rows": rows})
    return {"tables": tables}


def _totals(by_group: dict[str, dict[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in by_group.values():
        for value, n in counts.items():
            totals[value] = totals.get(value, 0) + n
    return totals


def _trust_distributions(own: Distributions, everyone: Distributions) -> Distributions:
    """This trust's answers (all its respondents) and the other trusts' (everyone else).

    Trust charts compare the trust with the rest rather than group with group: groups in
    one trust are small, and a per-group distribution would show more than the table's
    suppressed cells do.
    """
    found: Distributions = {}
    for item, by_group in everyone.items():
        mine = _totals(own.get(item, {}))
        rest = {k: n - mine.get(k, 0) for k, n in _totals(by_group).items()}
        found[item] = {TRUST: mine, OTHERS: rest}
    return found


def _trust_comparison(
    context: WaveContext, subset: WaveData, trust: str, shown: list[str], analysis: Analysis
) -> Comparison | None:
    """The trust's change since the comparison wave, or the published national context."""
    then = context.trust_earlier(trust)
    if then is not None:
        decision = context.earlier_disclosure
        view = (
            decision.view(trust)
            if decision is not None and trust in decision.cells.trusts
            else None
        )
        return trend.trust_change(
            subset,
            then,
            then.name,
            shown,
            context.threshold,
            current=analysis,
            then_disclosure=view,
        )
    if context.published_year is not None:
        return trend.national_context(subset, context.published_year, shown, context.threshold)
    return None


def _release_note(context: WaveContext, trust: str) -> str | None:
    """What the trust's final figures include (None while fieldwork runs)."""
    final: FinalRelease | None = context.extras.get("final")
    if final is None:
        return None
    return final.for_trust(trust).describe(" for this trust") + (
        " The other trusts' figures join in the same way."
    )


def trust_input(context: WaveContext, trust: str) -> ReportInput:
    """One trust's report: its own tables, suppressed, benchmarked against the rest."""
    if trust not in context.trusts:
        known = ", ".join(context.trusts[:10]) + (" …" if len(context.trusts) > 10 else "")
        raise ReportError(
            f"no responses from trust {trust!r} in wave {context.wave} "
            f"(trusts: {known or 'none recorded'})"
        )
    subset = context.trust_data(trust)
    frame = subset.frame
    analysis = analyse(
        subset,
        Options(disclosure=context.disclosure.view(trust)),
        _trust_weights(context, trust, subset),
    )
    own = analysis.to_json()
    groups = _groups(own, context.threshold)
    benchmarks = {"Other trusts": _others(context, trust)}
    if context.published is not None:
        benchmarks["Published national 2015"] = context.published
    dist = _trust_distributions(distributions(frame, context.instrument), context.distributions)
    texts = context.texts.filter(pl.col("trust") == trust)
    return ReportInput(
        instrument=context.instrument,
        wave=context.wave,
        analysis=own,
        groups=groups,
        threshold=context.threshold,
        distributions=dist,
        comparison=_trust_comparison(
            context, subset, trust, [g.id for g in groups if g.shown], analysis
        ),
        funnels=_funnels(context, trust),
        fieldwork=Fieldwork(
            opens=context.fieldwork.opens,
            closes=context.fieldwork.closes,
            responses_by_group={g.id: g.respondents for g in groups if g.shown},
            release_note=_release_note(context, trust),
        ),
        comments=comment_module.collect(
            texts,
            context.instrument,
            groups,
            limit=min(context.comment_limit, TRUST_COMMENTS),
            sampled_from=context.fieldwork.comments_sample,
        ),
        trust=trust,
        trust_name=context.trust_names.get(trust),
        benchmarks=benchmarks,
        initiatives=_initiatives(context, trust),
        said=_said(context, trust),
    )


__all__ = ["OVERALL", "ReportError", "WaveContext", "load", "national_input", "trust_input"]
