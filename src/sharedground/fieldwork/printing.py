"""Printed questionnaires: one PDF per person drawn, and one merged PDF for the mailing house.

Each person's pack is a covering letter (name, address, serial, QR code) and the
questionnaire drawn from the wave's own instrument definition: tick boxes for every
answer, "pick up to three" where the question says so, and boxes for comments. The serial
is printed in the header of every page, so that loose pages can be matched up, and the QR
code holds the address of the data-entry page for that serial.

Layout is the slow part (seconds per questionnaire with WeasyPrint), so the questionnaire
is laid out once per run, and per person only a letter and a "stamp" page (serial and QR
code, placed in the questionnaire's empty top margin) are laid out, a chunk of people per
WeasyPrint run; pypdf then draws each person's stamp over their copy of the questionnaire
pages. Chunks run in parallel worker processes.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import segno

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
    """A QR code (error correction M, so a crease or a stamp does not defeat it) as SVG."""
    svg = segno.make(text, error="m", micro=False).svg_inline(scale=4, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


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

    letters_html: str
    questionnaire: bytes
    serials: list[str]
    out: str
    part: str


def _render_chunk(job: PrintJob) -> list[str]:
    """Lay out the chunk's letters and stamps once; write each person's PDF. Returns the files.

    Each person's PDF is their letter, then the questionnaire (laid out once for the whole
    wave) with their stamp (serial and QR code in the top margin) drawn over every page.
    """
    import io

    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    letters = PdfReader(io.BytesIO(HTML(string=job.letters_html, base_url=".").write_pdf()))
    if len(letters.pages) != 2 * len(job.serials):
        raise PostalError(
            f"the letter template made {len(letters.pages)} pages for {len(job.serials)} people; "
            "each letter must fit on one page"
        )
    questionnaire = PdfReader(io.BytesIO(job.questionnaire))
    chunk = PdfWriter()
    files = []
    for i, serial in enumerate(job.serials):
        writer = PdfWriter()
        writer.add_page(letters.pages[2 * i])
        stamp = letters.pages[2 * i + 1]
        for page in questionnaire.pages:
            added = writer.add_page(page)
            added.merge_page(stamp)
        writer.add_metadata({"/Title": f"Questionnaire {serial}"})
        path = Path(job.out) / f"{serial}.pdf"
        with path.open("wb") as handle:
            writer.write(handle)
        for page in writer.pages:
            chunk.add_page(page)
        writer.close()
        files.append(str(path))
    with (Path(job.out) / job.part).open("wb") as handle:
        chunk.write(handle)
    chunk.close()
    return files


@dataclass(frozen=True)
class PrintSummary:
    people: int
    files: list[Path]
    merged: Path


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
    people = [
        Person(
            serial=c.serial or "",
            name=c.name,
            address=c.postal_address or "",
            qr=qr_data_uri(entry_url(base_url, c.serial or "")),
        )
        for c in contacts
    ]
    env = _environment(templates)
    common = {
        "title": instrument.title,
        "today": (today or dt.date.today()).strftime("%-d %B %Y"),
        "letter_intro": LETTER_INTRO,
        "sender_name": sender_name,
        "anonymous": anonymous,
    }
    questionnaire = HTML(
        string=env.get_template("questionnaire.html").render(sections=blocks(instrument), **common),
        base_url=".",
    ).write_pdf()
    assert questionnaire is not None
    letters = env.get_template("letters.html")
    jobs = [
        PrintJob(
            letters_html=letters.render(people=people[i : i + CHUNK], **common),
            questionnaire=questionnaire,
            serials=[p.serial for p in people[i : i + CHUNK]],
            out=str(out),
            part=f".part-{i // CHUNK:05d}.pdf",
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
    return PrintSummary(len(people), files, merged)


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
