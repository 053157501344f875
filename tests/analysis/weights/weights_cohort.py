"""The synthetic 2015 cohort (seed 1) with the 2015 postal design, as a case for R.

Design weights: 1 for online respondents, 1 / fraction of their role for postal ones
(`fieldwork.postal.DEFAULT_FRACTIONS`); strata: role. Rows: every row of every table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sharedground.analysis.encoding import encode
from sharedground.analysis.rows import all_rows
from sharedground.fieldwork.postal import DEFAULT_FRACTIONS
from sharedground.synth.cohort import generate, instrument_for


def cohort_frame() -> Any:
    instrument = instrument_for("2015")
    return encode(generate("2015", 1), instrument), instrument


def cohort_weights(frame: Any, instrument: Any) -> np.ndarray:
    roles = instrument.role_ids()
    fractions = np.array([1.0] + [DEFAULT_FRACTIONS.get(r, 1.0) for r in roles])
    postal = frame["mode"].to_numpy() == 2
    return np.where(postal, 1.0 / fractions[frame["role"].to_numpy()], 1.0)


def cohort_case(by: str) -> dict[str, Any]:
    frame, instrument = cohort_frame()
    weights = cohort_weights(frame, instrument)
    group = frame[by].to_numpy().astype(np.int64) - 1
    specs = all_rows(instrument)
    flags = frame.select(
        *(s.counted.fill_null(False).alias(f"c{i}") for i, s in enumerate(specs)),
        *(s.valid.fill_null(False).alias(f"v{i}") for i, s in enumerate(specs)),
    )
    return {
        "name": f"cohort-2015-by-{by}",
        "stratum": frame["role"].to_numpy().astype(int).tolist(),
        "weight": weights.tolist(),
        "group": group.tolist(),
        "rows": [
            {
                "y": flags[f"c{i}"].cast(int).to_list(),
                "valid": flags[f"v{i}"].cast(int).to_list(),
            }
            for i in range(len(specs))
        ],
    }
