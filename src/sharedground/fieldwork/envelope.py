"""Will the address show through the envelope's window? Checked at import and at printing.

Printed packs go out in UK window envelopes, DL (the A4 letter folded in three) or C5
(folded in half). Their windows are 90 mm wide and 20 mm from the left edge; a DL window
is 35 mm tall, a C5 one 45 mm. We print for the smaller: on the letter the window area is
`WINDOW`, 20-110 mm from the left edge and 45-80 mm from the top, and the address block of
the built-in letter (`templates/postal/personal.html`: `.address`, 24 mm from the left,
48 mm from the top, DejaVu Sans 10 pt on 12 pt lines) lies inside it with a few
millimetres to spare, so that a letter that slides a little in its envelope still shows
the whole address. Envelope makers place windows to within a few millimetres of each
other: print one pack and try it in the envelopes you have before a large run.

That block holds `MAX_LINES` lines (the name, then the address) in 29.6 mm, and lines up
to `MAX_WIDTH_MM` wide: about 40 characters of ordinary mixed-case text (an address line in
capitals fits about 34). The width is measured with the font's own advance widths rather
than by counting characters, so that a line of capitals is judged as it will print.

A last line that does not end in something like a UK postcode is warned about, never
refused: Royal Mail sorts by the postcode, but an address abroad has none of ours.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Box:
    """A rectangle on the A4 letter, in millimetres from its top left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


WINDOW = Box(left=20, top=45, width=90, height=35)
# The address block of personal.html; keep the two in step.
ADDRESS = Box(left=24, top=48, width=84, height=7 * 12 * MM_PER_PT)
FONT_SIZE_PT = 10
MAX_LINES = 7
MAX_WIDTH_MM = 82.0  # 2 mm short of the block, so that a line never wraps

# DejaVu Sans advance widths of the printable ASCII characters (U+0020-U+007E), in units
# of 1/2048 em, read from the font. A character outside ASCII is measured as its base
# letter (é as e), or else as the widest letter, W.
_UNITS = 2048
_ASCII_WIDTHS = (
    651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716,
    1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767,
    1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690,
    799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569, 1186,
    569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075,
    1303, 690, 1303, 1716,
)  # fmt: skip
_WIDEST = _ASCII_WIDTHS[ord("W") - 0x20]

# A UK postcode (the outward and inward codes), at the end of the last line.
_POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$", re.IGNORECASE)


def text_width_mm(text: str, size_pt: float = FONT_SIZE_PT) -> float:
    """How wide a line prints in DejaVu Sans at `size_pt` (kerning would only narrow it)."""
    units = 0
    for char in text:
        units += _char_units(char)
    return units / _UNITS * size_pt * MM_PER_PT


def _char_units(char: str) -> int:
    if " " <= char <= "~":
        return _ASCII_WIDTHS[ord(char) - 0x20]
    base = unicodedata.normalize("NFKD", char)[:1]
    if base and " " <= base <= "~":
        return _ASCII_WIDTHS[ord(base) - 0x20]
    if unicodedata.category(char).startswith("M"):
        return 0  # a combining mark sits on the letter before it
    return _WIDEST


def address_lines(name: str | None, address: str | None) -> list[str]:
    """The lines printed in the window: the name (when there is one), then the address."""
    lines = [name.strip()] if name and name.strip() else []
    if address:
        lines += [line.strip() for line in address.splitlines() if line.strip()]
    return lines


@dataclass(frozen=True)
class Misfit:
    """Why an address will not show through the window, and which field is to blame."""

    field: str  # name | postal_address
    message: str


def misfits(name: str | None, address: str | None) -> list[Misfit]:
    """Everything that keeps this address from showing whole through the window."""
    lines = address_lines(name, address)
    found: list[Misfit] = []
    if len(lines) > MAX_LINES:
        with_name = " with the name" if name and name.strip() else ""
        found.append(
            Misfit(
                "postal_address",
                f"{len(lines)} lines{with_name}; at most {MAX_LINES} show through the "
                "envelope window: join or drop lines",
            )
        )
    has_name = bool(name and name.strip())
    for number, line in enumerate(lines, start=0 if has_name else 1):
        width = text_width_mm(line)
        if width > MAX_WIDTH_MM:
            field = "name" if has_name and number == 0 else "postal_address"
            where = "the name" if field == "name" else f"address line {number}"
            found.append(
                Misfit(
                    field,
                    f"{where} {line!r} is {width:.0f} mm wide when printed, wider than the "
                    f"envelope window allows ({MAX_WIDTH_MM:.0f} mm, about 40 characters; "
                    "fewer in capitals): shorten it or split it over two lines",
                )
            )
    return found


def postcode_warning(address: str | None) -> str | None:
    """A warning when the address does not end in something like a UK postcode."""
    lines = address_lines(None, address)
    if not lines:
        return None
    if _POSTCODE.search(lines[-1]):
        return None
    return (
        f"the last line {lines[-1]!r} does not look like a UK postcode; Royal Mail sorts "
        "by the postcode on the last line"
    )
