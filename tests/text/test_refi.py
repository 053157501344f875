"""REFI-QDA: projects and codebooks valid against the official schemas, and a lossless
round trip sharedground -> .qdpx -> sharedground."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete
from text_helpers import (
    close_wave,
    comment_wave,
    in_group_order,
    late_returns,
    ready_to_code,
    sized_wave,
)

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
    close_wave(store, "w")
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
    # under the threshold of 5, its report withholds how many wrote, which its comments
    # would give: none goes (`TextDecision.listed`), and the project says why.
    assert done.sources == 0 and done.unlisted == ["w"]
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("project.qde"))
    refi.schema("Project-mrt2019.xsd").validate(root)
    assert root.find(".//q:TextSource", NS) is None
    description = root.findtext("q:Description", default="", namespaces=NS)
    assert "Left out: the comments of wave w." in description
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
    close_wave(store, "s")
    with store.session() as session:
        setup = ready_to_code(store, session, "s")
        finance = setup.codes["external_finance"]
        for source in setup.sources[::2]:
            coding.add(session, source, finance, setup.team, memo="Dr Smith on 01632 960123")
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
        # A threshold that withholds nothing: a trust's export carries the team's codings
        # of the codes its report prints, here all (this test is about their dates).
        wave.suppression_threshold = 0
        sources.add_comments(store, session, wave)
        sources.add_documents(store, session, [transcript], {"trust": "RA1"}, wave=wave)
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        team = coding.get_coder(session, "team")
        for source in sources.list_sources(session):
            coding.add(session, source, codes["external_finance"], team, start=0, end=5)
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
    # One trust's, while fieldwork runs: its comments dated by the close, and none of their
    # codings yet (what a trust's export carries of them follows the live release: roles
    # by the released commenters, codings once the final figures are in).
    dated, coded = export(ra1)
    assert set(dated) == {n for n in added if " 1 " in n or " 2 " in n or " 3 " in n} | {
        "interview.txt"
    }
    assert {dated[n] for n in dated if n != "interview.txt"} == {closing}
    assert coded == {"interview.txt": [stamp(made["interview.txt"])]}
    # Once fieldwork has closed, a coding made after it keeps its own time.
    with store.session() as session:
        store.get_wave(session, "w").closes = dt.date(2015, 7, 31)
    dated, coded = export(ra1)
    assert coded == {name: [stamp(made[name])] for name in dated}
    assert {dated[n] for n in dated if n != "interview.txt"} == {"2015-07-31T00:00:00Z"}
    # ... and one made before the close is dated by the close (its own time would say the
    # comment was in by then).
    with store.session() as session:
        for row in session.scalars(select(Coding)):
            row.created_at = dt.datetime(2015, 7, 1, 9, 30)
    dated, coded = export(ra1)
    assert {tuple(c) for n, c in coded.items() if n != "interview.txt"} == {
        ("2015-07-31T00:00:00Z",)
    }
    # A wave without dates: comments and, in a trust's export, their codings undated.
    with store.session() as session:
        wave = session.get(Wave, store.get_wave(session, "w").id)
        assert wave is not None
        wave.opens = wave.closes = None
    dated, coded = export(ra1)
    assert {n for n, d in dated.items() if d} == {"interview.txt"}
    assert {n for n, c in coded.items() if all(c)} == {"interview.txt"}


def _coded_in(path: Path) -> tuple[dict[str, dict[str, dict[str, set[str]]]], set[str], set[str]]:
    """What a reader of the project can count per code (by name): the respondents (cases)
    and the comments (sources) coded with it or a code under it (the codebook's hierarchy,
    as the tables count), per role group named ("" for the unnamed); the codes whose own
    codings are there; and the coders (users) named. Validated against the schema first."""
    root, _, _ = _parsed(path)
    names = {v.get("guid"): v.get("name") for v in root.iterfind(".//q:Variable", NS)}
    role_of: dict[str, str] = {}
    case_of: dict[str, str] = {}
    for case in root.iterfind(".//q:Cases/q:Case", NS):
        values = _values(case, names)
        for ref in case.iterfind("q:SourceRef", NS):
            case_of[ref.get("targetGUID", "")] = case.get("name", "")
            role_of[ref.get("targetGUID", "")] = values.get("role", "")
    above: dict[str, list[str]] = {}

    def walk(element: ET.Element, path: list[str]) -> None:
        for code in element.iterfind("q:Code", NS):
            name = code.get("name", "")
            above[code.get("guid", "")] = [name, *path]
            walk(code, [name, *path])

    codes_element = root.find(".//q:CodeBook/q:Codes", NS)
    assert codes_element is not None
    walk(codes_element, [])
    counted: dict[str, dict[str, dict[str, set[str]]]] = {}
    own: set[str] = set()
    for source in root.iterfind(".//q:Sources/q:TextSource", NS):
        guid = source.get("guid", "")
        for ref in source.iterfind(".//q:CodeRef", NS):
            chain = above[ref.get("targetGUID", "")]
            own.add(chain[0])
            for name in chain:
                cell = counted.setdefault(name, {}).setdefault(
                    role_of[guid], {"respondents": set(), "comments": set()}
                )
                cell["respondents"].add(case_of[guid])
                cell["comments"].add(guid)
    users = {u.get("name", "") for u in root.iterfind(".//q:Users/q:User", NS)}
    return counted, own, users


def _code_cells(
    store: Store, tmp_path: Path, cells: dict[str, dict[str, int]], *, closed: bool = True
) -> None:
    """Team codings in a wave of 4 trusts x 4 role groups of 12 commenters each: per code, in
    each cell the first `cells[code][trust/role]` (else `cells[code]["*"]`) commenters. With
    `closed` fieldwork is over (else it runs: the wave has no closing day)."""
    from disclosure_helpers import ROLES

    sized_wave(store, tmp_path, {t: dict.fromkeys(ROLES, 12) for t in ("RA1", "RB2", "RC3", "RD4")})
    if closed:
        close_wave(store, "s")
    with store.session() as session:
        setup = ready_to_code(store, session, "s")
        codes, team = setup.codes, setup.team
        ann = coding.get_coder(session, "ann")
        for i, source in in_group_order(setup.sources, lambda s: (s.attributes["trust"], s.role)):
            where = f"{source.attributes['trust']}/{source.role}"
            for code, counts in cells.items():
                if i < counts.get(where, counts["*"]):
                    coding.add(session, source, codes[code], team)
            # Another coder's coding, finance on nearly every comment: no team count.
            if i < 11:
                coding.add(session, source, codes["external_finance"], ann, memo="Dr Smith")


def test_one_trust_export_carries_only_codings_whose_counts_the_trusts_report_prints(
    store: Store, tmp_path: Path
) -> None:
    """Before, a trust's export carried every coding of its comments: a lead counting the
    team's codings per role group named (or over the trust) got counts its report withholds,
    1 of RA1's 12 medical directors coded with finance, 11 of 12 with views of managers.
    Now each count a reader can make of the codings is one the report prints, or the code's
    codings are not there: a theme's codings and its sub-codes' go together, when the report
    prints every one of them (the theme's count would bound a withheld sub-code's)."""
    md = "RA1/medical_director"
    _code_cells(
        store,
        tmp_path,
        {
            "variation": {"*": 0},  # set below: the parent's own codings
            "variation_between_trusts": {"*": 6},
            "variation_within_trust": {"*": 5},
            "public_esteem": {"*": 6},
            "external_context": {"*": 1},  # its own, on comments its sub-codes carry too
            "external_finance": {md: 1, "*": 6},
            "external_regulation": {"*": 6},
            "perceptions_of_managers": {md: 11, "*": 6},
        },
    )
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        codes = coding.codes_of(session, frame)
        team = coding.get_coder(session, "team")
        # The parent's own codings on a 7th commenter of each cell: 7 of 12 for the theme.
        seen: dict[str, int] = {}
        for source in sources.list_sources(session, wave=store.get_wave(session, "s")):
            where = f"{source.attributes['trust']}/{source.role}"
            seen[where] = seen.get(where, -1) + 1
            if seen[where] == 6:
                coding.add(session, source, codes["variation"], team)
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
        own_sources = [s.id for s in sources.list_sources(session, organisation_id=ra1)]
        ra1_team = sum(
            1 for r in coding.rows(session, frame, source_ids=own_sources) if r.coder == "team"
        )
    path = tmp_path / "ra1.qdpx"
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        done = refi.export_project(session, frame, path, organisation_id=ra1, store=store)
        printed = themes.table(
            store, session, store.get_wave(session, "s"), frame, organisation_id=ra1
        )
    counted, own, users = _coded_in(path)
    rows = {row.name: row for row in printed.rows}
    named = {g for g, n in zip(printed.groups, printed.commenters, strict=True) if n is not None}
    # Every group of 12 is named, medical directors included.
    assert named == set(printed.groups) and "medical_director" in named
    # The case this is about: the report withholds RA1's medical directors' cell of finance.
    finance, managers = rows["Finance"], rows["Views of managers"]
    md_column = printed.groups.index("medical_director")
    assert finance.cells[md_column].withheld and managers.cells[md_column].withheld
    for name, row in rows.items():
        found = counted.get(name, {})
        if not found:
            continue  # the code's codings (and its sub-codes') are not there
        # A code any of whose codings (or its sub-codes') are there has every figure a
        # reader could count printed: its cell of each group named and the trust's total.
        cells = dict(zip(printed.groups, row.cells, strict=True))
        assert not row.total.withheld, name
        assert all(not cells[g].withheld for g in named), name
        if name not in own:
            continue
        # Its own codings there: the counts are the printed ones, exactly.
        for g in named:
            got = found.get(g, {"respondents": set(), "comments": set()})
            assert (len(got["respondents"]), len(got["comments"])) == (
                cells[g].respondents,
                cells[g].comments,
            ), (name, g)
        everyone = set().union(*(c["respondents"] for c in found.values()))
        assert len(everyone) == row.total.respondents, name
    # Left out: finance (1 of 12) with its theme and the theme's other sub-code (the
    # theme's count less regulation's would be finance's), views of managers (11 of 12) with
    # its theme; and the codes no one in the trust carries (0 is withheld, as small).
    kept = {"The relationship varies", "Between trusts", "Within a trust", "Public esteem"}
    assert set(counted) == own == kept
    assert "Finance" not in counted and "Regulation and reports" not in counted
    # The team's coding only: no individual coder's (nor their memos). What was left out is
    # counted for the team running the export; the project says which codes (all of them,
    # coded in the trust or not: a code missing from the list would be one coded by none).
    assert users == {"team"} and done.coders_left_out == 11 * 4
    assert done.codings + done.codings_left_out == ra1_team
    names = {row.code: row.name for row in printed.rows}
    assert {names[c] for c in done.codes_left_out["s"]} == set(names.values()) - kept
    assert done.codes_left_out["s"]["external_finance"] == 1 + 3 * 6
    assert done.codes_left_out["s"]["medical_management"] == 0
    root, _, _ = _parsed(path)
    described = root.findtext("q:Description", namespaces=NS) or ""
    assert "Finance" in described and "Status of medical management" in described
    assert not any(name in described for name in kept)


def test_one_trust_export_keeps_every_coding_of_the_codes_its_report_prints(
    store: Store, tmp_path: Path
) -> None:
    """Where the trust's report prints every code's cells (6 of each group of 12 coded with
    each code under a theme), its export carries the team's every coding of its comments,
    counted as the report counts them; the whole study's export still carries every coder's."""
    leaves = [
        "variation_between_trusts",
        "variation_within_trust",
        "perceptions_of_managers",
        "perceptions_of_doctors",
        "medical_management",
        "external_finance",
        "external_regulation",
        "public_esteem",
        "local_initiatives",
        "change_since_2002",
    ]
    _code_cells(store, tmp_path, {code: {"*": 6} for code in leaves})
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        rb2 = store.organisation_ids(session, ["RB2"])["RB2"]
        own_sources = [s.id for s in sources.list_sources(session, organisation_id=rb2)]
        stored = coding.rows(session, frame, source_ids=own_sources)
        everything = coding.rows(session, frame)
    path = tmp_path / "rb2.qdpx"
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        done = refi.export_project(session, frame, path, organisation_id=rb2, store=store)
        printed = themes.table(
            store, session, store.get_wave(session, "s"), frame, organisation_id=rb2
        )
    assert done.codings == sum(1 for r in stored if r.coder == "team") == 6 * 4 * len(leaves)
    assert done.codes_left_out == {} and done.codings_left_out == 0
    counted, own, users = _coded_in(path)
    assert users == {"team"} and own == {row.name for row in printed.rows if row.code in leaves}
    for row in printed.rows:
        assert not row.total.withheld
        assert row.total.respondents == len(
            set().union(*(c["respondents"] for c in counted[row.name].values()))
        )
        for group, cell in zip(printed.groups, row.cells, strict=True):
            got = counted[row.name][group]
            assert (
                (len(got["respondents"]), len(got["comments"]))
                == (
                    cell.respondents,
                    cell.comments,
                )
                == (6, 6)
            )
    root, _, _ = _parsed(path)
    assert "Left out" not in (root.findtext("q:Description", namespaces=NS) or "")
    with store.session() as session:
        every = refi.export_project(
            session, frames.get(session, "dmr-themes"), tmp_path / "all.qdpx"
        )
    assert every.codings == len(everything) and every.coders_left_out == 0


def test_one_trust_export_waits_for_a_late_returns_batch(store: Store, tmp_path: Path) -> None:
    """After the close, a late return's comment is not in a trust's export until its batch
    is released, as it is in no text table (`final.released_ids`): before, the export held
    it, one more medical director than the report's count, with what they wrote."""
    import datetime as dt

    from sharedground.analysis.disclosure.final import closing_mark
    from sharedground.fieldwork.clock import study_today

    _code_cells(store, tmp_path, {"public_esteem": {"*": 6}})
    with store.session() as session:
        wave = store.get_wave(session, "s")
        wave.closes = study_today() - dt.timedelta(days=10)
        threshold = wave.suppression_threshold
        closing_mark(session, wave, study_today())
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]

    def late(first: int, n: int) -> None:
        with store.session() as session:
            wave = store.get_wave(session, "s")
            assert wave.closes is not None
            late_returns(session, wave, ra1, first, n, wave.closes, lambda i: f"Late {i}.")
            sources.add_comments(store, session, wave)
            frame = frames.get(session, "dmr-themes")
            team = coding.get_coder(session, "team")
            esteem = coding.codes_of(session, frame)["public_esteem"]
            for source in sources.list_sources(session, wave=wave):
                if source.content.startswith("Late"):
                    coding.add(session, source, esteem, team)

    def export() -> tuple[refi.Exported, set[str]]:
        path = tmp_path / "ra1.qdpx"
        with store.session() as session:
            done = refi.export_project(
                session, frames.get(session, "dmr-themes"), path, organisation_id=ra1, store=store
            )
        with zipfile.ZipFile(path) as archive:
            texts = {
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.startswith("sources/")
            }
        return done, texts

    late(0, 1)
    done, texts = export()
    assert done.sources == 4 * 12 and done.held_back == 1
    assert not any(text.startswith("Late") for text in texts)
    root, _, _ = _parsed(tmp_path / "ra1.qdpx")
    assert "late returns" in (root.findtext("q:Description", namespaces=NS) or "")
    # Its whole batch arrived: released together, in the tables and in the export.
    late(1, threshold - 1)
    done, texts = export()
    assert done.sources == 4 * 12 + threshold and done.held_back == 0
    assert sum(text.startswith("Late") for text in texts) == threshold


def test_what_a_trust_is_shown_follows_every_change_at_once(store: Store, tmp_path: Path) -> None:
    """The decisions behind `shown_in_trust` are remembered (a lead's coding page asks on
    every view) by a digest of what they are made from: a new coding, or a new threshold, is
    a new decision at once, never the one made before it."""
    from sharedground.text.disclosure import shown_in_trust

    _code_cells(store, tmp_path, {"public_esteem": {"*": 6}})

    def shown() -> tuple[frozenset[str], frozenset[str]]:
        with store.session() as session:
            wave = store.get_wave(session, "s")
            found = shown_in_trust(store, session, wave, "RA1", frames.get(session, "dmr-themes"))
            return found.roles, found.codes

    roles, codes = shown()
    assert codes == {"public_esteem"} and len(roles) == 4
    # Five more of RA1's medical directors coded: 11 of 12, withheld in the report.
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        esteem = coding.codes_of(session, frame)["public_esteem"]
        team = coding.get_coder(session, "team")
        ra1 = store.organisation_ids(session, ["RA1"])["RA1"]
        doctors = [
            s
            for s in sources.list_sources(session, organisation_id=ra1)
            if s.role == "medical_director"
        ]
        for source in doctors[6:11]:
            coding.add(session, source, esteem, team)
        added, team_id = [s.id for s in doctors[6:11]], team.id
    assert shown() == (roles, frozenset())
    with store.session() as session:
        session.execute(
            delete(Coding).where(Coding.source_id.in_(added), Coding.coder_id == team_id)
        )
    assert shown() == (roles, codes)
    # A threshold of 7: 6 of 12 coded leaves fewer than 7 not coded, nothing is shown.
    with store.session() as session:
        store.get_wave(session, "s").suppression_threshold = 7
    assert shown()[1] == frozenset()


def test_one_trust_export_during_fieldwork_follows_the_live_release_and_names_no_response(
    store: Store, tmp_path: Path
) -> None:
    """During fieldwork a trust's export carries the comments of the responses its live
    figures include (whole batches of the threshold, one behind), as its lead's coding pages
    show them; before, it carried every comment added, so two exports a completion apart gave
    that one colleague's comment. And no name in it carries the response's number in the
    store, which follows the order responses arrived (before: "s comment 151 ...", "s
    respondent 151"); the .qdpx and the CSV name sources alike."""
    import csv

    from click.testing import CliRunner
    from sqlalchemy import select

    from sharedground.analysis.disclosure.release import release
    from sharedground.cli import main
    from sharedground.store.schema import Response
    from sharedground.store.textschema import TextSource

    _code_cells(store, tmp_path, {"public_esteem": {"*": 6}}, closed=False)
    with store.session() as session:
        rd4 = store.organisation_ids(session, ["RD4"])["RD4"]
        received = sorted(
            session.scalars(select(Response.id).where(Response.organisation_id == rd4))
        )
        response_of = {
            s.guid: s.response_id
            for s in session.scalars(select(TextSource).where(TextSource.organisation_id == rd4))
        }
        threshold = store.get_wave(session, "s").suppression_threshold
    # RD4's responses arrived last: their numbers in the store are all above its count.
    assert min(received) > len(received) == 48
    path = tmp_path / "rd4.qdpx"
    with store.session() as session:
        done = refi.export_project(
            session, frames.get(session, "dmr-themes"), path, organisation_id=rd4, store=store
        )
    live = release(len(received), threshold, False)
    assert done.sources == live.shown == 40 and done.held_back == len(received) - live.shown
    root, cases, found = _parsed(path)
    exported = [
        (element.get("name", ""), response_of[element.get("guid", "")])
        for element in root.iterfind(".//q:Sources/q:TextSource", NS)
    ]
    # The first responses received, in whole batches: those the trust's live results read.
    assert sorted(r for _, r in exported) == received[: live.shown]
    ids = {str(i) for i in received}
    for name in [*cases, *found]:
        assert not set(name.split()) & ids, name
    # Respondents are numbered 1..n in an order that is not the order they answered in.
    number = {name: int(name.split()[2]) for name, _ in exported}
    assert sorted(number.values()) == list(range(1, live.shown + 1))
    by_number = [r for _, r in sorted(exported, key=lambda pair: number[pair[0]])]
    assert by_number != sorted(by_number)
    assert set(cases) == {f"s respondent {n}" for n in number.values()}

    # The trust's CSV of codings: none while fieldwork runs (which codes a trust's outputs
    # carry follows the final figures; the decision behind it counts every stored response).
    out = tmp_path / "rd4.csv"
    url = store.engine.url.render_as_string(hide_password=False)
    ran = CliRunner().invoke(
        main,
        [
            *("text", "export", "--frame", "dmr-themes", "--format", "csv"),
            *("--out", str(out), "--trust", "RD4", "--database", url),
        ],
    )
    assert ran.exit_code == 0, ran.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == []
    assert "left out" in ran.output
