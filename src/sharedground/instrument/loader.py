"""Loading, validating and writing instrument definitions (YAML).

Errors name the file, the line, the section and item concerned, and what is wrong, because
the people who edit these files are survey teams, not programmers.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sharedground.instrument.model import Instrument, LocatedError

BUILTIN_PACKAGE = "sharedground.instrument.data"

# libyaml's loader reads an instrument about ten times faster than the pure-Python one,
# which matters because every import and export loads the wave's stored definition.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InstrumentError(ValueError):
    """An instrument definition that cannot be used; the message says where and why."""


def list_builtin() -> list[str]:
    """Ids of the instruments shipped with sharedground."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def builtin(instrument_id: str) -> Instrument:
    """A built-in instrument by id (`dmr-2015`, `dmr-2002`)."""
    name = instrument_id.split("@", 1)[0]
    if name not in list_builtin():
        raise InstrumentError(
            f"no built-in instrument {name!r} (available: {', '.join(list_builtin())})"
        )
    text = (resources.files(BUILTIN_PACKAGE) / f"{name}.yaml").read_text(encoding="utf-8")
    return loads(text, source=f"<built-in {name}>")


def resolve(name_or_path: str) -> Instrument:
    """A built-in id, or the path of a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_file(path)
    return builtin(name_or_path)


def load_file(path: str | Path) -> Instrument:
    """Read and validate an instrument file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InstrumentError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return loads(text, source=str(path))


def loads(text: str, source: str = "<string>") -> Instrument:
    """Validate an instrument given as YAML text."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(f"{source}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InstrumentError(f"{source}: expected a mapping with id, version, sections")
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        # The node tree gives the line numbers of the messages. Composed only now: it
        # cost as much again as loading, at every load of a valid definition.
        node = yaml.compose(text, Loader=_Loader)
        messages = [_describe(source, node, data, err) for err in exc.errors()]
        raise InstrumentError("\n".join(messages)) from None


def dumps(instrument: Instrument) -> str:
    """The instrument as YAML, in the same layout as the built-in files."""
    data = instrument.model_dump(mode="json", exclude_defaults=True)
    # `type` is a discriminator with no default; keep `id` first for readability.
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    pass


def _describe(source: str, node: yaml.Node | None, data: Any, err: Any) -> str:
    loc: Sequence[str | int] = err["loc"]
    located = (err.get("ctx") or {}).get("error")
    if isinstance(located, LocatedError):
        loc = (*loc, *located.path)
    loc = _without_tag(loc)
    line = _line_of(node, loc)
    where = f"{source}, line {line}" if line else source
    context = _context(data, loc)
    field = _field(loc)
    msg = str(err["msg"]).removeprefix("Value error, ")
    parts = [where]
    if context:
        parts.append(context)
    if field:
        parts.append(f"field {field!r}")
    if err["type"] == "missing":
        msg = "is required but missing"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known field"
    elif err["type"] == "string_pattern_mismatch":
        msg = (
            f"{err.get('input')!r} is not a valid id (use lower-case letters, digits and "
            "underscores, starting with a letter)"
        )
    elif err["type"] == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        msg = f"unknown question type {ctx.get('tag')!r} (allowed: {ctx.get('expected_tags')})"
    return ": ".join(parts) + ": " + msg


def _context(data: Any, loc: Sequence[str | int]) -> str:
    """'section 'overall', item 'local_rating', option 3' for a pydantic location."""
    words: list[str] = []
    current = data
    kinds = {
        "sections": "section",
        "items": "item",
        "options": "option",
        "tables": "table",
        "rows": "row",
    }
    i = 0
    while i < len(loc):
        key = loc[i]
        if isinstance(current, dict) and key in current:
            container = current[key]
            if key in kinds and i + 1 < len(loc) and isinstance(loc[i + 1], int):
                index = int(loc[i + 1])
                if isinstance(container, list) and index < len(container):
                    element = container[index]
                    ident = element.get("id") if isinstance(element, dict) else None
                    if ident is None and isinstance(element, dict) and key == "rows":
                        ident = element.get("label")
                    words.append(
                        f"{kinds[key]} {ident!r}" if ident else f"{kinds[key]} {index + 1}"
                    )
                    current = element
                    i += 2
                    continue
            current = container
        i += 1
    return ", ".join(words)


_TAGS = frozenset({"likert", "rating", "single", "multi", "grid", "text"})


def _without_tag(loc: Sequence[str | int]) -> list[str | int]:
    """The location without the union tag pydantic puts after an item's index.

    `('sections', 0, 'items', 2, 'text', 'max_length')` names the `max_length` of a text
    item; the `text` there is the question type, not the item's `text` field.
    """
    parts = list(loc)
    return [
        p
        for i, p in enumerate(parts)
        if not (i >= 2 and parts[i - 2] == "items" and isinstance(parts[i - 1], int) and p in _TAGS)
    ]


def _field(loc: Sequence[str | int]) -> str:
    """The field a (tag-free) location ends on, or "" when it ends on a list element."""
    tail = [str(p) for p in loc if not isinstance(p, int)]
    if not tail or tail[-1] in {"sections", "items", "options", "tables", "rows"}:
        return ""
    return tail[-1]


def _line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node a pydantic location points at (or its parent)."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    found = v if not isinstance(v, yaml.ScalarNode) else k
                    break
            if found is None:
                continue  # a discriminator tag or a model-level error: stay on this node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
        else:
            break
        best = node.start_mark.line + 1
    return best
