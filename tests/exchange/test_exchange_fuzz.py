"""Fuzzing the importer: every file is imported whole or refused with a message.

Three kinds of input (issue #15, item 4): random bytes, random CSV structure (headers
drawn from real and made-up column names, ragged rows, stray quotes, any line endings) and
valid files with random cells put in. Whatever comes, `import_file` must either import
(the response table grows by exactly the rows it reports) or raise InvalidFile with a
message, and then leave every table as it was: never another exception, never a partial
write. Runs in CI, on both backends, in tens of seconds.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from exchange_rows import FORMULA_TEXTS, TRICKY_TEXTS, random_rows, table_counts, write_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharedground.exchange.columns import all_column_names, item_columns
from sharedground.exchange.importer import import_file
from sharedground.exchange.problems import InvalidFile
from sharedground.instrument import builtin
from sharedground.store import Store

DMR_2015 = builtin("dmr-2015")
NAMES = all_column_names(DMR_2015)
VALUES = sorted(
    {v for c in item_columns(DMR_2015) for v in (*c.allowed, *c.options)}
    | {*DMR_2015.role_ids(), "online", "postal", "2015-05-01", "RXA", "none", ""}
)
_files = itertools.count()
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cells = (
    st.sampled_from(VALUES)
    | st.sampled_from(TRICKY_TEXTS + FORMULA_TEXTS)
    | st.text(st.sampled_from(list("ab1;,\"\n\r\t =-'")), max_size=6)
    | st.text(max_size=8)
)


def attempt(store: Store, path: Path, **kwargs: bool) -> None:
    """Import `path` into a new wave: an import, or a message and nothing written."""
    before = table_counts(store)
    try:
        result = import_file(store, path, f"fuzz{next(_files)}", **kwargs)
    except InvalidFile as refused:
        assert refused.problems, "a refusal must say why"
        assert all(str(p).strip() for p in refused.problems)
        assert str(refused).splitlines()[0].endswith("nothing was imported")
        assert table_counts(store) == before
        return
    after = table_counts(store)
    assert after["response"] == before["response"] + result.added
    assert result.added == result.rows > 0


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"fuzz{next(_files)}.csv"
    path.write_bytes(data)
    return path


@FUZZ
@given(
    data=st.binary(max_size=300) | st.binary(max_size=40).map(lambda b: b"respondent_id,role\n" + b)
)
def test_random_bytes(store: Store, tmp_path: Path, data: bytes) -> None:
    attempt(store, _write(tmp_path, data))


@st.composite
def csv_structures(draw: st.DrawFn) -> bytes:
    """A CSV-like file: a header of real and made-up names, rows of any length and quoting."""
    header = draw(
        st.lists(
            st.sampled_from(NAMES[:12])
            | st.sampled_from(["", " role ", "Role", "x"])
            | st.text(max_size=5),
            min_size=1,
            max_size=8,
        )
    )
    if draw(st.booleans()):
        header = ["respondent_id", "role", *header]
    width = len(header)
    rows = draw(
        st.lists(st.lists(cells, min_size=max(0, width - 2), max_size=width + 2), max_size=5)
    )
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if draw(st.booleans()):
        buffer = io.StringIO()
        quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
        csv.writer(buffer, lineterminator=ending, quoting=quoting).writerows([header, *rows])
        text = buffer.getvalue()
    else:  # written by hand, as a careless script would: quotes and commas unescaped
        text = ending.join(",".join(r) for r in [header, *rows]) + draw(
            st.sampled_from(["", ending])
        )
    return text.encode("utf-8")


@FUZZ
@given(data=csv_structures())
def test_random_csv_structure(store: Store, tmp_path: Path, data: bytes) -> None:
    attempt(store, _write(tmp_path, data), allow_missing_items=True)


@FUZZ
@given(
    seed=st.integers(0, 10_000),
    changes=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(NAMES), cells), min_size=1, max_size=4
    ),
    allow=st.booleans(),
    drop=st.lists(st.sampled_from(NAMES), max_size=2),
)
def test_random_cells_of_valid_files(
    store: Store,
    tmp_path: Path,
    seed: int,
    changes: list[tuple[int, str, str]],
    allow: bool,
    drop: list[str],
) -> None:
    rows = random_rows(DMR_2015, 4, seed=seed, prefix=f"S{seed}-")
    for row, column, value in changes:
        rows[row][column] = value or None
    path = write_rows(rows, DMR_2015, tmp_path / f"fuzz{next(_files)}.csv")
    if drop:
        records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        keep = [i for i, name in enumerate(records[0]) if name not in drop]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([[r[i] for i in keep] for r in records])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    attempt(store, path, allow_missing_items=allow)
