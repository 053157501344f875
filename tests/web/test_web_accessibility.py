"""axe-core on every page type in real Chromium; any serious or critical violation fails.

axe is injected into the page from the vendored `vendor/axe.min.js` (MPL-2.0, licence
beside it). The survey's Content-Security-Policy rightly forbids injected scripts, so these
contexts are opened with `bypass_csp=True`; the CSP itself is tested in test_security.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from webhelpers import ANSWERS, LiveServer, Survey, axe_problems, make_survey

from sharedground.fieldwork.clock import study_today
from sharedground.instrument import builtin
from sharedground.store import Store

pytestmark = pytest.mark.slow

SECTIONS = [s.id for s in builtin("dmr-2015").sections]
CONTINUE = "button:has-text('Save and continue')"


def check(page: Any, what: str, seen: dict[str, list[str]]) -> None:
    seen[what] = axe_problems(page)


def fill(page: Any, answers: dict[str, Any]) -> None:
    for name, value in answers.items():
        values = value if isinstance(value, list) else [value]
        if page.locator(f'textarea[name="{name}"]').count():
            page.fill(f'textarea[name="{name}"]', values[0])
            continue
        for choice in values:
            page.check(f'input[name="{name}"][value="{choice}"]')


def test_every_page_type_passes_axe(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    seen: dict[str, list[str]] = {}
    page = new_context(bypass_csp=True).new_page()
    token = survey.link()
    page.goto(f"{live.url}/")
    check(page, "home", seen)
    page.goto(f"{live.url}/s/{token}")
    check(page, "start", seen)
    page.click("text=Start now")
    for section in SECTIONS:
        # Every section: rating and Likert radios, textareas, checkboxes with an
        # exclusive answer, the yes/no grid, the role question.
        check(page, f"section {section}", seen)
        fill(page, ANSWERS[section])
        if section == "barriers":
            page.check('input[name="barriers"][value="other"]')
            page.check('input[name="barriers"][value="cultural_divide"]')
            page.click(CONTINUE)
            check(page, "section with errors", seen)
            page.uncheck('input[name="barriers"][value="other"]')
            page.uncheck('input[name="barriers"][value="cultural_divide"]')
        page.click(CONTINUE)
    check(page, "check your answers", seen)
    page.click("button:has-text('Submit')")
    check(page, "confirmation", seen)
    page.goto(f"{live.url}/s/{token}")
    check(page, "already completed", seen)
    page.goto(f"{live.url}/s/" + "D" * 32)
    check(page, "unknown link", seen)
    page.goto(f"{live.url}/nowhere")
    check(page, "page not found", seen)
    assert len(seen) == len(SECTIONS) + 8
    assert {k: v for k, v in seen.items() if v} == {}


def test_refusal_pages_pass_axe(store: Store, new_context: Callable[..., Any]) -> None:
    today = study_today()
    seen: dict[str, list[str]] = {}
    page = new_context(bypass_csp=True).new_page()
    for name, wave in [
        ("not open yet", {"opens": today + dt.timedelta(days=2)}),
        ("closed", {"closes": today - dt.timedelta(days=2)}),
    ]:
        survey = make_survey(store, name.replace(" ", "-"), **wave)
        with LiveServer(survey.app()) as server:
            response = page.goto(f"{server.url}/s/{survey.link()}")
            assert response is not None and response.status in (403, 410)
            check(page, name, seen)
    assert {k: v for k, v in seen.items() if v} == {}


def test_axe_does_find_problems(new_context: Callable[..., Any]) -> None:
    """The check can fail: a page with an unlabelled field and no-contrast text does."""
    page = new_context().new_page()
    page.set_content(
        '<html lang="en"><title>x</title><main><form><input type="text"></form>'
        '<p style="color:#aaa;background:#fff">faint</p></main></html>'
    )
    found = " ".join(axe_problems(page))
    assert "label" in found
    assert "color-contrast" in found
