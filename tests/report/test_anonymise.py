"""The comment anonymiser: what it removes, and what it must leave alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharedground.report.anonymise import (
    EMAIL,
    NAME,
    NHS_NUMBER,
    NUMBER,
    ORDINARY_WORDS,
    PHONE,
    anonymise,
    given_names,
    nhs_number_valid,
)


def _check_digit(nine: str) -> int | None:
    """Modulus 11 check digit, written out independently of the module under test."""
    weighted = 0
    for position, digit in enumerate(nine):
        weighted += int(digit) * (10 - position)
    remainder = weighted % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),  # the NHS's published example number
        ("9434765918", False),
        ("4010232137", True),
        ("4010232138", False),
        ("943476591", False),  # nine digits
        ("94347659190", False),  # eleven
        ("94347a5919", False),
    ],
)
def test_nhs_check_digit(number: str, valid: bool) -> None:
    assert nhs_number_valid(number) is valid


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_nhs_check_digit_agrees_with_independent_computation(nine: str) -> None:
    check = _check_digit(nine)
    for last in "0123456789":
        expected = check is not None and int(last) == check
        assert nhs_number_valid(nine + last) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Write to j.smith@nhs.net about it",
        "first.last+rota@trust.nhs.uk",
        "CONTACT A.B-C@Example.Org.UK now",
    ],
)
def test_emails_removed(text: str) -> None:
    out = anonymise(text)
    assert EMAIL in out
    assert "@" not in out


@pytest.mark.parametrize(
    "phone",
    [
        "020 7946 0958",
        "0207 946 0958",
        "02079460958",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+447700900123",
        "07700 900123",
        "07700-900-123",
        "(0161) 496 0000",
        "(01632) 960001",
        "0800 123 4567",
        "ext. 4521",
        "extension 4521",
    ],
)
def test_phone_numbers_removed(phone: str) -> None:
    out = anonymise(f"Ring me on {phone} any time.")
    assert out == f"Ring me on {PHONE} any time."


@pytest.mark.parametrize(
    ("written", "replacement"),
    [
        ("943 476 5919", NHS_NUMBER),
        ("943-476-5919", NHS_NUMBER),
        ("9434765919", NHS_NUMBER),
        ("943 476 5918", NUMBER),  # a mistyped NHS number still goes
        ("401 023 2137", NHS_NUMBER),
    ],
)
def test_ten_digit_numbers_removed(written: str, replacement: str) -> None:
    assert anonymise(f"Patient {written} was delayed.") == f"Patient {replacement} was delayed."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr Smith never listens.", f"{NAME} never listens."),
        ("Ask Dr. J. Smith first", f"Ask {NAME} first"),
        ("Prof O'Neill-Jones chairs it", f"{NAME} chairs it"),
        ("Mrs Patel's team did well", f"{NAME}'s team did well"),
        ("since Ms X left", f"since {NAME} left"),
        ("Mr A B Jones, the CD", f"{NAME}, the CD"),
        ("Professor Anne Marie Stewart spoke", f"{NAME} spoke"),
        ("Miss Brown and Drs Khan agreed", f"{NAME} and {NAME} agreed"),
        ("DR WHO is back", f"{NAME} is back"),
    ],
)
def test_titled_names_removed(text: str, expected: str) -> None:
    assert anonymise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Relationships improved between 2002 and 2015.",
        "We lost 2,400 staff and £1.2m in 2013/14.",
        "The MD and three CDs meet weekly.",
        "About 30% of consultants agree; 12345678901 is not a phone number.",
        "Doctors and managers need time, dr. (sic)",
        "Table 2.11 shows 68% overall.",
        "Ward 10, bed 4, at 09:30.",
    ],
)
def test_ordinary_text_left_alone(text: str) -> None:
    assert anonymise(text) == text


def test_several_kinds_in_one_comment() -> None:
    text = (
        "Dr Evans (evans@example.nhs.uk, 07700 900456) discussed patient 943 476 5919 "
        "with Mr Hughes."
    )
    assert anonymise(text) == (
        f"{NAME} ({EMAIL}, {PHONE}) discussed patient {NHS_NUMBER} with {NAME}."
    )


@given(st.text(max_size=200))
def test_idempotent_and_leaves_no_email(text: str) -> None:
    once = anonymise(text)
    assert anonymise(once) == once
    assert not re.search(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}", once)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # More titles.
        ("Mx Taylor chairs the group", f"{NAME} chairs the group"),
        ("Sir Robert Francis wrote it all down", f"{NAME} wrote it all down"),
        ("Dame Carol Black spoke", f"{NAME} spoke"),
        ("Nurse Jones was right", f"{NAME} was right"),
        ("Sister Patel runs ward 4", f"{NAME} runs ward 4"),
        ("Ward Sister Evans knew", f"Ward {NAME} knew"),
        ("MX TAYLOR again", f"{NAME} again"),
        # A title keeps the role words after the name.
        ("Dr Smith Medical Director since 2010", f"{NAME} Medical Director since 2010"),
        # No title: a known first name and a capitalised surname.
        ("John Smith never listens.", f"{NAME} never listens."),
        ("I told Priya Sharma twice", f"I told {NAME} twice"),
        ("Anne Marie Stewart and Declan O'Neill", f"{NAME} and {NAME}"),
        ("ask Ewan McDonald or Fiona MacLeod", f"ask {NAME} or {NAME}"),
        ("Sarah Smith-Jones's team", f"{NAME}'s team"),
        ("Mary Smith John Jones", f"{NAME} {NAME}"),
        ("our Chief Executive, Jane Doherty, left", f"our Chief Executive, {NAME}, left"),
        ("Medical Director Alan Hughes", f"Medical Director {NAME}"),
        # Names that are ordinary words too, where only a name fits.
        ("I spoke to Will Smith about it", f"I spoke to {NAME} about it"),
        ("our manager Grace Okafor", f"our manager {NAME}"),
        ("and Hope Williams agreed", f"and {NAME} agreed"),
        ("then May Chen said no", f"then {NAME} said no"),
    ],
)
def test_names_removed(text: str, expected: str) -> None:
    assert anonymise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Ordinary words that are also first names.
        "Will Managers ever listen to us?",
        "May God help the next chief executive.",
        "Grace under pressure is rare here.",
        "Hope Springs eternal, but not in this trust.",
        "Faith In the board has gone.",
        "We will see. Will Consultants stay?",
        "Faith, hope and grace: all gone.",
        "Mark my words.",
        # Months and dates.
        "In May Trust boards met weekly.",
        "Since June Clinical directors have had no say.",
        "in May Smith left",  # a date, or a name: the date is the safer reading
        "On 3 May Consultants walked out",
        # Roles, titles without a name, trusts and places.
        "The Medical Director and the Chief Executive disagree.",
        "Nurse Practitioner posts were cut.",
        "The Sister Trust across the river does better.",
        "John Radcliffe Hospital is twenty miles away.",
        "We send patients to Milton Keynes University Hospital.",
        "Princess Alexandra Hospital and Royal Victoria Infirmary.",
        "St John Ambulance crews wait outside.",
        "Queen Mary University runs the course.",
        "Chelsea and Westminster have a better model.",
        "Mary Seacole Ward reopened.",
        "Guy's and St Thomas' is different.",
        # A lone first name, or a surname alone, is not enough.
        "Sarah was helpful.",
        "Smith and Jones are surnames.",
        "Doctors and Managers need time.",
    ],
)
def test_ordinary_words_roles_and_places_stay(text: str) -> None:
    assert anonymise(text) == text


def test_gazetteer_is_a_few_hundred_capitalised_names() -> None:
    names = given_names()
    assert 300 <= len(names) <= 1000
    assert all(re.fullmatch(r"[A-Z][a-z]+", name) for name in names)
    assert {"John", "Sarah", "Priya", "Will", "May", "Grace", "Hope", "Faith"} <= names
    # Every ordinary-word name the anonymiser guards is in the list it guards.
    assert ORDINARY_WORDS.issubset(names)


SURNAMES = ["Smith", "Jones", "Patel", "O'Brien", "McKenzie", "Okonkwo", "Nguyen", "Evans-Hart"]


@given(
    st.sampled_from(sorted(given_names())),
    st.sampled_from(SURNAMES),
    st.sampled_from(["We asked {} twice.", "Thanks to {}, nothing changed", "(see {})"]),
)
def test_any_listed_first_name_with_a_surname_goes(first: str, surname: str, frame: str) -> None:
    text = frame.format(f"{first} {surname}")
    assert anonymise(text) == frame.format(NAME)
