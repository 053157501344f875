"""Waves built to be hard for disclosure control, and the attacks a reader would try."""

from __future__ import annotations

from analysis_helpers import make_rows, wave_from_rows

from sharedground.analysis.source import WaveData
from sharedground.instrument import Instrument

ROLES = ["chief_executive", "medical_director", "directorate_manager", "clinical_director"]


def composed(
    instrument: Instrument, sizes: dict[str, dict[str, int]], seed: int = 3
) -> list[dict[str, str]]:
    """Rows with exactly `sizes[trust][role]` respondents per cell, answering at random."""
    rows: list[dict[str, str]] = []
    for t, (trust, by_role) in enumerate(sorted(sizes.items())):
        for r, (role, n) in enumerate(sorted(by_role.items())):
            if n:
                part = make_rows(instrument, n, seed * 1000 + t * 10 + r, [trust], [role])
                for i, row in enumerate(part):
                    row["respondent_id"] = f"{trust}-{role}-{i}"
                rows += part
    return rows


def hard_wave(instrument: Instrument, small: dict[str, int], *, others: int = 8) -> WaveData:
    """Four trusts of `others` per role, except `small[trust]` clinical directors."""
    sizes = {trust: {role: others for role in ROLES} for trust in ("RA1", "RB2", "RC3", "RD4")}
    for trust, n in small.items():
        sizes[trust]["clinical_director"] = n
    return wave_from_rows(instrument, composed(instrument, sizes))


def subtract(
    national: dict[str, object], trusts: dict[str, dict[str, object]], target: str, role: str
) -> list[tuple[int, int] | None]:
    """The attack of issue #15: per row, national by role minus the other trusts' cells.

    Returns per row the (count, valid) recovered for `target`'s `role`, or None where some
    other trust's cell (or the national one) is withheld, so subtraction gives nothing.
    """
    recovered: list[tuple[int, int] | None] = []
    for t_index, table in enumerate(national["tables"]):  # type: ignore[index]
        for r_index, row in enumerate(table["rows"]):
            cell = row["groups"].get(role) or {}
            count, valid = cell.get("count"), cell.get("valid")
            for trust, document in trusts.items():
                if trust == target or count is None:
                    continue
                other = document["tables"][t_index]["rows"][r_index]["groups"].get(role)  # type: ignore[index]
                if other is None:
                    continue  # no such group in that trust: a known zero
                if other.get("count") is None:
                    count = None
                    break
                count -= other["count"]
                valid -= other["valid"]
            recovered.append(None if count is None else (count, valid))
    return recovered
