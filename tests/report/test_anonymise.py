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
    PHONE,
    anonymise,
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
