"""Reading what a report needs from the store beyond the analysis document.

Likert distributions (for the charts) come from the analysis engine's coded frame; free
text and response dates from one pass over the stored answers documents; fieldwork facts
from the fieldwork records (`report.fieldwork`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import text

from sharedground.analysis.source import WaveData
from sharedground.exchange.columns import MODES
from sharedground.instrument import Instrument, Likert, LikertItem
from sharedground.report import comments as comment_module
from sharedground.report import fieldwork as fieldwork_records
from sharedground.report.methods import published_fieldwork
from sharedground.report.model import Fieldwork
from sharedground.store import Store

#: Most responses whose free text is read; larger waves are sampled (see `scan`).
SCAN_LIMIT = 50_000

_LIKERT_CODES = {v.value: i + 1 for i, v in enumerate(Likert)}

Distributions = dict[str, dict[str, dict[str, int]]]


def role_codes(instrument: Instrument) -> dict[int, str]:
    return {i + 1: role for i, role in enumerate(instrument.role_ids())}


def distributions(
    frame: pl.DataFrame, instrument: Instrument
) -> dict[str, dict[str, dict[str, int]]]:
    """Likert answers per item and role group (codes as in the coded frame)."""
    likert = [
        i.id for i in instrument.items() if isinstance(i, LikertItem) and i.id in frame.columns
    ]
    if not likert or frame.height == 0:
        return {}
    aggregations = [
        (pl.col(item) == code).sum().alias(f"{item}\t{value}")
        for item in likert
        for value, code in _LIKERT_CODES.items()
        if value != Likert.DONT_KNOW
    ]
    counted = frame.group_by("role").agg(aggregations)
    roles = role_codes(instrument)
    found: dict[str, dict[str, dict[str, int]]] = {item: {} for item in likert}
    for record in counted.iter_rows(named=True):
        role = roles.get(record.pop("role"))
        if role is None:
            continue
        for name, n in record.items():
            item, value = name.split("\t")
            found[item].setdefault(role, {})[value] = int(n)
    return found


@dataclass
class Scan:
    """What one pass over a wave's stored responses gives beyond the coded frame."""

    #: Responses read when only a sample was (None: all of them).
    sampled: int | None
    texts: pl.DataFrame
    first: dt.date | None
    last: dt.date | None


def scan(
    store: Store,
    wave_id: int,
    instrument: Instrument,
    responses: int,
    keep: set[int] | None = None,
) -> Scan:
    """Role, trust and free-text answers of those who wrote any, and the date range.

    One pass over the wave's responses: all of them up to `SCAN_LIMIT`, beyond that an
    evenly spread sample of about `SCAN_LIMIT` (every k-th response by id), because the
    comments live inside each response's answers document and reading a million documents
    takes far longer than the rest of the report; the report prints a dozen comments per
    question and says they come from a sample. On SQLite, `json_extract` with several paths
    parses each document once and returns the texts as one JSON array. With `keep`, only
    those responses are read (the wave's final figures: `analysis.disclosure.final`).
    """
    stride = max(1, -(-responses // SCAN_LIMIT))
    items = [i.id for i in comment_module.text_items(instrument)]
    if store.backend == "postgresql":
        pick = "json_build_array(" + ", ".join(f"r.answers ->> '{i}'" for i in items) + ")::text"
    else:
        pick = "json_extract(r.answers, " + ", ".join(f"'$.\"{i}\"'" for i in items) + ")"
    if not items:
        pick = "NULL"
    query = text(
        f"SELECT r.id, r.role, o.code, r.submitted_on, {pick} FROM response r "
        "LEFT JOIN organisation o ON o.id = r.organisation_id "
        "WHERE r.wave_id = :wave AND r.id % :stride = 0 ORDER BY r.id"
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query, {"wave": wave_id, "stride": stride}).all()
    if keep is not None:
        rows = [r for r in rows if r[0] in keep]
    frame = pl.DataFrame(
        [(r[1], r[2], None if r[3] is None else str(r[3]), r[4]) for r in rows],
        schema={"role": pl.String, "trust": pl.String, "submitted": pl.String, "texts": pl.String},
        orient="row",
    )
    # SQLite gives dates as text, PostgreSQL as dates: both as ISO text here.
    dates = frame["submitted"].drop_nulls().str.to_date("%Y-%m-%d")
    first = dates.min() if dates.len() else None
    last = dates.max() if dates.len() else None
    texts = frame.filter(pl.col("texts").is_not_null()).select(
        "role",
        "trust",
        pl.col("texts").str.json_decode(pl.List(pl.String)).alias("texts"),
    )
    texts = texts.select(
        "role",
        "trust",
        *(
            pl.col("texts").list.get(i, null_on_oob=True).alias(item)
            for i, item in enumerate(items)
        ),
    )
    if items:
        texts = texts.filter(pl.any_horizontal(pl.col(item).is_not_null() for item in items))
    return Scan(
        len(rows) if stride > 1 else None,
        texts,
        first if isinstance(first, dt.date) else None,
        last if isinstance(last, dt.date) else None,
    )


def wave_fieldwork(
    store: Store,
    wave_name: str,
    data: WaveData,
    first: dt.date | None,
    last: dt.date | None,
    sampled: int | None,
) -> Fieldwork:
    """Fieldwork facts: the wave's dates, its sample frame (contacts) and responses."""
    instrument = data.instrument
    roles = role_codes(instrument)
    by_role = {
        roles[int(code)]: int(n)
        for code, n in data.frame["role"].value_counts().iter_rows()
        if code is not None and int(code) in roles
    }
    by_mode: dict[str, int | None] = {
        MODES[int(code) - 1]: int(n)
        for code, n in data.frame["mode"].value_counts().iter_rows()
        if code is not None and 0 < int(code) <= len(MODES)
    }
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        found = fieldwork_records.recorded(session, wave)
        opens, closes = wave.opens or first, wave.closes or last
        recorded = bool(wave.opens and wave.closes)
    if found is not None:
        fieldwork = found
    elif instrument.id == "dmr-2015" and wave_name == "2015":
        # The synthetic 2015 cohort: no fieldwork was run here, so the published design.
        fieldwork = published_fieldwork()
    else:
        fieldwork = Fieldwork()
    fieldwork.opens, fieldwork.closes = opens, closes
    if sampled is not None and not recorded:
        fieldwork.dates_note = f"first and last response in a sample of {sampled:,}"
    fieldwork.comments_sample = sampled
    fieldwork.responses_by_group = by_role
    fieldwork.responses_by_mode = by_mode
    return fieldwork
