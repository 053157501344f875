"""Save and resume, validation, submitting once, anonymity: through HTTP, checked in the store."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select
from starlette.testclient import TestClient
from webhelpers import (
    ANSWERS,
    STORED,
    Survey,
    answer_sections,
    csrf_of,
    get_page,
    parse,
    post_section,
    submit,
)

from sharedground.exchange.columns import item_columns
from sharedground.fieldwork.links import find_link
from sharedground.instrument import builtin
from sharedground.store import Organisation, Response
from sharedground.store.schema import Draft, Link

SECTIONS = [s.id for s in builtin("dmr-2015").sections]


def _responses(survey: Survey) -> list[Response]:
    with survey.store.session() as session:
        return list(session.scalars(select(Response)))


def _draft(survey: Survey, token: str) -> Draft | None:
    with survey.store.session() as session:
        link = find_link(session, token)
        assert link is not None
        return session.get(Draft, link.id)


def test_answers_saved_each_continue_and_resumed_elsewhere_after_a_restart(
    survey: Survey,
) -> None:
    token = survey.link()
    with TestClient(survey.app()) as first_browser:
        answer_sections(first_browser, token, SECTIONS[:3])
    draft = _draft(survey, token)
    assert draft is not None
    assert draft.sections_done == SECTIONS[:3]
    assert draft.answers["comments_overall"] == STORED["comments_overall"]
    # A new app on the same database (a restart) and a new cookie jar (another browser).
    with TestClient(survey.app()) as other_browser:
        resumed = other_browser.get(f"/s/{token}", follow_redirects=False)
        assert resumed.headers["location"] == f"/s/{token}/page/statements_3"
        page = get_page(other_browser, f"/s/{token}/page/statements_2")
        picked = page.css_first('input[name="doctors_autonomy"][checked]')
        assert picked is not None and picked.attributes["value"] == "strongly_agree"
        text = page.css_first("textarea#q-comments_statements_2")
        assert text is not None and text.text() == ""
        answer_sections(other_browser, token, SECTIONS[3:])
        assert submit(other_browser, token).status_code == 303
    (response,) = _responses(survey)
    assert response.answers == STORED


def test_unticking_an_answer_clears_it(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:1])
    assert post_section(client, token, "overall", {"local_rating": "2"}).status_code == 303
    draft = _draft(survey, token)
    assert draft is not None
    assert {k: v for k, v in draft.answers.items()} == {"local_rating": "2"}


def test_a_page_with_problems_keeps_its_good_answers(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:6])
    assert post_section(client, token, "barriers", {"barriers": ["lack_trust"]}).status_code == 303
    bad = post_section(
        client,
        token,
        "barriers",
        {
            "barriers": ["lack_trust", "none"],
            "comments_barriers": "still here",
        },
    )
    assert bad.status_code == 422
    draft = _draft(survey, token)
    assert draft is not None
    # The good answer is saved; the bad one leaves the earlier answer in place.
    assert draft.answers["comments_barriers"] == "still here"
    assert draft.answers["barriers"] == "lack_trust"
    fixed = post_section(client, token, "barriers", {"barriers": ["none"]})
    assert fixed.headers["location"] == f"/s/{token}/page/external_factors"


def test_role_is_required_and_error_is_shown(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS[:9])
    response = post_section(client, token, "about_you", {"country": "england"})
    assert response.status_code == 422
    page = parse(response.text)
    link = page.css_first(".nhsuk-error-summary__list a")
    assert link is not None and link.attributes["href"] == "#q-role"
    kept = page.css_first('input[name="country"][checked]')
    assert kept is not None and kept.attributes["value"] == "england"
    assert client.get(f"/s/{token}/check", follow_redirects=False).headers["location"] == (
        f"/s/{token}/page/about_you"
    )


def test_change_link_returns_to_check_answers(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS)
    page = get_page(client, f"/s/{token}/page/overall?return=check")
    back = page.css_first("a.nhsuk-back-link")
    assert back is not None and back.attributes["href"] == f"/s/{token}/check"
    response = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf_of(page), "return": "check", "local_rating": "1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == f"/s/{token}/check"
    submit(client, token)
    (stored,) = _responses(survey)
    assert stored.answers["local_rating"] == "1"
    assert "comments_overall" not in stored.answers  # cleared by the change


def test_submit_stores_one_response_like_an_import(survey: Survey, client: TestClient) -> None:
    token = survey.link(trust="RXX")
    answer_sections(client, token, SECTIONS)
    assert submit(client, token).headers["location"] == f"/s/{token}/done"
    (response,) = _responses(survey)
    assert response.answers == STORED
    assert (response.role, response.mode, response.submitted_on) == (
        "clinical_director",
        "online",
        dt.date.today(),
    )
    columns = {c.name: c for c in item_columns(builtin("dmr-2015"))}
    for name, value in response.answers.items():
        column = columns[name]
        if column.allowed:
            assert value in column.allowed, name
    with survey.store.session() as session:
        org = session.scalar(select(Organisation.id).where(Organisation.code == "RXX"))
        link = find_link(session, token)
        assert link is not None and link.completed_on == dt.date.today()
        assert session.get(Draft, link.id) is None  # nothing keyed by the link remains
    assert response.organisation_id == org
    assert response.respondent_key == f"web-link-{link.id}"


def test_link_role_is_the_response_role(survey: Survey, client: TestClient) -> None:
    token = survey.link(role="chief_executive")
    answers = {**ANSWERS, "about_you": {"country": "scotland", "role": "clinical_director"}}
    answer_sections(client, token, SECTIONS, answers)
    submit(client, token)
    (response,) = _responses(survey)
    assert response.role == "chief_executive"
    assert "role" not in response.answers


def test_double_submit_retry_and_back_button_make_one_response(
    survey: Survey, client: TestClient
) -> None:
    token = survey.link()
    answer_sections(client, token, SECTIONS)
    page = get_page(client, f"/s/{token}/check")
    form = {"csrf_token": csrf_of(page)}
    first = client.post(f"/s/{token}/check", data=form, follow_redirects=False)
    again = client.post(f"/s/{token}/check", data=form, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"] == f"/s/{token}/done"
    # Back button to a section page, then its (cached) form sent again.
    late = client.post(f"/s/{token}/page/about_you", data={**form, "role": "chief_executive"})
    assert late.status_code == 410
    assert len(_responses(survey)) == 1


def test_concurrent_submits_make_one_response(survey: Survey) -> None:
    token = survey.link()
    with TestClient(survey.app()) as client:
        answer_sections(client, token, SECTIONS)
        page = get_page(client, f"/s/{token}/check")
        form = {"csrf_token": csrf_of(page)}
        cookies = dict(client.cookies)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def hammer() -> None:
        with TestClient(survey.app(), cookies=cookies) as own:
            barrier.wait()
            statuses.append(
                own.post(f"/s/{token}/check", data=form, follow_redirects=False).status_code
            )

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * 6
    assert len(_responses(survey)) == 1


def test_anonymous_wave_keeps_no_link_to_the_token(anonymous_survey: Survey) -> None:
    survey = anonymous_survey
    tokens = survey.links(2, trust="R0A")
    with TestClient(survey.app()) as client:
        for token in tokens:
            answer_sections(client, token, SECTIONS)
            submit(client, token)
    responses = _responses(survey)
    assert len(responses) == 2
    with survey.store.session() as session:
        links = list(session.scalars(select(Link)))
        link_ids = {str(link.id) for link in links}
        hashes = {link.token_hash for link in links}
        assert all(link.completed_on == dt.date.today() for link in links)
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
    for response in responses:
        key = response.respondent_key
        assert key.startswith("web-") and len(key) == 24
        assert not any(part in link_ids for part in key.split("-"))
        assert not any(key[4:] in h for h in hashes)
        assert not any(key[4:] in t for t in tokens)
        assert isinstance(response.submitted_on, dt.date)
        assert not isinstance(response.submitted_on, dt.datetime)
    # The response table has no column that could point at a link or a contact.
    assert {c.name for c in Response.__table__.columns} == {
        "id",
        "wave_id",
        "respondent_key",
        "role",
        "organisation_id",
        "mode",
        "submitted_on",
        "answers",
    }
