"""Coding frames: codes with a hierarchy, a description and an example each, kept as YAML.

A frame is versioned like a questionnaire: `id` and `version` name it, and a stored frame is
never changed (a different definition under the same id and version is refused), so
codings always read against the codes they were made with. The built-in `dmr-themes` is a
starting frame from the study's seven themes (`data/dmr-themes.yaml`).

Every code has a GUID for REFI-QDA exchange: the one it came with from another tool, or one
derived from the frame's and the code's ids, so exporting the same frame twice gives the same
file and a codebook that went out to NVivo comes back matched to the same codes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sharedground.text.errors import TextError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store.textschema import CodeFrame

BUILTIN_PACKAGE = "sharedground.text.data"
_GUIDS = uuid.UUID("7f0c8c2e-3b1e-4f7e-9d55-1d0f7a1e5b21")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CodeDef(BaseModel):
    """One code and the codes under it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID.pattern, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    example: str | None = None
    guid: str | None = None
    codes: list[CodeDef] = Field(default_factory=list)


class FrameDef(BaseModel):
    """A coding frame as written in YAML."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=300)
    codes: list[CodeDef] = Field(min_length=1)

    def walk(self) -> Iterator[tuple[CodeDef, CodeDef | None]]:
        """Every code with its parent (None at the top), parents first."""

        def visit(codes: list[CodeDef], parent: CodeDef | None) -> Iterator[tuple[CodeDef, Any]]:
            for code in codes:
                yield code, parent
                yield from visit(code.codes, code)

        yield from visit(self.codes, None)

    def guid_of(self, code: CodeDef) -> str:
        return code.guid or str(uuid.uuid5(_GUIDS, f"{self.id}/{code.id}"))


@dataclass(frozen=True)
class FlatCode:
    """A code with its place in the hierarchy, as tables and exports list them."""

    key: str
    name: str
    parent: str | None
    depth: int
    description: str | None
    example: str | None


def _check(frame: FrameDef, source: str) -> FrameDef:
    seen: set[str] = set()
    for code, _ in frame.walk():
        if code.id in seen:
            raise TextError(f"{source}: code id {code.id!r} is used twice; ids must be unique")
        seen.add(code.id)
    return frame


def loads(text: str, *, source: str = "<frame>") -> FrameDef:
    """Parse and validate a frame; errors name the source and the code concerned."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TextError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TextError(f"{source}: a coding frame is a mapping with id, version, title, codes")
    try:
        frame = FrameDef.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = _where(data, error["loc"])
            problems.append(f"{where}: {error['msg']}")
        raise TextError(f"{source}: " + "; ".join(problems)) from None
    return _check(frame, source)


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """`codes[2] (external_context) > codes[0].name` from a pydantic location."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            code_id = node.get("id") if isinstance(node, dict) else None
            parts[-1] += f"[{step}]" + (f" ({code_id})" if code_id else "")
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return " > ".join(parts) or "frame"


def dumps(frame: FrameDef) -> str:
    """The frame as YAML (the same text reads back to the same frame)."""
    data = frame.model_dump(exclude_none=True, exclude_defaults=False)

    def prune(codes: list[dict[str, Any]]) -> None:
        for code in codes:
            if not code["codes"]:
                del code["codes"]
            else:
                prune(code["codes"])

    prune(data["codes"])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def list_builtin() -> list[str]:
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin(frame_id: str) -> FrameDef:
    if frame_id not in list_builtin():
        raise TextError(
            f"no built-in coding frame {frame_id!r} (available: {', '.join(list_builtin())})"
        )
    text = (resources.files(BUILTIN_PACKAGE) / f"{frame_id}.yaml").read_text(encoding="utf-8")
    return loads(text, source=f"<built-in {frame_id}>")


def load_file(path: str | Path) -> FrameDef:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise TextError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return loads(text, source=str(path))


def flatten(frame: FrameDef) -> list[FlatCode]:
    depth: dict[str, int] = {}
    flat = []
    for code, parent in frame.walk():
        depth[code.id] = 0 if parent is None else depth[parent.id] + 1
        flat.append(
            FlatCode(
                code.id,
                code.name,
                None if parent is None else parent.id,
                depth[code.id],
                code.description,
                code.example,
            )
        )
    return flat


# -- the store ---------------------------------------------------------------------------------


def save(session: Session, frame: FrameDef) -> CodeFrame:
    """Store a frame and its codes once; the same id@version with other codes is refused."""
    from sqlalchemy import select

    from sharedground.store.textschema import CodeFrame, TextCode

    text = dumps(frame)
    digest = hashlib.sha256(text.encode()).hexdigest()
    found = session.scalar(
        select(CodeFrame).where(CodeFrame.key == frame.id, CodeFrame.version == frame.version)
    )
    if found is not None:
        if found.sha256 != digest:
            raise TextError(
                f"coding frame {frame.id}@{frame.version} is stored already with other codes: "
                "give the edited frame a new version number"
            )
        return found
    record = CodeFrame(
        key=frame.id, version=frame.version, title=frame.title, definition=text, sha256=digest
    )
    session.add(record)
    session.flush()
    ids: dict[str, int] = {}
    for code, parent in frame.walk():
        row = TextCode(
            frame_id=record.id,
            key=code.id,
            guid=frame.guid_of(code),
            name=code.name,
            parent_id=None if parent is None else ids[parent.id],
            description=code.description,
            example=code.example,
        )
        session.add(row)
        session.flush()
        ids[code.id] = row.id
    return record


def get(session: Session, name: str) -> CodeFrame:
    """A stored frame by `id` (its newest version) or `id@version`."""
    from sqlalchemy import select

    from sharedground.store.textschema import CodeFrame

    key, _, version = name.partition("@")
    query = select(CodeFrame).where(CodeFrame.key == key)
    if version:
        if not version.isdigit():
            raise TextError(f"coding frame {name!r}: the version after @ must be a number")
        query = query.where(CodeFrame.version == int(version))
    found = session.scalar(query.order_by(CodeFrame.version.desc()).limit(1))
    if found is None:
        stored = session.execute(select(CodeFrame.key, CodeFrame.version)).all()
        known = ", ".join(f"{k}@{v}" for k, v in stored) or "none yet"
        raise TextError(
            f"no stored coding frame {name!r} (stored: {known}); "
            "`sharedground codes import FILE` or `codes import dmr-themes` adds one"
        )
    return found


def stored_def(record: CodeFrame) -> FrameDef:
    return loads(record.definition, source=f"<stored {record.key}@{record.version}>")


def list_stored(session: Session) -> list[CodeFrame]:
    from sqlalchemy import select

    from sharedground.store.textschema import CodeFrame

    return list(session.scalars(select(CodeFrame).order_by(CodeFrame.key, CodeFrame.version)))
