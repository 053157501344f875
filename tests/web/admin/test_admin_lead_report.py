"""A lead's final trust report never moves by one late return (issue #15, item 1).

After the wave has closed, paper questionnaires keep arriving and are keyed (twice, as
double entry requires) into the store. The lead downloads their trust's report after
every one, as an attacker would, and sets each report beside the one before: every
figure must be unchanged, or have taken in a whole batch of at least the threshold of one
role group at once. Before the report read the wave's released set, the first late
return moved the trust's figures by exactly that respondent's answers.

The late returns are dated the day their envelopes arrived, before the close, though
they are keyed after it, so the released set cannot be told by the response's date.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from adminhelpers import Site, close_yesterday, login, make_site
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground import synth
from sharedground.exchange.importer import import_file
from sharedground.fieldwork.paper import key_questionnaire
from sharedground.jobs import tasks
from sharedground.store import Contact, Response, Store, Wave

REPORT = "/admin/waves/w/trusts/RA1/report"
RESULTS = "/admin/waves/w/trusts/RA1/results"
THRESHOLD = 5
#: Roles of the late returns, in the order they are keyed: the fifth chief executive
#: completes a batch; the clinical directors never do.
LATE = [
    "chief_executive",
    "clinical_director",
    "chief_executive",
    "chief_executive",
    "chief_executive",
    "chief_executive",
    "clinical_director",
]


@pytest.fixture
def site(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """A wave of 40 contacts, each sent a questionnaire, with 120 synthetic responses in
    RA1 and RB2, closed yesterday."""
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))
    made = make_site(store, tmp_path, n=40)
    frame = synth.generate("2015", seed=5, respondents=120, trusts=2)
    frame = frame.with_columns(pl.col("trust").replace({"T001": "RA1", "T002": "RB2"}))
    path = tmp_path / "cohort.csv"
    synth.write(frame, synth.instrument_for("2015"), path)
    import_file(store, path, "w")
    close_yesterday(store)
    return made


def _report(site: Site, client: TestClient) -> str:
    """Make the trust's report as the lead does, run the job, download and open it."""
    page = parse(client.get(REPORT).text)
    response = client.post(REPORT, data={"csrf_token": csrf_of(page), "trust_pdf": ""})
    assert response.status_code == 200, text_of(parse(response.text), "main")
    job_id = int(text_of(parse(response.text), "[role=status]").split()[2].rstrip(";"))
    assert tasks.execute(site.store, job_id) == "done"
    body = client.get(f"/admin/jobs/{job_id}/download").content
    if body[:2] == b"PK":
        archive = zipfile.ZipFile(io.BytesIO(body))
        name = next(n for n in archive.namelist() if n.endswith(".html"))
        return archive.read(name).decode()
    return body.decode()


def _figures(html: str) -> dict[str, list[str]]:
    """Every figure the report prints: each table's cells and each chart's bars."""
    page = parse(html)
    found: dict[str, list[str]] = {}
    for i, table in enumerate(page.css("table")):
        found[f"table {i}"] = [cell.text(strip=True) for cell in table.css("th, td")]
    for i, chart in enumerate(page.css("svg")):
        found[f"chart {i}"] = [
            " ".join(f"{k}={v}" for k, v in sorted(node.attributes.items()) if k != "id")
            for node in chart.css("rect, path, circle, line, text")
        ] + [node.text(strip=True) for node in chart.css("text, title")]
    return found


def _group_sizes(html: str) -> dict[str, int]:
    """Respondents per group as the first table's header prints them ("n = 12")."""
    sizes: dict[str, int] = {}
    table = next(t for t in parse(html).css("table") if "n = " in t.text())
    for head in table.css("thead th"):
        found = re.search(r"n = ([\d,]+)", head.text())
        if found:
            sizes[head.text().split("n =")[0].strip()] = int(found.group(1).replace(",", ""))
    return sizes


def _shown(client: TestClient) -> int:
    """How many responses the trust's results page says its final figures are from."""
    note = parse(client.get(RESULTS).text).css_first("#release")
    assert note is not None and note.attributes["data-final"] == "true"
    return int(note.attributes["data-shown"] or 0)


def _late_return(site: Site, contact_id: int, role: str, model: dict[str, str]) -> None:
    """A paper questionnaire received before the close, keyed twice after it."""
    with site.store.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.serial
        wave = session.scalar(select(Wave).where(Wave.name == "w"))
        assert wave is not None and wave.closes is not None
        answers = {k: v for k, v in model.items() if v is not None}
        answers["role"] = role
        received = wave.closes - dt.timedelta(days=2)
        key_questionnaire(session, contact.serial, answers, "keyer-a", received_on=received)
        key_questionnaire(session, contact.serial, answers, "keyer-b", received_on=received)


def test_a_lead_downloading_after_every_late_return_sees_no_figure_move_by_one(
    site: Site, admin_client: TestClient
) -> None:
    with site.store.session() as session:
        contacts = {
            role: [
                c.id
                for c in session.scalars(
                    select(Contact).where(Contact.role == role).order_by(Contact.id)
                )
                if c.serial and site.serials["RA1"].count(c.serial)
            ]
            for role in set(LATE)
        }
        model = dict(session.scalars(select(Response.answers).limit(1)).one())
    model = {k: str(v) for k, v in model.items() if not k.startswith("comments")}
    assert login(admin_client, "lead-a") == 303

    reports = [_report(site, admin_client)]
    shown = [_shown(admin_client)]
    used: dict[str, int] = dict.fromkeys(contacts, 0)
    for role in LATE:
        _late_return(site, contacts[role][used[role]], role, model)
        used[role] += 1
        reports.append(_report(site, admin_client))
        shown.append(_shown(admin_client))

    with site.store.session() as session:
        late = session.scalars(
            select(Response.role).where(Response.respondent_key.startswith("postal-"))
        ).all()
    assert len(late) == len(LATE)  # every late return is in the store
    for step, (before, after) in enumerate(itertools.pairwise(reports)):
        moved = {
            group: _group_sizes(after).get(group, 0) - n
            for group, n in _group_sizes(before).items()
        }
        if _figures(before) == _figures(after):
            continue
        # Something moved: only by a whole batch of one group, and only once that
        # group's late returns reached the threshold.
        assert LATE[: step + 1].count(LATE[step]) % THRESHOLD == 0, (step, moved)
        assert all(d == 0 or d >= THRESHOLD for d in moved.values()), moved
    # The batch of five chief executives did join, in the report and on the results page.
    first, last = _group_sizes(reports[0]), _group_sizes(reports[-1])
    assert last != first
    assert [b - a for a, b in itertools.pairwise(shown)] == [0, 0, 0, 0, 0, 5, 0]
    # The report and the page it is made from say which responses it is from: the two
    # clinical directors' late returns wait for a batch of their group (not how many more
    # it needs, which would follow the late returns' groups).
    assert "Final figures for this trust" in reports[-1]
    note = parse(admin_client.get(REPORT).text).css_first("#report-release")
    assert note is not None and note.attributes["data-waiting"] == "2"
    assert "one role group make up a whole batch of 5" in note.text()
    assert "3 more" not in note.text()
