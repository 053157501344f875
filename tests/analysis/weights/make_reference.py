"""Regenerate r_reference.json: designs and R's survey figures for them.

    cd <repo> && PYTHONPATH=src python tests/analysis/weights/make_reference.py

needs Rscript with the survey and jsonlite packages (Debian: r-cran-survey, r-cran-jsonlite).
It writes the cases (random designs from `weights_designs.random_design`, seeds 0-39, the
synthetic 2015 cohort with the 2015 postal design, see `cohort_cases`, and 30 raking
cases from `weights_designs.random_raking`) to a temporary
JSON file, runs make_reference.R on it, and stores cases and R's answers together. The tests
read only the stored file; they never run R.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from weights_designs import random_design, random_raking  # noqa: E402

SEEDS = range(40)


def random_cases() -> list[dict[str, Any]]:
    cases = []
    for seed in SEEDS:
        d = random_design(seed)
        cases.append(
            {
                "name": f"random-{seed}",
                "stratum": d["stratum"],
                "weight": d["weight"],
                "group": d["group"],
                "rows": [{"y": d["y"], "valid": d["valid"]}],
            }
        )
    return cases


def cohort_cases() -> list[dict[str, Any]]:
    from weights_cohort import cohort_case

    return [cohort_case("role"), cohort_case("mode")]


def main() -> None:
    cases = random_cases() + cohort_cases() + [random_raking(s) for s in range(30)]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "cases.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(cases))
        subprocess.run(["Rscript", str(HERE / "make_reference.R"), str(src), str(dst)], check=True)
        answers = json.loads(dst.read_text())
        version = subprocess.run(
            ["Rscript", "-e", 'cat(R.version.string, "survey", format(packageVersion("survey")))'],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    stored = {
        "how": "tests/analysis/weights/make_reference.py (runs make_reference.R)",
        "r": version,
        "cases": [c | {"r": a} for c, a in zip(cases, answers, strict=True)],
    }
    (HERE / "r_reference.json").write_text(json.dumps(stored, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
