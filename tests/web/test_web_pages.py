"""Every page and every error page, in process, asserting on the parsed HTML."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient
from webhelpers import (
    ANSWERS,
    Survey,
    answer_sections,
    csrf_of,
    get_page,
    parse,
    post_section,
    submit,
    text_of,
    texts_of,
)

from sharedground.fieldwork.clock import study_today
from sharedground.instrument import builtin
from sharedground.web.security import RateLimiter

SECTIONS = [s.id for s in builtin("dmr-2015").sections]


def test_home_and_healthz(client: TestClient) -> None:
    page = get_page(client, "/")
    assert text_of(page, "h1") == "Doctor–manager relationships survey"
    health = client.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")


def test_start_page(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    page = get_page(client, f"/s/{token}")
    assert text_of(page, "h1") == "Doctor–manager relationships survey (2015)"
    start = page.css_first("a.nhsuk-button")
    assert start is not None and start.text().strip() == "Start now"
    assert start.attributes["href"] == f"/s/{token}/page/overall"
    # Assets come from this site: every stylesheet, script and icon has a local address.
    for node in page.css("link[href], script[src]"):
        address = node.attributes.get("href") or node.attributes.get("src") or ""
        assert address.startswith("/static/"), address


def test_section_page_structure(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:1])
    page = get_page(client, f"/s/{token}/page/statements_1")
    assert text_of(page, "h1 .nhsuk-caption-l") == "Section 2 of 10 –"
    assert "Your views (1 of 5)" in text_of(page, "h1")
    back = page.css_first("a.nhsuk-back-link")
    assert back is not None and back.attributes["href"] == f"/s/{token}/page/overall"
    # Each Likert statement is its own radios fieldset with the statement as legend.
    likert = [
        fs
        for fs in page.css("fieldset.nhsuk-fieldset")
        if fs.css_first("input[value=strongly_agree]") is not None
    ]
    assert len(likert) == 7
    legends = [text_of(fs, "legend") for fs in likert]
    assert legends[0].startswith("The relative power and influence")
    for fs in likert:
        radios = fs.css("input.nhsuk-radios__input")
        assert [r.attributes["value"] for r in radios] == [
            "strongly_agree",
            "tend_to_agree",
            "tend_to_disagree",
            "strongly_disagree",
            "dont_know",
        ]
        for radio in radios:
            assert page.css_first(f'label[for="{radio.attributes["id"]}"]') is not None
    textarea = page.css_first("textarea#q-comments_statements_1")
    assert textarea is not None
    counter = page.css_first(".nhsuk-character-count")
    assert counter is not None and counter.attributes["data-maxlength"] == "2000"
    form = page.css_first("form")
    assert form is not None and form.attributes["method"] == "post"
    assert csrf_of(page)


def test_checkboxes_with_hint_and_exclusive_none(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:6])
    page = get_page(client, f"/s/{token}/page/barriers")
    fieldset = page.css_first("fieldset")
    assert fieldset is not None
    assert text_of(fieldset, ".nhsuk-hint") == "Select up to 3."
    assert "q-barriers-hint" in fieldset.attributes["aria-describedby"]  # type: ignore[operator]
    exclusive = page.css_first('input[data-behaviour="exclusive"]')
    assert exclusive is not None and exclusive.attributes["value"] == "none"
    assert text_of(page, ".nhsuk-checkboxes__divider") == "or"


def test_grid_rows_and_role_question(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:8])
    grid = get_page(client, f"/s/{token}/page/initiatives")
    rows = grid.css(".sg-grid-row fieldset")
    assert len(rows) == 8
    assert [r.attributes["value"] for r in rows[0].css("input")] == ["yes", "no", "dont_know"]
    answer_sections(client, token, ["initiatives"])
    about = get_page(client, f"/s/{token}/page/about_you")
    assert about.css_first('input[name="role"]') is not None


def test_role_from_the_link_is_shown_not_asked(survey: Survey, client: TestClient) -> None:
    token = survey.link(role="medical_director")
    answer_sections(client, token, SECTIONS[:9])
    page = get_page(client, f"/s/{token}/page/about_you")
    assert page.css_first('input[name="role"]') is None
    assert "Medical director" in text_of(page, ".nhsuk-inset-text")


def test_check_answers_and_confirmation(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS)
    page = get_page(client, f"/s/{token}/check")
    assert text_of(page, "h1") == "Check your answers before submitting"
    assert texts_of(page, "h2.nhsuk-heading-m")[:2] == [
        "Doctor–manager relationships where you work",
        "Your views (1 of 5)",
    ]
    rows = page.css(".nhsuk-summary-list__row")
    questions = [i for s in builtin("dmr-2015").sections for i in s.items]
    assert len(rows) == len(questions)
    values = {text_of(r, "dt"): text_of(r, ".nhsuk-summary-list__value") for r in rows}
    assert values["Which best describes your current role?"] == "Clinical director (or similar)"
    assert (
        "Lack of trust between management and medical staff"
        in values[questions[[q.id for q in questions].index("barriers")].text]
    )
    assert values[questions[[q.id for q in questions].index("gender")].text] == "Not answered"
    change = rows[0].css_first(".nhsuk-summary-list__actions a")
    assert change is not None
    assert change.attributes["href"] == f"/s/{token}/page/overall?return=check#q-local_rating"
    response = submit(client, token)
    assert (response.status_code, response.headers["location"]) == (303, f"/s/{token}/done")
    done = get_page(client, f"/s/{token}/done")
    assert text_of(done, ".nhsuk-panel h1") == "Survey complete"


def test_error_summary_links_to_the_field(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:6])
    response = post_section(
        client,
        token,
        "barriers",
        {
            "barriers": ["time_doctors", "lack_trust", "other", "insufficient_resources"],
            "comments_barriers": "kept",
        },
    )
    assert response.status_code == 422
    page = parse(response.text)
    assert text_of(page, "title").startswith("Error: ")
    links = page.css(".nhsuk-error-summary__list a")
    assert [a.attributes["href"] for a in links] == ["#q-barriers"]
    assert page.css_first("#q-barriers") is not None
    assert text_of(page, ".nhsuk-error-message") == (
        "Error: Select up to 3 options (you selected 4)"
    )
    group = page.css_first(".nhsuk-form-group--error")
    assert group is not None and group.css_first("#q-barriers-error") is not None
    # The rest of the page's answers are kept, and so are the ticks to fix.
    assert text_of(page, "textarea#q-comments_barriers") == "kept"
    assert len(page.css('input[name="barriers"][checked]')) == 4


def _error_page(response, status: int, heading: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text[:300])
    page = parse(response.text)
    assert text_of(page, "h1") == heading
    assert "Traceback" not in response.text
    assert page.css_first("link[href='/static/nhsuk/nhsuk-frontend.min.css']") is not None


def test_unknown_and_malformed_tokens(client: TestClient) -> None:
    _error_page(client.get("/s/" + "A" * 32), 404, "This link is not recognised")
    _error_page(client.get("/s/short"), 404, "This link is not recognised")
    _error_page(client.get("/s/" + "%2E" * 40 + "/check"), 404, "This link is not recognised")


def test_unknown_page(survey: Survey, client: TestClient) -> None:
    _error_page(client.get("/nowhere"), 404, "Page not found")
    _error_page(client.get(f"/s/{survey.link()}/page/nosuchsection"), 404, "Page not found")


def test_method_not_allowed(client: TestClient) -> None:
    _error_page(client.delete("/"), 405, "This page cannot be used like that")


def test_wave_not_open_yet_and_closed(store) -> None:  # type: ignore[no-untyped-def]
    from webhelpers import make_survey

    today = study_today()  # the day the server judges opening and closing by
    later = make_survey(store, "later", opens=today + dt.timedelta(days=3))
    with TestClient(later.app()) as client:
        response = client.get(f"/s/{later.link()}")
        _error_page(response, 403, "This survey has not opened yet")
        assert (today + dt.timedelta(days=3)).strftime("%-d %B %Y") in response.text
    closed = make_survey(store, "closed", closes=today - dt.timedelta(days=1))
    with TestClient(closed.app()) as client:
        _error_page(client.get(f"/s/{closed.link()}/page/overall"), 410, "This survey has closed")


def test_wave_closing_mid_survey_refuses_the_save(survey: Survey) -> None:
    with survey.store.session() as session:
        survey.store.get_wave(session, survey.wave).closes = survey.today[0]
    with TestClient(survey.app()) as client:
        token = survey.link()
        page = get_page(client, f"/s/{token}/page/overall")
        survey.today[0] += dt.timedelta(days=1)
        response = client.post(f"/s/{token}/page/overall", data={"csrf_token": csrf_of(page)})
        _error_page(response, 410, "This survey has closed")


def test_completed_link(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS)
    submit(client, token)
    for url in (f"/s/{token}", f"/s/{token}/page/overall", f"/s/{token}/check"):
        _error_page(client.get(url), 410, "You have already completed this survey")


def test_missing_or_wrong_csrf_token(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    get_page(client, f"/s/{token}/page/overall")
    _error_page(
        client.post(f"/s/{token}/page/overall", data={"local_rating": "3"}),
        403,
        "Your answers on this page could not be saved",
    )
    _error_page(
        client.post(f"/s/{token}/page/overall", data={"local_rating": "3", "csrf_token": "0" * 64}),
        403,
        "Your answers on this page could not be saved",
    )
    page = get_page(client, f"/s/{token}/page/overall")
    cross = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf_of(page)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    _error_page(cross, 403, "Your answers on this page could not be saved")


def test_oversized_form(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    page = get_page(client, f"/s/{token}/page/overall")
    response = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf_of(page), "comments_overall": "x" * 600_000},
    )
    _error_page(response, 413, "Your answers could not be saved")


def test_rate_limit_on_token_guessing(survey: Survey) -> None:
    token = survey.link()
    with TestClient(survey.app(limiter=RateLimiter(limit=5, window=600))) as client:
        for _ in range(5):
            assert client.get("/s/" + "B" * 32).status_code == 404
        blocked = client.get(f"/s/{token}")  # even a good link waits: the client is guessing
        _error_page(blocked, 429, "Too many attempts")
        assert 0 < int(blocked.headers["retry-after"]) <= 601


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(limit=3, window=60)
    for second in range(3):
        assert limiter.blocked("10.0.0.1", now=second) == 0
        limiter.failed("10.0.0.1", now=second)
    assert limiter.blocked("10.0.0.1", now=3) == 57
    assert limiter.blocked("10.0.0.2", now=3) == 0
    assert limiter.blocked("10.0.0.1", now=60.5) == 0


def test_server_error_page_has_no_traceback(survey: Survey) -> None:
    app = survey.app()
    app.state.web.instrument = None  # any unexpected failure inside a view
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/s/{survey.link()}")
        _error_page(response, 500, "Sorry, there is a problem with the service")
        assert response.headers["referrer-policy"] == "no-referrer"


def test_resume_redirects_and_answers_shown(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:2])
    response = client.get(f"/s/{token}", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/s/{token}/page/statements_2",
    )
    ahead = client.get(f"/s/{token}/page/about_you", follow_redirects=False)
    assert ahead.headers["location"] == f"/s/{token}/page/statements_2"
    page = get_page(client, f"/s/{token}/page/overall")
    checked = page.css_first('input[name="local_rating"][checked]')
    assert checked is not None and checked.attributes["value"] == ANSWERS["overall"]["local_rating"]
