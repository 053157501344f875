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
    message = message[:1].upper() + message[1:]
    return [Problem(name, name, message)], {name: message}


def errors_context(**extra: Any) -> dict[str, Any]:
    extra.setdefault("errors", {})
    extra.setdefault("problems", [])
    return extra
