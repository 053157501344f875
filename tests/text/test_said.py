"""The report's "What respondents said": themes by role group with quotations, from the
team's coding, with the same suppression as the text tables, national and for one trust."""

from __future__ import annotations

from pathlib import Path

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from text_helpers import role_wave

from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.render import render_html
from sharedground.store import Store
from sharedground.text import coding, frames, sources

SIZES = {
    "chief_executive": 6,
    "medical_director": 12,
    "directorate_manager": 12,
    "clinical_director": 12,
}
FINANCE = {
    "chief_executive": 3,
    "medical_director": 7,
    "directorate_manager": 6,
    "clinical_director": 10,
}


def _text(i: int, role: str) -> str:
    return f"Budget cuts shaped meeting number {i} of our board. We met again later."


def _wave(store: Store, tmp_path: Path, code: bool = True) -> None:
    role_wave(store, tmp_path, SIZES, texts=_text)
    if not code:
        return
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "r"))
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        team = coding.get_coder(session, "team")
        seen: dict[str, int] = {}
        for source in sources.list_sources(session):
            assert source.role is not None
            i = seen[source.role] = seen.get(source.role, -1) + 1
            if i < FINANCE[source.role]:
                coding.add(session, source, codes["external_finance"], team)


def _said(html: str) -> tuple[dict[str, list[str]], list[str], list[str]]:
    tree = HTMLParser(html)
    section = tree.css_first("#said")
    assert section is not None
    rows = {
        tr.attributes["data-theme"] or "": [td.text().strip() for td in tr.css("td")]
        for tr in section.css("table tbody tr")
    }
    quotes = [li.css_first("blockquote").text().strip() for li in section.css("li")]
    roles = [li.css_first(".attribution").text().strip(" —") for li in section.css("li")]
    return rows, quotes, roles


def test_national_section(store: Store, tmp_path: Path) -> None:
    _wave(store, tmp_path)
    context = build.load(store, "r")
    html = render_html(compose(build.national_input(context)))
    rows, quotes, roles = _said(html)
    assert list(rows) == [
        "variation",
        "perceptions",
        "medical_management",
        "external_context",
        "public_esteem",
        "local_initiatives",
        "change_since_2002",
    ]
    # The theme counts its sub-code; the cells as themes.table decides them (test_themes).
    assert rows["external_context"] == ["–", "7 (58%)", "6 (50%)", "–", "26 (62%)"]
    assert rows["variation"] == ["–", "–", "–", "–", "–"]
    assert len(quotes) == 3 and len(set(roles)) == 3
    assert all(
        q.startswith("Budget cuts shaped meeting") or q == "We met again later." for q in quotes
    )
    assert set(roles) <= {
        "Chief executive",
        "Medical director",
        "Directorate manager (or similar)",
        "Clinical director (or similar)",
    }
    assert "RA1" not in HTMLParser(html).css_first("#said").text()
    contents = [a.text().strip() for a in HTMLParser(html).css("nav a")]
    assert "What respondents said" in " ".join(contents)


def test_trust_section_is_suppressed_on_the_trust(store: Store, tmp_path: Path) -> None:
    _wave(store, tmp_path)
    context = build.load(store, "r")
    html = render_html(compose(build.trust_input(context, "RA1")))
    rows, _, roles = _said(html)
    # RA1 holds 3 chief executives (withheld with a partner) and 6 of each other group; the
    # finance counts there are 4/6 in each, whose complements (2) are under 5: all withheld.
    assert rows["external_context"][:4] == ["–", "–", "–", "–"]
    assert "Chief executive" not in roles


def test_no_section_without_the_teams_coding(store: Store, tmp_path: Path) -> None:
    _wave(store, tmp_path, code=False)
    html = render_html(compose(build.national_input(build.load(store, "r"))))
    assert HTMLParser(html).css_first("#said") is None
