"""The postal sample (fractions, reproducibility) and the printed packs (real PDFs)."""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fieldhelpers import Frame, write_contacts

from sharedground.fieldwork.contacts import import_contacts
from sharedground.fieldwork.postal import (
    PostalError,
    draw_sample,
    make_serial,
    parse_fractions,
    parse_serial,
)
from sharedground.fieldwork.printing import entry_url, print_packs
from sharedground.instrument import builtin
from sharedground.instrument.model import TextItem
from sharedground.store import Store

FRACTIONS = {
    "chief_executive": 1.0,
    "medical_director": 1.0,
    "clinical_director": 0.10,
    "directorate_manager": 0.16,
}


def _sampled(frame: Frame) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = collections.defaultdict(list)
    for c in frame.contacts():
        if c.serial is not None:
            groups[c.role].append(c.id)
    return groups


@pytest.fixture
def big(store: Store, tmp_path: Path) -> Frame:
    """400 contacts: 100 per role."""
    from fieldhelpers import make_frame

    return make_frame(store, tmp_path, "big", 400)


def test_fractions_per_stratum(big: Frame) -> None:
    summary = draw_sample(big.store, big.wave, FRACTIONS, seed=7)
    assert summary.population == dict.fromkeys(FRACTIONS, 100)
    # Independently: 100% of 100, 10% of 100, 16% of 100.
    assert summary.sampled == {
        "chief_executive": 100,
        "medical_director": 100,
        "clinical_director": 10,
        "directorate_manager": 16,
    }
    groups = _sampled(big)
    assert {role: len(ids) for role, ids in groups.items()} == summary.sampled
    serials = [c.serial for c in big.contacts() if c.serial]
    assert len(set(serials)) == 226
    assert all(parse_serial(s) == s for s in serials)


def test_same_seed_same_sample_other_seed_other_sample(big: Frame) -> None:
    draw_sample(big.store, big.wave, FRACTIONS, seed=7)
    first = _sampled(big)
    with pytest.raises(PostalError, match="already has a postal sample"):
        draw_sample(big.store, big.wave, FRACTIONS, seed=7)
    draw_sample(big.store, big.wave, FRACTIONS, seed=7, replace=True)
    assert _sampled(big) == first
    draw_sample(big.store, big.wave, FRACTIONS, seed=8, replace=True)
    other = _sampled(big)
    assert other["chief_executive"] == first["chief_executive"]  # everyone, either way
    assert other["clinical_director"] != first["clinical_director"]


def test_exclude_completed_and_opted_out(big: Frame) -> None:
    from sqlalchemy import update

    from sharedground.store import Contact

    contacts = [c for c in big.contacts() if c.role == "chief_executive"]
    with big.store.session() as session:
        session.execute(
            update(Contact)
            .where(Contact.id.in_([c.id for c in contacts[:10]]))
            .values(completed_on=contacts[0].created_at.date(), completed_mode="online")
        )
        session.execute(
            update(Contact)
            .where(Contact.id == contacts[10].id)
            .values(opted_out_at=contacts[0].created_at)
        )
    summary = draw_sample(big.store, big.wave, FRACTIONS, seed=1, exclude_completed=True)
    assert summary.population["chief_executive"] == 89
    assert summary.sampled["chief_executive"] == 89


def test_serial_check_digit_catches_slips() -> None:
    serial = make_serial(1, 42)
    assert parse_serial(serial.replace("-", "")) == serial
    body = serial.replace("-", "")
    for i in range(len(body)):
        for d in "0123456789":
            if d != body[i]:
                slip = body[:i] + d + body[i + 1 :]
                with pytest.raises(PostalError):
                    parse_serial(slip)
    swapped = body[0] + body[2] + body[1] + body[3:]
    if swapped != body:
        with pytest.raises(PostalError):
            parse_serial(swapped)


def test_fraction_parsing_names_the_problem() -> None:
    roles = list(FRACTIONS)
    assert (
        parse_fractions("chief_executive=1,clinical_director=0.1", roles)["clinical_director"]
        == 0.1
    )
    with pytest.raises(PostalError, match="ROLE=FRACTION"):
        parse_fractions("boss=1", roles)
    with pytest.raises(PostalError, match="between 0 and 1"):
        parse_fractions("chief_executive=2", roles)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_printed_packs_carry_serial_questions_and_a_readable_qr(
    store: Store, tmp_path: Path
) -> None:
    from fieldhelpers import make_frame

    frame = make_frame(store, tmp_path, "print", 8)
    draw_sample(store, frame.wave, {"chief_executive": 1.0, "medical_director": 1.0}, seed=3)
    sampled = [c for c in frame.contacts() if c.serial]
    assert len(sampled) == 4
    out = tmp_path / "packs"
    summary = print_packs(store, frame.wave, out, base_url="https://s.example.org", workers=1)
    assert summary.people == 4
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted(
        [f"{c.serial}.pdf" for c in sampled] + ["mailing-house.pdf"]
    )
    instrument = builtin("dmr-2015")
    person = sampled[0]
    pdf = out / f"{person.serial}.pdf"
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for item in instrument.items():
        if isinstance(item, TextItem):
            continue
        # pdftotext drops the hyphen where a line broke at one ("decision-" / "making").
        assert _flat(item.text) in _flat(text), item.id
    assert "pick up to three" in text
    assert person.name is not None and person.name in text
    pages = int(_pdfinfo(pdf)["Pages"])
    assert text.count(str(person.serial)) >= pages  # on the letter and every questionnaire page
    merged_pages = int(_pdfinfo(out / "mailing-house.pdf")["Pages"])
    assert merged_pages == 4 * pages
    # Render every page; each must have ink, and the QR on page 2 must decode to the entry page.
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        assert image.stat().st_size > 5000
    if shutil.which("zbarimg"):
        decoded = subprocess.run(
            ["zbarimg", "-q", "--raw", str(images[1])], capture_output=True, text=True
        ).stdout.split()
        assert decoded == [entry_url("https://s.example.org", str(person.serial))]


def _flat(text: str) -> str:
    return " ".join(re.sub(r"-\s*", "", text).split())


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        k.strip(): v.strip()
        for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)
    }


def test_cannot_print_without_a_sample(frame: Frame, tmp_path: Path) -> None:
    with pytest.raises(PostalError, match="postal sample"):
        print_packs(frame.store, frame.wave, tmp_path / "x", base_url="https://s")


def test_late_contacts_do_not_change_an_existing_draw(big: Frame, tmp_path: Path) -> None:
    draw_sample(big.store, big.wave, FRACTIONS, seed=5)
    before = _sampled(big)
    import_contacts(big.store, write_contacts(tmp_path / "late.csv", 4, start=1000), big.wave)
    assert _sampled(big) == before
