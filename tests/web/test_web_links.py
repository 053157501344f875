"""Personal links: tokens, hashes, the `wave create` and `links` commands."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from webhelpers import Survey

from sharedground.cli import main
from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.links import (
    LinkError,
    create_links,
    find_link,
    hash_token,
    link_url,
    looks_like_token,
)
from sharedground.store import Organisation, Store
from sharedground.store.schema import Contact, Link


def test_tokens_are_random_128_bits_or_more_and_only_hashes_are_stored(survey: Survey) -> None:
    tokens = survey.links(50)
    assert len(set(tokens)) == 50
    for token in tokens:
        assert looks_like_token(token)
        assert len(base64.urlsafe_b64decode(token + "==")) * 8 >= 128
    with survey.store.session() as session:
        stored = session.scalars(select(Link.token_hash)).all()
        # Nothing in the link table holds a token; each row holds its SHA-256.
        assert sorted(stored) == sorted(hashlib.sha256(t.encode()).hexdigest() for t in tokens)
        assert not set(tokens) & set(stored)


def test_find_link_accepts_only_the_exact_token(survey: Survey) -> None:
    token = survey.link()
    with survey.store.session() as session:
        link = find_link(session, token)
        assert link is not None and link.token_hash == hash_token(token)
        assert find_link(session, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert find_link(session, token[:-1]) is None
        assert find_link(session, "../../etc/passwd") is None


def test_links_carry_role_and_trust(survey: Survey) -> None:
    tokens = survey.links(3, role="medical_director", trust="RXX")
    with survey.store.session() as session:
        code = session.scalar(select(Organisation.id).where(Organisation.code == "RXX"))
        for token in tokens:
            link = find_link(session, token)
            assert link is not None
            assert (link.role, link.organisation_id) == ("medical_director", code)
            assert link.created_on == study_today()  # the study's day, not the server's
            assert (link.started_on, link.completed_on) == (None, None)


def test_unknown_role_and_bad_counts_are_refused(survey: Survey) -> None:
    with pytest.raises(LinkError, match=r"no role 'nurse'.*chief_executive"):
        survey.links(1, role="nurse")
    with pytest.raises(LinkError, match="at least 1"):
        survey.links(0)


def test_links_for_contacts(survey: Survey) -> None:
    store = survey.store
    with store.session() as session:
        wave = store.get_wave(session, survey.wave)
        people = [
            Contact(wave_id=wave.id, role="chief_executive", email=f"ce{i}@example.org")
            for i in range(2)
        ]
        session.add_all(people)
        session.flush()
        ids = [p.id for p in people]
        tokens = create_links(session, wave, 2, contact_ids=ids)
        assert [find_link(session, t).contact_id for t in tokens] == ids  # type: ignore[union-attr]
        with pytest.raises(LinkError, match="2 contact ids given for 3 links"):
            create_links(session, wave, 3, contact_ids=ids)
        with pytest.raises(LinkError, match="no contact 999999"):
            create_links(session, wave, 1, contact_ids=[999_999])


def _init(url: str) -> None:
    store = Store(url)
    store.init()
    store.dispose()


def test_link_url() -> None:
    assert link_url("https://survey.example.org/", "abc") == "https://survey.example.org/s/abc"


def test_cli_wave_create_and_links(database_url: str) -> None:
    runner = CliRunner()
    db = ["--database", database_url]
    _init(database_url)
    created = runner.invoke(
        main,
        [
            "wave",
            "create",
            "w27",
            "--instrument",
            "dmr-2015",
            "--opens",
            "2027-01-10",
            "--closes",
            "2027-03-31",
            "--anonymous",
            *db,
        ],
    )
    assert created.exit_code == 0, created.output
    printed = runner.invoke(
        main,
        [
            "links",
            "w27",
            "--count",
            "4",
            "--role",
            "clinical_director",
            "--trust",
            "R1F",
            "--base-url",
            "https://s.example.org",
            *db,
        ],
    )
    assert printed.exit_code == 0, printed.output
    urls = printed.output.splitlines()
    assert len(urls) == 4
    assert all(u.startswith("https://s.example.org/s/") for u in urls)
    store = Store(database_url)
    try:
        with store.session() as session:
            wave = store.get_wave(session, "w27")
            assert (wave.opens, wave.closes, wave.anonymous) == (
                dt.date(2027, 1, 10),
                dt.date(2027, 3, 31),
                True,
            )
            for url in urls:
                link = find_link(session, url.rsplit("/", 1)[1])
                assert link is not None and link.wave_id == wave.id
                assert link.role == "clinical_director"
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["links", "nope", "--count", "1"], "no wave 'nope'"),
        (["links", "w", "--count", "1", "--role", "nurse"], "no role 'nurse'"),
        (["wave", "create", "w"], "exists already"),
        (
            ["wave", "create", "x", "--opens", "2027-02-01", "--closes", "2027-01-01"],
            "is before --opens",
        ),
        (["wave", "create", "y", "--opens", "31/01/2027"], "not a date like"),
        (["wave", "create", "z", "--instrument", "dmr-1999"], "dmr-1999"),
    ],
)
def test_cli_errors_are_one_clear_line(sqlite_url: str, args: list[str], message: str) -> None:
    runner = CliRunner()
    db = ["--database", sqlite_url]
    _init(sqlite_url)
    runner.invoke(main, ["wave", "create", "w", *db])
    result = runner.invoke(main, [*args, *db])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
