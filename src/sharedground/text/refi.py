"""REFI-QDA exchange: projects (.qdpx) and codebooks (.qdc) that NVivo, ATLAS.ti, MAXQDA and
QualCoder read, and reading their codings back.

A `.qdpx` is a zip archive of `project.qde` (XML in the namespace `urn:QDA-XML:project:1.0`)
and a `sources/` folder holding each text source as `<guid>.txt` (UTF-8), which the
project names as `internal://<guid>.txt`. What goes in:

* **Users**: the coders (by their GUID; never a respondent);
* **CodeBook**: the frame's codes with their hierarchy; a code's description and example
  become its `Description` ("...\\n\\nExample: ...");
* **Variables** and **Cases**: one case per respondent (their comments) or per transcript,
  with role group, trust, mode and wave (date for transcripts) as text variables, named
  like its sources (case "2015 respondent 3" holds "2015 comment 3 ...");
* **Sources**: one `TextSource` per comment or transcript, the question it answers as a
  variable, and one `PlainTextSelection` per coding (`startPosition`/`endPosition` in
  characters, the coder as `creatingUser`, the memo as its `Description`). Each source also
  carries its case's values as source variables of their own ("source role", ...):
  QualCoder's import reads a case's variables but not its `SourceRef`s, so without them a
  comment would reach QualCoder with no role group or trust (checked by opening an export
  in QualCoder; the variables are distinct from the case ones because QualCoder files a
  variable used by any case as a case attribute only).
* **Dates** (`creationDateTime`): a comment carries its wave's (the day fieldwork closed, or
  opened if it has no close), never when it was sent in or added (a lead who knows when a
  colleague answered could tell which comment is theirs); a transcript when the team added
  it; a selection and its coding when the coding was made, except that in a trust's export
  a comment's coding made before the close is dated by the close (it would say the comment
  was in by then), and carries no date when the wave has none.

Every file written is validated against the official schema shipped in `schemas/`
(`Project-mrt2019.xsd`, `Codebook.xsd`, MIT licence); a file read is validated before anything
is taken from it. Text leaves only as stored, that is anonymised. An export for one trust
(what its organisation lead gets) names a comment's role group only where the wave's text
decision prints the group's commenters in the trust's report (`text.disclosure`): a small
group stays unnamed, so no comment can be tied to the one or two people in it, and so does
every partner withheld with it, whose exact count would otherwise give the small group (or
another trust's) back. An unnamed group's comments lose their mode too, and memos are
anonymised. Case and source names carry the wave, a number and the question, never a role:
the response's number in the research team's export, and in a trust's a number of that
export alone in an order that says nothing of when anyone answered (`respondent_numbers`).

Codings, in an export for one trust (`for_trust`): the team's only (an individual coder's
would give the team's counts, give or take the disagreements), and of a comment only those
of codes whose every count a reader could make of them, the respondents and comments coded
per role group named and over the trust, the trust's report prints
(`text.disclosure.codes_shown_in_trust`: a theme and its sub-codes go together or not at
all); a transcript's, counted in no table, all. A late return's comment waits for its batch
as in every text table. The project's `Description` names the codes left out, never how many
codings (that is the count withheld).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sharedground import __version__
from sharedground.text.errors import TextError
from sharedground.text.frames import CodeDef, FrameDef

if TYPE_CHECKING:
    import xmlschema
    from sqlalchemy.orm import Session

    from sharedground.store import Store
    from sharedground.store.textschema import CodeFrame, TextSource
    from sharedground.text.coding import CodingRow
    from sharedground.text.disclosure import TrustShown
    from sharedground.text.released import CommentsShown

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = f"sharedground {__version__}"
_GUIDS = uuid.UUID("0c5a2f43-8d3e-4a51-9f0a-6b2f3e9d7c11")
_EXAMPLE = "\n\nExample: "
CASE_VARIABLES = ("role", "trust", "mode", "wave", "date")
#: The same values on each source (see the module's docstring: QualCoder drops the link from
#: a case to its sources).
SOURCE_VARIABLES = {name: f"source {name}" for name in CASE_VARIABLES}


@functools.cache
def schema(name: str) -> xmlschema.XMLSchema:
    """The official schema `Project-mrt2019.xsd` or `Codebook.xsd`, loaded once."""
    import xmlschema

    path = resources.files("sharedground.text.schemas") / name
    with resources.as_file(path) as real:
        return xmlschema.XMLSchema(str(real))


def validate(xml: bytes, name: str, where: str) -> None:
    """TextError naming `where`, the line and the schema's complaint, unless `xml` is valid."""
    import xmlschema

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise TextError(f"{where}: not well-formed XML: {exc}") from None
    errors = list(schema(name).iter_errors(root))
    if errors:
        first = errors[0]
        path = first.path if isinstance(first, xmlschema.XMLSchemaValidationError) else ""
        raise TextError(
            f"{where}: does not follow the REFI-QDA schema {name}"
            f"{f' at {path}' if path else ''}: {first.reason} "
            f"({len(errors)} problem(s) in all)"
        )


def _now() -> str:
    return _stamp(dt.datetime.now(dt.UTC))


def _stamp(moment: dt.datetime | dt.date) -> str:
    """An xsd:dateTime in UTC to the second; a date is its midnight. The store's times are
    naive UTC (`func.now()`)."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), dt.UTC)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _coded_at(
    session: Session, frame: CodeFrame, source_ids: list[int]
) -> dict[tuple[int, str, str, int | None, int | None], dt.datetime]:
    """When each coding was made, by (source, coder, code, start, end): one coding each."""
    from sqlalchemy import select

    from sharedground.store.textschema import Coder, Coding, TextCode

    found = session.execute(
        select(
            Coding.source_id, Coder.name, TextCode.key, Coding.start, Coding.end, Coding.created_at
        )
        .join(TextCode, TextCode.id == Coding.code_id)
        .join(Coder, Coder.id == Coding.coder_id)
        .where(TextCode.frame_id == frame.id, Coding.source_id.in_(source_ids))
    )
    return {(s, coder, code, a, b): when for s, coder, code, a, b, when in found}


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(_GUIDS, "/".join(str(p) for p in parts)))


def _sub(parent: ET.Element, tag: str, ns: str = PROJECT_NS, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)


def _description(code: CodeDef) -> str | None:
    if code.description and code.example:
        return code.description + _EXAMPLE + code.example
    return code.description or (_EXAMPLE.lstrip() + code.example if code.example else None)


def _codes_xml(parent: ET.Element, frame: FrameDef, codes: list[CodeDef], ns: str) -> None:
    for code in codes:
        element = _sub(parent, "Code", ns, guid=frame.guid_of(code), name=code.name)
        element.set("isCodable", "true")
        text = _description(code)
        if text:
            _sub(element, "Description", ns).text = text
        _codes_xml(element, frame, code.codes, ns)


def _to_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


# -- codebooks ---------------------------------------------------------------------------------


def codebook_xml(frame: FrameDef) -> bytes:
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN})
    _codes_xml(_sub(root, "Codes", CODEBOOK_NS), frame, frame.codes, CODEBOOK_NS)
    data = _to_bytes(root)
    validate(data, "Codebook.xsd", f"codebook of {frame.id}")
    return data


def write_codebook(frame: FrameDef, path: Path) -> None:
    path.write_bytes(codebook_xml(frame))


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "code_" + slug
    return slug[:64]


def _code_defs(elements: list[ET.Element], ns: str, used: set[str]) -> list[CodeDef]:
    codes = []
    for element in elements:
        name = element.get("name", "").strip() or "unnamed"
        key = _slug(name)
        base, n = key, 2
        while key in used:
            key, n = f"{base[:60]}_{n}", n + 1
        used.add(key)
        described = element.findtext(f"{{{ns}}}Description")
        description, example = described, None
        if described and _EXAMPLE.lstrip() in described:
            head, _, tail = described.partition(_EXAMPLE.lstrip())
            description, example = head.rstrip() or None, tail.strip() or None
        codes.append(
            CodeDef(
                id=key,
                name=name[:200],
                description=description,
                example=example,
                guid=element.get("guid", "").strip("{}").lower() or None,
                codes=_code_defs(element.findall(f"{{{ns}}}Code"), ns, used),
            )
        )
    return codes


def read_codebook(path: Path) -> FrameDef:
    """A frame from a `.qdc` codebook or the CodeBook of a `.qdpx` project, validated first."""
    if path.suffix.lower() == ".qdpx":
        data = _project_xml(path)
        validate(data, "Project-mrt2019.xsd", str(path))
        ns = PROJECT_NS
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise TextError(f"{path}: no such file") from None
        validate(data, "Codebook.xsd", str(path))
        ns = CODEBOOK_NS
    root = ET.fromstring(data)
    codes_element = root.find(f".//{{{ns}}}Codes")
    elements = [] if codes_element is None else codes_element.findall(f"{{{ns}}}Code")
    if not elements:
        raise TextError(f"{path}: the codebook holds no codes")
    frame_id = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-") or "imported"
    if not frame_id[0].isalpha():
        frame_id = "f-" + frame_id
    return FrameDef(
        id=frame_id[:64],
        version=1,
        title=f"Imported from {path.name}",
        codes=_code_defs(elements, ns, set()),
    )


# -- projects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    sources: int
    codings: int
    cases: int
    withheld_roles: int
    #: In a trust's export: the codes whose team codings are left out (the trust's report
    #: withholds a count of theirs or of a code in their theme), by wave name, with how
    #: many codings of each (0: none to leave).
    codes_left_out: dict[str, dict[str, int]] = field(default_factory=dict)
    #: In a trust's export: the codings of individual coders left out (the team's only go).
    coders_left_out: int = 0
    #: In a trust's export: comments left out until their response's batch is in the
    #: trust's figures (during fieldwork, or a late return after the close).
    held_back: int = 0
    #: In a trust's export: waves whose comments are not listed to the trust at all.
    unlisted: list[str] = field(default_factory=list)

    @property
    def codings_left_out(self) -> int:
        return sum(n for codes in self.codes_left_out.values() for n in codes.values())


@dataclass(frozen=True)
class TrustPart:
    """What of its trust's sources and codings a one-trust export carries (what its lead
    gets), per wave: the role groups named, the codes whose team codings go, the responses
    whose comments count (`text.disclosure.shown_in_trust`)."""

    trust: str
    shown: dict[int, TrustShown]
    #: Per wave, the comments the trust's lead may read (`text.released`): those of the
    #: responses its figures include, in whole batches (during fieldwork too).
    comments: dict[int, CommentsShown] = field(default_factory=dict)
    #: Per wave, whether the trust's comments go at all (`text.released.listed_to_lead`).
    listed_waves: dict[int, bool] = field(default_factory=dict)

    def role_named(self, source: TextSource) -> bool:
        """Whether the source's role group may be named: the role it was filed under and the
        one it carries (a transcript's, set by the team) are both checked."""
        if source.wave_id is None:
            return True  # in no wave's tables
        shown = self.shown.get(source.wave_id)
        roles = {
            str(role) for role in (source.role, source.attributes.get("role")) if role is not None
        }
        return shown is not None and roles <= shown.roles

    def listed(self, source: TextSource) -> bool:
        """A comment goes only where the wave's text decision lists the trust's comments to
        it (`TrustShown.listed`: its report prints its number of commenters), since its
        reader counts them, and the trust's commenters with them. A transcript always goes."""
        if source.response_id is None or source.wave_id is None:
            return True
        return self.listed_waves.get(source.wave_id, True)

    def counted(self, source: TextSource) -> bool:
        """A comment goes once its response is in the trust's figures, in whole batches as
        the coding pages show it (`text.released`): during fieldwork the trust's released
        responses, after the close the final ones (a late return's waits for its batch). A
        transcript always goes."""
        if source.response_id is None or source.wave_id is None:
            return True
        comments = self.comments.get(source.wave_id)
        return comments is not None and comments.shows(source.response_id)

    def code_goes(self, source: TextSource, coder: str, code: str) -> bool:
        """The team's codings go, of a code `text.disclosure.codes_shown_in_trust` allows
        (on a comment; on a transcript, counted in no table, all); no individual coder's,
        which would tell the team's count give or take the disagreements."""
        from sharedground.store.textschema import TEAM_CODER

        if coder != TEAM_CODER:
            return False
        if source.response_id is None:
            return True
        shown = self.shown.get(source.wave_id) if source.wave_id is not None else None
        return shown is not None and code in shown.codes


@dataclass(frozen=True)
class ForTrust:
    """A one-trust export's sources and codings (`for_trust`), and what was left out."""

    part: TrustPart
    sources: list[TextSource]
    codings: list[CodingRow]
    #: The codes whose team codings are left out, by wave name, with how many codings.
    codes_left_out: dict[str, dict[str, int]]
    #: Individual coders' codings left out.
    coders_left_out: int
    #: Comments left out because their response is not yet in the trust's figures (during
    #: fieldwork, or a late return waiting for its batch).
    held_back: int
    #: Waves whose comments are not listed to the trust at all (`TrustPart.listed`).
    unlisted: list[str] = field(default_factory=list)


def for_trust(
    store: Store,
    session: Session,
    frame: CodeFrame,
    found: Sequence[TextSource],
    organisation_id: int,
    today: dt.date | None = None,
) -> ForTrust:
    """What of `found` (the trust's sources) and their codings with `frame` an export for
    one trust carries: for each wave, what its text decision prints in the trust's row
    (`text.disclosure.shown_in_trust`): the comments it counts, the team's codings of the
    codes whose every count it prints."""
    from sharedground.fieldwork.clock import study_today
    from sharedground.store.schema import Organisation, Wave
    from sharedground.store.textschema import TEAM_CODER
    from sharedground.text import coding
    from sharedground.text.disclosure import shown_in_trust
    from sharedground.text.released import comments_shown, listed_to_lead, live_roles

    organisation = session.get(Organisation, organisation_id)
    trust = "" if organisation is None else organisation.code
    shown: dict[int, TrustShown] = {}
    comments: dict[int, CommentsShown] = {}
    names: dict[int, str] = {}
    for wave_id in sorted({s.wave_id for s in found if s.wave_id is not None}):
        wave = session.get(Wave, wave_id)
        assert wave is not None
        # The decision first: it reads (and may mark) the close in a session of its own.
        shown[wave_id] = shown_in_trust(store, session, wave, trust, frame)
        comments[wave_id] = comments_shown(session, wave, trust, today or study_today())
        names[wave_id] = wave.name
    lists = {w: listed_to_lead(session, w, comments[w], shown[w].listed) for w in sorted(comments)}
    for wave_id, now in comments.items():
        if now.live is not None:
            # While the comments follow the live release, what they carry does too: roles
            # named by the released commenters alone, and no codings (the decision behind
            # them counts every stored response, so it could move by one respondent).
            shown[wave_id] = dataclasses.replace(
                shown[wave_id],
                roles=live_roles(session, wave_id, now),
                codes=frozenset(),
            )
    part = TrustPart(trust, shown, comments, lists)
    listed = [s for s in found if part.listed(s)]
    unlisted = sorted(names[w] for w, one in lists.items() if not one)
    kept = [s for s in listed if part.counted(s)]
    by_id = {s.id: s for s in kept}
    codings = []
    # Every code the rule leaves out, whether or not the trust has codings of it: a code
    # missing from the list would say that its withheld count is 0.
    left: dict[str, dict[str, int]] = {}
    for wave_id in sorted({s.wave_id for s in kept if s.response_id is not None and s.wave_id}):
        out = [code for code in shown[wave_id].frame_codes if code not in shown[wave_id].codes]
        if out:
            left[names[wave_id]] = dict.fromkeys(out, 0)
    coders = 0
    for row in coding.rows(session, frame, source_ids=list(by_id)):
        source = by_id[row.source_id]
        if part.code_goes(source, row.coder, row.code):
            codings.append(row)
        elif row.coder != TEAM_CODER:
            coders += 1
        else:
            wave_name = names.get(source.wave_id, "") if source.wave_id is not None else ""
            codes = left.setdefault(wave_name, {})
            codes[row.code] = codes.get(row.code, 0) + 1
    return ForTrust(part, kept, codings, left, coders, len(listed) - len(kept), unlisted)


def export_project(
    session: Session,
    frame: CodeFrame,
    path: Path,
    *,
    wave_id: int | None = None,
    organisation_id: int | None = None,
    name: str = "sharedground",
    store: Store | None = None,
) -> Exported:
    """Write the frame's codes, the sources and every coder's codings as a validated .qdpx.

    With `organisation_id` (an export for one trust, what its lead gets), `store` is needed:
    what goes is `for_trust`'s (the comments its wave's text decision counts, the team's
    codings of the codes whose counts it prints in the trust); the role groups it withholds
    in the trust are left unnamed (`TrustPart.role_named`), with the mode of their
    comments; memos are anonymised; the project's description says what was left out.
    """
    from sqlalchemy import select

    from sharedground.report.anonymise import anonymise
    from sharedground.store.schema import Wave
    from sharedground.store.textschema import Coder, TextSource
    from sharedground.text import coding
    from sharedground.text.frames import stored_def

    frame_def = stored_def(frame)
    query = select(TextSource).order_by(TextSource.id)
    if wave_id is not None:
        query = query.where(TextSource.wave_id == wave_id)
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    found = list(session.scalars(query))
    one_trust = organisation_id is not None
    chosen: ForTrust | None = None
    if organisation_id is not None:
        if store is None:
            raise TypeError("an export for one trust needs the store (its wave's decision)")
        chosen = for_trust(store, session, frame, found, organisation_id)
        found, codings = chosen.sources, chosen.codings
    else:
        codings = coding.rows(session, frame, source_ids=[s.id for s in found])
    coded_at = _coded_at(session, frame, [s.id for s in found])
    waves = {w.id: w for w in session.scalars(select(Wave))}

    def wave_day(source: TextSource) -> dt.date | None:
        wave = waves.get(source.wave_id) if source.wave_id is not None else None
        return None if wave is None else wave.closes or wave.opens

    def source_date(source: TextSource) -> str | None:
        # A comment is dated by its wave (the day fieldwork closed), never by when it was
        # sent in or added: a lead who knows when a colleague answered could tell theirs.
        # A transcript by when the team added it.
        if source.response_id is None:
            return _stamp(source.created_at) if source.created_at else None
        day = wave_day(source)
        return None if day is None else _stamp(day)

    def coding_date(source: TextSource, row: coding.CodingRow) -> str | None:
        when = coded_at.get((source.id, row.coder, row.code, row.start, row.end))
        if when is None or not one_trust or source.response_id is None:
            return None if when is None else _stamp(when)
        # A comment coded during fieldwork was sent in by then: a trust's export dates such
        # codings by the day fieldwork closed (none, if the wave has no dates), so that no
        # coding bounds when a respondent answered.
        day = wave_day(source)
        if day is None:
            return None
        closed = dt.datetime.combine(day, dt.time())
        return _stamp(max(when, closed))

    coders = {c.name: c for c in session.scalars(select(Coder))}
    code_guid = {code.key: code.guid for code in frame.codes}

    ET.register_namespace("", PROJECT_NS)
    root = ET.Element(
        f"{{{PROJECT_NS}}}Project",
        {"name": name, "origin": ORIGIN, "creationDateTime": _now()},
    )
    used_coders = sorted({row.coder for row in codings})
    if used_coders:
        users = _sub(root, "Users")
        for coder_name in used_coders:
            _sub(users, "User", guid=coders[coder_name].guid, name=coder_name)
    _codes_xml(_sub(_sub(root, "CodeBook"), "Codes"), frame_def, frame_def.codes, PROJECT_NS)

    # Cases: one per respondent (a response may hold several comments) or per transcript,
    # named as its sources are, so that a tool which drops the link still shows it.
    cases: dict[str, tuple[str, dict[str, str], list[str]]] = {}
    values_of: dict[int, dict[str, str]] = {}
    number = respondent_numbers(found) if one_trust else {}
    for source in found:
        key = (
            f"r{number.get(source.id, source.response_id)}"
            if source.response_id is not None
            else f"s{source.id}"
        )
        values = {
            v: str(source.attributes[v])
            for v in CASE_VARIABLES
            if source.attributes.get(v) is not None
        }
        if "role" in values and chosen is not None and not chosen.part.role_named(source):
            del values["role"]
            # The reader may know by which modes each group answered (the survey's tables
            # by mode say so): a comment's mode could name the group left unnamed.
            values.pop("mode", None)
        values_of[source.id] = values
        label = (
            source.name
            if source.response_id is None
            else f"{values.get('wave', '')} respondent "
            f"{number.get(source.id, source.response_id)}".strip()
        )
        cases.setdefault(key, (label, values, []))[2].append(source.guid)
    # Two transcripts may share a file name; QualCoder keeps one case per name.
    seen: dict[str, int] = {}
    for key, (label, values, guids) in list(cases.items()):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            cases[key] = (f"{label} ({seen[label]})", values, guids)
    # Only the variables some case or source has a value of (an empty one only puzzles).
    used = {name for values in values_of.values() for name in values}
    names = [v for v in CASE_VARIABLES if v in used]
    names += [SOURCE_VARIABLES[v] for v in CASE_VARIABLES if v in used]
    if any(source.item_id for source in found):
        names.append("item")
    variables = {name: _guid("variable", name) for name in names}
    if variables:
        variables_element = _sub(root, "Variables")
        for variable, guid in variables.items():
            _sub(variables_element, "Variable", guid=guid, name=variable, typeOfVariable="Text")
    if cases:
        cases_element = _sub(root, "Cases")
        for key, (label, values, guids) in cases.items():
            case = _sub(cases_element, "Case", guid=_guid("case", key), name=label)
            for variable, value in values.items():
                _value(case, variables[variable], value)
            for guid in guids:
                _sub(case, "SourceRef", targetGUID=guid)

    by_source: dict[int, list[coding.CodingRow]] = {}
    for row in codings:
        by_source.setdefault(row.source_id, []).append(row)
    files: dict[str, str] = {}
    if found:
        sources_element = _sub(root, "Sources")
        for source in found:
            element = _sub(
                sources_element,
                "TextSource",
                guid=source.guid,
                name=_source_name(source, number),
                plainTextPath=f"internal://{source.guid}.txt",
            )
            dated = source_date(source)
            if dated:
                element.set("creationDateTime", dated)
            files[f"sources/{source.guid}.txt"] = source.content
            length = len(source.content)
            for index, row in enumerate(by_source.get(source.id, [])):
                coder_guid = coders[row.coder].guid
                start = 0 if row.start is None else row.start
                end = length if row.end is None else row.end
                selection = _sub(
                    element,
                    "PlainTextSelection",
                    guid=_guid("selection", source.guid, row.coder, row.code, start, end, index),
                    startPosition=str(start),
                    endPosition=str(end),
                    creatingUser=coder_guid,
                )
                made = coding_date(source, row)
                if made:
                    selection.set("creationDateTime", made)
                if row.memo:
                    # A coder's note leaves with a trust's export: anonymised like the text.
                    memo = anonymise(row.memo) if one_trust else row.memo
                    _sub(selection, "Description").text = memo
                coded = _sub(
                    selection,
                    "Coding",
                    guid=_guid("coding", source.guid, row.coder, row.code, start, end, index),
                    creatingUser=coder_guid,
                )
                if made:
                    coded.set("creationDateTime", made)
                _sub(coded, "CodeRef", targetGUID=code_guid[row.code])
            for variable, value in values_of[source.id].items():
                _value(element, variables[SOURCE_VARIABLES[variable]], value)
            if source.item_id:
                _value(element, variables["item"], source.item_id)
    if chosen is not None:
        _sub(root, "Description").text = _left_out(
            chosen, {c.id: c.name for c, _ in frame_def.walk()}
        )
    data = _to_bytes(root)
    validate(data, "Project-mrt2019.xsd", f"project for {path}")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", data)
        for member, content in files.items():
            archive.writestr(member, content.encode("utf-8"))
    if chosen is None:
        return Exported(len(found), len(codings), len(cases), 0)
    roles_withheld = sum(
        1 for s in found if (s.attributes.get("role") or s.role) and not chosen.part.role_named(s)
    )
    return Exported(
        len(found),
        len(codings),
        len(cases),
        roles_withheld,
        chosen.codes_left_out,
        chosen.coders_left_out,
        chosen.held_back,
        chosen.unlisted,
    )


def respondent_numbers(found: Sequence[TextSource]) -> dict[int, int]:
    """In a trust's export, each comment's respondent numbered 1, 2, ... in an order that
    says nothing of when they answered: by the GUID of their first comment (random, made
    when the comment was added). The response's number (the store's, in the order received)
    would tell a lead who knows when a colleague answered which comments are theirs.

    Numbers are of this export alone: a later one, with more responses released, numbers
    again. A tool follows a source across exports by its GUID, which never changes.
    """
    first: dict[int, str] = {}
    for source in found:
        if source.response_id is not None:
            guid = first.get(source.response_id)
            first[source.response_id] = source.guid if guid is None else min(guid, source.guid)
    order = {r: n for n, r in enumerate(sorted(first, key=lambda r: first[r]), start=1)}
    return {s.id: order[s.response_id] for s in found if s.response_id is not None}


def _source_name(source: TextSource, number: dict[int, int]) -> str:
    """The source's name; in a trust's export a comment's carries its respondent's number
    of that export (`respondent_numbers`), never the response's."""
    if source.id not in number:
        return source.name
    wave = source.attributes.get("wave") or ""
    return f"{wave} comment {number[source.id]} {source.item_id or ''}".strip()


def trust_source_names(found: Sequence[TextSource]) -> dict[int, str]:
    """Each source's name as a trust's export gives it (by source id): a comment's by its
    respondent's number of the export, never the response's (`respondent_numbers`)."""
    number = respondent_numbers(found)
    return {source.id: _source_name(source, number) for source in found}


def _left_out(chosen: ForTrust, names: dict[str, str]) -> str:
    """The project's description in a trust's export: what it carries and what not (never
    how many codings were left out, which would be the very count withheld)."""
    said = [
        f"An export for {chosen.part.trust or 'one trust'}: the team's coding only, and a "
        "comment's role group only where the trust's report prints the group's number of "
        "commenters."
    ]
    for wave_name, codes in sorted(chosen.codes_left_out.items()):
        order = {key: i for i, key in enumerate(names)}
        listed = ", ".join(
            names.get(code, code) for code in sorted(codes, key=lambda c: order.get(c, len(order)))
        )
        said.append(
            f"Left out{f' in wave {wave_name}' if wave_name else ''}: the codings of "
            f"{listed}: the trust's report withholds a count of theirs, or of a code in "
            "their theme, which the codings would let a reader make."
        )
    for wave_name in chosen.unlisted:
        said.append(
            f"Left out: the comments of wave {wave_name}. Counted, they would give the "
            "number of the trust's commenters, which its report withholds (fewer wrote "
            "than the threshold, or the count protects a small group elsewhere)."
        )
    if chosen.held_back:
        said.append(
            "Comments join in batches, as the trust's figures take in responses: during "
            "fieldwork those of the responses its live figures include, and after it late "
            "returns in whole batches. The comments of the others are left out until their "
            "batch is released."
        )
    return "\n\n".join(said)


def _value(parent: ET.Element, variable_guid: str, value: str) -> None:
    element = _sub(parent, "VariableValue")
    _sub(element, "VariableRef", targetGUID=variable_guid)
    _sub(element, "TextValue").text = value


def _project_xml(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read("project.qde")
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    except zipfile.BadZipFile:
        raise TextError(f"{path}: not a .qdpx project (not a zip archive)") from None
    except KeyError:
        raise TextError(f"{path}: not a .qdpx project (no project.qde inside)") from None


@dataclass(frozen=True)
class Imported:
    codings: int
    coders: list[str]


def import_project(session: Session, frame: CodeFrame, path: Path) -> Imported:
    """Take back the codings of a .qdpx, matched to the same sources and codes; all or none.

    Sources are matched by GUID, then by name; their text in the project must be the stored
    text, or the offsets would point elsewhere. Codes are matched by GUID, then by name.
    Users become coders by name (a user without one by GUID). Nothing is written unless
    every coding can be placed.
    """
    from sqlalchemy import select

    from sharedground.store.textschema import Coder, TextSource
    from sharedground.text import coding

    data = _project_xml(path)
    validate(data, "Project-mrt2019.xsd", str(path))
    root = ET.fromstring(data)
    ns = {"q": PROJECT_NS}
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())

        def text_of(element: ET.Element) -> str | None:
            inline = element.findtext("q:PlainTextContent", namespaces=ns)
            if inline is not None:
                return inline
            where = element.get("plainTextPath", "")
            if where.startswith("internal://"):
                member = "sources/" + where.removeprefix("internal://")
                if member in members:
                    return archive.read(member).decode("utf-8")
            return None

        texts = {
            element.get("guid", ""): text_of(element)
            for element in root.iterfind(".//q:Sources/q:TextSource", ns)
        }

    codes = coding.codes_of(session, frame)
    by_guid = {code.guid.lower(): code for code in codes.values()}
    by_name = {code.name: code for code in codes.values()}
    project_codes = {
        element.get("guid", "").strip("{}").lower(): element.get("name", "")
        for element in root.iterfind(".//q:CodeBook//q:Code", ns)
    }
    users = {
        element.get("guid", "").strip("{}").lower(): element.get("name")
        or element.get("guid")
        or ""
        for element in root.iterfind(".//q:Users/q:User", ns)
    }
    known_coders = {c.guid.lower(): c.name for c in session.scalars(select(Coder))}

    stored = list(session.scalars(select(TextSource)))
    source_by_guid = {s.guid.lower(): s for s in stored}
    source_by_name = {s.name: s for s in stored}
    planned: list[tuple[str, TextSource, ET.Element, str, int | None, int | None, str | None]] = []
    for element in root.iterfind(".//q:Sources/q:TextSource", ns):
        guid = element.get("guid", "").strip("{}").lower()
        name = element.get("name", "")
        source = source_by_guid.get(guid) or source_by_name.get(name)
        selections = element.findall("q:PlainTextSelection", ns)
        whole = element.findall("q:Coding", ns)
        if not selections and not whole:
            continue
        where = f"{path}: TextSource {name or guid}"
        if source is None:
            raise TextError(f"{where}: no stored source has this GUID or name")
        text = texts.get(element.get("guid", ""))
        if text is not None and text.replace("\r\n", "\n") != source.content:
            raise TextError(
                f"{where}: its text differs from stored source {source.id}, so its offsets "
                "cannot be trusted; code the text as exported"
            )
        for selection in selections:
            start: int | None = int(selection.get("startPosition", "0"))
            end: int | None = int(selection.get("endPosition", "0"))
            memo = selection.findtext("q:Description", namespaces=ns)
            for coded in selection.findall("q:Coding", ns):
                user = coded.get("creatingUser") or selection.get("creatingUser") or ""
                planned.append((where, source, coded, user, start, end, memo))
        for coded in whole:
            planned.append(
                (where, source, coded, coded.get("creatingUser") or "", None, None, None)
            )

    resolved = []
    for where, source, coded, user, start, end, memo in planned:
        ref = coded.find("q:CodeRef", ns)
        target = "" if ref is None else ref.get("targetGUID", "").strip("{}").lower()
        code = by_guid.get(target) or by_name.get(project_codes.get(target, ""))
        if code is None:
            label = project_codes.get(target, target)
            raise TextError(
                f"{where}: code {label!r} is not in frame {frame.key}@{frame.version}; "
                "import the project's codebook as a frame first (`sharedground codes import`)"
            )
        user_guid = user.strip("{}").lower()
        coder_name = known_coders.get(user_guid) or users.get(user_guid) or "imported"
        try:
            span = coding.check_span(source, start, end)
        except TextError as exc:
            raise TextError(f"{where}: {exc}") from None
        resolved.append((source, code, coder_name, span, memo))
    names: list[str] = []
    for source, code, coder_name, (first, last), memo in resolved:
        coder = coding.get_coder(session, coder_name)
        coding.add(session, source, code, coder, start=first, end=last, memo=memo)
        if coder_name not in names:
            names.append(coder_name)
    return Imported(len(resolved), names)
