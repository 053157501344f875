"""The coding pages in real Chromium with JavaScript off: code a passage and a whole source,
see the error for words not in the text; axe-core finds no serious or critical problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adminhelpers import Site, sign_in
from webhelpers import LiveServer, axe_problems

from sharedground.text import coding, frames, sources

pytestmark = pytest.mark.slow


def test_coding_pages_work_without_javascript_and_pass_axe(
    site: Site, server: LiveServer, new_context: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "interview.txt"
    path.write_text("Money is tight.\n\nThe board listens to clinical leads.", encoding="utf-8")
    with site.store.session() as session:
        frames.save(session, frames.builtin("dmr-themes"))
        (source,) = sources.add_documents(site.store, session, [path], {"trust": "RA1"})
        source_id = source.id
    seen: dict[str, list[str]] = {}
    # axe needs script; the first pass codes with JavaScript off, as a keyboard-only user
    # of a locked-down machine would.
    quiet = sign_in(new_context(java_script_enabled=False).new_page(), server, "admin")
    quiet.goto(f"{server.url}/admin/coding")
    quiet.click(f"#sources a:has-text('{source_id}')")
    quiet.select_option("#f-code", "external_finance")
    quiet.fill("#f-passage", "Money is tight.")
    quiet.click("#save-coding")
    quiet.wait_for_selector("#mine")
    quiet.select_option("#f-code", "local_initiatives")
    quiet.click("#save-coding")
    quiet.wait_for_selector("#mine tbody tr:nth-child(2)")
    with site.store.session() as session:
        rows = coding.rows(session, frames.get(session, "dmr-themes"))
    assert [(r.code, r.start, r.end) for r in rows] == [
        ("external_finance", 0, 15),
        ("local_initiatives", None, None),
    ]

    page = sign_in(new_context(bypass_csp=True).new_page(), server, "admin")
    for what, url in (
        ("coding list", "/admin/coding"),
        ("coding source", f"/admin/coding/sources/{source_id}"),
    ):
        response = page.goto(f"{server.url}{url}")
        assert response is not None and response.status == 200
        seen[what] = axe_problems(page)
    # With JavaScript, selecting words in the text fills the passage and where it starts.
    page.evaluate(
        """() => {
            const node = [...document.getElementById('source-text').childNodes]
                .find(n => n.nodeType === Node.TEXT_NODE && n.data.includes('board'))
            const start = node.data.indexOf('board')
            const range = document.createRange()
            range.setStart(node, start)
            range.setEnd(node, start + 'board listens'.length)
            const selection = document.getSelection()
            selection.removeAllRanges()
            selection.addRange(range)
        }"""
    )
    page.wait_for_function("document.getElementById('f-passage').value === 'board listens'")
    offset = "Money is tight.\n\nThe board listens".index("board")
    assert page.input_value("#f-after") == str(offset)
    page.select_option("#f-code", "perceptions_of_managers")
    page.click("#save-coding")
    page.wait_for_selector("#mine tbody tr:nth-child(3)")
    with site.store.session() as session:
        spans = coding.rows(session, frames.get(session, "dmr-themes"), coders=["admin"])
    assert ("perceptions_of_managers", offset, offset + 13) in [
        (r.code, r.start, r.end) for r in spans
    ]
    page.select_option("#f-code", "variation")
    page.fill("#f-passage", "words that are not there")
    page.click("#save-coding")
    page.wait_for_selector(".nhsuk-error-summary")
    seen["coding error"] = axe_problems(page)
    with site.store.session() as session:
        frame = frames.get(session, "dmr-themes")
        bob = coding.get_coder(session, "bob")
        found = sources.get_source(session, source_id)
        coding.add(session, found, coding.codes_of(session, frame)["public_esteem"], bob)
    response = page.goto(f"{server.url}/admin/coding/agreement?coder=admin&coder=bob")
    assert response is not None and response.status == 200
    assert page.locator("#disagreements tbody tr").count() > 0
    seen["coding agreement"] = axe_problems(page)
    page.locator("#disagreements tbody tr").first.get_by_role("button", name="Keep").click()
    page.wait_for_selector("#agreement")
    response = page.goto(f"{server.url}/admin/coding/sources/999999")
    assert response is not None and response.status == 404
    seen["coding not found"] = axe_problems(page)
    assert {k: v for k, v in seen.items() if v} == {}
