"""Generated content: key points, methods, comments, trust tables (snapshot) and charts."""

from __future__ import annotations

import datetime as dt

import polars as pl
from report_support import check_snapshot, full_input, parse_tables, published_input, text_of
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground.instrument import Instrument
from sharedground.reference import ROLES, published_2015
from sharedground.report import comments
from sharedground.report.compose import compose
from sharedground.report.keypoints import plural
from sharedground.report.methods import NOT_RECORDED, published_fieldwork
from sharedground.report.model import Fieldwork, Group, signed, whole
from sharedground.report.render import render_html


def _published_row(table_id: str, index: int = 0) -> dict:
    table = next(t for t in published_2015()["tables"] if t["id"] == table_id)
    return table["rows"][index]


def test_most_and_least_positive_group_from_the_figures(instrument: Instrument) -> None:
    page = compose(published_input(instrument))
    point = next(p for p in page.key_points if p.heading == "Most and least positive")
    row = _published_row("table_2.1")
    pcts = {role: row["groups"][role]["pct"] for role in ROLES}
    best, worst = max(pcts, key=pcts.__getitem__), min(pcts, key=pcts.__getitem__)
    labels = {g.id: g.label for g in page.groups}
    assert point.text.startswith(plural(labels[best]).capitalize())
    assert f"{pcts[best]}% gave" in point.text and f"against {pcts[worst]}%" in point.text
    assert f"gap of {pcts[best] - pcts[worst]} percentage points" in point.text


def test_top_barriers_are_the_three_most_chosen(instrument: Instrument) -> None:
    page = compose(published_input(instrument))
    point = next(p for p in page.key_points if p.heading == "Top barriers")
    table = next(t for t in published_2015()["tables"] if t["id"] == "table_2.8")
    top = sorted(table["rows"], key=lambda r: -r["overall_pct"])[:3]
    positions = [point.text.index(f"{r['label'].lower()} ({r['overall_pct']}%)") for r in top]
    assert positions == sorted(positions)


def test_widespread_agreement_and_discontent(instrument: Instrument) -> None:
    page = compose(published_input(instrument))
    agreement = next(p for p in page.key_points if p.heading == "Widespread agreement")
    discontent = next(p for p in page.key_points if p.heading == "Widespread discontent")
    assert "(97%)" in agreement.text  # doctors respected by the public, the highest
    assert "NHS managers are respected by the public (12%)" in discontent.text


def test_largest_changes_are_significant_ones(instrument: Instrument) -> None:
    data = full_input(instrument)
    page = compose(data)
    point = next(p for p in page.key_points if p.heading.startswith("Largest changes"))
    assert data.comparison is not None
    significant = [
        (abs(pt.diff or 0), pt)
        for row in data.comparison.rows
        for pt in row.points.values()
        if pt.significant
    ]
    largest = max(significant, key=lambda s: s[0])[1]
    assert f"from {whole(largest.then or 0)}% to {whole(largest.now or 0)}%" in point.text


def test_no_significant_change_is_said_so(instrument: Instrument) -> None:
    data = full_input(instrument)
    assert data.comparison is not None
    for row in data.comparison.rows:
        for key, point in list(row.points.items()):
            row.points[key] = type(point)(point.now, point.then, point.diff, None, None, 0.5)
    point = next(p for p in compose(data).key_points if p.heading.startswith("Change since"))
    assert "No difference" in point.text


def test_methods_say_not_recorded_or_give_the_published_design(instrument: Instrument) -> None:
    bare = compose(published_input(instrument)).methods
    facts = {f.label: f.value for f in bare.facts}
    assert facts["Invitations sent"] == NOT_RECORDED
    assert facts["Fieldwork dates"] == NOT_RECORDED
    design = published_fieldwork()
    design.opens, design.closes = dt.date(2015, 5, 11), dt.date(2015, 10, 30)
    methods = compose(published_input(instrument, fieldwork=design)).methods
    facts = {f.label: f.value for f in methods.facts}
    study = published_2015()["study"]
    assert facts["Invitations sent"] == f"{study['fieldwork']['online']['invited']:,}"
    assert facts["Fieldwork dates"] == "11 May 2015 to 30 October 2015"
    assert str(study["fieldwork"]["postal"]["mailed"]) in facts["Postal sample"]
    rates = {row[0]: row[2] for row in methods.groups_rows}
    assert rates["Chief executive"] == "34%"
    assert any("synthetic" in note for note in methods.notes)
    assert any("Chi-squared" in t for t in methods.tests)


def test_methods_response_rates_by_mode(instrument: Instrument) -> None:
    fieldwork = Fieldwork(
        responses_by_mode={"online": 300, "postal": 172},
        rate_by_mode={"online": 0.113, "postal": 0.21},
    )
    methods = compose(published_input(instrument, fieldwork=fieldwork)).methods
    assert methods.modes_rows == [["Online", "300", "11%"], ["Postal", "172", "21%"]]


def test_comments_sampled_attributed_and_anonymised(instrument: Instrument) -> None:
    groups = [
        Group("chief_executive", "Chief executive", 40),
        Group("clinical_director", "Clinical director", 3, shown=False),
    ]
    texts = [f"Comment {i}, ring 020 7946 {1000 + i}" for i in range(40)]
    frame = pl.DataFrame(
        {
            "role": ["chief_executive"] * 40 + ["clinical_director"] * 3,
            "comments_overall": [*texts, "hidden one", "hidden two", "hidden three"],
        }
    )
    sections = comments.collect(frame, instrument, groups, limit=12, seed=3)
    assert len(sections) == 1
    section = sections[0]
    assert section.total == 40 and len(section.comments) == 12
    assert {c.group for c in section.comments} == {"Chief executive"}
    assert all("[phone removed]" in c.text and "7946" not in c.text for c in section.comments)
    again = comments.collect(frame, instrument, groups, limit=12, seed=3)
    assert again == sections  # the same data gives the same report


def test_trust_tables_snapshot(instrument: Instrument) -> None:
    data = published_input(instrument)
    data.trust = "T042"
    data.groups = [
        Group(g.id, g.label, g.respondents, shown=g.id not in ("chief_executive",))
        for g in data.groups
    ]
    data.benchmarks = {"Other trusts": data.analysis, "Published national 2015": data.analysis}
    tables = parse_tables(render_html(compose(data)))
    assert all("Chief executive" not in " ".join(t["header"]) for t in tables)
    assert all(t["header"][-2:] == ["Other trusts", "Published national 2015"] for t in tables)
    check_snapshot("trust_tables", tables)


def test_suppressed_cell_prints_a_dash(instrument: Instrument) -> None:
    data = published_input(instrument)
    row = data.analysis["tables"][2]["rows"][0]
    row["groups"]["chief_executive"] = {
        "count": None,
        "valid": None,
        "pct": None,
        "suppressed": True,
    }
    row["groups"]["medical_director"] = {"count": 2, "valid": 4, "pct": 50.0}
    cells = parse_tables(render_html(compose(data)))[2]["rows"][0]
    assert cells[1] == "–" and cells[2] == "–"


def test_signed_and_whole_round_halves_up() -> None:
    assert [whole(62.5), whole(61.5), whole(0.49), whole(-2.5)] == [63, 62, 0, -3]
    assert [signed(4.5), signed(-3.2), signed(0.2), signed(7.25, 1)] == ["+5", "−3", "0", "+7.3"]


def test_chart_text_alternatives(instrument: Instrument) -> None:
    html = render_html(compose(full_input(instrument)))
    tree = HTMLParser(html)
    for figure in tree.css("figure.chart"):
        svg = figure.css_first("svg")
        assert svg is not None and svg.attributes.get("role") == "img"
        assert text_of(svg.css_first("title")) and text_of(svg.css_first("desc"))
        rows = figure.css("details table tbody tr")
        assert rows, figure.attributes.get("id")
    printed = HTMLParser(render_html(compose(full_input(instrument)), for_print=True))
    images = printed.css("figure.chart img")
    assert images and all((i.attributes.get("alt") or "").strip() for i in images)
    assert all(
        (i.attributes.get("src") or "").startswith("data:image/svg+xml;base64,") for i in images
    )
