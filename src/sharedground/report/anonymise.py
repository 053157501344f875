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
* a title (Dr, Mr, Mrs, Ms, Miss, Mx, Prof, Professor, Sir, Dame, Nurse, Sister) followed
  by a name (one to three capitalised words or initials: "Dr X", "Prof. A. O'Neill-Smith")
  -> "[name removed]". A role or place word after the title is not a name: "Nurse
  Practitioner" and "Sister Ward" stay;
* a given name from the gazetteer (`given_names.txt`, a few hundred common UK names)
  followed by a capitalised surname ("Jane Smith", "Anne Marie O'Neill") -> "[name removed]".

Untitled names are found only with a surname after a known given name: a lone "Sarah", or
a surname alone, is left. The guards against false alarms:

* the word after the given name must not be a role, place or calendar word or a
  capitalised function word ("Chief Executive", "Milton Keynes", "May Board", "Will The");
* a full name followed by Hospital, Ward, Unit and the like names a place after a person
  ("John Radcliffe Hospital") and stays, as does one after St, King, Queen, Prince or
  Princess ("St John Ambulance", "Queen Mary University");
* given names that are also ordinary words (Will, May, Grace, Hope, Faith, June …) are
  not taken at the start of a sentence, where any word has a capital ("Will Managers
  listen?"), nor after a word that introduces a date ("in May Trust boards …"). A name
  such as "Will Smith" opening a sentence is missed: a price paid to keep ordinary text.

Reports print comments only by role group, never with trust, respondent or date, so what
slips through is still not tied to a person by the report itself.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

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

_TITLE = (
    r"(?:[Dd][Rr][Ss]?|[Mm][Rr][Ss]?|[Mm][Ss]|[Mm]iss|[Pp]rof(?:essor)?|DR|MRS?|MS|PROF"
    r"|Mx|MX|Sir|SIR|Dame|DAME|Nurse|NURSE|Sister|SISTER)"
)
# A name word, or an initial: "J." only when another name word follows, so that a full stop
# ending the sentence stays.
_NAME_WORD = (
    r"(?:[A-Z](?:[a-z]+|[A-Z]+)?(?:[-'’][A-Z][A-Za-z]+)+"  # O'Neill, Smith-Jones
    r"|[A-Z](?:[a-z]+|[A-Z]+)"  # Smith, SMITH
    r"|[A-Z]\.(?=\s+[A-Z])|[A-Z]\b)"  # initials
)
_TITLED = re.compile(
    rf"\b(?P<title>{_TITLE})\.?\s+(?P<words>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
)
_WORD = re.compile(_NAME_WORD)


def words(text: str) -> frozenset[str]:
    """A set of words written as one string, the way word lists read best."""
    return frozenset(text.split())


# A surname after a given name: Smith, O'Neill, McDonald, MacLeod, D'Souza, Smith-Jones.
_SURNAME = r"(?:O['’]|D['’]|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?![A-Za-z])"
# Only the first word is consumed (the rest is looked ahead at), so that every capitalised
# word is tried as a first name: "Medical Director Alan Hughes" reaches "Alan".
_UNTITLED = re.compile(
    rf"(?<![\w'’.-])(?P<first>[A-Z][a-z]+)(?=[ \t]+(?P<second>{_SURNAME})"
    rf"(?:[ \t]+(?P<third>{_SURNAME}))?)"
)

#: Words that follow a title or a given name without being a name: roles, and the places
#: and bodies named after people.
ROLE_WORDS = words(
    """
    Director Directors Executive Executives Manager Managers Management Consultant
    Consultants Practitioner Practitioners Specialist Specialists Nurse Nurses Sister
    Sisters Matron Officer Officers Chair Chairman Chairwoman Chairs Board Boards Trust
    Trusts Hospital Hospitals Infirmary Clinic Clinics Centre Center Unit Units Ward Wards
    Wing Building House Team Teams Department Service Services Committee Council Group
    Surgery Medicine Health Care University College School Foundation Partnership
    Network Street Road Lane Avenue Hall Park Square Line Award Awards Fund Hospice
    Theatre Theatres Lecture Institute Lab Laboratory Library Suite Medical Clinical Chief
    Deputy Associate Assistant Head Lead Registrar Registrars Doctor Doctors Surgeon
    Surgeons Physician Physicians Anaesthetist Anaesthetists Governor Governors
    Commissioner Commissioners Secretary Minister Practice Ambulance Memorial Keynes
    """
)
#: Places named after people: a full name followed by one of these stays.
NAMED_PLACES = re.compile(
    r"[ \t]+(?:Hospital|Hospitals|Infirmary|Ward|Wing|Unit|Centre|Center|Building|House"
    r"|Clinic|Suite|Theatre|Hospice|Institute|Lecture|Library|Award|Fund|Hall|Road"
    r"|Street|Way)\b"
)
_FUNCTION_WORDS = words(
    """
    A An And Or But Nor Of In On At To For From With Without By As If So Than Then When
    While Where Why How What Who Which That This These Those There Here The It Its He She
    They We I You Me Him Her Us Them My Our Your Their His Is Was Are Were Be Been Has Had
    Have Do Does Did Will Would Can Could Shall Should May Might Must Not No Yes Also All
    Any Some Every Each Our Please Thanks Thank Dear Hi Hello Sorry Just Only Even Still
    Yet Now
    """
)
_CALENDAR_WORDS = words(
    """
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday Christmas Easter
    """
)
_TITLE_WORDS = words("Dr Drs Mr Mrs Ms Miss Mx Prof Professor Sir Dame Lord Lady Rev St Saint")
#: What may not be taken for the surname of an untitled name.
_NOT_SURNAMES = ROLE_WORDS | _FUNCTION_WORDS | _CALENDAR_WORDS | _TITLE_WORDS

#: Given names that are also ordinary English words (or months): taken as names only
#: where the capital cannot come from grammar or a date.
ORDINARY_WORDS = words(
    """
    Will May Grace Hope Faith Joy June April Dawn Summer Holly Iris Ruby Daisy Ivy Hazel
    Violet Pearl Rose Amber Heather Poppy Lily Jade Mark Bill Frank Jack Rob Grant Dean
    Guy Ray Max Carol Chelsea Milton Lee Ross Russell
    """
)
#: Words after which a capitalised month is a date ("in May", "since June").
_DATE_LEAD = words("in on since until till during by last next early late mid end before after")
#: Words before a given name that make it part of a place's name ("St John", "Queen Mary").
_PLACE_LEAD = words("St St. Saint King Queen Prince Princess")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;()\[\]\"“”‘'—–\n-])\s*$")


@functools.cache
def given_names() -> frozenset[str]:
    """The gazetteer of given names (package data `given_names.txt`)."""
    text = resources.files("sharedground.report").joinpath("given_names.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _role_word(word: str) -> bool:
    return word[:1] + word[1:].lower() in ROLE_WORDS


def _titled(match: re.Match[str]) -> str:
    """A titled name, up to the first role word ("Dr Smith Medical Director" keeps the role).

    A title followed straight away by a role word ("Nurse Practitioner") is no name.
    """
    tail = match.group("words")
    kept_end = None
    for word in _WORD.finditer(tail):
        if _role_word(word.group().rstrip(".")):
            break
        kept_end = word.end()
    if kept_end is None:
        return match.group(0)
    return NAME + tail[kept_end:]


#: Characters after which the next word starts a sentence (or a quotation, or a list item).
_SENTENCE_ENDS = frozenset(".!?:;()[]\"“”‘'—–-•*")


def _before(text: str, start: int) -> tuple[str, bool]:
    """The word before `start`, and whether `start` begins a sentence.

    Only a short stretch before the match is read: comments can be long.
    """
    window = text[max(0, start - 60) : start]
    stripped = window.rstrip()
    if not stripped or "\n" in window[len(stripped) :]:
        return "", True
    word = stripped.split()[-1]
    return word, stripped[-1] in _SENTENCE_ENDS and word not in _PLACE_LEAD


def _name_end(match: re.Match[str]) -> int | None:
    """Where the untitled name starting at `match` ends, or None when it is not a name."""
    first, second, third = match.group("first", "second", "third")
    if first not in given_names() or second in _NOT_SURNAMES:
        return None
    previous, sentence_start = _before(match.string, match.start())
    if previous in _PLACE_LEAD:
        return None
    if first in ORDINARY_WORDS and (
        sentence_start or previous.lower() in _DATE_LEAD or previous.isdigit()
    ):
        return None
    end = match.end("second")
    # A middle name: "Anne Marie Stewart".
    if third is not None and second in given_names() and third not in _NOT_SURNAMES:
        end = match.end("third")
    if NAMED_PLACES.match(match.string, end):
        return None
    return end


def _untitled(text: str) -> str:
    parts: list[str] = []
    done = 0
    for match in _UNTITLED.finditer(text):
        if match.start() < done:
            continue  # a word of the name just removed
        end = _name_end(match)
        if end is not None:
            parts += [text[done : match.start()], NAME]
            done = end
    return "".join(parts) + text[done:]


def remove_names(text: str) -> str:
    """Titled names, then untitled ones, repeated until nothing changes.

    A match keeps the words it does not take ("[name removed] Medical Director"); those are
    looked at again on the next round, so that removing names is idempotent.
    """
    while True:
        changed = _untitled(_TITLED.sub(_titled, text))
        if changed == text:
            return text
        text = changed


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
    """The comment with e-mail addresses, phone numbers, NHS numbers and names removed."""
    text = _EMAIL.sub(EMAIL, text)
    # NHS numbers before phone numbers: a 3-3-4 number starting with 0 is still ten digits in
    # the NHS layout; phone numbers are grouped differently (4-3-4, 5-6, 3-4-4).
    text = _TEN_DIGITS.sub(_ten_digits, text)
    text = _PHONE.sub(PHONE, text)
    text = _EXTENSION.sub(PHONE, text)
    return remove_names(text)
