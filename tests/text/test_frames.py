"""Coding frames: the built-in starter frame, YAML round trip, errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharedground.store import Store
from sharedground.text import frames
from sharedground.text.errors import TextError


def test_starter_frame_has_the_seven_themes_and_a_hierarchy() -> None:
    frame = frames.builtin("dmr-themes")
    top = [code.id for code in frame.codes]
    assert top == [
        "variation",
        "perceptions",
        "medical_management",
        "external_context",
        "public_esteem",
        "local_initiatives",
        "change_since_2002",
    ]
    flat = frames.flatten(frame)
    assert {f.key: f.parent for f in flat}["external_finance"] == "external_context"
    assert all(f.description and f.example for f in flat)


def test_yaml_round_trip_is_exact() -> None:
    frame = frames.builtin("dmr-themes")
    again = frames.loads(frames.dumps(frame))
    assert again == frame
    assert frames.dumps(again) == frames.dumps(frame)


def test_errors_name_the_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: f\nversion: 1\ntitle: T\ncodes:\n  - id: a\n    name: A\n"
        "    codes:\n      - id: b\n        name: ''\n",
        encoding="utf-8",
    )
    with pytest.raises(TextError) as caught:
        frames.load_file(bad)
    message = str(caught.value)
    assert str(bad) in message and "codes[0] (a) > codes[0] (b) > name" in message
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "id: f\nversion: 1\ntitle: T\ncodes:\n  - id: a\n    name: A\n  - id: a\n    name: B\n",
        encoding="utf-8",
    )
    with pytest.raises(TextError, match="'a' is used twice"):
        frames.load_file(twice)


def test_stored_once_and_versioned(store: Store) -> None:
    frame = frames.builtin("dmr-themes")
    with store.session() as session:
        first = frames.save(session, frame)
        assert frames.save(session, frame).id == first.id
        assert len(first.codes) == len(frames.flatten(frame))
        parent = {c.id: c for c in first.codes}
        finance = next(c for c in first.codes if c.key == "external_finance")
        assert finance.parent_id is not None
        assert parent[finance.parent_id].key == "external_context"
    changed = frame.model_copy(update={"title": "Edited"})
    with store.session() as session, pytest.raises(TextError, match="new version number"):
        frames.save(session, changed)
    with store.session() as session:
        frames.save(session, changed.model_copy(update={"version": 2}))
        assert frames.get(session, "dmr-themes").version == 2
        assert frames.get(session, "dmr-themes@1").title == frame.title
        with pytest.raises(TextError, match="no stored coding frame"):
            frames.get(session, "nope")
