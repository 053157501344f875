"""Sources to code: a wave's free-text answers, and transcripts the team adds.

Text is anonymised as it comes in (`report.anonymise`: e-mail addresses, telephone and NHS
numbers, titled and gazetteer names) and stored that way, so that the offsets of every coding
count characters of the text that may later leave the system, and nothing that leaves can
carry what the anonymiser removes. Line ends are normalised to "\\n" for the same reason: a
span must mean the same characters in every tool.

A comment's case attributes are its respondent's role group, trust, mode and wave, and the
question it answers; never the respondent's key, which could identify them.
"""

from __future__ import annotations

import codecs
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sharedground.text.errors import TextError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store import Store, Wave
    from sharedground.store.textschema import TextSource

DOCUMENT_SUFFIXES = (".txt", ".md", ".docx")
#: Attributes a transcript may carry (`--attr NAME=VALUE`).
DOCUMENT_ATTRIBUTES = ("role", "trust", "date", "kind", "mode")


@dataclass(frozen=True)
class Added:
    added: int
    already: int
    #: Respondents of the wave who wrote any comment, and respondents in all.
    commenters: int = 0
    respondents: int = 0


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def clean(text: str) -> str:
    """The text as stored: line ends normalised, anonymised."""
    from sharedground.report.anonymise import anonymise

    return anonymise(normalise(text))


def add_comments(store: Store, session: Session, wave: Wave) -> Added:
    """Every non-empty answer to a text item of the wave becomes a source (once)."""
    from sqlalchemy import select

    from sharedground.instrument import TextItem
    from sharedground.store.schema import Organisation, Response
    from sharedground.store.textschema import TextSource

    instrument = store.instrument_of(wave)
    items = [item.id for item in instrument.items() if isinstance(item, TextItem)]
    seen = session.execute(
        select(TextSource.response_id, TextSource.item_id).where(
            TextSource.wave_id == wave.id, TextSource.kind == "comment"
        )
    )
    have = {(response_id, item) for response_id, item in seen}
    organisations = session.execute(select(Organisation.id, Organisation.code))
    codes = {ident: code for ident, code in organisations}
    added = already = respondents = 0
    commenters: set[int] = set()
    rows = session.execute(
        select(
            Response.id, Response.role, Response.organisation_id, Response.mode, Response.answers
        )
        .where(Response.wave_id == wave.id)
        .order_by(Response.id)
    )
    scanned = 0
    for response_id, role, organisation_id, mode, answers in rows:
        respondents += 1
        scanned = max(scanned, response_id)
        for item in items:
            value = answers.get(item)
            if not isinstance(value, str) or not value.strip():
                continue
            commenters.add(response_id)
            if (response_id, item) in have:
                already += 1
                continue
            trust = codes.get(organisation_id) if organisation_id is not None else None
            session.add(
                TextSource(
                    guid=str(uuid.uuid4()),
                    kind="comment",
                    name=f"{wave.name} comment {response_id} {item}",
                    wave_id=wave.id,
                    response_id=response_id,
                    item_id=item,
                    role=role,
                    organisation_id=organisation_id,
                    attributes={
                        "wave": wave.name,
                        "role": role,
                        "trust": trust,
                        "mode": mode,
                        "item": item,
                    },
                    content=clean(value),
                )
            )
            added += 1
    _mark_added(session, wave.id, scanned)
    session.flush()
    return Added(added, already, len(commenters), respondents)


#: The `setting` row holding the highest response of a wave `add_comments` has read.
ADDED_MARK = "comments-added:wave-{}"


def _mark_added(session: Session, wave_id: int, scanned: int) -> None:
    from sharedground.store.schema import Setting

    row = session.get(Setting, ADDED_MARK.format(wave_id))
    if row is None:
        session.add(Setting(name=ADDED_MARK.format(wave_id), value=str(scanned)))
    elif int(row.value) < scanned:
        row.value = str(scanned)


def comments_added_to(session: Session, wave_id: int) -> int:
    """The highest response of the wave whose comments (if it wrote any) are sources: every
    response up to it was read by `add_comments` (which reads the whole wave at once)."""
    from sqlalchemy import func, select

    from sharedground.store.schema import Setting
    from sharedground.store.textschema import TextSource

    row = session.get(Setting, ADDED_MARK.format(wave_id))
    # Sources added before the mark was kept: the highest response with one.
    highest = session.scalar(
        select(func.max(TextSource.response_id)).where(
            TextSource.wave_id == wave_id, TextSource.kind == "comment"
        )
    )
    return max(int(row.value) if row is not None else 0, int(highest or 0))


def read_document(path: Path) -> str:
    """The plain text of a transcript (.txt, .md in UTF-8 or UTF-16 with a BOM; .docx)."""
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise TextError(f"{path}: transcripts must be {', '.join(DOCUMENT_SUFFIXES)} files")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    if suffix == ".docx":
        return _docx_text(path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TextError(
            f"{path}: line {line}, byte {exc.start}: not UTF-8 text (unknown encoding); "
            "save the transcript as UTF-8 and add it again"
        ) from None


def _docx_text(path: Path) -> str:
    import zipfile

    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TextError(f"{path}: not a Word (.docx) document: {exc}") from None
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def parse_attributes(pairs: Iterable[str]) -> dict[str, str]:
    """`role=clinical_director` pairs; names outside DOCUMENT_ATTRIBUTES are refused."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise TextError(
                f"--attr {pair!r}: write NAME=VALUE, for example role=clinical_director"
            )
        if name not in DOCUMENT_ATTRIBUTES:
            raise TextError(
                f"--attr {pair!r}: unknown attribute {name!r} "
                f"(allowed: {', '.join(DOCUMENT_ATTRIBUTES)})"
            )
        found[name] = value.strip()
    return found


def add_documents(
    store: Store,
    session: Session,
    paths: Iterable[Path],
    attributes: Mapping[str, str],
    *,
    wave: Wave | None = None,
) -> list[TextSource]:
    """Add transcripts, all or none: every file is read before anything is written."""
    from sharedground.store.textschema import TextSource

    texts = [(path, clean(read_document(path))) for path in paths]
    for path, text in texts:
        if not text:
            raise TextError(f"{path}: the document holds no text")
    organisation_id = None
    if "trust" in attributes:
        organisation_id = store.organisation_ids(session, [attributes["trust"]])[
            attributes["trust"]
        ]
    added = []
    for path, text in texts:
        source = TextSource(
            guid=str(uuid.uuid4()),
            kind="transcript",
            name=path.name,
            wave_id=None if wave is None else wave.id,
            role=attributes.get("role"),
            organisation_id=organisation_id,
            attributes={**attributes, **({"wave": wave.name} if wave is not None else {})},
            content=text,
        )
        session.add(source)
        added.append(source)
    session.flush()
    return added


def list_sources(
    session: Session,
    *,
    wave: Wave | None = None,
    kind: str | None = None,
    organisation_id: int | None = None,
) -> list[TextSource]:
    from sqlalchemy import select

    from sharedground.store.textschema import TextSource

    query = select(TextSource).order_by(TextSource.id)
    if wave is not None:
        query = query.where(TextSource.wave_id == wave.id)
    if kind is not None:
        query = query.where(TextSource.kind == kind)
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    return list(session.scalars(query))


def get_source(session: Session, source_id: int) -> TextSource:
    from sharedground.store.textschema import TextSource

    found = session.get(TextSource, source_id)
    if found is None:
        raise TextError(f"no source {source_id} (`sharedground text list` shows them)")
    return found


def sample(
    session: Session, wave: Wave, size: int, seed: int, *, kind: str = "comment"
) -> list[TextSource]:
    """A seeded random sample of a wave's sources (the same seed, the same sample), by id."""
    import random

    found = list_sources(session, wave=wave, kind=kind)
    if size < 1:
        raise TextError("a sample needs at least one source")
    chosen = random.Random(seed).sample(found, min(size, len(found)))
    return sorted(chosen, key=lambda source: source.id)


def trust_id(session: Session, code: str | None) -> int | None:
    """The organisation id of a trust code (None for None); a TextError when it is unknown.

    Unlike `Store.organisation_ids`, never adds the code: a command that only reads must not
    leave a trust behind because of a typing slip.
    """
    from sqlalchemy import select

    from sharedground.store.schema import Organisation

    if code is None:
        return None
    found = session.scalar(select(Organisation.id).where(Organisation.code == code))
    if found is None:
        raise TextError(f"no trust {code!r} in the database")
    return found
