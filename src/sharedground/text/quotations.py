"""Quotations for a theme: short, complete, typical sentences, attributed by role group alone.

How they are picked, for one code of a wave (the team's coding unless a coder is named):

1. the text each coding covers (the span, or the whole comment) is split into sentences;
   a candidate is a complete sentence: it starts with a capital letter or a digit, ends with
   . ! or ?, has 4 to 40 words, and holds nothing the anonymiser removed ("[... removed]");
2. each candidate's typicality is its cosine similarity (TF-IDF, English stop words) to the
   mean of every candidate of the code, less its similarity to the mean of the sentences of
   the comments of respondents not coded with it (at most 2,000 of them, seeded): a
   sentence many comments share whatever their theme ("Happy to be contacted about this.")
   is not typical of any. The score prefers typical, then short, sentences: typicality
   - 0.002 x characters (so 50 characters cost as much as 0.1 of similarity);
3. at most one quotation per respondent and no sentence twice; the role groups take turns,
   the group with the most respondents to quote from first, each giving its best remaining one, so a
   box spreads across groups instead of repeating the most talkative one;
   A sentence written word for word (ignoring case) by a tenth of the commenters or more,
   and by at least ten of them, is a stock phrase ("I suspect we are not unusual.") and is
   never quoted: while the team has coded only a sample, the few comments coded with a code
   can hold it more often than the rest, and it then looked typical (the README's tour
   printed "This has been the case for some time." as a view of how each group sees the
   other);
4. a role group with fewer respondents in the wave (or the trust, for a trust's report) than
   the suppression threshold gives no quotation: a quotation tied to a group of two is
   nearly tied to a person; nor does a group whose count for the code is withheld where
   the quotation is shown (`roles`): the quotation would tell that someone there was
   coded with it.

Each quotation carries its role group's label and nothing else: no trust, no date, no
respondent. The anonymiser (`report.anonymise`) runs on it again before it is returned,
although the stored text has already been through it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sharedground.text.errors import TextError
from sharedground.text.segments import sentences

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store import Store, Wave
    from sharedground.store.textschema import CodeFrame

MIN_WORDS = 4
MAX_WORDS = 40
LENGTH_COST = 0.002
_COMPLETE = re.compile(r"^[\"'“‘(]?[A-Z0-9].*[.!?][\"'”’)]?$", re.DOTALL)


@dataclass(frozen=True)
class Quotation:
    code: str
    role: str
    text: str


@dataclass(frozen=True)
class _Candidate:
    response_id: int
    role: str
    text: str


def complete(sentence: str) -> bool:
    words = len(sentence.split())
    return (
        MIN_WORDS <= words <= MAX_WORDS
        and _COMPLETE.match(sentence) is not None
        and "removed]" not in sentence
    )


def _candidates(
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    code_key: str,
    coder: str,
    organisation_id: int | None,
    released: Collection[int] | None = None,
) -> tuple[list[_Candidate], set[int]]:
    """Candidate sentences, and every respondent whose comments carry the code."""
    from sqlalchemy import select

    from sharedground.store.textschema import Coder, Coding, TextCode, TextSource

    codes = {code.key: code for code in frame.codes}
    if code_key not in codes:
        raise TextError(f"{code_key!r} is not a code of frame {frame.key}@{frame.version}")
    # The code and every code under it.
    wanted = {codes[code_key].id}
    grew = True
    while grew:
        more = {c.id for c in frame.codes if c.parent_id in wanted} - wanted
        wanted |= more
        grew = bool(more)
    query = (
        select(
            TextSource.response_id, TextSource.role, TextSource.content, Coding.start, Coding.end
        )
        .join(Coding, Coding.source_id == TextSource.id)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(TextCode, TextCode.id == Coding.code_id)
        .where(
            Coder.name == coder,
            TextCode.id.in_(wanted),
            TextSource.wave_id == wave.id,
            TextSource.kind == "comment",
        )
        .order_by(TextSource.id, Coding.id)
    )
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    found: list[_Candidate] = []
    seen: set[tuple[int, str]] = set()
    coded: set[int] = set()
    for response_id, role, content, start, end in session.execute(query):
        if response_id is None or role is None:
            continue
        if released is not None and response_id not in released:
            continue
        coded.add(response_id)
        covered = content[start or 0 : len(content) if end is None else end]
        for sentence in sentences(covered):
            if complete(sentence.text) and (response_id, sentence.text) not in seen:
                seen.add((response_id, sentence.text))
                found.append(_Candidate(response_id, role, sentence.text))
    return found, coded


BACKGROUND = 2_000
#: A sentence that this share of the commenters or more (and STOCK_MIN at least) wrote is stock.
STOCK_SHARE = 0.10
STOCK_MIN = 10


def _stock(
    session: Session,
    wave: Wave,
    organisation_id: int | None,
    released: Collection[int] | None = None,
) -> set[str]:
    """Sentences (casefolded) written word for word by many of the wave's commenters."""
    from sqlalchemy import select

    from sharedground.store.textschema import TextSource

    query = select(TextSource.response_id, TextSource.content).where(
        TextSource.wave_id == wave.id, TextSource.kind == "comment"
    )
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    writers: dict[str, set[int]] = {}
    commenters: set[int] = set()
    for response_id, content in session.execute(query):
        if response_id is None or (released is not None and response_id not in released):
            continue
        commenters.add(response_id)
        for sentence in sentences(content):
            writers.setdefault(sentence.text.casefold(), set()).add(response_id)
    bar = max(STOCK_MIN, STOCK_SHARE * len(commenters))
    return {text for text, who in writers.items() if len(who) >= bar}


def _scores(texts: list[str], background: list[str]) -> list[float]:
    """Typicality minus a cost for length (see the module's docstring)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        matrix = TfidfVectorizer(stop_words="english").fit_transform(texts + background)
    except ValueError:  # nothing but stop words
        return [-LENGTH_COST * len(t) for t in texts]
    ours, theirs = matrix[: len(texts)], matrix[len(texts) :]

    def similarity(rows: Any) -> Any:
        if rows.shape[0] == 0:
            return np.zeros(len(texts))
        centroid = np.asarray(rows.mean(axis=0)).ravel()
        norm = float(np.linalg.norm(centroid))
        return np.asarray(ours @ centroid).ravel() / norm if norm else np.zeros(len(texts))

    typical = similarity(ours) - similarity(theirs)
    return [float(s) - LENGTH_COST * len(t) for s, t in zip(typical, texts, strict=True)]


def _background(
    session: Session,
    wave: Wave,
    coded: set[int],
    organisation_id: int | None,
    released: Collection[int] | None = None,
) -> list[str]:
    """Sentences of the comments of respondents not coded with the code, a seeded sample."""
    import random

    from sqlalchemy import select

    from sharedground.store.textschema import TextSource

    query = select(TextSource.response_id, TextSource.content).where(
        TextSource.wave_id == wave.id, TextSource.kind == "comment"
    )
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    found = [
        sentence.text
        for response_id, content in session.execute(query.order_by(TextSource.id))
        if response_id not in coded and (released is None or response_id in released)
        for sentence in sentences(content)
    ]
    if len(found) > BACKGROUND:
        found = random.Random(0).sample(found, BACKGROUND)
    return found


def pick(
    store: Store,
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    code_key: str,
    *,
    count: int = 4,
    coder: str | None = None,
    organisation_id: int | None = None,
    roles: Collection[str] | None = None,
    today: dt.date | None = None,
) -> list[Quotation]:
    """Up to `count` quotations for a code, spread across the role groups that may be quoted.

    `roles`: the role groups whose count for the code the output quoting them shows (the
    wave's disclosure decision, `text.disclosure`); no other group is quoted. Once fieldwork
    is over (on `today`), only comments of the responses in the final figures are read
    (`final.released_ids`): a late return's comment waits for its batch as its answers do,
    and does not move which sentences are chosen either.
    """
    from sqlalchemy import select

    from sharedground.analysis.disclosure.final import released_ids
    from sharedground.instrument import SingleItem
    from sharedground.report.anonymise import anonymise
    from sharedground.store.schema import Response
    from sharedground.store.textschema import TEAM_CODER

    coder = coder or TEAM_CODER
    released = released_ids(session, wave, today)
    candidates, coded = _candidates(
        session, wave, frame, code_key, coder, organisation_id, released
    )
    if not candidates:
        return []
    sizes_query = select(Response.id, Response.role).where(Response.wave_id == wave.id)
    if organisation_id is not None:
        sizes_query = sizes_query.where(Response.organisation_id == organisation_id)
    sizes = Counter(
        role
        for response_id, role in session.execute(sizes_query)
        if released is None or response_id in released
    )
    quotable = {role for role, n in sizes.items() if n >= wave.suppression_threshold}
    if roles is not None:
        quotable &= set(roles)
    stock = _stock(session, wave, organisation_id, released)
    candidates = [c for c in candidates if c.role in quotable and c.text.casefold() not in stock]
    if not candidates:
        return []
    background = _background(session, wave, coded, organisation_id, released)
    scores = _scores([c.text for c in candidates], background)
    by_role: dict[str, list[tuple[float, _Candidate]]] = {}
    for score, candidate in zip(scores, candidates, strict=True):
        by_role.setdefault(candidate.role, []).append((score, candidate))
    for queue in by_role.values():
        queue.sort(key=lambda pair: (-pair[0], len(pair[1].text), pair[1].text))
    role_item = store.instrument_of(wave).item("role")
    labels = {o.id: o.label for o in role_item.options} if isinstance(role_item, SingleItem) else {}
    respondents = {role: len({c.response_id for _, c in queue}) for role, queue in by_role.items()}
    order = sorted(by_role, key=lambda role: (-respondents[role], role))
    chosen: list[Quotation] = []
    quoted: set[int] = set()
    said: set[str] = set()
    # Each group in turn gives its best sentence from a respondent not yet quoted that is
    # not yet in the box: a respondent's next sentence may serve when their best is taken.
    while len(chosen) < count and any(by_role[role] for role in order):
        for role in order:
            while by_role[role] and len(chosen) < count:
                _, candidate = by_role[role].pop(0)
                if candidate.response_id in quoted or candidate.text.casefold() in said:
                    continue
                quoted.add(candidate.response_id)
                said.add(candidate.text.casefold())
                chosen.append(
                    Quotation(code_key, labels.get(role, role), anonymise(candidate.text))
                )
                break
    return chosen
