"""End to end in a real headless Chromium (Playwright driving /usr/bin/chromium).

Kept few and explicit: the whole survey, resuming in a fresh browser, a validation error
fixed, a double submission, and the whole survey again with JavaScript off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from webhelpers import ANSWERS, STORED, LiveServer, Survey

from sharedground.instrument import builtin
from sharedground.store import Response

pytestmark = pytest.mark.slow

SECTIONS = [s.id for s in builtin("dmr-2015").sections]
CONTINUE = "button:has-text('Save and continue')"


def fill(page: Any, answers: dict[str, Any]) -> None:
    """Answer one section as a person would: click radios and checkboxes, type text."""
    for name, value in answers.items():
        if isinstance(value, list):
            for choice in value:
                page.check(f'input[name="{name}"][value="{choice}"]')
        elif page.locator(f'textarea[name="{name}"]').count():
            page.fill(f'textarea[name="{name}"]', value)
        else:
            page.check(f'input[name="{name}"][value="{value}"]')


def answer(page: Any, sections: list[str]) -> None:
    for section in sections:
        assert page.url.endswith(f"/page/{section}"), (page.url, section)
        fill(page, ANSWERS[section])
        page.click(CONTINUE)


def responses(survey: Survey) -> list[Response]:
    with survey.store.session() as session:
        return list(session.scalars(select(Response)))


def test_complete_the_whole_survey(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    token = survey.link()
    context = new_context()
    page = context.new_page()
    page.goto(f"{live.url}/s/{token}")
    assert page.evaluate("document.body.classList.contains('js-enabled')")
    assert page.inner_text("h1") == "Doctor–manager relationships survey (2015)"
    page.click("text=Start now")
    for number, section in enumerate(SECTIONS, start=1):
        assert (
            page.locator(".nhsuk-caption-l")
            .inner_text()
            .startswith(f"Section {number} of {len(SECTIONS)}")
        )
        answer(page, [section])
    assert page.url.endswith(f"/s/{token}/check")
    assert page.inner_text("h1") == "Check your answers before submitting"
    page.click("button:has-text('Submit')")
    assert page.url.endswith(f"/s/{token}/done")
    assert page.inner_text(".nhsuk-panel__heading") == "Survey complete"
    (stored,) = responses(survey)
    assert stored.answers == STORED
    assert stored.role == "clinical_director"
    # No cookie was set along the way: a browser that refuses cookies answers the same way.
    assert context.cookies() == []


def test_leave_halfway_and_resume_in_a_fresh_browser(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    token = survey.link()
    first = new_context().new_page()
    first.goto(f"{live.url}/s/{token}")
    first.click("text=Start now")
    answer(first, SECTIONS[:5])
    # Half of the next page typed but not saved: that is lost, as on paper.
    fill(first, {"work_as_team": "strongly_disagree"})
    first.context.close()

    second = new_context().new_page()
    second.goto(f"{live.url}/s/{token}")
    assert second.url.endswith(f"/page/{SECTIONS[5]}")
    assert not second.is_checked('input[name="work_as_team"][value="strongly_disagree"]')
    second.click("a.nhsuk-back-link")
    assert second.url.endswith(f"/page/{SECTIONS[4]}")
    assert second.is_checked('input[name="decisions_fair"][value="tend_to_agree"]')
    second.click(CONTINUE)
    answer(second, SECTIONS[5:])
    second.click("button:has-text('Submit')")
    assert second.inner_text(".nhsuk-panel__heading") == "Survey complete"
    assert [r.answers for r in responses(survey)] == [STORED]


def test_trigger_and_fix_a_validation_error(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    token = survey.link()
    page = new_context().new_page()
    page.goto(f"{live.url}/s/{token}/page/overall")
    answer(page, SECTIONS[:6])
    four = ["time_doctors", "lack_trust", "insufficient_resources", "cultural_divide"]
    fill(page, {"barriers": four, "comments_barriers": "kept after the error"})
    page.click(CONTINUE)
    assert page.title().startswith("Error: ")
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    # NHS.UK frontend moves focus to the summary so screen readers announce it.
    assert page.evaluate("document.activeElement.closest('.nhsuk-error-summary') !== null")
    page.click(".nhsuk-error-summary__list a")
    assert page.evaluate("document.activeElement.id") == "q-barriers"
    assert page.input_value("textarea[name=comments_barriers]") == "kept after the error"
    # The exclusive answer clears the others (with JavaScript on).
    page.check('input[name="barriers"][value="none"]')
    assert page.locator('input[name="barriers"]:checked').count() == 1
    page.uncheck('input[name="barriers"][value="none"]')
    fill(page, {"barriers": ["lack_trust"]})
    page.click(CONTINUE)
    assert page.url.endswith("/page/external_factors")


def test_double_submit_makes_one_response(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    token = survey.link()
    context = new_context()
    page = context.new_page()
    page.goto(f"{live.url}/s/{token}/page/overall")
    answer(page, SECTIONS)
    form_token = page.get_attribute("input[name=csrf_token]", "value")
    page.dblclick("button:has-text('Submit')")
    page.wait_for_url(f"**/s/{token}/done")
    # A retried POST (as a flaky connection would send it) and the back button.
    retried = context.request.post(
        f"{live.url}/s/{token}/check", form={"csrf_token": form_token}, max_redirects=0
    )
    assert (retried.status, retried.headers["location"]) == (303, f"/s/{token}/done")
    page.go_back()
    if page.locator("button:has-text('Submit')").count():
        page.click("button:has-text('Submit')")
    assert len(responses(survey)) == 1


def test_the_whole_survey_with_javascript_off(
    survey: Survey, live: LiveServer, new_context: Callable[..., Any]
) -> None:
    token = survey.link(role="medical_director")
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{live.url}/s/{token}")
    assert "js-enabled" not in (page.get_attribute("body", "class") or "")
    page.click("text=Start now")
    answer(page, SECTIONS[:6])
    # Without JavaScript nothing stops "none" and an option being ticked together: the
    # server says so and keeps the rest of the page.
    fill(page, {"barriers": ["lack_trust", "none"], "comments_barriers": "typed"})
    page.click(CONTINUE)
    assert "not both" in page.inner_text(".nhsuk-error-summary")
    assert page.input_value("textarea[name=comments_barriers]") == "typed"
    page.uncheck('input[name="barriers"][value="none"]')
    page.click(CONTINUE)
    answer(page, SECTIONS[7:9])
    assert "Medical director" in page.inner_text(".nhsuk-inset-text")
    fill(page, {"country": "wales"})
    page.click(CONTINUE)
    page.click("button:has-text('Submit')")
    assert page.inner_text(".nhsuk-panel__heading") == "Survey complete"
    (stored,) = responses(survey)
    assert stored.role == "medical_director"
    assert stored.answers["barriers"] == "lack_trust"
    assert stored.answers["comments_barriers"] == "typed"
