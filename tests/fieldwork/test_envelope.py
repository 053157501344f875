"""The address shows through the envelope window: checked at import, at printing, and on paper.

The printed check reads the letter page of a real pack with `pdftotext -bbox` and finds the
address, word by word, inside the window area.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from fieldhelpers import Frame
from sqlalchemy import update

from sharedground.cli import main
from sharedground.exchange.problems import InvalidFile
from sharedground.fieldwork import envelope
from sharedground.fieldwork.contacts import import_contacts
from sharedground.fieldwork.postal import PostalError, draw_sample
from sharedground.fieldwork.printing import print_packs
from sharedground.instrument import builtin
from sharedground.store import Contact, Store

PT_PER_MM = 72 / 25.4
HEADER = ["name", "email", "postal_address", "role", "trust", "directorate"]


def grow(seed: str, *, end: str = "") -> str:
    """The longest line made of `seed` repeated (then `end`) that the window still allows."""
    line = end
    text = (seed + " ") * 40
    for n in range(1, len(text) + 1):
        candidate = (text[:n].rstrip() + (" " + end if end else "")).strip()
        if envelope.text_width_mm(candidate) <= envelope.MAX_WIDTH_MM:
            line = candidate
    return line


# Name and six lines, each as wide as the check lets through, in the widest kinds of text:
# capitals, the widest letters, digits and punctuation, and a postcode at the end.
BIGGEST_NAME = grow("Professor Wilhelmina Montgomery-Whitworth")
BIGGEST_ADDRESS = [
    grow("FLAT 88 WOLVERHAMPTON MEMORIAL MANSIONS"),
    grow("WWMMWWMMWW"),
    grow("Mmwwmmwwmmww Mews"),
    grow("1234567890 %&@#"),
    grow("NEWCASTLE UPON TYNE GENERAL HOSPITAL"),
    grow("WOLVERHAMPTON", end="WV10 0QP"),
]


def write_frame(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def make_wave(store: Store, name: str) -> None:
    with store.session() as session:
        store.create_wave(
            session, name, builtin("dmr-2015"), opens=dt.date.today() - dt.timedelta(days=1)
        )


def test_width_table_is_the_fonts_own() -> None:
    fontfile = (
        shutil.which("fc-match")
        and subprocess.run(
            ["fc-match", "--format=%{file}", "DejaVu Sans"], capture_output=True, text=True
        ).stdout
    )
    if not fontfile or not fontfile.endswith("DejaVuSans.ttf"):
        pytest.skip("DejaVu Sans is not installed")
    from fontTools.ttLib import TTFont

    font = TTFont(fontfile)
    cmap, metrics, units = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    for line in [BIGGEST_NAME, *BIGGEST_ADDRESS, "Flat 3, 12 Ash Lane"]:
        expected = sum(metrics[cmap[ord(c)]][0] for c in line) / units * 10 * 25.4 / 72
        assert envelope.text_width_mm(line) == pytest.approx(expected)
    # "About 40 characters": an ordinary mixed-case line of 40 fits, one of 50 does not.
    ordinary = "Directorate of Surgery, Royal Infirmary, Northgate Road"
    assert envelope.text_width_mm(ordinary[:40]) <= envelope.MAX_WIDTH_MM
    assert envelope.text_width_mm(ordinary[:50]) > envelope.MAX_WIDTH_MM
    assert envelope.text_width_mm("Café") == envelope.text_width_mm("Cafe")


def test_import_refuses_addresses_that_would_not_show_and_names_row_and_column(
    store: Store, tmp_path: Path
) -> None:
    make_wave(store, "w")
    good = "\n".join(BIGGEST_ADDRESS)
    eight = "\n".join(["1 Lane", "Area", "Part", "District", "Town", "County", "AB1 2CD"])
    wide = "1 Lane\n" + BIGGEST_ADDRESS[0] + "X" * 3 + "\nAB1 2CD"
    bad = write_frame(
        tmp_path / "bad.csv",
        [
            [BIGGEST_NAME, "a@example.org", good, "chief_executive", "RA1", ""],
            ["Ann Other", "b@example.org", eight, "chief_executive", "RA1", ""],
            ["Ann Other", "c@example.org", wide, "chief_executive", "RA1", ""],
            [
                BIGGEST_NAME + "son",
                "d@example.org",
                "1 Lane\nAB1 2CD",
                "chief_executive",
                "RA1",
                "",
            ],
            ["", "e@example.org", eight, "chief_executive", "RA1", ""],  # 7 lines, no name
            ["Ann Other", "f@example.org", "", "medical_director", "boss!", ""],
        ],
    )
    with pytest.raises(InvalidFile) as caught:
        import_contacts(store, bad, "w")
    problems = {(p.row, p.column): p.message for p in caught.value.problems}
    assert set(problems) == {
        (3, "postal_address"),
        (4, "postal_address"),
        (5, "name"),
        (7, "trust"),
    }
    assert problems[(3, "postal_address")].startswith("8 lines with the name; at most 7")
    assert "address line 2" in problems[(4, "postal_address")]
    assert re.search(r"is (\d+) mm wide", problems[(4, "postal_address")])
    assert problems[(5, "name")].startswith("the name")
    with store.session() as session:
        assert session.query(Contact).count() == 0  # the good rows were not added either

    fine = write_frame(
        tmp_path / "fine.csv",
        [
            [BIGGEST_NAME, "a@example.org", good, "chief_executive", "RA1", ""],
            [
                "Ann Other",
                "b@example.org",
                "Rue de la Paix 1\n75002 Paris",
                "chief_executive",
                "RA1",
                "",
            ],
        ],
    )
    result = CliRunner().invoke(
        main, ["contacts", "import", str(fine), "--wave", "w", "--database", store.url]
    )
    assert result.exit_code == 0, result.output
    warnings = re.findall(r"warning: \S+: row (\d+), column (\w+): (.+)$", result.output, re.M)
    assert [(row, column) for row, column, _ in warnings] == [("3", "postal_address")]
    assert "does not look like a UK postcode" in warnings[0][2]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_biggest_address_prints_inside_the_window(store: Store, tmp_path: Path) -> None:
    make_wave(store, "w")
    frame = write_frame(
        tmp_path / "frame.csv",
        [
            [
                BIGGEST_NAME,
                "a@example.org",
                "\n".join(BIGGEST_ADDRESS),
                "chief_executive",
                "RA1",
                "",
            ],
            ["", "b@example.org", "2 Short Road\nSomewhere abroad", "chief_executive", "RA1", ""],
        ],
    )
    import_contacts(store, frame, "w")
    draw_sample(store, "w", {"chief_executive": 1.0}, seed=1)
    contacts = Frame(store, "w", frame).contacts()
    out = tmp_path / "packs"
    summary = print_packs(store, "w", out, base_url="https://s.example.org", workers=1)
    assert summary.people == 2
    # The address abroad prints, with a warning naming its serial.
    assert len(summary.warnings) == 1 and str(contacts[1].serial) in summary.warnings[0]

    window = envelope.WINDOW
    for contact, expected in (
        (contacts[0], [BIGGEST_NAME, *BIGGEST_ADDRESS]),
        (contacts[1], ["2 Short Road", "Somewhere abroad"]),  # no name: no blank first line
    ):
        words = letter_words(out / f"{contact.serial}.pdf", tmp_path)
        inside = [
            w
            for w in words
            if w.x0 >= window.left * PT_PER_MM
            and w.x1 <= window.right * PT_PER_MM
            and w.y0 >= window.top * PT_PER_MM
            and w.y1 <= window.bottom * PT_PER_MM
        ]
        # Every line of the address, whole and in order, and nothing else, in the window.
        assert lines_of(inside) == expected
        # Clear of the window's edges by at least 1.5 mm all round (a letter can slide).
        margin = 1.5 * PT_PER_MM
        assert min(w.x0 for w in inside) >= window.left * PT_PER_MM + margin
        assert max(w.x1 for w in inside) <= window.right * PT_PER_MM - margin
        assert min(w.y0 for w in inside) >= window.top * PT_PER_MM + margin
        assert max(w.y1 for w in inside) <= window.bottom * PT_PER_MM - margin


def test_printing_refuses_an_address_changed_since_import(frame: Frame, tmp_path: Path) -> None:
    draw_sample(frame.store, frame.wave, {"chief_executive": 1.0}, seed=2)
    victim = next(c for c in frame.contacts() if c.serial)
    with frame.store.session() as session:
        session.execute(
            update(Contact)
            .where(Contact.id == victim.id)
            .values(postal_address="\n".join(f"Line {i}" for i in range(9)))
        )
    out = tmp_path / "packs"
    with pytest.raises(PostalError) as refused:
        print_packs(frame.store, frame.wave, out, base_url="https://s", workers=1)
    message = str(refused.value)
    assert f"serial {victim.serial}, contact {victim.id} ({victim.name})" in message
    assert "10 lines with the name; at most 7" in message
    assert "nothing was printed" in message
    assert not list(out.glob("*.pdf")) if out.exists() else True


class Word:
    def __init__(self, element: ElementTree.Element) -> None:
        self.text = element.text or ""
        self.x0, self.y0 = float(element.attrib["xMin"]), float(element.attrib["yMin"])
        self.x1, self.y1 = float(element.attrib["xMax"]), float(element.attrib["yMax"])


def letter_words(pdf: Path, tmp_path: Path) -> list[Word]:
    """The words of the letter (page 1) with their boxes, in points from the top left."""
    target = tmp_path / f"{pdf.stem}.html"
    subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), str(target)], check=True)
    tree = ElementTree.parse(target)
    return [Word(e) for e in tree.iter() if e.tag.endswith("word")]


def lines_of(words: list[Word]) -> list[str]:
    """Words grouped into lines by their baseline, top to bottom, left to right."""
    rows: dict[int, list[Word]] = {}
    for word in words:
        rows.setdefault(round(word.y1), []).append(word)
    return [
        " ".join(w.text for w in sorted(row, key=lambda w: w.x0)) for _, row in sorted(rows.items())
    ]
