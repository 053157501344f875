"""Reading the admin pages' forms: values, dates, whole numbers, errors tied to fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sharedground.store import StoreError
from sharedground.web.questions import Problem


class FieldError(StoreError):
    """A form value cannot be used; `field` names the field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def value(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[-1].strip()


def checked(form: dict[str, list[str]], name: str) -> bool:
    return value(form, name) in ("1", "on", "yes", "true")


def date(form: dict[str, list[str]], name: str, label: str) -> dt.date | None:
    text = value(form, name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{label}: {text!r} is not a date like 2027-03-31", name) from None


def whole(form: dict[str, list[str]], name: str, label: str, default: int) -> int:
    text = value(form, name)
    if not text:
        return default
    if not text.isdigit():
        raise FieldError(f"{label}: {text!r} is not a whole number", name)
    return int(text)


def problem_of(exc: Exception, default: str) -> tuple[list[Problem], dict[str, str]]:
    """The error summary and the field messages for one error."""
    name = getattr(exc, "field", None) or default
    message = str(exc)
    first = message.split(" ", 1)[0]
    if "@" not in first and "'" not in first:  # an address or a quoted value stays as typed
        message = message[:1].upper() + message[1:]
    return [Problem(name, name, message)], {name: message}


def errors_context(**extra: Any) -> dict[str, Any]:
    extra.setdefault("errors", {})
    extra.setdefault("problems", [])
    return extra


MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a sample frame of 100,000 people is a few megabytes


class UploadRefused(StoreError):
    """An upload too large, of the wrong kind, or without a file."""

    field = "frame"


async def read_upload(
    request: Any, web: Any, field: str, suffixes: tuple[str, ...]
) -> tuple[dict[str, list[str]], str, bytes]:
    """A multipart form with one file: (other fields, the file's suffix, its bytes).

    The CSRF token is checked as for every other form; the size is limited before and
    while reading; only the suffixes allowed are accepted. The bytes are never served back.
    """
    from sharedground.web.context import CsrfRejected
    from sharedground.web.security import CSRF_COOKIE, CSRF_FIELD

    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRejected()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise UploadRefused(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    fields: dict[str, list[str]] = {}
    suffix, data = "", b""
    async with request.form(max_files=1, max_fields=20) as form:
        for key, item in form.multi_items():
            if isinstance(item, str):
                fields.setdefault(key, []).append(item)
            elif key == field and item.filename:
                suffix = (
                    "." + item.filename.rsplit(".", 1)[-1].lower() if "." in item.filename else ""
                )
                data = await item.read(MAX_UPLOAD_BYTES + 1)
    token = fields.pop(CSRF_FIELD, [None])[-1]
    if not web.csrf.valid(request.cookies.get(CSRF_COOKIE), token):
        raise CsrfRejected()
    if not data:
        raise UploadRefused("choose a CSV or XLSX file to upload")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if suffix not in suffixes:
        raise UploadRefused("the file must be a CSV file (.csv) or an Excel workbook (.xlsx)")
    return fields, suffix, data
