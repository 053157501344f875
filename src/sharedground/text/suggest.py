"""Suggested themes before anyone has coded: TF-IDF with non-negative matrix factorisation.

Offline and reproducible: scikit-learn's `TfidfVectorizer` (English stop words, words in at
least two comments (of 50 or more) and at most 95% of them, sublinear term frequency) and
`NMF` (NNDSVDa start, `random_state=seed`), so the same comments and seed give the same
suggestions.
Nothing is downloaded: no hosted model, no embeddings.

Each candidate theme has its top terms (largest weights of the topic) and its most typical
comments (largest weights of the comment on the topic, among comments whose strongest topic
it is). When a frame and a coder are given, the comments that no code of theirs covers yet
are listed, for a person to read next.

These are suggestions for a person to judge, never codes: the CLI says so with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sharedground.text.errors import TextError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store import Wave
    from sharedground.store.textschema import CodeFrame

NOTICE = (
    "These are suggestions from word patterns (TF-IDF and NMF), for a person to judge: "
    "they are not codes, and a theme that matters may be missing or split."
)


@dataclass(frozen=True)
class Topic:
    number: int
    terms: list[str]
    #: Indices into the texts, most typical first.
    typical: list[int]
    size: int


@dataclass(frozen=True)
class Suggestions:
    topics: list[Topic]
    #: The strongest topic of each text (-1 for a text with no weight on any topic).
    assignment: npt.NDArray[np.int64]


def suggest(
    texts: Sequence[str],
    topics: int = 7,
    *,
    seed: int = 0,
    terms: int = 8,
    typical: int = 3,
    max_features: int | None = 20_000,
) -> Suggestions:
    """Candidate themes of `texts` (see the module's docstring)."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if topics < 1:
        raise TextError("ask for at least one suggested theme")
    if len(texts) < max(2 * topics, 4):
        raise TextError(
            f"{len(texts)} comment(s) are too few to suggest {topics} themes "
            f"(at least {max(2 * topics, 4)} are needed)"
        )
    vectoriser = TfidfVectorizer(
        stop_words="english",
        # A word in one comment only says nothing about a shared theme, but a handful of
        # comments may share few words twice.
        min_df=2 if len(texts) >= 50 else 1,
        max_df=0.95,
        sublinear_tf=True,
        max_features=max_features,
    )
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:
        raise TextError("the comments share too few words to suggest themes") from None
    vocabulary = vectoriser.get_feature_names_out()
    topics = min(topics, matrix.shape[1])
    model = NMF(n_components=topics, init="nndsvda", random_state=seed, max_iter=400)
    weights = model.fit_transform(matrix)
    strongest = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1).astype(np.int64)
    found = []
    for t in range(topics):
        top_terms = [str(vocabulary[i]) for i in np.argsort(-model.components_[t])[:terms]]
        members = np.flatnonzero(strongest == t)
        order = members[np.argsort(-weights[members, t], kind="stable")]
        found.append(Topic(t + 1, top_terms, [int(i) for i in order[:typical]], int(members.size)))
    return Suggestions(found, strongest)


@dataclass(frozen=True)
class WaveSuggestions:
    suggestions: Suggestions
    source_ids: list[int]
    texts: list[str]
    uncovered: list[int]


def for_wave(
    session: Session,
    wave: Wave,
    topics: int = 7,
    *,
    seed: int = 0,
    frame: CodeFrame | None = None,
    coder: str | None = None,
) -> WaveSuggestions:
    """Suggestions on a wave's comments (as stored: anonymised), and the uncovered ones."""
    from sqlalchemy import select

    from sharedground.store.textschema import TEAM_CODER, Coder, Coding, TextCode, TextSource

    rows = session.execute(
        select(TextSource.id, TextSource.content)
        .where(TextSource.wave_id == wave.id, TextSource.kind == "comment")
        .order_by(TextSource.id)
    ).all()
    if not rows:
        raise TextError(
            f"wave {wave.name} has no comments among the sources: "
            f"`sharedground text comments --wave {wave.name}` adds them"
        )
    ids = [ident for ident, _ in rows]
    texts = [content for _, content in rows]
    result = suggest(texts, topics, seed=seed)
    uncovered: list[int] = []
    if frame is not None:
        covered = set(
            session.scalars(
                select(Coding.source_id)
                .join(Coder, Coder.id == Coding.coder_id)
                .join(TextCode, TextCode.id == Coding.code_id)
                .where(TextCode.frame_id == frame.id, Coder.name == (coder or TEAM_CODER))
            )
        )
        uncovered = [ident for ident in ids if ident not in covered]
    return WaveSuggestions(result, ids, texts, uncovered)
