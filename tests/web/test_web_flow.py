"""Save and resume, validation, submitting once, anonymity: through HTTP, checked in the store."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select, text
from starlette.applications import Starlette
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

from sharedground.cli import main
from sharedground.exchange.columns import item_columns
from sharedground.fieldwork import anonymity
from sharedground.fieldwork.links import find_link
from sharedground.instrument import builtin
from sharedground.store import Organisation, Response, Store
from sharedground.store.schema import Draft, HeldResponse, Link

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
        survey.today[0],
    )
    columns = {c.name: c for c in item_columns(builtin("dmr-2015"))}
    for name, value in response.answers.items():
        column = columns[name]
        if column.allowed:
            assert value in column.allowed, name
    with survey.store.session() as session:
        org = session.scalar(select(Organisation.id).where(Organisation.code == "RXX"))
        link = find_link(session, token)
        assert link is not None and link.completed_on == survey.today[0]
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
    errors: list[BaseException] = []
    # The apps are built here, not in the threads: building one prunes the guess table (a
    # write), and six builds racing for SQLite's lock are not what this test is about. A
    # thread that fails before the barrier breaks it (timeout) instead of leaving the others
    # waiting for ever, which once held the whole suite until CI's limit.
    apps = [survey.app() for _ in range(6)]
    barrier = threading.Barrier(6, timeout=120)

    def hammer(app: Starlette) -> None:
        try:
            with TestClient(app, cookies=cookies) as own:
                barrier.wait()
                statuses.append(
                    own.post(f"/s/{token}/check", data=form, follow_redirects=False).status_code
                )
        except BaseException as exc:  # reported below, not lost in the thread
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert statuses == [303] * 6
    assert len(_responses(survey)) == 1


def _complete(survey: Survey, count: int) -> list[str]:
    """`count` new links of trust R0A, each answered in full and submitted."""
    tokens = survey.links(count, trust="R0A")
    with TestClient(survey.app()) as client:
        for token in tokens:
            answer_sections(client, token, SECTIONS)
            submit(client, token)
    return tokens


def test_anonymous_wave_keeps_no_link_to_the_token(anonymous_survey: Survey) -> None:
    survey = anonymous_survey
    tokens = _complete(survey, 2)
    # Held until a batch is waiting (fieldwork/anonymity.py); the end of fieldwork forces it.
    assert _responses(survey) == []
    with survey.store.session() as session:
        wave = survey.store.get_wave(session, survey.wave)
        assert anonymity.held(session, wave) == 2
        assert anonymity.release(session, wave, force=True) == 2
    responses = _responses(survey)
    assert len(responses) == 2
    with survey.store.session() as session:
        links = list(session.scalars(select(Link)))
        link_ids = {str(link.id) for link in links}
        hashes = {link.token_hash for link in links}
        assert all(link.completed_on == survey.today[0] for link in links)
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


def test_anonymous_responses_join_in_a_batch_of_their_own(
    anonymous_survey: Survey, store: Store
) -> None:
    """No response shares its writing transaction with the link it came from.

    On PostgreSQL each row's `xmin` names the transaction that wrote it: the check is done
    on the real values there. On both backends the batch must arrive whole, once.
    """
    survey = anonymous_survey
    batch = anonymity.RELEASE_BATCH
    tokens = survey.links(batch + 2, trust="R0A")
    with TestClient(survey.app()) as client:
        for count, token in enumerate(tokens, start=1):
            answer_sections(client, token, SECTIONS)
            submit(client, token)
            # Nothing joins the responses until a whole batch is waiting.
            expected = batch if count >= batch else 0
            assert len(_responses(survey)) == expected, count
    with survey.store.session() as session:
        assert session.scalar(select(func.count()).select_from(HeldResponse)) == 2
        if store.backend == "postgresql":
            responses_xmin = set(session.execute(text("SELECT xmin::text FROM response")).scalars())
            links_xmin = set(session.execute(text("SELECT xmin::text FROM link")).scalars())
            assert len(responses_xmin) == 1  # the whole batch in one transaction
            assert not responses_xmin & links_xmin
        keys = [r.respondent_key for r in session.scalars(select(Response))]
        assert len(set(keys)) == batch and all(k.startswith("web-") for k in keys)


def test_wave_release_moves_the_last_few(
    anonymous_survey: Survey, database_url: str, tmp_path: Path
) -> None:
    survey = anonymous_survey
    _complete(survey, 3)
    assert _responses(survey) == []
    runner = CliRunner()
    out = tmp_path / "held.csv"
    exported = runner.invoke(
        main,
        [
            "export",
            "--wave",
            survey.wave,
            "--format",
            "csv",
            "--out",
            str(out),
            "--database",
            database_url,
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "3 completed questionnaire(s) of anon are held for anonymity" in exported.stderr
    released = runner.invoke(main, ["wave", "release", survey.wave, "--database", database_url])
    assert released.exit_code == 0, released.output
    assert "Released 3 held questionnaire(s)" in released.output
    assert len(_responses(survey)) == 3
    again = runner.invoke(main, ["wave", "release", survey.wave, "--database", database_url])
    assert "Released 0 held questionnaire(s)" in again.output
    assert len(_responses(survey)) == 3
