"""Aggregate results for one trust: answer distributions, suppressed below the threshold.

An organisation lead sees only these figures for their own trust, never a response: each
question shows the share giving each answer, and nothing at all when fewer people than
the wave's suppression threshold responded from the trust (or answered the question).

While fieldwork runs the figures come from the trust's responses released in batches
(`analysis.disclosure.release`): they change only when a whole batch of at least the
threshold has arrived, so reading the page before and after someone responds tells
nothing about their answers. The page says which responses it shows and when it next
changes. Fieldwork is over once the wave's closing day has passed and no completed
questionnaire is held back; then the page shows the wave's final figures, the same
released set the trust's report is made from (`analysis.disclosure.final`): every
response received by the close, and late ones in whole batches per role group.

Once fieldwork is over the page also withholds what the trust's report withholds: the
wave's disclosure decision (`analysis.disclosure`) is taken over every trust at once, and
where another trust answered a question fewer times than the threshold, this trust's
figure for it ("This trust" in its report) may be withheld as its partner, since the
national figure less the other trusts' would give the small one back. Such a question
shows no shares and no count here either. A question the report does not tabulate
(country, gender) is withheld when the report prints nothing of the trust as a whole.

The decision takes tens of seconds on a wave of a few hundred trusts, and is remembered
per server process. Until it is made (in the background, started by the first view after
the close), the page withholds every question's shares and counts and says the figures
are being checked: it never shows figures the decision might yet withhold.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sharedground.analysis.disclosure.final import fieldwork_over
from sharedground.analysis.disclosure.shown import trust_figures
from sharedground.exchange.columns import MULTI_SEPARATOR
from sharedground.fieldwork.accounts import Principal
from sharedground.instrument import (
    GRID_VALUES,
    LIKERT_LABELS,
    GridItem,
    LikertItem,
    MultiItem,
    RatingItem,
    SingleItem,
    loads,
)
from sharedground.store import Organisation, Store
from sharedground.store import Response as Answer
from sharedground.web.admin.context import ADMIN_PATH, AdminContext, page
from sharedground.web.context import WebContext


@dataclass(frozen=True)
class Withheld:
    """The questions whose figures the trust's report withholds once fieldwork is over:
    `columns` as the page names them (a grid's rows as "item:option"), and `whole` when it
    withholds the trust's own figure in every row it prints."""

    columns: frozenset[str]
    whole: bool
    #: The decision is still being made: every question is withheld until it is.
    pending: bool = False

    def __contains__(self, column: object) -> bool:
        return self.whole or column in self.columns


def _withheld(web: WebContext, wave_name: str, trust: str) -> Withheld | None:
    """What the trust's report withholds of its own figures (None while fieldwork runs);
    everything, marked pending, while the wave's decision is being made.

    Run outside any page transaction: the wave's decision reads the store in sessions of
    its own and may mark the close, which a transaction holding SQLite's write lock would
    block (as `monitor._final_roles`)."""
    from sharedground.text.disclosure import final_survey_if_ready

    with web.store.session() as session:
        wave = web.store.find_wave(session, wave_name)
        if wave is None or not fieldwork_over(session, wave, web.today()):
            return None
        instrument = loads(wave.instrument.definition)
    ready = final_survey_if_ready(web.store, wave)
    if ready is None:
        # Not decided yet (it is being made in the background): any figure could be one it
        # withholds, so none is shown until it is.
        return Withheld(frozenset(), True, pending=True)
    decision, _ = ready
    if trust not in decision.cells.trusts:
        return Withheld(frozenset(), False)
    t = decision.trust_index(trust)
    columns: set[str] = set()
    rows = 0
    for spec, table in zip(decision.cells.specs, decision.tables, strict=True):
        if not table.trusts[t]:
            continue
        rows += 1
        grid = isinstance(instrument.item(spec.item), GridItem)
        columns.add(f"{spec.item}:{spec.option}" if grid else spec.item)
    return Withheld(frozenset(columns), bool(rows) and rows == len(decision.tables))


def _load(
    session: Session,
    store: Store,
    wave_name: str,
    trust: str,
    today: dt.date,
    withheld: Withheld | None = None,
) -> dict[str, Any] | None:
    wave = store.find_wave(session, wave_name)
    organisation = session.scalar(select(Organisation).where(Organisation.code == trust))
    if wave is None or organisation is None:
        return None
    instrument = loads(wave.instrument.definition)
    threshold = wave.suppression_threshold
    # Live: the first `shown` responses in whole batches, one behind; final: the wave's
    # released set (`analysis.disclosure.shown`, which the coding pages read too).
    figures = trust_figures(session, wave, trust, today)
    keep = set(figures.ids)
    answers = [
        doc
        for i, doc in session.execute(
            select(Answer.id, Answer.answers)
            .where(Answer.wave_id == wave.id, Answer.organisation_id == organisation.id)
            .order_by(Answer.id)
        )
        if i in keep
    ]
    final, batch, received = figures.final, figures.live, figures.received
    n = len(answers)
    context: dict[str, Any] = {
        "title": f"Results: wave {wave.name}, {trust}",
        "responses": received,
        "release": batch,
        "final": final,
        "shown": n,
        "threshold": threshold,
        "suppressed": n < threshold,
        "questions": [],
        "pending": withheld is not None and withheld.pending,
    }
    context["kept_back"] = 0
    if context["suppressed"]:
        return context
    for item in instrument.items():
        if item.id == "role":
            continue
        rows: list[tuple[str, str, list[str]]] = []
        if isinstance(item, LikertItem):
            rows = [(item.id, item.text, list(LIKERT_LABELS))]
        elif isinstance(item, RatingItem):
            rows = [(item.id, item.text, [str(v) for v in range(item.min, item.max + 1)])]
        elif isinstance(item, SingleItem | MultiItem):
            rows = [(item.id, item.text, [o.id for o in item.options])]
        elif isinstance(item, GridItem):
            rows = [
                (f"{item.id}:{o.id}", f"{item.text} {o.label}", list(GRID_VALUES))
                for o in item.options
            ]
        for column, text, values in rows:
            labels = _labels(item)
            counts: Counter[str] = Counter()
            answered = 0
            for doc in answers:
                cell = doc.get(column)
                if cell is None:
                    continue
                answered += 1
                for part in (
                    str(cell).split(MULTI_SEPARATOR) if isinstance(item, MultiItem) else [str(cell)]
                ):
                    counts[part] += 1
            # A question answered by fewer than the threshold shows no shares: they would
            # be the answers of a handful of people. Nor one whose figure the trust's
            # report withholds: with the national figure and the other trusts', it would
            # give back the small trust's the report protects.
            kept_back = withheld is not None and column in withheld
            context["kept_back"] += kept_back
            shown = answered >= threshold and not kept_back
            context["questions"].append(
                {
                    "id": column,
                    "text": text,
                    "answered": None if kept_back else answered,
                    "shares": [
                        {
                            "label": labels.get(v, v),
                            "share": f"{counts[v] / answered:.0%}" if shown else "–",
                        }
                        for v in values
                    ],
                }
            )
    return context


def _labels(item: Any) -> dict[str, str]:
    if isinstance(item, LikertItem):
        return {str(k): v for k, v in LIKERT_LABELS.items()}
    if isinstance(item, GridItem):
        return dict(GRID_VALUES)
    if isinstance(item, SingleItem | MultiItem):
        return {o.id: o.label for o in item.options}
    return {}


@page("view trust results")
async def results(request: Request, ctx: AdminContext, user: Principal) -> Response:
    wave, trust = request.path_params["wave"], request.path_params["trust"]
    if not user.may_see_trust(trust):
        return ctx.forbidden(request, user)
    withheld = await run_in_threadpool(_withheld, ctx.web, wave, trust)
    context = await ctx.run(_load, ctx.web.store, wave, trust, ctx.web.today(), withheld)
    if context is None:
        return ctx.message(
            request,
            user,
            404,
            "Not found",
            [f"There is no wave {wave} or no organisation {trust}."],
        )
    return ctx.render(request, "results.html", user, **context)


routes = [
    Route(f"{ADMIN_PATH}/waves/{{wave}}/trusts/{{trust}}/results", results, methods=["GET"]),
]
