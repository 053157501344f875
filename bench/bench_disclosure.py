"""Benchmark: the wave's disclosure decision and its audit on 200 trusts of mixed sizes (#15).

Per trust and per role a size drawn from {2, 4, 8, 15, 25, 40} (NumPy's default_rng(0),
trust by trust, role by role: the draw of `test_the_audit_passes_on_a_wave_of_mixed_sizes`
at 17 trusts), answering at random (the tests' `composed`). `decide` then `audit`: the
audit must pass (no withheld small cell narrower than the threshold), and the two must stay
practical for a national wave; the target set here is 5 minutes together on one core.
Before the fix of the mixed-size wave, 493 cells failed here, pinned at width 0.

    .venv/bin/python bench/bench_disclosure.py [TRUSTS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TRUSTS = 200
SIZES = [2, 4, 8, 15, 25, 40]
TARGET = 300.0


def _wave(trusts: int) -> Any:
    # The tests' wave builders (rows with exactly these sizes per cell), not a copy of them.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "analysis"))
    from analysis_helpers import wave_from_rows
    from disclosure_helpers import ROLES, composed

    from sharedground.instrument import builtin

    instrument = builtin("dmr-2015")
    rng = np.random.default_rng(0)
    sizes = {f"T{i:03d}": {role: int(rng.choice(SIZES)) for role in ROLES} for i in range(trusts)}
    return wave_from_rows(instrument, composed(instrument, sizes))


def run(trusts: int = TRUSTS) -> list[dict[str, Any]]:
    from sharedground.analysis.disclosure.audit import audit
    from sharedground.analysis.disclosure.decide import decide

    data = _wave(trusts)
    started = time.perf_counter()
    decision = decide(data)
    decided = time.perf_counter()
    result = audit(decision, "mixed")
    audited = time.perf_counter()
    withheld = sum(
        int(t.withheld[:-1, :-1].sum()) for t in [decision.respondents, *decision.tables]
    )
    failures = len(result.failures)
    total = audited - started
    return [
        {
            "name": f"decide + audit, {trusts} trusts of mixed sizes",
            "value": round(total, 1),
            "unit": "s",
            "decide": round(decided - started, 1),
            "audit": round(audited - decided, 1),
            "target": f"< {TARGET:.0f} s, 0 failures",
            "met": total < TARGET and failures == 0,
        },
        {
            "name": f"withheld cells ({len(result.cells):,} small, audited)",
            "value": withheld,
            "unit": "cells",
            "secondary": result.withheld_secondary,
            "failures": failures,
            "met": failures == 0,
        },
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else TRUSTS):
        print(row)
