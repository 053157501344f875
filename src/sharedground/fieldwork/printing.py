"""Printed questionnaires: one PDF per person drawn, and one merged PDF for the mailing house.

Each person's pack is a covering letter (name, address, serial, QR code) and the
questionnaire drawn from the wave's own instrument definition: tick boxes for every
answer, "pick up to three" where the question says so, and boxes for comments. The serial
is printed in the header of every page, so that loose pages can be matched up, and the QR
code holds the address of the data-entry page for that serial.

Layout is the slow part (seconds per questionnaire with WeasyPrint), so the letter and the
questionnaire are laid out once per run, and per person only two light pages of absolutely
placed blocks (address, date, salutation, serial and QR code) are laid out, a chunk of
people per WeasyPrint run. pypdf then composes each person's pages from shared Form
XObjects (see `_Stamper`). Chunks run in parallel worker processes.

Before anything is laid out, every address is checked again against the envelope window
(`envelope`): it may have been imported before that check existed, or changed since. One
that would not show whole stops the run, naming the contact and serial.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import segno

from sharedground.fieldwork import envelope
from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.postal import PostalError, sampled_contacts
from sharedground.instrument import (
    GRID_VALUES,
    LIKERT_LABELS,
    GridItem,
    Instrument,
    LikertItem,
    MultiItem,
    RatingItem,
    SingleItem,
    TextItem,
    loads,
)
from sharedground.store import Store

CHUNK = 50
ENTRY_PATH = "/admin/paper/"
MERGED_NAME = "mailing-house.pdf"
LETTER_INTRO = (
    "We are asking the leaders of NHS organisations, doctors and managers alike, how doctors "
    "and managers work together. Your answers will help organisations see where working "
    "relationships are strong and where they could improve."
)


@dataclass(frozen=True)
class Person:
    serial: str
    name: str | None
    address: str
    qr: str


def entry_url(base_url: str, serial: str) -> str:
    """The data-entry page a printed QR code points at."""
    return f"{base_url.rstrip('/')}{ENTRY_PATH}{serial}"


def qr_data_uri(text: str) -> str:
    """A QR code (error correction M, so a crease or a stamp does not defeat it) as a PNG.

    A bitmap rather than SVG: a PDF draws it as one image instead of hundreds of paths,
    which makes both the layout and the files several times faster and smaller.
    """
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=8, border=2)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def blocks(instrument: Instrument) -> list[dict[str, Any]]:
    """The questionnaire as printable blocks, section by section."""
    sections = []
    for section in instrument.sections:
        out: list[dict[str, Any]] = []
        for item in section.items:
            if isinstance(item, LikertItem):
                last = out[-1] if out else None
                if last is not None and last.get("likert"):
                    last["rows"].append(item.text)
                else:
                    labels = list(LIKERT_LABELS.values())
                    out.append(
                        {
                            "kind": "scale",
                            "likert": True,
                            "text": None,
                            "labels": labels,
                            "rows": [item.text],
                        }
                    )
            elif isinstance(item, RatingItem):
                labels = [str(v) for v in range(item.min, item.max + 1)]
                labels[0] = f"{labels[0]} {item.low_label}"
                labels[-1] = f"{labels[-1]} {item.high_label}"
                out.append({"kind": "scale", "text": item.text, "labels": labels, "rows": [""]})
            elif isinstance(item, GridItem):
                out.append(
                    {
                        "kind": "scale",
                        "text": item.text,
                        "labels": list(GRID_VALUES.values()),
                        "rows": [o.label for o in item.options],
                    }
                )
            elif isinstance(item, SingleItem):
                out.append(
                    {
                        "kind": "options",
                        "text": item.text,
                        "hint": "tick one",
                        "labels": [o.label for o in item.options],
                    }
                )
            elif isinstance(item, MultiItem):
                hint = (
                    f"pick up to {_number(item.max_choices)}"
                    if item.max_choices
                    else "tick all that apply"
                )
                labels = [o.label for o in item.options]
                if item.none_label:
                    labels.append(item.none_label)
                out.append({"kind": "options", "text": item.text, "hint": hint, "labels": labels})
            elif isinstance(item, TextItem):
                out.append({"kind": "text", "text": item.text, "short": item.max_length <= 200})
        sections.append({"title": section.title, "intro": section.intro, "blocks": out})
    return sections


def _number(n: int) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    return words.get(n, str(n))


def _environment(templates: str | Path | None) -> jinja2.Environment:
    builtin = str(resources.files("sharedground.fieldwork") / "templates" / "postal")
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(builtin))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined
    )


@dataclass(frozen=True)
class PrintJob:
    """Everything a worker needs for one chunk of people (picklable)."""

    personal_template: str
    people: list[tuple[str, str | None, str]]  # serial, name, address
    context: dict[str, Any]
    shared: bytes  # the letter page, then the questionnaire pages
    base_url: str
    out: str
    part: str
    templates: str | None


def _render_chunk(job: PrintJob) -> list[str]:
    """Lay out the chunk's personal pages once; write each person's PDF. Returns the files."""
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    people = [
        Person(serial, name, address, qr_data_uri(entry_url(job.base_url, serial)))
        for serial, name, address in job.people
    ]
    template = _environment(job.templates).get_template(job.personal_template)
    html = template.render(people=people, **job.context)
    personal = PdfReader(io.BytesIO(HTML(string=html, base_url=".").write_pdf()))
    if len(personal.pages) != 2 * len(people):
        raise PostalError(
            f"the personal template made {len(personal.pages)} pages for {len(people)} people; "
            "it must make two per person (letter block, then stamp)"
        )
    shared = PdfReader(io.BytesIO(job.shared))
    chunk = _Stamper(PdfWriter(), shared)
    files = []
    for i, person in enumerate(people):
        letter_block, stamp = personal.pages[2 * i], personal.pages[2 * i + 1]
        own = _Stamper(PdfWriter(), shared)
        own.add(letter_block, stamp)
        own.writer.add_metadata({"/Title": f"Questionnaire {person.serial}"})
        path = Path(job.out) / f"{person.serial}.pdf"
        with path.open("wb") as handle:
            own.writer.write(handle)
        own.writer.close()
        chunk.add(letter_block, stamp)
        files.append(str(path))
    with (Path(job.out) / job.part).open("wb") as handle:
        chunk.writer.write(handle)
    chunk.writer.close()
    return files


class _Stamper:
    """Builds packs in one PDF from shared pages and one personal page per person.

    The letter and questionnaire pages become Form XObjects, added to the file once; each
    person's letter draws the letter with their letter block over it, and each of their
    questionnaire pages draws the questionnaire page with their stamp (serial, QR code).
    Nothing is laid out or parsed per person, and a merged file holds the shared pages
    once, however many people it has.
    """

    def __init__(self, writer: Any, shared: Any) -> None:
        self.writer = writer
        self.pages = [(self._form(page), page.mediabox) for page in shared.pages]

    def _form(self, page: Any) -> Any:
        from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

        contents = page.get_contents()
        form = DecodedStreamObject()
        form.set_data(contents.get_data() if contents is not None else b"")
        box = page.mediabox
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(
                    [
                        FloatObject(box.left),
                        FloatObject(box.bottom),
                        FloatObject(box.right),
                        FloatObject(box.top),
                    ]
                ),
                NameObject("/Resources"): page["/Resources"].get_object().clone(self.writer),
            }
        )
        return self.writer._add_object(form)

    def add(self, letter_block: Any, stamp: Any) -> None:
        from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

        block, mark = self._form(letter_block), self._form(stamp)
        for index, (form, box) in enumerate(self.pages):
            page = self.writer.add_blank_page(width=box.width, height=box.height)
            page[NameObject("/Resources")] = DictionaryObject(
                {
                    NameObject("/XObject"): DictionaryObject(
                        {NameObject("/F"): form, NameObject("/P"): block if index == 0 else mark}
                    )
                }
            )
            content = DecodedStreamObject()
            # The letter (first shared page) gets the letter block; the questionnaire pages
            # the stamp.
            content.set_data(b"q /F Do Q q /P Do Q")
            page[NameObject("/Contents")] = self.writer._add_object(content)


@dataclass(frozen=True)
class PrintSummary:
    people: int
    files: list[Path]
    merged: Path
    warnings: tuple[str, ...] = ()  # printed all the same (an address without a postcode)


def print_packs(
    store: Store,
    wave_name: str,
    out: str | Path,
    *,
    base_url: str,
    sender_name: str = "The survey team",
    templates: str | Path | None = None,
    today: dt.date | None = None,
    workers: int | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PrintSummary:
    """Write `SERIAL.pdf` for everyone in the postal sample and the merged mailing file."""
    from weasyprint import HTML

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        instrument = loads(wave.instrument.definition)
        contacts = sampled_contacts(session, wave)
        anonymous = wave.anonymous
    if not contacts:
        raise PostalError(
            f"wave {wave_name!r} has no postal sample: run `sharedground postal sample` first"
        )
    if limit is not None:
        contacts = contacts[:limit]
    misfits = [
        f"serial {c.serial}, contact {c.id} ({c.name or c.email or 'no name'}): {m.message}"
        for c in contacts
        for m in envelope.misfits(c.name, c.postal_address)
    ]
    if misfits:
        shown = "\n".join(f"  {m}" for m in misfits[:50])
        more = f"\n  ... and {len(misfits) - 50} more" if len(misfits) > 50 else ""
        raise PostalError(
            f"{len(misfits)} address problem(s): these would not show whole through the "
            f"envelope window, so nothing was printed; correct the contacts and print "
            f"again:\n{shown}{more}"
        )
    warnings = tuple(
        f"serial {c.serial}, contact {c.id} ({c.name or c.email or 'no name'}): {warning}"
        for c in contacts
        if (warning := envelope.postcode_warning(c.postal_address)) is not None
    )
    # The name and address as they print: blank lines dropped, each line trimmed.
    people = [
        (c.serial or "", c.name, "\n".join(envelope.address_lines(None, c.postal_address)))
        for c in contacts
    ]
    env = _environment(templates)
    context: dict[str, Any] = {
        "title": instrument.title,
        "today": (today or study_today()).strftime("%-d %B %Y"),
        "letter_intro": LETTER_INTRO,
        "sender_name": sender_name,
        "anonymous": anonymous,
    }
    letter = HTML(string=env.get_template("letter.html").render(**context), base_url=".")
    questionnaire = HTML(
        string=env.get_template("questionnaire.html").render(
            sections=blocks(instrument), **context
        ),
        base_url=".",
    )
    letter_doc, questionnaire_doc = letter.render(), questionnaire.render()
    if len(letter_doc.pages) != 1:
        raise PostalError("the covering letter must fit on one page; shorten letter.html")
    shared = letter_doc.copy([*letter_doc.pages, *questionnaire_doc.pages]).write_pdf()
    assert shared is not None
    jobs = [
        PrintJob(
            personal_template="personal.html",
            people=people[i : i + CHUNK],
            context=context,
            shared=shared,
            base_url=base_url,
            out=str(out),
            part=f".part-{i // CHUNK:05d}.pdf",
            templates=str(templates) if templates is not None else None,
        )
        for i in range(0, len(people), CHUNK)
    ]
    files: list[Path] = []
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        for done in map(_render_chunk, jobs):
            files += [Path(f) for f in done]
            if progress:
                progress(len(files), len(people))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(_render_chunk, jobs):
                files += [Path(f) for f in done]
                if progress:
                    progress(len(files), len(people))
    merged = out / MERGED_NAME
    _merge([out / job.part for job in jobs], merged)
    return PrintSummary(len(people), files, merged, warnings)


def _merge(parts: list[Path], target: Path) -> None:
    """Join the chunks' PDFs into one file for the mailing house."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    with target.open("wb") as handle:
        writer.write(handle)
    writer.close()
    for part in parts:
        part.unlink()
