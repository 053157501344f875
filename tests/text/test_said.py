"""The report's "What respondents said": themes by role group with quotations, from the
team's coding, with the same suppression as the text tables, national and for one trust."""

from __future__ import annotations

from pathlib import Path

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from text_helpers import FINANCE, SIZES, in_group_order, late_returns, ready_to_code, role_wave

from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.render import render_html
from sharedground.store import Store
from sharedground.text import coding, frames, sources


def _text(i: int, role: str) -> str:
    return f"Budget cuts shaped meeting number {i} of our board. We met again later."


def _wave(store: Store, tmp_path: Path, code: bool = True) -> None:
    role_wave(store, tmp_path, SIZES, texts=_text)
    if not code:
        return
    with store.session() as session:
        setup = ready_to_code(store, session, "r")
        for i, source in in_group_order(setup.sources, lambda s: s.role):
            assert source.role is not None
            if i < FINANCE[source.role]:
                coding.add(session, source, setup.codes["external_finance"], setup.team)


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
    assert all(
        q.startswith("Budget cuts shaped meeting") or q == "We met again later." for q in quotes
    )
    # Quoted only where the group's count for the theme is shown: the chief executives' and
    # clinical directors' counts are withheld, so a quotation from them would tell that
    # someone there wrote about finance.
    assert len(quotes) == 3 and set(roles) == {
        "Medical director",
        "Directorate manager (or similar)",
    }
    assert "RA1" not in HTMLParser(html).css_first("#said").text()
    contents = [a.text().strip() for a in HTMLParser(html).css("nav a")]
    assert "What respondents said" in " ".join(contents)


def test_trust_section_prints_the_trusts_groups_as_the_wave_decides(
    store: Store, tmp_path: Path
) -> None:
    _wave(store, tmp_path)
    context = build.load(store, "r")
    html = render_html(compose(build.trust_input(context, "RA1")))
    rows, _, roles = _said(html)
    # RA1 holds the even-numbered respondents: 21 commenters (CE 3, MD 6, DM 6, CD 6), 14
    # of them coded with finance (CE 2, MD 4, DM 3, CD 5); RB2 the other 12 of 21. Each
    # group's count is small (or all but one coded), so only the trust's total is shown.
    assert rows["external_context"] == ["–", "–", "–", "–", "14 (67%)"]
    assert rows["variation"] == ["–"] * 5
    header = [th.text(separator=" ").strip() for th in HTMLParser(html).css("#said thead th")]
    # The survey's tables withhold RA1's 3 chief executives and a partner group; so do
    # the text's. The others' numbers of commenters are shown.
    decision = context.disclosure
    t = decision.trust_index("RA1")
    hidden = [decision.cells.roles[r] for r in range(4) if decision.respondents.withheld[t, r]]
    assert "chief_executive" in hidden and len(hidden) == 2
    assert header[0] == "Theme" and header[-1] == "All"
    assert [h.endswith("n = –") for h in header[1:-1]] == [
        role in hidden for role in decision.cells.roles
    ]
    assert sum(h.endswith("n = 6") for h in header[1:-1]) == 2
    # No quotation from a group whose count is withheld in this trust: none at all here.
    assert roles == []


def test_a_small_trust_is_withheld_with_a_partner(store: Store, tmp_path: Path) -> None:
    from sharedground.text.said import said

    _wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "r")
        # RA1: 14 coded, 7 not, 7 < 8: withheld. RB2: 12 coded, 9 not, both >= 8: shown
        # on its own, but then RA1's figure would be the national 26 minus RB2's 12.
        wave.suppression_threshold = 8
    cache: dict[str, object] = {}
    ra1 = said(store, "r", trust="RA1", cache=cache)
    rb2 = said(store, "r", trust="RB2", cache=cache)
    assert ra1 is not None and rb2 is not None
    finance = {t.code: t.total for t in ra1.themes}["external_context"]
    other = {t.code: t.total for t in rb2.themes}["external_context"]
    # So RB2 is withheld with it.
    assert finance == "–" and other == "–"
    assert len(cache) == 1  # the wave's text decision was made once for both reports


def test_no_section_without_the_teams_coding(store: Store, tmp_path: Path) -> None:
    _wave(store, tmp_path, code=False)
    html = render_html(compose(build.national_input(build.load(store, "r"))))
    assert HTMLParser(html).css_first("#said") is None


def test_a_late_return_moves_no_text_figure_until_its_batch_is_complete(
    store: Store, tmp_path: Path
) -> None:
    """After the close, a late paper return's comment waits for its batch as its answers do.

    Before, the survey's tables held a late return back but the text tables counted its
    comment: one more medical director coded with finance, the difference of two reports
    made either side of it told what that one person wrote about.
    """
    import datetime as dt

    from sharedground.text import quotations
    from sharedground.text.themes import table

    closes, today = dt.date(2026, 3, 31), dt.date(2026, 5, 1)
    _wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "r")
        wave.closes = closes
        threshold = wave.suppression_threshold

    def read() -> tuple[dict[str, list[str]], list[str], list[str]]:
        context = build.load(store, "r", today=today)
        return _said(render_html(compose(build.national_input(context))))

    def late(n: int, first: int) -> None:
        with store.session() as session:
            wave = store.get_wave(session, "r")
            ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
            late_returns(
                session,
                wave,
                ra1,
                first,
                n,
                closes - dt.timedelta(days=2),
                lambda i: f"Late number {i}: budget cuts shaped every meeting of our board.",
            )
            sources.add_comments(store, session, wave)
            frame = frames.get(session, "dmr-themes")
            finance = coding.codes_of(session, frame)["external_finance"]
            team = coding.get_coder(session, "team")
            for source in sources.list_sources(session):
                if source.content.startswith(
                    tuple(f"Late number {i}:" for i in range(first, first + n))
                ):
                    coding.add(session, source, finance, team)

    before = read()
    assert before[0]["external_context"][1] == "7 (58%)"  # medical directors, as above
    late(1, 0)
    assert read() == before  # the late return's comment is not counted, nor quoted
    with store.session() as session:
        wave = store.get_wave(session, "r")
        frame = frames.get(session, "dmr-themes")
        # The CLI's way in (no survey decision given) reads the same released set.
        cli_table = table(store, session, wave, frame)
        row = next(r for r in cli_table.rows if r.code == "external_context")
        assert row.total.respondents == 26
        quoted = quotations.pick(store, session, wave, frame, "external_context", count=20)
        assert not any(q.text.startswith("Late number") for q in quoted)
    # A whole batch of late medical directors (in RA1) is released together.
    late(threshold - 1, 1)
    rows, _, _ = read()
    assert (
        rows["external_context"][1]
        == f"{7 + threshold} ({100 * (7 + threshold) / (12 + threshold):.0f}%)"
    )
