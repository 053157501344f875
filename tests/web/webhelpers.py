"""Helpers shared by the web tests (imported as `webhelpers`; fixtures are in conftest)."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.links import create_links, find_link
from sharedground.instrument import builtin
from sharedground.store import Store
from sharedground.store.schema import Draft
from sharedground.web import create_app
from sharedground.web.security import RateLimiter

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: axe-core impacts that fail an accessibility test.
AXE_BLOCKING = frozenset({"serious", "critical"})


@dataclass
class Survey:
    """A wave in a store, and a way to make links for it."""

    store: Store
    wave: str
    #: The app's today: the study's day (Europe/London unless set), as the server counts it.
    today: list[dt.date] = field(default_factory=lambda: [study_today()])

    def links(self, count: int = 1, role: str | None = None, trust: str | None = None) -> list[str]:
        with self.store.session() as session:
            wave = self.store.get_wave(session, self.wave)
            return create_links(session, wave, count, role=role, trust=trust)

    def link(self, role: str | None = None, trust: str | None = None) -> str:
        return self.links(1, role=role, trust=trust)[0]

    def draft(self, token: str) -> dict[str, str]:
        """The answers saved so far under a link ({} when nothing is saved)."""
        with self.store.session() as session:
            link = find_link(session, token)
            assert link is not None
            draft = session.get(Draft, link.id)
            return dict(draft.answers) if draft is not None else {}

    def app(self, limiter: RateLimiter | None = None) -> Starlette:
        return create_app(self.store, key=b"test-key", limiter=limiter, today=lambda: self.today[0])


def make_survey(store: Store, name: str = "pilot", **wave: Any) -> Survey:
    with store.session() as session:
        store.create_wave(session, name, builtin("dmr-2015"), **wave)
    return Survey(store, name)


# -- accessibility -----------------------------------------------------------------------------


def axe_problems(page: Any) -> list[str]:
    """The serious and critical axe-core violations on a Playwright page, one line each.

    axe is injected from the vendored `vendor/axe.min.js`: open the page's context with
    `bypass_csp=True`, as the pages' Content-Security-Policy rightly refuses injected scripts.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in AXE_BLOCKING
    ]


# -- HTML helpers ------------------------------------------------------------------------------


def parse(html: str) -> HTMLParser:
    return HTMLParser(html)


def csrf_of(page: HTMLParser) -> str:
    node = page.css_first('input[name="csrf_token"]')
    assert node is not None, "the page has no CSRF field"
    value = node.attributes.get("value")
    assert value
    return value


def text_of(page: HTMLParser, selector: str) -> str:
    node = page.css_first(selector)
    assert node is not None, f"no {selector} on the page"
    return re.sub(r"\s+", " ", node.text()).strip()


def texts_of(page: HTMLParser, selector: str) -> list[str]:
    return [re.sub(r"\s+", " ", n.text()).strip() for n in page.css(selector)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a background thread."""

    def __init__(self, app: Starlette, access_log: bool = False) -> None:
        self.port = free_port()
        # log_config=None: leave logging as the test set it up (uvicorn's own config would
        # replace the handlers a test attaches to capture the log).
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            log_level=None,
            access_log=access_log,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# -- answering through the in-process client ------------------------------------------------

#: A plausible complete set of answers, as form data per section of dmr-2015.
ANSWERS: dict[str, dict[str, str | list[str]]] = {
    "overall": {
        "local_rating": "4",
        "outlook_improve": "tend_to_agree",
        "nurture_satisfaction": "2",
        "comments_overall": "Relationships are good on the wards.\r\nLess so at board level.",
    },
    "statements_1": {"power_balance_right": "tend_to_disagree", "enough_consultants": "dont_know"},
    "statements_2": {"doctors_autonomy": "strongly_agree"},
    "statements_3": {},
    "statements_4": {"decisions_fair": "tend_to_agree"},
    "statements_5": {"work_as_team": "tend_to_agree"},
    "barriers": {"barriers": ["lack_trust", "time_doctors"]},
    "external_factors": {"factors_positive": ["none"], "factors_negative": ["financial_pressures"]},
    "initiatives": {
        "initiatives:paired_learning": "yes",
        "initiatives:joint_social_spaces": "dont_know",
    },
    "about_you": {"role": "clinical_director", "country": "wales"},
}

#: What the stored response must hold for ANSWERS (exchange column -> cell text).
STORED = {
    "local_rating": "4",
    "outlook_improve": "tend_to_agree",
    "nurture_satisfaction": "2",
    "comments_overall": "Relationships are good on the wards.\nLess so at board level.",
    "power_balance_right": "tend_to_disagree",
    "enough_consultants": "dont_know",
    "doctors_autonomy": "strongly_agree",
    "decisions_fair": "tend_to_agree",
    "work_as_team": "tend_to_agree",
    "barriers": "time_doctors;lack_trust",
    "factors_positive": "none",
    "factors_negative": "financial_pressures",
    "initiatives:paired_learning": "yes",
    "initiatives:joint_social_spaces": "dont_know",
    "country": "wales",
}


def get_page(client: TestClient, url: str, status: int = 200) -> HTMLParser:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return parse(response.text)


def post_section(
    client: TestClient,
    token: str,
    section: str,
    data: dict[str, str | list[str]],
    **params: str,
) -> Any:
    """GET a section (for its CSRF token), then POST `data` to it; returns the response."""
    page = get_page(client, f"/s/{token}/page/{section}" + _query(params))
    form = {"csrf_token": csrf_of(page), **params, **data}
    return client.post(f"/s/{token}/page/{section}", data=form, follow_redirects=False)


def _query(params: dict[str, str]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""


def answer_sections(
    client: TestClient, token: str, sections: list[str], answers: dict[str, Any] | None = None
) -> None:
    answers = ANSWERS if answers is None else answers
    for section in sections:
        response = post_section(client, token, section, answers.get(section, {}))
        assert response.status_code == 303, (section, response.status_code, response.text[:500])


def submit(client: TestClient, token: str) -> Any:
    page = get_page(client, f"/s/{token}/check")
    return client.post(
        f"/s/{token}/check", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
