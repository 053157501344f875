"""Bounces that come back later by e-mail: reading delivery reports and recording them.

A server that accepted a message may still fail to deliver it and send a report to the
sender's mailbox. `read_notices` reads such mail from an mbox file, a Maildir folder, a
folder of `.eml` files or single `.eml` files, and `record_notices` records each hard
bounce against the wave's contact, who then gets no reminders and is counted as bounced.

What a report says is taken from, in this order of trust:

1. an RFC 3464 report (`multipart/report; report-type=delivery-status`): each recipient's
   `Action` (or, without one, the class of its `Status`); `failed` (or 5.x.x) is a hard
   bounce, `delayed` (or 4.x.x) a delay, which is reported and never recorded (the server
   is still trying), and `delivered`, `relayed` or `expanded` is no bounce at all;
2. a report in no standard form that carries the original message (attached, its headers
   attached, or quoted): the status code it quotes (`5.1.1`, `4.4.7`), or, with none, words
   saying it is a delay; otherwise it is taken as a hard bounce.

Who bounced is found from the original's Message-ID first, since the sender writes one
that names the wave, the contact and the kind of message (`<sg.WAVE.CONTACT.KIND@...>`,
see `mail.message_id`), and it survives forwarding; then from the recipient the report
names (`Original-Recipient`, `Final-Recipient`) or the original's `To`. Mail that is not a
delivery report (a reply, an out-of-office) is counted and left alone.

Recording is idempotent: a contact already marked bounced (by an earlier run, or because
the server refused the address outright) is counted as already recorded.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.fieldwork.contacts import find_contact
from sharedground.fieldwork.sending import record_bounce
from sharedground.store import Contact, Store, Wave
from sharedground.store.schema import Message as MessageRow

# Our Message-ID: <sg.WAVE.CONTACT.KIND@domain> (mail.message_id).
_OUR_ID = re.compile(r"<?sg\.(\d+)\.(\d+)\.([a-z0-9-]+)@[^>\s]+>?", re.IGNORECASE)
_QUOTED_ID = re.compile(r"^\s*Message-ID:\s*(<sg\.[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_DELAY_WORDS = re.compile(
    r"\b(delay(ed)?|will (be )?retr(y|ied)|still trying|not yet (been )?delivered|"
    r"temporar(y|ily))\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|has failed|problem)|returned mail|"
    r"failure notice|mail delivery|could not be delivered|rejected",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


@dataclass(frozen=True)
class Notice:
    """One recipient of one delivery report."""

    source: str  # file, or file[key] inside a mailbox
    hard: bool  # a permanent failure (recorded); False: a delay (reported only)
    address: str | None  # the recipient the report names
    original_to: str | None  # the original message's To
    message_id: str | None  # our Message-ID of the original, when found
    status: str | None  # 5.1.1, 4.4.7 ...
    detail: str  # what the report says, for the message row

    def addresses(self) -> list[str]:
        return [a for a in (self.address, self.original_to) if a]


@dataclass(frozen=True)
class Unreadable:
    source: str
    reason: str


@dataclass
class Reading:
    """What a set of paths held."""

    messages: int = 0
    notices: list[Notice] = field(default_factory=list)
    not_bounces: int = 0
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass
class BounceSummary:
    """What `record_notices` did."""

    messages: int = 0
    recorded: list[str] = field(default_factory=list)  # addresses
    already: list[str] = field(default_factory=list)
    delayed: list[Notice] = field(default_factory=list)
    not_in_wave: list[str] = field(default_factory=list)
    not_bounces: int = 0
    unreadable: list[Unreadable] = field(default_factory=list)


# -- reading ---------------------------------------------------------------------------------


def read_notices(paths: Iterable[str | Path]) -> Reading:
    """Every delivery report in the paths (mbox files, Maildir folders, `.eml` files)."""
    reading = Reading()
    for source, data in _raw_messages(paths, reading):
        reading.messages += 1
        try:
            parsed = email.message_from_bytes(data, policy=email.policy.compat32)
            found = parse_report(parsed, source)
        except ReportError as exc:
            reading.unreadable.append(Unreadable(source, str(exc)))
            continue
        except Exception as exc:  # a malformed message can break the parser in many ways
            reading.unreadable.append(Unreadable(source, f"cannot be parsed ({exc})"))
            continue
        if found is None:
            reading.not_bounces += 1
        else:
            reading.notices += found
    return reading


def _raw_messages(paths: Iterable[str | Path], reading: Reading) -> Iterator[tuple[str, bytes]]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                box = mailbox.Maildir(str(path), factory=None, create=False)
                for key in sorted(box.keys()):
                    yield f"{path}[{key}]", box.get_bytes(key)
                continue
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".eml")
            if not files:
                reading.unreadable.append(
                    Unreadable(str(path), "a folder that is neither a Maildir nor holds .eml files")
                )
            for file in files:
                yield from _file_messages(file, reading)
        elif path.is_file():
            yield from _file_messages(path, reading)
        else:
            reading.unreadable.append(Unreadable(str(path), "no such file or folder"))


def _file_messages(path: Path, reading: Reading) -> Iterator[tuple[str, bytes]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reading.unreadable.append(Unreadable(str(path), f"cannot be read ({exc.strerror})"))
        return
    if data.startswith(b"From "):  # the mbox separator line
        box = mailbox.mbox(str(path), factory=None, create=False)
        try:
            for index, key in enumerate(box.keys()):
                yield f"{path}[{index + 1}]", box.get_bytes(key)
        finally:
            box.close()
        return
    if not data.strip():
        reading.unreadable.append(Unreadable(str(path), "the file is empty"))
        return
    yield str(path), data


class ReportError(Exception):
    """A delivery report that cannot be understood; the message says why."""


def parse_report(message: Message, source: str) -> list[Notice] | None:
    """The recipients a delivery report is about; None if the message is not a report.

    Raises:
        ReportError: it is a report, but says nothing usable (no recipients, nothing
            that names the original), or it is not an e-mail message at all.
    """
    if not message.keys():
        raise ReportError("no mail headers: not an e-mail message")
    status_part = _first(message, "message/delivery-status")
    original = _original(message)
    our_id = _our_message_id(message, original)
    original_to = _first_address(original.get_all("To", [])) if original is not None else None
    if status_part is not None:
        return _standard(status_part, source, our_id, original_to)
    if not _looks_like_bounce(message):
        return None
    if our_id is None and original_to is None:
        raise ReportError(
            "a delivery failure notice, but it names neither the original message nor its recipient"
        )
    text = _text(message)
    codes = [".".join(m.groups()) for m in _STATUS.finditer(text)]
    hard_codes = [c for c in codes if c.startswith("5.")]
    soft_codes = [c for c in codes if c.startswith("4.")]
    status: str | None = None
    if hard_codes:
        hard, status = True, hard_codes[0]
    elif soft_codes or _DELAY_WORDS.search(f"{message.get('Subject', '')}\n{text}"):
        hard, status = False, soft_codes[0] if soft_codes else None
    else:
        hard = True
    detail = " ".join(str(message.get("Subject", "delivery failure notice")).split())
    return [Notice(source, hard, None, original_to, our_id, status, detail[:300])]


def _standard(
    part: Message, source: str, our_id: str | None, original_to: str | None
) -> list[Notice]:
    blocks = part.get_payload()
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise ReportError("a delivery report with no recipient in its delivery-status part")
    notices = []
    for block in blocks[1:]:  # the first block is about the message, the rest one per recipient
        if not isinstance(block, Message):
            raise ReportError("a delivery-status part that is not in header blocks")
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip().split(" ")[0] or None
        recipient = _report_address(block.get("Original-Recipient")) or _report_address(
            block.get("Final-Recipient")
        )
        if not action and status is None:
            raise ReportError("a delivery report whose recipient has neither Action nor Status")
        if action in ("delivered", "relayed", "expanded"):
            continue  # success notices: nothing bounced
        # The Action decides; the status class only when there is no Action. A failed
        # message with a 4.x.x status (the server gave up retrying) did not arrive either.
        hard = action == "failed" if action else (status or "").startswith("5.")
        if recipient is None and our_id is None and original_to is None:
            raise ReportError("a delivery report that names no recipient")
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        detail = f"delivery report: {action or 'no action'} {status or ''}".rstrip()
        if diagnostic:
            detail += f" ({diagnostic})"
        notices.append(Notice(source, hard, recipient, original_to, our_id, status, detail[:300]))
    return notices


def _first(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _original(message: Message) -> Message | None:
    """The original message (or its headers) carried by a report."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            return email.message_from_string(text, policy=email.policy.compat32)
    return None


def _our_message_id(message: Message, original: Message | None) -> str | None:
    candidates = []
    if original is not None:
        candidates += [str(v) for v in original.get_all("Message-ID", [])]
    # Reports in no standard form often quote the original's headers in their text.
    candidates += _QUOTED_ID.findall(_text(message))
    candidates += [str(v) for v in message.get_all("In-Reply-To", [])]
    candidates += [str(v) for v in message.get_all("References", [])]
    for candidate in candidates:
        match = _OUR_ID.search(candidate)
        if match:
            return f"<{match.group(0).strip('<>')}>"
    return None


def _looks_like_bounce(message: Message) -> bool:
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    return_path = str(message.get("Return-Path", "")).strip()
    return (
        sender.split("@")[0] in _DAEMONS
        or return_path == "<>"
        or bool(_BOUNCE_SUBJECT.search(str(message.get("Subject", ""))))
    )


def _text(message: Message) -> str:
    """The report's own readable text (not the attached original's)."""
    parts: list[str] = []

    def visit(part: Message) -> None:
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers", "message/delivery-status"):
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
        elif part.get_content_maintype() == "text":
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                parts.append(raw.decode(part.get_content_charset() or "utf-8", "replace"))

    visit(message)
    return "\n".join(parts)


def _report_address(value: object) -> str | None:
    """`rfc822; someone@example.org` -> the address."""
    if value is None:
        return None
    _kind, _, address = str(value).partition(";")
    address = (address or _kind).strip().strip("<>").strip()
    return address.lower() if "@" in address else None


def _first_address(values: list[str]) -> str | None:
    for _name, address in getaddresses([str(v) for v in values]):
        if "@" in address:
            return address.lower()
    return None


# -- recording -------------------------------------------------------------------------------


def record_notices(store: Store, wave_name: str, reading: Reading) -> BounceSummary:
    """Record the hard bounces of a reading against a wave's contacts (in one transaction)."""
    summary = BounceSummary(
        messages=reading.messages, not_bounces=reading.not_bounces, unreadable=reading.unreadable
    )
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        for notice in reading.notices:
            contact, row = _match(session, wave, notice)
            label = (contact.email if contact is not None else None) or _label(notice)
            if contact is None:
                summary.not_in_wave.append(label)
                continue
            if not notice.hard:
                summary.delayed.append(notice)
                continue
            if record_bounce(session, contact, notice.detail, row):
                summary.recorded.append(label)
            else:
                summary.already.append(label)
    return summary


def bounces_from(store: Store, wave_name: str, paths: Iterable[str | Path]) -> BounceSummary:
    """Read the paths and record what they report (the `bounces` command)."""
    return record_notices(store, wave_name, read_notices(paths))


def _label(notice: Notice) -> str:
    return notice.address or notice.original_to or notice.message_id or "(no address)"


def _match(
    session: Session, wave: Wave, notice: Notice
) -> tuple[Contact | None, MessageRow | None]:
    """The wave's contact a notice is about, and the very message when it is known."""
    if notice.message_id is not None:
        match = _OUR_ID.search(notice.message_id)
        assert match is not None
        wave_id, contact_id, kind = int(match.group(1)), int(match.group(2)), match.group(3)
        if wave_id != wave.id:
            # A message of another wave: the same person may be in both, but this report
            # is about the other wave's message.
            return None, None
        row = session.scalar(
            select(MessageRow).where(
                MessageRow.wave_id == wave.id,
                MessageRow.contact_id == contact_id,
                MessageRow.kind == kind.lower(),
            )
        )
        if row is not None:
            return session.get(Contact, row.contact_id), row
    for address in notice.addresses():
        contact = find_contact(session, wave, address)
        if contact is not None:
            return contact, None
    return None, None
