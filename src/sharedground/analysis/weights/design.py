"""Design weights from fieldwork's records, and the population to weight to.

Everyone in a wave's frame was asked online; the postal phase then posted questionnaires to
a stratified random sample (by role, `fieldwork.postal`). A respondent reached by post
(mode ``postal`` or ``paper``) had the chance `fraction` of their role of being asked that
way, so carries the design weight ``1 / fraction``; online respondents carry 1. The
fractions are the wave's recorded postal draw; a wave without one (an imported cohort) is
taken to follow the 2015 design (`DEFAULT_FRACTIONS`), and the methods say so.

The population is the frame: the wave's contacts counted by role and trust. A survey
without a frame in the store gives its population as a CSV of counts (`read_targets`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from sharedground.analysis.weights.raking import Floats, Ints, WeightingError
from sharedground.fieldwork.postal import DEFAULT_FRACTIONS
from sharedground.store import Contact, Store
from sharedground.store.schema import Organisation, PostalDraw

#: Modes reached through the postal phase.
PAPER_MODES = ("postal", "paper")


@dataclass(frozen=True)
class Fractions:
    by_role: dict[str, float]
    source: str  # said in the methods


def wave_fractions(store: Store, wave_name: str) -> Fractions:
    """The postal fractions of the wave's draw, or the 2015 design when none was drawn."""
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        drawn = session.scalar(select(PostalDraw).where(PostalDraw.wave_id == wave.id))
        if drawn is not None:
            fractions = {str(k): float(v) for k, v in drawn.fractions.items()}
            return Fractions(fractions, f"the wave's postal draw (seed {drawn.seed})")
    return Fractions(
        dict(DEFAULT_FRACTIONS),
        "no postal draw is recorded for this wave, so the 2015 design is assumed (all chief "
        "executives and medical directors, 10% of clinical directors, 16% of directorate "
        "managers)",
    )


def design_weights(
    role_codes: Ints,
    mode_codes: Ints,
    roles: Sequence[str],
    modes: Sequence[str],
    fractions: Mapping[str, float],
) -> Floats:
    """1 online; 1 / fraction of the role for the postal phase (codes are 1-based, 0 blank)."""
    paper = np.isin(mode_codes, [modes.index(m) + 1 for m in PAPER_MODES if m in modes])
    inverse = np.ones(len(roles) + 1)
    for i, role in enumerate(roles):
        f = float(fractions.get(role, 0.0))
        inverse[i + 1] = 1.0 / f if f > 0 else np.inf
    blank = paper & (role_codes == 0)
    if blank.any():
        raise WeightingError(
            f"role (blank): {int(blank.sum())} postal respondent(s) gave no role, so their "
            "chance of being sampled is unknown"
        )
    weights: Floats = np.where(paper, inverse[role_codes], 1.0)
    bad = np.isinf(weights)
    if bad.any():
        role = roles[int(role_codes[bad][0]) - 1]
        raise WeightingError(
            f"role {role!r}: {int(bad.sum())} postal respondent(s) but a postal fraction of "
            "zero for the role, so no design weight"
        )
    return weights


def frame_population(store: Store, wave_name: str) -> dict[tuple[str, str | None], float]:
    """The wave's contacts counted by role and trust."""
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        rows = session.execute(
            select(Contact.role, Organisation.code, func.count())
            .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
            .where(Contact.wave_id == wave.id)
            .group_by(Contact.role, Organisation.code)
        ).all()
    return {(str(role), None if code is None else str(code)): float(n) for role, code, n in rows}


def read_targets(path: Path, roles: Sequence[str]) -> dict[tuple[str, str | None], float]:
    """Population counts from a CSV: columns ``role``, ``count`` and optionally ``trust``.

    Every row is checked before any is used; errors name the file, row and column.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise WeightingError(f"{path}: cannot read the targets ({error})") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "role" not in columns or "count" not in columns:
        raise WeightingError(f"{path}: the targets need columns role and count (and maybe trust)")
    with_trust = "trust" in columns
    targets: dict[tuple[str, str | None], float] = {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        role = row.get("role", "")
        if role not in roles:
            raise WeightingError(
                f"{path}, row {number}, column role: {role!r} is not a role ({', '.join(roles)})"
            )
        trust = row.get("trust") or None if with_trust else None
        if with_trust and trust is None:
            raise WeightingError(f"{path}, row {number}, column trust: blank")
        try:
            count = float(row.get("count", ""))
        except ValueError:
            count = -1.0
        if not np.isfinite(count) or count < 0 or not count.is_integer():
            raise WeightingError(
                f"{path}, row {number}, column count: {row.get('count')!r} is not a whole "
                "number of people"
            )
        if (role, trust) in targets:
            raise WeightingError(f"{path}, row {number}: {role} {trust or ''} given twice")
        targets[(role, trust)] = count
    if not targets:
        raise WeightingError(f"{path}: no targets")
    return targets
