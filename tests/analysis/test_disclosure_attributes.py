"""The national tables by mode and by a question, in the wave's disclosure decision.

A trust's report withholds its three clinical directors; they answered on paper, as did
one other group, a trust's directorate managers whose report prints them whole, and no one
else. Suppressed on its own, the national table by mode printed the paper column: less
that trust's directorate managers, it gave the three clinical directors' answers back,
row after row. The audit over the trust x role x mode table must catch that pattern, and
the table `analyse --by mode` prints under the wave's decision must give nothing away.
Likewise by country, where one trust is the only one in its country.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_helpers import wave_from_rows
from disclosure_helpers import ROLES, composed

from sharedground.analysis.disclosure.attributes import (
    audit_attribute,
    decide_attribute,
    disclosure_view,
    published_by,
)
from sharedground.analysis.disclosure.audit import audit
from sharedground.analysis.disclosure.decide import decide
from sharedground.analysis.source import WaveData
from sharedground.analysis.tables import Options, analyse
from sharedground.instrument import Instrument, builtin
from sharedground.store import Store

CD, DM = "clinical_director", "directorate_manager"
TRUSTS = ("RA1", "RB2", "RC3", "RD4")


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return builtin("dmr-2015")


def _paper_wave(instrument: Instrument) -> tuple[WaveData, list[dict[str, str]]]:
    """RA1's 3 clinical directors and RB2's 8 directorate managers on paper, everyone
    else online; 8 in every other group."""
    sizes = {t: dict.fromkeys(ROLES, 8) for t in TRUSTS}
    sizes["RA1"][CD] = 3
    rows = composed(instrument, sizes)
    for row in rows:
        paper = (row["trust"], row["role"]) in {("RA1", CD), ("RB2", DM)}
        row["mode"] = "postal" if paper else "online"
    return wave_from_rows(instrument, rows), rows


def _cells(document: dict[str, Any], group: str) -> Iterator[dict[str, Any] | None]:
    for table in document["tables"]:
        for row in table["rows"]:
            yield row["groups"].get(group)


def _attack(national_by_mode: dict[str, Any], rb2: dict[str, Any]) -> list[tuple[int, int] | None]:
    """Per row, the national paper column less RB2's directorate managers (from their
    trust report): the (count, valid) of whoever else answered on paper; None where
    either is withheld."""
    found: list[tuple[int, int] | None] = []
    for paper, managers in zip(_cells(national_by_mode, "postal"), _cells(rb2, DM), strict=True):
        if not paper or not managers or None in (paper.get("count"), managers.get("count")):
            found.append(None)
            continue
        found.append((paper["count"] - managers["count"], paper["valid"] - managers["valid"]))
    return found


def _truth(instrument: Instrument, rows: list[dict[str, str]]) -> list[tuple[int, int]]:
    mine = [r for r in rows if r["trust"] == "RA1" and r["role"] == CD]
    own = analyse(wave_from_rows(instrument, mine), Options(suppression_threshold=0))
    return [
        (int(row.groups[CD].count or 0), int(row.groups[CD].valid or 0))
        for table in own.tables
        for row in table.rows
    ]


def test_the_national_table_by_mode_gave_a_withheld_group_back(instrument: Instrument) -> None:
    """Before: the table by mode suppressed row by row, beside the builder's trust reports."""
    data, rows = _paper_wave(instrument)
    decision = decide(data)
    rb2 = analyse(
        wave_from_rows(instrument, [r for r in rows if r["trust"] == "RB2"]),
        Options(disclosure=decision.view("RB2")),
    ).to_json()
    ra1 = analyse(
        wave_from_rows(instrument, [r for r in rows if r["trust"] == "RA1"]),
        Options(disclosure=decision.view("RA1")),
    ).to_json()
    assert all(cell is None or cell["count"] is None for cell in _cells(ra1, CD))
    assert not audit(decision, "w").failures  # the trust x role table alone is safe
    by_mode = analyse(data, Options(by="mode")).to_json()
    recovered = _attack(by_mode, rb2)
    truth = _truth(instrument, rows)
    exposed = [(r, t) for r, t in zip(recovered, truth, strict=True) if r is not None]
    # Every row where RA1's three answered enough to print the paper column, exactly.
    assert len(exposed) >= 0.5 * len(truth)
    assert all(r == t for r, t in exposed)
    # The audit over the trust x role x mode table catches that pattern.
    alone = decide_attribute(data, "mode", decision, coordinate=False)
    failed = [c for c in audit_attribute(alone) if c.failed]
    ra1 = [c for c in failed if (c.trust, c.role) == ("RA1", CD)]
    assert len(ra1) >= len(exposed)
    assert any(c.table == "by mode: respondents" for c in ra1)


def test_analyse_by_mode_under_the_decision_gives_nothing_away(instrument: Instrument) -> None:
    data, rows = _paper_wave(instrument)
    decision = decide(data)
    table = decide_attribute(data, "mode", decision)
    assert not [c for c in audit_attribute(table) if c.failed]
    view = disclosure_view(data, "mode")
    by_mode = analyse(data, Options(by="mode", disclosure=view)).to_json()
    rb2 = analyse(
        wave_from_rows(instrument, [r for r in rows if r["trust"] == "RB2"]),
        Options(disclosure=decision.view("RB2")),
    ).to_json()
    assert all(r is None for r in _attack(by_mode, rb2))
    # Where the paper column is withheld, so is the online one (else overall less online
    # is the paper column), and the overall figure stays.
    for table in by_mode["tables"]:
        for row in table["rows"]:
            paper, online = row["groups"]["postal"], row["groups"]["online"]
            assert (paper["count"] is None) == (online["count"] is None)
            assert row["overall"]["count"] is not None
    # The number answering on paper (3 + 8) less RB2's printed 8 named RA1's three too.
    sizes = {g["id"]: g["respondents"] for g in by_mode["groups"]}
    assert sizes["postal"] is None and sizes["online"] is None


def test_by_country_a_small_trust_beside_a_printed_one_is_caught_and_settled(
    instrument: Instrument,
) -> None:
    """RE5, a trust of two, withholds its total and both its groups; it is in Wales with
    RA1 only, whose total the benchmarks print. The Wales column less RA1 was RE5."""
    sizes = {t: dict.fromkeys(ROLES, 8) for t in TRUSTS}
    sizes["RA1"][CD] = 3
    sizes["RE5"] = {"chief_executive": 1, "medical_director": 1}
    rows = composed(instrument, sizes)
    for row in rows:
        row["country"] = "wales" if row["trust"] in ("RA1", "RE5") else "england"
    data = wave_from_rows(instrument, rows)
    decision = decide(data)
    assert not audit(decision, "w").failures
    alone = decide_attribute(data, "country", decision, coordinate=False)
    caught = {(c.trust, c.role) for c in audit_attribute(alone) if c.failed}
    assert {("RE5", "chief_executive"), ("RE5", "medical_director")} <= caught
    settled = decide_attribute(data, "country", decision)
    assert not [c for c in audit_attribute(settled) if c.failed]
    view = settled.view()
    by_country = analyse(data, Options(by="country", disclosure=view)).to_json()
    assert any(
        row["groups"]["wales"]["count"] is None
        for table in by_country["tables"]
        for row in table["rows"]
    )


@pytest.mark.parametrize(
    "small",
    [
        pytest.param({"RA1": 3}, id="one-small-group-in-one-trust"),
        pytest.param({"RA1": 3, "RC3": 2}, id="in-two-trusts"),
        pytest.param({t: 3 for t in TRUSTS}, id="in-every-trust"),
    ],
)
def test_the_tables_by_every_attribute_pass_on_hard_waves(
    instrument: Instrument, small: dict[str, int]
) -> None:
    """The small groups answered on paper, everyone else as the random rows have it."""
    sizes = {t: dict.fromkeys(ROLES, 8) for t in TRUSTS}
    for trust, n in small.items():
        sizes[trust][CD] = n
    rows = composed(instrument, sizes)
    for row in rows:
        if row["role"] == CD and row["trust"] in small:
            row["mode"] = "postal"
    data = wave_from_rows(instrument, rows)
    decision = decide(data)
    for by in published_by(instrument):
        table = decide_attribute(data, by, decision)
        failed = [c for c in audit_attribute(table) if c.failed]
        assert not failed, (by, failed[:3])


def test_the_national_report_withholds_the_responses_by_mode_that_give_a_group_away(
    store: Store, instrument: Instrument, tmp_path: Path
) -> None:
    """Its methods printed 11 responses on paper; less RB2's 8 printed directorate
    managers, that named the size of RA1's withheld group (its trust report lists it)."""
    from analysis_helpers import write_rows

    from sharedground.exchange.importer import import_file
    from sharedground.report import build
    from sharedground.report.compose import compose

    _, rows = _paper_wave(instrument)
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)
    context = build.load(store, "w")
    assert context.fieldwork.responses_by_mode == {"online": 112, "postal": 11}
    data = build.national_input(context)
    assert data.fieldwork.responses_by_mode == {"online": None, "postal": None}
    methods = compose(data).methods
    assert methods.modes_rows == [["Online", "–", "–"], ["Postal", "–", "–"]]
    # The groups' numbers follow the wave's decision too (none withheld nationally here).
    assert all(row[1] != "–" for row in methods.groups_rows)
