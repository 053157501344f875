"""`make bench`: run every `bench/bench_*.py` module's `run()` and print one table of figures.

Each module returns rows (dicts) with, by convention, `name`, `value`, `unit`, `peer`,
`peer_value`, `ratio`, `target` and `met`; other keys are shown too. A module that fails
is reported as a failed row and the others still run. Only these modules are run:

    .venv/bin/python bench/run.py bench_analysis      # one module (name or file)
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ORDER = ["name", "value", "unit", "peer", "peer_value", "ratio", "target", "met"]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def collect(paths: list[Path], console: Console) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        started = time.perf_counter()
        console.print(f"[bold]{path.stem}[/] …")
        try:
            found = _load(path).run()
        except Exception as exc:  # one failing benchmark must not hide the rest
            console.print(traceback.format_exc(), style="red", markup=False)
            rows.append((path.stem, {"name": "failed", "value": repr(exc), "met": False}))
            continue
        for row in found:
            rows.append((path.stem, dict(row)))
        console.print(f"  done in {time.perf_counter() - started:.0f} s")
    return rows


def main(argv: list[str]) -> int:
    console = Console()
    if not console.is_terminal:
        console = Console(width=220)  # a log file: no need to squeeze the table into 80
    wanted = {Path(a).stem for a in argv}
    paths = [p for p in sorted(HERE.glob("bench_*.py")) if not wanted or p.stem in wanted]
    if not paths:
        console.print(f"no benchmark modules matching {sorted(wanted)} in {HERE}")
        return 1
    rows = collect(paths, console)
    keys = [k for k in ORDER if any(k in r for _, r in rows)]
    keys += sorted({k for _, r in rows for k in r} - set(keys))
    table = Table(title="Benchmarks", title_justify="left")
    table.add_column("module")
    for key in keys:
        table.add_column(key, justify="left" if key in ("name", "peer", "unit") else "right")
    for module, row in rows:
        style = "red" if row.get("met") is False else None
        table.add_row(module, *(_text(row.get(k)) for k in keys), style=style)
    console.print(table)
    return 0 if all(r.get("met") is not False for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
