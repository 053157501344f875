"""Security headers, CSRF cookie, inline-script-free pages, the secret key, quiet logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx2
import pytest
from starlette.testclient import TestClient
from webhelpers import (
    ANSWERS,
    LiveServer,
    Survey,
    answer_sections,
    csrf_of,
    get_page,
    parse,
)

from sharedground.instrument import builtin
from sharedground.store import Store
from sharedground.store.schema import Setting
from sharedground.web.security import (
    CONTENT_SECURITY_POLICY,
    Csrf,
    RedactTokens,
    install_log_redaction,
    redact,
    secret_key,
)

SECTIONS = [s.id for s in builtin("dmr-2015").sections]


def _every_page(survey: Survey, client: TestClient) -> dict[str, httpx2.Response]:
    token = survey.link()
    pages = {"home": client.get("/"), "start": client.get(f"/s/{token}")}
    for section in SECTIONS:
        pages[section] = client.get(f"/s/{token}/page/{section}")
        answer_sections(client, token, [section])
    pages["check"] = client.get(f"/s/{token}/check")
    client.post(f"/s/{token}/check", data={"csrf_token": csrf_of(parse(pages["check"].text))})
    pages["done"] = client.get(f"/s/{token}/done")
    pages["completed"] = client.get(f"/s/{token}")
    pages["unknown"] = client.get("/s/" + "C" * 32)
    pages["not found"] = client.get("/nowhere")
    return pages


def test_headers_and_no_inline_script_or_style(survey: Survey, client: TestClient) -> None:
    for name, response in _every_page(survey, client).items():
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, name
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        assert headers["x-frame-options"] == "DENY", name
        page = parse(response.text)
        for script in page.css("script"):
            assert script.attributes.get("src"), f"inline script on {name}"
            assert not script.text().strip(), f"inline script on {name}"
        assert page.css("style") == [], name
        assert page.css("[style]") == [], name
        assert not [n for n in page.css("*") if any(a.startswith("on") for a in n.attributes)]
        if name not in ("home", "unknown", "not found"):
            assert headers["cache-control"] == "no-store", name


def test_static_files_are_typed_for_nosniff(client: TestClient) -> None:
    for path, kind in [
        ("/static/init.mjs", "text/javascript"),
        ("/static/nhsuk/nhsuk-frontend.min.js", "text/javascript"),
        ("/static/nhsuk/nhsuk-frontend.min.css", "text/css"),
    ]:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind), path
    css = client.get("/static/nhsuk/nhsuk-frontend.min.css").text
    assert "assets.nhs.uk" not in css and "//" not in css.replace("http://www.w3.org", "")


def test_survey_pages_set_no_cookie(survey: Survey, client: TestClient) -> None:
    # Forms reached through a personal link are bound to the link, not to a cookie.
    token = survey.link()
    for path in (f"/s/{token}", f"/s/{token}/intro", f"/s/{token}/page/overall"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, path
    assert not client.cookies


def test_csrf_cookie_elsewhere_is_httponly_and_lax(client: TestClient) -> None:
    response = client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sg_csrf=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_csrf_token_is_bound_to_the_cookie() -> None:
    csrf = Csrf(b"k")
    token = csrf.token_for("cookie-a")
    assert csrf.valid("cookie-a", token)
    assert not csrf.valid("cookie-b", token)
    assert not Csrf(b"other").valid("cookie-a", token)
    assert not csrf.valid(None, token)


def test_secret_key_is_kept_in_the_database(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHAREDGROUND_SECRET_KEY", raising=False)
    first = secret_key(store)
    assert len(first) == 64
    assert secret_key(store) == first  # a restart signs forms the same way
    with store.session() as session:
        assert session.get(Setting, "secret_key") is not None
    monkeypatch.setenv("SHAREDGROUND_SECRET_KEY", "from-the-environment")
    assert secret_key(store) == b"from-the-environment"


def test_redact() -> None:
    assert redact('"GET /s/abcDEF_-123/page/overall HTTP/1.1"') == (
        '"GET /s/<token>/page/overall HTTP/1.1"'
    )
    assert redact("GET /static/x.css") == "GET /static/x.css"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(message)s").format(record))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    install_log_redaction()
    capture = _Capture()
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


def test_no_tokens_or_answers_in_the_server_log(survey: Survey, captured: _Capture) -> None:
    token = survey.link()
    app = survey.app()
    with LiveServer(app, access_log=True) as server, httpx2.Client(base_url=server.url) as http:
        page = parse(http.get(f"/s/{token}/page/overall").text)
        secret_text = "my very private remark"
        http.post(
            f"/s/{token}/page/overall",
            data={
                "csrf_token": csrf_of(page),
                "comments_overall": secret_text,
                "local_rating": "5",
            },
        )
        app.state.web.instrument = None  # make the next request fail inside the app
        assert http.get(f"/s/{token}/page/overall").status_code == 500
    log = "\n".join(captured.lines)
    assert "/s/<token>/page/overall" in log  # the access log is on and was captured
    assert "Traceback" in log  # and so was the unexpected error
    assert token not in log
    assert secret_text not in log
    for value in ANSWERS["overall"].values():
        assert str(value) not in log or len(str(value)) < 3


def test_redact_filter_hides_exception_messages() -> None:
    record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "boom %s", ("x",), None)
    message = "parameters: " + repr(("my answer", "abc"))
    try:
        raise ValueError(message)
    except ValueError as error:
        record.exc_info = (ValueError, error, error.__traceback__)
    RedactTokens().filter(record)
    text = logging.Formatter().format(record)
    assert "ValueError" in text and "my answer" not in text


def test_forms_need_a_page_from_this_site(survey: Survey, client: TestClient) -> None:
    token = survey.link()
    other = survey.link()
    page = get_page(client, f"/s/{token}/page/overall")
    good = client.post(
        f"/s/{token}/page/overall",
        follow_redirects=False,
        data={"csrf_token": csrf_of(page), "local_rating": "3"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert good.status_code == 303
    # A form token is good for its own link only: another link's page cannot post here.
    elsewhere = get_page(client, f"/s/{other}/page/overall")
    forged = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf_of(elsewhere), "local_rating": "1"},
    )
    assert forged.status_code == 403
    # A browser that says the form came from another site is refused whatever it carries.
    crossed = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf_of(page), "local_rating": "1"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert crossed.status_code == 403
    assert survey.draft(token)["local_rating"] == "3"


def test_a_browser_without_cookies_can_answer(survey: Survey) -> None:
    token = survey.link()
    with TestClient(survey.app()) as client:
        page = get_page(client, f"/s/{token}/page/overall")
        client.cookies.clear()
        saved = client.post(
            f"/s/{token}/page/overall",
            follow_redirects=False,
            data={"csrf_token": csrf_of(page), "local_rating": "2"},
        )
        assert saved.status_code == 303
        assert not client.cookies
    assert survey.draft(token)["local_rating"] == "2"
