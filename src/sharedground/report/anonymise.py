"""Removing contact details and named people from free-text comments before they are printed.

What is removed, and the choices made:

* e-mail addresses -> "[email removed]";
* UK telephone numbers (``0…`` or ``+44 …`` with 10 or 11 digits in any common grouping,
  brackets and dashes included, and extensions such as "ext. 4521") -> "[phone removed]";
* NHS numbers: any run of 10 digits written whole or as 3-3-4 is removed. A number whose
  Modulus 11 check digit is right becomes "[NHS number removed]"; the others become
  "[number removed]": a mistyped NHS number fails the check but still points at a patient,
  and a ten-digit figure has no place in a comment on working relationships, so the cost of
  removing a few innocent numbers is small;
* a title (Dr, Mr, Mrs, Ms, Miss, Prof, Professor) followed by a name (one to three
  capitalised words or initials: "Dr X", "Prof. A. O'Neill-Smith") -> "[name removed]".

Names written without a title cannot be found reliably and are left alone; reports print
comments only by role group, never with trust, respondent or date.
"""

from __future__ import annotations

import re

NAME = "[name removed]"
EMAIL = "[email removed]"
PHONE = "[phone removed]"
NHS_NUMBER = "[NHS number removed]"
NUMBER = "[number removed]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# Ten digits, whole or 3-3-4 with spaces, dashes or dots, not inside a longer run of digits.
_TEN_DIGITS = re.compile(r"(?<![\d+])(\d{3})[ \-.]?(\d{3})[ \-.]?(\d{4})(?![\d])")

# +44 (0)20 7946 0958, 020 7946 0958, (0161) 496 0000, 07700-900123, 0800 123 456 …
_PHONE = re.compile(
    r"(?<![\w+])"
    r"(?:\+44[\s-]?(?:\(0\)[\s-]?)?|\(?0)"
    r"\d(?:[\s\-)]{0,2}\d){8,9}"
    r"(?!\d)"
)
_EXTENSION = re.compile(r"\b(?:ext|extn|extension|x)\.?\s?\d{3,6}\b", re.IGNORECASE)

_TITLE = r"(?:[Dd][Rr][Ss]?|[Mm][Rr][Ss]?|[Mm][Ss]|[Mm]iss|[Pp]rof(?:essor)?|DR|MRS?|MS|PROF)"
# A name word, or an initial: "J." only when another name word follows, so that a full stop
# ending the sentence stays.
_NAME_WORD = (
    r"(?:[A-Z](?:[a-z]+|[A-Z]+)?(?:[-'’][A-Z][A-Za-z]+)+"  # O'Neill, Smith-Jones
    r"|[A-Z](?:[a-z]+|[A-Z]+)"  # Smith, SMITH
    r"|[A-Z]\.(?=\s+[A-Z])|[A-Z]\b)"  # initials
)
_NAME = re.compile(rf"\b{_TITLE}\.?\s+{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}")


def nhs_number_valid(digits: str) -> bool:
    """True when ten digits carry a correct NHS Modulus 11 check digit.

    Weights 10 down to 2 apply to the first nine digits; the check digit is 11 minus the
    weighted sum modulo 11, where 11 means 0 and 10 means the number is invalid.
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _ten_digits(match: re.Match[str]) -> str:
    return NHS_NUMBER if nhs_number_valid("".join(match.groups())) else NUMBER


def anonymise(text: str) -> str:
    """The comment with e-mail addresses, phone numbers, NHS numbers and titled names removed."""
    text = _EMAIL.sub(EMAIL, text)
    # NHS numbers before phone numbers: a 3-3-4 number starting with 0 is still ten digits in
    # the NHS layout; phone numbers are grouped differently (4-3-4, 5-6, 3-4-4).
    text = _TEN_DIGITS.sub(_ten_digits, text)
    text = _PHONE.sub(PHONE, text)
    text = _EXTENSION.sub(PHONE, text)
    return _NAME.sub(NAME, text)
