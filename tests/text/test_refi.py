"""REFI-QDA: projects and codebooks valid against the official schemas, and a lossless
round trip sharedground -> .qdpx -> sharedground."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete
from text_helpers import comment_wave, sized_wave

from sharedground.store import Store
from sharedground.store.textschema import Coding
from sharedground.text import coding, frames, refi, sources, themes
from sharedground.text.errors import TextError

NS = {"q": refi.PROJECT_NS}


def test_codebook_valid_and_reads_back_to_the_same_codes(tmp_path: Path) -> None:
    frame = frames.builtin("dmr-themes")
    path = tmp_path / "dmr-themes.qdc"
    refi.write_codebook(frame, path)
    refi.schema("Codebook.xsd").validate(str(path))  # raises if invalid
    back = refi.read_codebook(path)
    assert [(c.name, c.description, c.example) for c, _ in back.walk()] == [
        (c.name, c.description, c.example) for c, _ in frame.walk()
    ]
    assert [back.guid_of(c) for c, _ in back.walk()] == [frame.guid_of(c) for c, _ in frame.walk()]
    assert [(c.id, p.id if p else None) for c, p in back.walk()][:3] == [
        ("the_relationship_varies", None),
        ("between_trusts", "the_relationship_varies"),
        ("within_a_trust", "the_relationship_varies"),
    ]


def test_a_file_that_fails_the_schema_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qdc"
    bad.write_text(
        f'<?xml version="1.0"?><CodeBook xmlns="{refi.CODEBOOK_NS}"><Codes>'
        '<Code guid="not-a-guid" name="x" isCodable="true"/></Codes></CodeBook>',
        encoding="utf-8",
    )
    with pytest.raises(
        TextError, match=r"bad.qdc: does not follow the REFI-QDA schema Codebook.xsd"
    ):
        refi.read_codebook(bad)
    archive = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("project.qde", f'<Project xmlns="{refi.PROJECT_NS}"/>')  # no name
    # The project is validated before the store is read, so no session is needed to refuse it.
    with pytest.raises(TextError, match=r"Project-mrt2019\.xsd"):
        refi.import_project(None, None, archive)  # type: ignore[arg-type]


def test_project_round_trip_loses_nothing(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    transcript = tmp_path / "interview.txt"
    transcript.write_text("First answer.\n\nSecond answer about finance.", encoding="utf-8")
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "w"))
        sources.add_documents(store, session, [transcript], {"role": "medical_director"})
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        found = sources.list_sources(session)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        coding.add(session, found[0], codes["variation"], ann, memo="good relations")
        coding.add(session, found[1], codes["external_finance"], ann, start=0, end=7)
        coding.add(session, found[1], codes["external_finance"], bob)
        coding.add(session, found[-1], codes["external_finance"], bob, start=15, end=43)
        before = coding.rows(session, frame)
    path = tmp_path / "project.qdpx"
    with store.session() as session:
        done = refi.export_project(session, frames.get(session, "dmr-themes"), path)
    assert (done.sources, done.codings) == (7, 4)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde")
        names = archive.namelist()
    refi.schema("Project-mrt2019.xsd").validate(ET.fromstring(xml))
    root = ET.fromstring(xml)
    assert [u.get("name") for u in root.iterfind(".//q:Users/q:User", NS)] == ["ann", "bob"]
    assert len(root.findall(".//q:Sources/q:TextSource", NS)) == 7
    assert sum(n.startswith("sources/") for n in names) == 7
    variables = [v.get("name") for v in root.iterfind(".//q:Variables/q:Variable", NS)]
    assert {"role", "trust", "mode", "wave", "item"} <= set(variables)
    # Each source carries its case's values as source variables too (QualCoder drops a
    # case's SourceRefs), and a case is named like its sources.
    names = {v.get("guid"): v.get("name") for v in root.iterfind(".//q:Variable", NS)}
    by_source = {}
    for case in root.iterfind(".//q:Cases/q:Case", NS):
        values = _values(case, names)
        for ref in case.iterfind("q:SourceRef", NS):
            by_source[ref.get("targetGUID")] = (case.get("name"), values)
    assert len(by_source) == 7
    for element in root.iterfind(".//q:Sources/q:TextSource", NS):
        case_name, case_values = by_source[element.get("guid")]
        own = _values(element, names)
        assert {k.removeprefix("source "): v for k, v in own.items() if k != "item"} == (
            case_values
        )
        assert case_values["role"]
        if element.get("name") == "interview.txt":
            assert case_name == "interview.txt"
        else:
            assert element.get("name", "").startswith(case_name.replace("respondent", "comment"))
    # The finance span of the transcript, as REFI-QDA counts it.
    selections = root.findall(".//q:TextSource[@name='interview.txt']/q:PlainTextSelection", NS)
    assert [(s.get("startPosition"), s.get("endPosition")) for s in selections] == [("15", "43")]

    with store.session() as session:
        session.execute(delete(Coding))
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        assert coding.rows(session, frame) == []
        imported = refi.import_project(session, frame, path)
        assert imported.codings == 4 and imported.coders == ["ann", "bob"]
        assert coding.rows(session, frame) == before
        # Importing again adds nothing.
        refi.import_project(session, frame, path)
        assert coding.rows(session, frame) == before


def test_import_refuses_changed_text_and_unknown_codes(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "w"))
        frame = frames.save(session, frames.builtin("dmr-themes"))
        ann = coding.get_coder(session, "ann")
        first = sources.list_sources(session)[0]
        coding.add(session, first, coding.codes_of(session, frame)["variation"], ann)
    path = tmp_path / "p.qdpx"
    with store.session() as session:
        refi.export_project(session, frames.get(session, "dmr-themes"), path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    changed = tmp_path / "changed.qdpx"
    with zipfile.ZipFile(changed, "w") as archive:
        for name, data in members.items():
            archive.writestr(
                name, b"Edited. " + data if name == f"sources/{first.guid}.txt" else data
            )
    with store.session() as session, pytest.raises(TextError, match="its text differs"):
        refi.import_project(session, frames.get(session, "dmr-themes"), changed)
    other = frames.loads("id: other\nversion: 1\ntitle: T\ncodes:\n  - id: x\n    name: X\n")
    with store.session() as session:
        frames.save(session, other)
    with store.session() as session, pytest.raises(TextError, match="is not in frame other@1"):
        refi.import_project(session, frames.get(session, "other"), path)


def _values(element: ET.Element, names: dict[str | None, str | None]) -> dict[str, str]:
    """An element's variable values by variable name."""
    found = {}
    for value in element.iterfind("q:VariableValue", NS):
        ref = value.find("q:VariableRef", NS)
        assert ref is not None
        found[names[ref.get("targetGUID")] or ""] = value.findtext("q:TextValue", namespaces=NS)
    return {k: v or "" for k, v in found.items()}


def _roles_in(path: Path, variable: str = "role", where: str = "Case") -> list[str]:
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("project.qde"))
    # A variable no case or source has a value of is not declared at all.
    role = next(
        (v.get("guid") for v in root.iterfind(".//q:Variable", NS) if v.get("name") == variable),
        None,
    )
    return [
        value.findtext("q:TextValue", namespaces=NS) or ""
        for value in root.iterfind(f".//q:{where}/q:VariableValue", NS)
        if value.find("q:VariableRef", NS).get("targetGUID") == role  # type: ignore[union-attr]
    ]


def test_one_trust_export_leaves_small_role_groups_unnamed(store: Store, tmp_path: Path) -> None:
    from sharedground.store.schema import Wave

    comment_wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "w")
        sources.add_comments(store, session, wave)
        frames.save(session, frames.builtin("dmr-themes"))
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
    path = tmp_path / "ra1.qdpx"
    with store.session() as session:
        done = refi.export_project(
            session, frames.get(session, "dmr-themes"), path, organisation_id=ra1, store=store
        )
    # RA1 has three commenters (two medical directors, a clinical director) in a wave of 12:
    # every role group there is under the threshold of 5, so none is named.
    assert done.sources == 3 and done.withheld_roles == 3
    assert _roles_in(path) == []
    with zipfile.ZipFile(path) as archive:
        declared = {
            v.get("name")
            for v in ET.fromstring(archive.read("project.qde")).iterfind(".//q:Variable", NS)
        }
    # No role anywhere, so no role variable, nor a mode (it could tell the group); the
    # others for cases and for sources.
    assert declared == {"trust", "wave", "item"} | {f"source {name}" for name in ("trust", "wave")}
    assert _roles_in(path, "source role", "TextSource") == []
    assert sorted(_roles_in(path, "source trust", "TextSource")) == ["RA1"] * 3
    with store.session() as session:
        session.get(Wave, wave.id).suppression_threshold = 1  # type: ignore[union-attr]
    with store.session() as session:
        refi.export_project(
            session, frames.get(session, "dmr-themes"), path, organisation_id=ra1, store=store
        )
    # At a threshold of 1 the one small group of RA1 is its directorate manager, who wrote
    # nothing; the wave's decision withholds the medical directors with it (RA1's commenters
    # less the groups named would tell), so only the clinical director is named.
    assert sorted(_roles_in(path)) == ["clinical_director"]
    assert sorted(_roles_in(path, "source role", "TextSource")) == sorted(_roles_in(path))


def _parsed(path: Path) -> tuple[ET.Element, dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The project (validated against the schema), and each case's and each source's
    variable values by name, keyed by the element's name."""
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("project.qde"))
    refi.schema("Project-mrt2019.xsd").validate(root)
    names = {v.get("guid"): v.get("name") for v in root.iterfind(".//q:Variable", NS)}
    cases = {c.get("name", ""): _values(c, names) for c in root.iterfind(".//q:Cases/q:Case", NS)}
    found = {
        s.get("name", ""): _values(s, names) for s in root.iterfind(".//q:Sources/q:TextSource", NS)
    }
    return root, cases, found


def test_one_trust_export_leaves_the_partners_of_small_groups_unnamed(
    store: Store, tmp_path: Path
) -> None:
    """RA1's three clinical directors are withheld with partners the wave's decision picks,
    groups of eight, over the threshold. Before, the export named the partners: their exact
    numbers of commenters, which the trust's report withholds, so that RA1's small group
    (less the trust's total) or another trust's (national less the other trusts) comes back."""
    from disclosure_helpers import ROLES

    from sharedground.analysis.disclosure.decide import decide
    from sharedground.analysis.source import load_wave

    cd = "clinical_director"
    sizes = {trust: dict.fromkeys(ROLES, 8) for trust in ("RA1", "RB2", "RC3", "RD4")}
    sizes["RA1"][cd] = 3
    sized_wave(store, tmp_path, sizes)
    with store.session() as session:
        wave = store.get_wave(session, "s")
        sources.add_comments(store, session, wave)
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        team = coding.get_coder(session, "team")
        for source in sources.list_sources(session, wave=wave)[::2]:
            coding.add(
                session, source, codes["external_finance"], team, memo="Dr Smith on 01632 960123"
            )
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
    survey = decide(load_wave(store, "s"))
    t = survey.cells.trusts.index("RA1")
    row = survey.respondents.withheld[t]
    withheld = {role for r, role in enumerate(survey.cells.roles) if row[r]}
    partners = withheld - {cd}
    # The case this test is about: a partner the old rule (fewer respondents than the
    # threshold in the trust) would have named.
    assert cd in withheld and partners
    assert all(sizes["RA1"][role] >= 5 for role in partners)

    path = tmp_path / "ra1.qdpx"
    with store.session() as session:
        done = refi.export_project(
            session, frames.get(session, "dmr-themes"), path, organisation_id=ra1, store=store
        )
        printed = themes.table(
            store,
            session,
            store.get_wave(session, "s"),
            frames.get(session, "dmr-themes"),
            organisation_id=ra1,
        )
    _, cases, found = _parsed(path)
    assert done.sources == len(found) == sum(sizes["RA1"].values())
    named = {values["role"] for values in cases.values() if "role" in values}
    named_sources = {v["source role"] for v in found.values() if "source role" in v}
    assert named == named_sources
    assert not named & withheld
    # Exactly the groups whose commenters RA1's table by role prints (`text themes --trust`,
    # and the trust's report), and some are.
    shown = {g for g, n in zip(printed.groups, printed.commenters, strict=True) if n is not None}
    assert named == shown and named
    unnamed = [v for v in found.values() if "source role" not in v]
    assert len(unnamed) == done.withheld_roles == sum(sizes["RA1"][r] for r in withheld)
    # An unnamed group's comments carry no mode (the reader may know which modes each group
    # answered by); the others still do, and every source its trust, wave and question.
    assert all("source mode" not in v for v in unnamed)
    assert all("source mode" in v for v in found.values() if "source role" in v)
    assert all(v["source trust"] == "RA1" and v["source wave"] == "s" for v in found.values())
    assert all("mode" not in v for v in cases.values() if "role" not in v)
    # No name tells a role: cases are "wave respondent N", sources "wave comment N item".
    words = {w for role in ROLES for w in role.split("_")}
    for name in [*cases, *found]:
        assert not set(name.lower().replace("_", " ").split()) & words, name
    # Coders' memos leave anonymised, like the text.
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde").decode("utf-8")
    assert "Smith" not in xml and "01632" not in xml
    assert xml.count("<Description>") >= len(found) // 2


def test_sources_and_codings_carry_dates_that_tell_nothing_of_a_respondent(
    store: Store, tmp_path: Path
) -> None:
    """REFI-QDA's creationDateTime: a comment is dated by its wave (the day fieldwork
    closed), never by when its respondent answered (every row answered on 2015-06-01); a
    transcript by when it was added; a coding by when it was made, except that a trust's
    export dates a comment's coding made during fieldwork by the closing day (it would
    otherwise say the comment was in by then)."""
    import datetime as dt

    from sqlalchemy import select

    from sharedground.store.schema import Wave
    from sharedground.store.textschema import TextSource

    comment_wave(store, tmp_path)
    transcript = tmp_path / "interview.txt"
    transcript.write_text("First answer.\n\nSecond answer about finance.", encoding="utf-8")
    closes = dt.date.today() + dt.timedelta(days=30)  # fieldwork still running
    with store.session() as session:
        wave = store.get_wave(session, "w")
        wave.opens, wave.closes = dt.date(2015, 5, 1), closes
        sources.add_comments(store, session, wave)
        sources.add_documents(store, session, [transcript], {"trust": "RA1"}, wave=wave)
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        ann = coding.get_coder(session, "ann")
        for source in sources.list_sources(session):
            coding.add(session, source, codes["external_finance"], ann, start=0, end=5)
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
    with store.session() as session:
        added = {s.name: s.created_at for s in session.scalars(select(TextSource))}
        made = {
            name: when
            for name, when in session.execute(
                select(TextSource.name, Coding.created_at).join(
                    Coding, Coding.source_id == TextSource.id
                )
            )
        }

    def export(trust: int | None = None) -> tuple[dict[str, str | None], dict[str, list[str]]]:
        path = tmp_path / "dated.qdpx"
        with store.session() as session:
            refi.export_project(
                session, frames.get(session, "dmr-themes"), path, organisation_id=trust, store=store
            )
        root, _, _ = _parsed(path)  # valid against the schema
        assert b"2015-06-01" not in zipfile.ZipFile(path).read("project.qde")
        dated: dict[str, str | None] = {}
        coded: dict[str, list[str]] = {}
        for element in root.iterfind(".//q:Sources/q:TextSource", NS):
            name = element.get("name", "")
            dated[name] = element.get("creationDateTime")
            for selection in element.iterfind("q:PlainTextSelection", NS):
                inner = selection.find("q:Coding", NS)
                assert inner is not None
                # The selection and its coding were made at once.
                assert selection.get("creationDateTime") == inner.get("creationDateTime")
                coded.setdefault(name, []).append(selection.get("creationDateTime") or "")
        return dated, coded

    def stamp(moment: dt.datetime) -> str:
        return moment.replace(microsecond=0).isoformat() + "Z"

    closing = f"{closes.isoformat()}T00:00:00Z"
    dated, coded = export()
    assert dated == {
        name: stamp(added[name]) if name == "interview.txt" else closing for name in added
    }
    assert coded == {name: [stamp(made[name])] for name in added}
    # One trust's: its comments' codings, made before the close, are dated by the close.
    dated, coded = export(ra1)
    assert set(dated) == {n for n in added if " 1 " in n or " 2 " in n or " 3 " in n} | {
        "interview.txt"
    }
    assert coded == {
        name: [stamp(made[name]) if name == "interview.txt" else closing] for name in dated
    }
    # Once fieldwork has closed, a coding made after it keeps its own time.
    with store.session() as session:
        store.get_wave(session, "w").closes = dt.date(2015, 7, 31)
    dated, coded = export(ra1)
    assert coded == {name: [stamp(made[name])] for name in dated}
    assert {dated[n] for n in dated if n != "interview.txt"} == {"2015-07-31T00:00:00Z"}
    # A wave without dates: comments and, in a trust's export, their codings undated.
    with store.session() as session:
        wave = session.get(Wave, store.get_wave(session, "w").id)
        assert wave is not None
        wave.opens = wave.closes = None
    dated, coded = export(ra1)
    assert {n for n, d in dated.items() if d} == {"interview.txt"}
    assert {n for n, c in coded.items() if all(c)} == {"interview.txt"}
