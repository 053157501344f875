"""Suggested themes: stable for a seed, and able to find themes planted in synthetic comments.

The synthetic cohort writes each comment box from its own pool of sentences (`synth.templates`:
barriers, outside influences, initiatives), so the box a comment was written for is a theme
planted in it; the suggestions, given only the texts, must separate the three boxes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from text_helpers import comment_wave

from sharedground.store import Store
from sharedground.synth import generate
from sharedground.text import coding, frames, sources, suggest
from sharedground.text.errors import TextError

BOXES = ("comments_barriers", "comments_factors", "comments_initiatives")


def _planted() -> tuple[list[str], list[str]]:
    cohort = generate("2015", seed=1, respondents=1500)
    texts, boxes = [], []
    for box in BOXES:
        for text in cohort[box].drop_nulls().to_list():
            texts.append(text)
            boxes.append(box)
    return texts, boxes


def test_suggestions_separate_planted_themes_and_are_stable() -> None:
    texts, boxes = _planted()
    assert len(texts) > 500
    result = suggest.suggest(texts, 3, seed=4)
    # Purity: each suggested theme is mostly one box, and each box has its own theme.
    majority = {}
    for topic in result.topics:
        members = [boxes[i] for i in np.flatnonzero(result.assignment == topic.number - 1)]
        box, n = Counter(members).most_common(1)[0]
        majority[topic.number] = box
        assert n / len(members) >= 0.9, (topic.terms, Counter(members))
    assert sorted(majority.values()) == sorted(BOXES)
    again = suggest.suggest(texts, 3, seed=4)
    assert [t.terms for t in again.topics] == [t.terms for t in result.topics]
    assert np.array_equal(again.assignment, result.assignment)
    for topic in result.topics:
        assert len(topic.terms) == 8 and len(topic.typical) == 3
        assert all(result.assignment[i] == topic.number - 1 for i in topic.typical)


def test_too_few_comments() -> None:
    with pytest.raises(TextError, match="too few"):
        suggest.suggest(["one comment", "two comments"], 3)


def test_wave_suggestions_list_uncovered_comments(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "w")
        sources.add_comments(store, session, wave)
        frame = frames.save(session, frames.builtin("dmr-themes"))
        first = sources.list_sources(session)[0]
        coding.add(
            session,
            first,
            coding.codes_of(session, frame)["variation"],
            coding.get_coder(session, "team"),
        )
        found = suggest.for_wave(session, wave, 2, frame=frame)
    assert len(found.source_ids) == 6
    assert found.uncovered == found.source_ids[1:]
