"""The invitation and reminder e-mails: templates an organisation can edit, and the message.

Each kind of message (`invitation`, `reminder`) has three templates: `KIND.subject` (one
line), `KIND.txt` (the plain-text part) and `KIND.html` (the HTML part). The built-in ones
are in `fieldwork/templates/email/`; a folder given with `--templates` is searched first,
so an organisation copies a file there and edits it. Templates are Jinja2 with:

    name, title, wave, survey_url, optout_url, closes, anonymous, reminder, sender_name

Every message carries `List-Unsubscribe` headers (one-click, RFC 8058) pointing at the
contact's opt-out page, and a Message-ID derived from the message row, so that a message
resent after an unknown outcome can be recognised as the same one by the receiving side.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, parseaddr
from importlib import resources
from pathlib import Path

import jinja2

from sharedground.fieldwork.clock import study_zone, utc_now
from sharedground.fieldwork.links import link_url
from sharedground.store import StoreError

KINDS = ("invitation", "reminder")
OPTOUT_PATH = "/optout/"
TEMPLATE_NAMES = [f"{kind}.{part}" for kind in KINDS for part in ("subject", "txt", "html")]


class TemplateError(StoreError):
    """An e-mail template cannot be used; the message names the file and the line."""


def optout_url(base_url: str, token: str) -> str:
    """The contact's opt-out page: the same token as their survey link, another path."""
    return f"{base_url.rstrip('/')}{OPTOUT_PATH}{token}"


@dataclass(frozen=True)
class Sender:
    """Who the messages come from."""

    address: str
    name: str = "The survey team"

    def header(self) -> str:
        display, addr = parseaddr(self.address)
        return str(Address(display_name=display or self.name, addr_spec=addr))


class Templates:
    """The e-mail templates, the organisation's folder first, then the built-in ones."""

    def __init__(self, folder: str | Path | None = None) -> None:
        builtin = str(resources.files("sharedground.fieldwork") / "templates" / "email")
        loaders: list[jinja2.BaseLoader] = []
        if folder is not None:
            if not Path(folder).is_dir():
                raise TemplateError(f"--templates {folder}: no such folder")
            loaders.append(jinja2.FileSystemLoader(str(folder)))
        loaders.append(jinja2.FileSystemLoader(builtin))
        self._text = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._compiled: dict[str, jinja2.Template] = {}
        for name in TEMPLATE_NAMES:
            env = self._html if name.endswith(".html") else self._text
            try:
                self._compiled[name] = env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"{exc.filename or name}, line {exc.lineno}: {exc.message}"
                ) from None

    def render(self, kind: str, **context: object) -> tuple[str, str, str]:
        """The subject, plain text and HTML of one message."""
        try:
            subject = self._compiled[f"{kind}.subject"].render(**context)
            text = self._compiled[f"{kind}.txt"].render(**context)
            html = self._compiled[f"{kind}.html"].render(**context)
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"{kind} template: {exc.message}; the names a template may use are "
                "name, title, wave, survey_url, optout_url, closes, anonymous, reminder, "
                "sender_name"
            ) from None
        return " ".join(subject.split()), text, html


@dataclass(frozen=True)
class Letter:
    """What one message says to one contact."""

    kind: str  # invitation | reminder
    to: str
    name: str | None
    token: str
    reminder: int = 0


def build_message(
    templates: Templates,
    letter: Letter,
    *,
    sender: Sender,
    base_url: str,
    title: str,
    wave: str,
    closes: dt.date | None,
    anonymous: bool,
    message_id: str,
    now: dt.datetime | None = None,
) -> Outgoing:
    """The complete MIME message (plain text with an HTML alternative)."""
    survey = link_url(base_url, letter.token)
    optout = optout_url(base_url, letter.token)
    subject, text, html = templates.render(
        letter.kind,
        name=letter.name,
        title=title,
        wave=wave,
        survey_url=survey,
        optout_url=optout,
        closes=closes.strftime("%-d %B %Y") if closes else None,
        anonymous=anonymous,
        reminder=letter.reminder,
        sender_name=sender.name,
    )
    return Outgoing(
        data=_mime(
            [
                ("Subject", _header_text(subject)),
                ("From", sender.header()),
                ("To", letter.to),
                ("Date", format_datetime((now or utc_now()).astimezone(study_zone()))),
                ("Message-ID", message_id),
                ("List-Unsubscribe", f"<{optout}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ("Auto-Submitted", "auto-generated"),
            ],
            text,
            html,
        ),
        subject=subject,
        text=text,
    )


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire (CRLF line ends), with what a person would read."""

    data: bytes
    subject: str
    text: str


def _header_text(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def _mime(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """multipart/alternative with base64 UTF-8 parts, written directly.

    The `email` package spends milliseconds per message folding headers; these headers
    are short and fixed, so the standard layout is written as is (10,000 messages add up).
    """
    boundary = f"=_sg_{secrets.token_hex(12)}"
    lines = [f"{name}: {value}" for name, value in headers]
    lines += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
    ]
    for subtype, body in (("plain", text), ("html", html)):
        encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii")
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: base64",
            "",
            encoded.rstrip("\n").replace("\n", "\r\n"),
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("ascii")


def message_id(wave_id: int, contact_id: int, kind: str, domain: str) -> str:
    """A Message-ID fixed by wave, contact and kind: a resend carries the same one."""
    return f"<sg.{wave_id}.{contact_id}.{kind}@{domain}>"
