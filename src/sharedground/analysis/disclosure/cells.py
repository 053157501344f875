"""The cells a wave publishes: every table row counted by trust x role, with its margins.

Every output of a wave is a view of one three-way table per row of the report's tables:
trust x role x (counted, valid). The national report prints its role margins, the
benchmarks its trust margins, a trust's report its row of role cells. Counting the full
table once, with an extra row for respondents without a trust and an extra column for
respondents without a role (printed nowhere, but inside the margins), is what lets one
decision cover all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from sharedground.analysis.counting import count
from sharedground.analysis.grouping import grouping
from sharedground.analysis.rows import RowSpec, table_rows
from sharedground.analysis.source import WaveData
from sharedground.instrument import Instrument

IntArray = npt.NDArray[np.int64]

#: Index of the "no trust" row and "no role" column: the last one of each axis.
NONE = -1


def wave_specs(instrument: Instrument) -> list[RowSpec]:
    """Every row of every table, in the order `analyse` and `benchmark` count them."""
    return [spec for table in instrument.tables for spec in table_rows(instrument, table)]


@dataclass(frozen=True)
class WaveCells:
    """A wave's rows counted by trust x role.

    Arrays are indexed [row, trust, role] (or [trust, role] for respondents); the last
    trust is "no trust" and the last role "no role".
    """

    trusts: list[str]
    roles: list[str]
    specs: list[RowSpec]
    counted: IntArray  # rows x (T+1) x (R+1)
    valid: IntArray  # rows x (T+1) x (R+1)
    respondents: IntArray  # (T+1) x (R+1)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.trusts) + 1, len(self.roles) + 1


def wave_cells(data: WaveData) -> WaveCells:
    """Count every row of the wave's tables in every trust x role cell, in one pass."""
    instrument = data.instrument
    frame = data.frame
    roles = grouping(instrument, "role", frame)
    trusts = sorted(c for c in frame["trust"].unique().to_list() if c is not None)
    role_keys = [int(k) for k in roles.keys]  # type: ignore[call-overload]
    known_roles = {k: k for k in role_keys}
    role_expr = (
        roles.expr.cast(pl.Int64)
        .replace_strict(known_roles, default=0)
        .fill_null(0)
        .cast(pl.String)
    )
    key = pl.concat_str([pl.col("trust").fill_null(""), pl.lit("\x1f"), role_expr])
    trust_axis = [*trusts, ""]
    role_axis = [*(str(k) for k in role_keys), "0"]
    keys = [f"{t}\x1f{r}" for t in trust_axis for r in role_axis]
    specs = wave_specs(instrument)
    counts = count(frame, specs, key, keys)
    shape = (len(trust_axis), len(role_axis))
    return WaveCells(
        trusts=trusts,
        roles=list(roles.ids),
        specs=specs,
        counted=counts.counted.reshape(len(specs), *shape),
        valid=counts.valid.reshape(len(specs), *shape),
        respondents=counts.respondents.reshape(shape),
    )
