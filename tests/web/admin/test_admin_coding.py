"""The coding pages: a coder codes whole sources and passages without JavaScript, sees only
their own codings, and an organisation lead sees only their own trust's sources (others 404)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from adminhelpers import Site, login
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground.fieldwork.clock import study_today
from sharedground.store.schema import AuditEntry
from sharedground.text import coding, frames, sources
from sharedground.web.admin.coding import find_passage

TEXT = "Finance drives every decision here.\n\nThe clinical directors feel unheard."


def _sources(site: Site, tmp_path: Path) -> dict[str, int]:
    """One transcript of each of RA1, RB2 and no trust, by source number."""
    ids = {}
    with site.store.session() as session:
        frames.save(session, frames.builtin("dmr-themes"))
        for trust in ("RA1", "RB2", None):
            path = tmp_path / f"{trust or 'none'}.txt"
            path.write_text(TEXT, encoding="utf-8")
            attrs = {"role": "medical_director", **({"trust": trust} if trust else {})}
            (added,) = sources.add_documents(site.store, session, [path], attrs)
            ids[trust or "none"] = added.id
    return ids


def _guids(site: Site) -> dict[int, str]:
    with site.store.session() as session:
        return {s.id: s.guid for s in sources.list_sources(session)}


def _post(client: TestClient, url: str, **data: str) -> object:
    page = parse(client.get(url).text)
    return client.post(
        url + "?frame=dmr-themes@1",
        data={"csrf_token": csrf_of(page), **data},
        follow_redirects=False,
    )


def test_lead_sees_and_codes_only_own_trust(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    ids = _sources(site, tmp_path)
    guids = _guids(site)
    assert login(admin_client, "lead-a") == 303
    listing = parse(admin_client.get("/admin/coding").text)
    # A lead addresses a source by its GUID: numbers follow the order sources were added.
    assert [tr.attributes["data-source"] for tr in listing.css("#sources tbody tr")] == [
        guids[ids["RA1"]]
    ]
    for other in (ids["RB2"], ids["none"], ids["RA1"]):
        for ref in (guids[other], str(other)):
            if (other, ref) == (ids["RA1"], guids[other]):
                continue
            response = admin_client.get(f"/admin/coding/sources/{ref}")
            assert response.status_code == 404
            assert "Finance drives" not in response.text
    own = f"/admin/coding/sources/{guids[ids['RA1']]}"
    token = csrf_of(parse(admin_client.get(own).text))
    refused = admin_client.post(
        f"/admin/coding/sources/{guids[ids['RB2']]}?frame=dmr-themes@1",
        data={"csrf_token": token, "code": "variation"},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    done = admin_client.post(
        own + "?frame=dmr-themes@1",
        data={"csrf_token": token, "code": "variation"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with site.store.session() as session:
        frame = frames.get(session, "dmr-themes")
        rows = coding.rows(session, frame)
        audited = session.scalars(select(AuditEntry.action)).all()
    assert [(r.source_id, r.coder, r.code, r.start) for r in rows] == [
        (ids["RA1"], "lead-a", "variation", None)
    ]
    assert "code a source" in audited


def test_passages_whole_codes_memos_and_blind_coding(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    ids = _sources(site, tmp_path)
    login(admin_client, "admin")
    url = f"/admin/coding/sources/{ids['RA1']}"
    passage = "clinical  directors\nfeel unheard"  # white space as pasted
    response = _post(admin_client, url, code="perceptions_of_managers", passage=passage, memo="m")
    assert response.status_code == 303  # type: ignore[attr-defined]
    start = TEXT.index("clinical directors")
    assert find_passage(TEXT, passage) == (start, start + len("clinical directors feel unheard"))
    missing = _post(admin_client, url, code="variation", passage="not in the text")
    assert missing.status_code == 422  # type: ignore[attr-defined]
    summary = parse(missing.text).css_first(".nhsuk-error-summary")  # type: ignore[attr-defined]
    assert summary is not None and "not in the text" in summary.text()
    nothing = _post(admin_client, url, code="", passage="")
    assert nothing.status_code == 422  # type: ignore[attr-defined]
    page = parse(admin_client.get(url + "?frame=dmr-themes@1").text)
    rows = page.css("#mine tbody tr")
    assert len(rows) == 1
    cells = [td.text().strip() for td in rows[0].css("td")]
    assert cells[:4] == [
        "Views of managers",
        f"characters {start}–{start + 31}",
        "clinical directors feel unheard",
        "m",
    ]
    # Without the token nothing is written.
    forged = admin_client.post(
        url + "?frame=dmr-themes@1", data={"code": "variation"}, follow_redirects=False
    )
    assert forged.status_code in (400, 403)
    # The lead of the same trust codes blind: the administrator's coding is not shown.
    admin_id = rows[0].attributes["data-coding"]
    with TestClient(site.app(), base_url="https://testserver") as lead:
        login(lead, "lead-a")
        lead_url = f"/admin/coding/sources/{_guids(site)[ids['RA1']]}"
        lead_page = parse(lead.get(lead_url).text)
        assert lead_page.css("#mine tbody tr") == []
        token = csrf_of(lead_page)
        stolen = lead.post(
            lead_url + "/remove?frame=dmr-themes@1",
            data={"csrf_token": token, "coding": str(admin_id)},
            follow_redirects=False,
        )
        assert stolen.status_code == 404
    removed = admin_client.post(
        url + "/remove?frame=dmr-themes@1",
        data={"csrf_token": csrf_of(page), "coding": str(admin_id)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with site.store.session() as session:
        assert coding.rows(session, frames.get(session, "dmr-themes")) == []


def test_agreement_page_and_resolving(site: Site, admin_client: TestClient, tmp_path: Path) -> None:
    ids = _sources(site, tmp_path)
    with site.store.session() as session:
        frame = frames.get(session, "dmr-themes")
        codes = coding.codes_of(session, frame)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        for trust in ("RA1", "RB2"):
            source = sources.get_source(session, ids[trust])
            coding.add(session, source, codes["public_esteem"], ann)
            coding.add(session, source, codes["public_esteem"], bob)
        coding.add(
            session, sources.get_source(session, ids["RA1"]), codes["local_initiatives"], ann
        )
    login(admin_client, "lead-a")
    assert admin_client.get("/admin/coding/agreement").status_code == 403
    login(admin_client, "admin")
    url = "/admin/coding/agreement?frame=dmr-themes@1&coder=ann&coder=bob"
    page = parse(admin_client.get(url).text)
    rows = {
        tr.css_first("th").text().strip(): [td.text().strip() for td in tr.css("td")]
        for tr in page.css("#agreement tbody tr")
    }
    # Each transcript's two paragraphs are its units: 4 in all.
    assert rows["Public esteem"][:2] == ["4", "1.00"]
    assert rows["Local initiatives"][:2] == ["4", "0.50"]
    both = page.css("#disagreements tbody tr")
    assert len(both) == 2  # ann's whole-source code covers both paragraphs of RA1's
    row = both[0]
    assert (row.attributes["data-source"], row.attributes["data-code"]) == (
        str(ids["RA1"]),
        "local_initiatives",
    )
    form = row.css_first("form")
    data = {
        node.attributes["name"]: node.attributes.get("value") or ""
        for node in form.css("input[type=hidden]")
    }
    done = admin_client.post(
        "/admin/coding/agreement/resolve",
        data={**data, "decision": "keep"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == data["back"]
    assert "coder=ann" in data["back"] and "coder=bob" in data["back"]
    with site.store.session() as session:
        team = coding.rows(session, frames.get(session, "dmr-themes"), coders=["team"])
    # Kept on the paragraph the disagreement was about, not on the whole transcript.
    assert (data["start"], data["end"]) == (str(team[0].start or 0), str(team[0].end))
    assert [(r.source_id, r.code) for r in team] == [(ids["RA1"], "local_initiatives")]
    with site.store.session() as session:
        length = len(sources.get_source(session, ids["RA1"]).content)
    assert team[0].end is not None and team[0].end < length


def test_sources_listed_a_page_at_a_time(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    paths = []
    for i in range(52):
        path = tmp_path / f"t{i}.txt"
        path.write_text(f"Transcript {i}.", encoding="utf-8")
        paths.append(path)
    with site.store.session() as session:
        frames.save(session, frames.builtin("dmr-themes"))
        added = sources.add_documents(site.store, session, paths, {"trust": "RA1"})
        coding.add(
            session,
            added[51],
            coding.codes_of(session, frames.get(session, "dmr-themes"))["variation"],
            coding.get_coder(session, "admin"),
        )
    login(admin_client, "admin")
    first = parse(admin_client.get("/admin/coding").text)
    assert len(first.css("#sources tbody tr")) == 50
    link = first.css_first("a[href*='offset=50']")
    assert link is not None
    second = parse(admin_client.get(link.attributes["href"] or "").text)
    rows = second.css("#sources tbody tr")
    assert [tr.attributes["data-source"] for tr in rows] == [str(added[50].id), str(added[51].id)]
    assert [tr.css("td")[-1].text() for tr in rows] == ["0", "1"]
    assert "51 to 52 of 52" in second.css_first("#sources caption").text()


def _comments(site: Site, tmp_path: Path) -> None:
    """Wave w's comments: RA1 has 8 of three role groups and 2 clinical directors, RB2 8 of
    each; every respondent commented. The starter frame stored."""
    import sys

    analysis = str(Path(__file__).resolve().parents[2] / "analysis")
    if analysis not in sys.path:
        sys.path.append(analysis)
    from analysis_helpers import write_rows
    from disclosure_helpers import ROLES, composed

    from sharedground.exchange.importer import import_file
    from sharedground.instrument import builtin

    sizes = {trust: dict.fromkeys(ROLES, 8) for trust in ("RA1", "RB2")}
    sizes["RA1"]["clinical_director"] = 2
    instrument = builtin("dmr-2015")
    rows = composed(instrument, sizes)
    for i, row in enumerate(rows):
        row["comments_overall"] = f"Comment {i}: budgets shape every meeting we have."
    import_file(site.store, write_rows(tmp_path / "comments.csv", instrument, rows), "w")
    with site.store.session() as session:
        wave = site.store.get_wave(session, "w")
        # Fieldwork over: a lead reads every comment of the final figures.
        wave.opens = study_today() - dt.timedelta(days=30)
        wave.closes = study_today() - dt.timedelta(days=1)
        sources.add_comments(site.store, session, wave)
        frames.save(session, frames.builtin("dmr-themes"))


def test_a_lead_sees_only_the_role_groups_their_trusts_report_prints(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    """RA1's two clinical directors are withheld in its report, with a partner group; before,
    the coding pages showed their lead every comment's role group, so the lead could count
    both groups and tie a comment to one of two colleagues. Now a lead sees a role group only
    where the trust's report prints its commenters; the research team sees them all."""
    from sharedground.text import themes
    from sharedground.web.admin.labels import role_label

    _comments(site, tmp_path)
    with site.store.session() as session:
        ra1 = site.store.organisation_ids(session, ["RA1"])["RA1"]
        printed = themes.table(
            site.store,
            session,
            site.store.get_wave(session, "w"),
            frames.get(session, "dmr-themes"),
            organisation_id=ra1,
        )
        role_of = {s.id: s.role for s in sources.list_sources(session, organisation_id=ra1)}
    shown = {g for g, n in zip(printed.groups, printed.commenters, strict=True) if n is not None}
    # The report withholds the clinical directors and a partner, and prints the others.
    assert "clinical_director" not in shown and 0 < len(shown) < 3

    guids = _guids(site)
    number = {guid: i for i, guid in guids.items()}

    def listed(client: TestClient) -> dict[int, str]:
        """By source number: a lead's list names sources by GUID, the team's by number."""
        page = parse(client.get("/admin/coding").text)
        return {
            number.get(ref, 0) if not ref.isdigit() else int(ref): tr.css("td")[2].text().strip()
            for tr in page.css("#sources tbody tr")
            for ref in [tr.attributes["data-source"] or ""]
        }

    assert login(admin_client, "lead-a") == 303
    seen = listed(admin_client)
    assert set(seen) == set(role_of) and len(seen) == 26
    for source_id, text in seen.items():
        role = role_of[source_id]
        assert text == (role_label(role) if role in shown else "Not shown"), (role, text)
    assert sum(text == "Not shown" for text in seen.values()) == sum(
        1 for role in role_of.values() if role not in shown
    )
    director = next(i for i, role in role_of.items() if role == "clinical_director")
    page = parse(admin_client.get(f"/admin/coding/sources/{guids[director]}").text)
    assert text_of(page, "#source-role").startswith("Not shown")
    assert "Clinical director" not in page.text()
    # The research team sees every group.
    with TestClient(site.app(), base_url="https://testserver") as admin:
        login(admin, "admin")
        everything = listed(admin)
        assert all(
            everything[i] == role_label(role) for i, role in role_of.items() if i in everything
        )
        page = parse(admin.get(f"/admin/coding/sources/{director}").text)
        assert text_of(page, "#source-role") == role_label("clinical_director")


def test_a_lead_is_not_listed_comments_whose_count_would_give_a_small_group_away(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    """Issue #15 (2): a lead counts their trust's comments on these pages (and its
    commenters, in its export), so they are listed only where the trust's report prints its
    number of commenters (`TextDecision.listed`). RB2 has ten of each role group, of whose
    medical directors two commented: its report withholds them and, as their partner, its
    number of commenters, which its lead would otherwise count. Its comments are not listed
    to its lead (404, as another trust's; before, the 32 were, in released batches); RC3's
    80 commenters are printed, and its lead is listed its comments; the research team sees
    every one."""
    import sys

    analysis = str(Path(__file__).resolve().parents[2] / "analysis")
    if analysis not in sys.path:
        sys.path.append(analysis)
    from analysis_helpers import write_rows
    from disclosure_helpers import ROLES, composed

    from sharedground.exchange.importer import import_file
    from sharedground.instrument import builtin

    sizes = {
        "RA1": dict(zip(ROLES, [1, 1, 0, 0], strict=True)),
        "RB2": dict.fromkeys(ROLES, 10),
        "RC3": dict.fromkeys(ROLES, 20),
        "RD4": dict.fromkeys(ROLES, 20),
    }
    instrument = builtin("dmr-2015")
    rows = composed(instrument, sizes)
    silent = 0
    for i, row in enumerate(rows):
        if row["trust"] == "RB2" and row["role"] == "medical_director" and silent < 8:
            silent += 1
            continue
        row["comments_overall"] = f"Comment {i}: budgets shape every meeting we have."
    import_file(site.store, write_rows(tmp_path / "comments.csv", instrument, rows), "w")
    with site.store.session() as session:
        # Fieldwork over (closed yesterday): the comments follow the final figures, and the
        # trust's report its decision. (While it ran, they followed the live release.)
        wave = site.store.get_wave(session, "w")
        wave.opens = study_today() - dt.timedelta(days=60)
        wave.closes = study_today() - dt.timedelta(days=1)
    with site.store.session() as session:
        sources.add_comments(site.store, session, site.store.get_wave(session, "w"))
        frame = frames.save(session, frames.builtin("dmr-themes"))
        code = coding.codes_of(session, frame)["public_esteem"]
        team = coding.get_coder(session, "team")
        mine: dict[str, list[str]] = {}  # a lead addresses sources by GUID
        for i, source in enumerate(sources.list_sources(session)):
            mine.setdefault(source.attributes["trust"], []).append(source.guid)
            if i % 2 == 0:
                coding.add(session, source, code, team)

    def listed(client: TestClient) -> tuple[set[str], int]:
        page = parse(client.get("/admin/coding").text)
        ids = {tr.attributes["data-source"] or "" for tr in page.css("#sources tbody tr")}
        caption = text_of(page, "#sources caption")  # "Sources 1 to 2 of 2"
        return ids, int(caption.split()[-1])

    assert login(admin_client, "lead-b") == 303
    assert listed(admin_client) == (set(), 0)
    assert admin_client.get(f"/admin/coding/sources/{mine['RB2'][0]}").status_code == 404
    from sharedground.fieldwork import accounts
    from sharedground.text.disclosure import text_decision

    with site.store.session() as session:
        accounts.create_user(session, "lead-c", "a long enough password 3", "lead", "RC3")
        wave = site.store.get_wave(session, "w")
        decision = text_decision(
            site.store, session, wave, frames.get(session, "dmr-themes"), "team"
        )
        listed_by_trust = dict(zip(decision.cells.trusts, decision.listed, strict=True))
        printed = ~decision.commenters.trusts
    assert listed_by_trust == {"RA1": False, "RB2": False, "RC3": True, "RD4": True}
    assert list(printed) == list(decision.listed)
    with TestClient(site.app(), base_url="https://testserver") as lead_c:
        assert login(lead_c, "lead-c", "a long enough password 3") == 303
        seen, total = listed(lead_c)
        # One page (50) of the released ones, all RC3's.
        assert seen and seen <= set(mine["RC3"]) and len(seen) <= total <= len(mine["RC3"])
    with TestClient(site.app(), base_url="https://testserver") as admin:
        login(admin, "admin")
        assert listed(admin)[1] == sum(len(ids) for ids in mine.values())
