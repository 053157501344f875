"""`sharedground text` and `sharedground codes` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from text_helpers import COMMENTS, close_wave, comment_wave

from sharedground.cli import main
from sharedground.store import Store


class _Cli:
    """The command line against the test's database (SQLite or PostgreSQL)."""

    def __init__(self, store: Store, env: dict[str, str] | None = None) -> None:
        self.url = store.engine.url.render_as_string(hide_password=False)
        self.runner = CliRunner(env=env)

    def invoke(self, *args: str) -> Result:
        """A command that may fail: its result, to check the message."""
        return self.runner.invoke(main, [*args, "--database", self.url])

    def output(self, *args: str) -> str:
        """A command that must succeed: its output as printed."""
        done = self.invoke(*args)
        assert done.exit_code == 0, done.output
        return done.output

    def run(self, *args: str) -> str:
        """A command that must succeed: its output on one line (Rich wraps to the width)."""
        return " ".join(self.output(*args).split())

    def ready_to_code(self, wave: str) -> None:
        """The wave's comments as sources and the starter frame stored, as a team begins."""
        self.output("text", "comments", "--wave", wave)
        self.output("codes", "import", "dmr-themes")


@pytest.fixture
def commented(store: Store, tmp_path: Path) -> _Cli:
    """The command line on the small comment wave `w` (`comment_wave`), ready to code."""
    comment_wave(store, tmp_path)
    cli = _Cli(store)
    cli.ready_to_code("w")
    return cli


def test_comments_codes_and_csv_coding(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    cli = _Cli(store)
    run = cli.run
    added = run("text", "comments", "--wave", "w")
    assert f"{len(COMMENTS)} comment(s) of w added; 0 were there already" in added
    assert f"(from {len(COMMENTS)} of the wave's {len(COMMENTS) + 6} respondents)" in added
    assert "6 source(s)" in run("text", "list", "--wave", "w")
    assert "stored (13 codes)" in run("codes", "import", "dmr-themes")
    assert "dmr-themes@1" in run("codes", "list")
    assert "external_finance: Finance" in run("codes", "show", "dmr-themes")
    codings = tmp_path / "ann.csv"
    codings.write_text("source,code\n1,variation\n2,external_finance\n", encoding="utf-8")
    assert "2 coding(s) by ann" in run(
        "text", "code", str(codings), "--coder", "ann", "--frame", "dmr-themes"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("source,code,start,end\n1,variation,3,2\n", encoding="utf-8")
    failed = cli.invoke("text", "code", str(bad), "--coder", "ann", "--frame", "dmr-themes")
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "row 2, columns start/end" in failed.output
    missing = cli.invoke("text", "comments", "--wave", "nope")
    assert missing.exit_code == 1 and "no wave 'nope'" in missing.output


def test_codes_new_writes_an_editable_copy(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    done = CliRunner().invoke(main, ["codes", "new", str(out)])
    assert done.exit_code == 0, done.output
    shown = CliRunner().invoke(main, ["codes", "show", str(out)])
    assert shown.exit_code == 0 and "change_since_2002" in shown.output


def test_agreement_command(commented: _Cli, tmp_path: Path) -> None:
    cli, run = commented, commented.run
    for name, rows in (
        ("ann", "1,variation\n2,external_finance\n"),
        ("bob", "1,variation\n2,public_esteem\n"),
    ):
        path = tmp_path / f"{name}.csv"
        path.write_text("source,code\n" + rows, encoding="utf-8")
        run("text", "code", str(path), "--coder", name, "--frame", "dmr-themes")
    out = run(
        "text", "agreement", "--frame", "dmr-themes", "--coders", "ann,bob", "--replicates", "50"
    )
    # finance against public esteem on source 2; the theme external context follows from
    # finance and is settled with it, so it is not listed.
    assert "2 disagreement(s) to settle" in out
    assert "source 2 [0:" in out and "external_finance: ann yes, bob no" in out
    assert "external_context: ann" not in out
    # Every code name whole in an 80-column terminal (rich's default when not a terminal).
    assert "variation_between_trusts" in out and "…" not in out
    run("text", "adopt", "--frame", "dmr-themes", "--coder", "ann")

    def resolve(*args: str) -> str:
        return run("text", "resolve", "--frame", "dmr-themes", *args)

    assert "public_esteem kept on source 2" in resolve(
        "--source", "2", "--code", "public_esteem", "--keep"
    )
    assert "was already on source 2; nothing changed" in resolve(
        "--source", "2", "--code", "public_esteem", "--keep"
    )
    # A source nobody coded: saying "dropped" would mislead.
    assert "no coding of variation (or a code under it) on source 3; nothing changed" in resolve(
        "--source", "3", "--code", "variation", "--drop"
    )
    again = run(
        "text", "agreement", "--frame", "dmr-themes", "--coders", "ann,team", "--replicates", "0"
    )
    assert "1 disagreement(s)" in again and "public_esteem: ann no, team yes" in again
    one = cli.invoke("text", "agreement", "--frame", "dmr-themes", "--coders", "ann")
    assert one.exit_code == 1 and "two or more coders" in one.output


def test_export_and_import_commands(commented: _Cli, store: Store, tmp_path: Path) -> None:
    close_wave(store, "w")  # a trust's export reads the final figures
    cli, run = commented, commented.run
    path = tmp_path / "ann.csv"
    path.write_text(
        "source,code,start,end\n1,variation,,\n2,external_finance,0,7\n", encoding="utf-8"
    )
    run("text", "code", str(path), "--coder", "ann", "--frame", "dmr-themes")
    project = tmp_path / "p.qdpx"
    assert "6 source(s)" in run(
        "text", "export", "--frame", "dmr-themes", "--format", "qdpx", "--out", str(project)
    )
    run(
        "text",
        "export",
        "--frame",
        "dmr-themes",
        "--format",
        "qdc",
        "--out",
        str(tmp_path / "c.qdc"),
    )
    run(
        "text",
        "export",
        "--frame",
        "dmr-themes",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "c.csv"),
    )
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "1,ann,variation,,,",
        "2,ann,external_finance,0,7,",
    ]
    # One trust's codings only: sources 1 and 2 are RA1's, so RB2 has none.
    rb2 = tmp_path / "rb2.csv"
    run(
        "text",
        "export",
        "--frame",
        "dmr-themes",
        "--format",
        "csv",
        "--trust",
        "RB2",
        "--out",
        str(rb2),
    )
    assert rb2.read_text(encoding="utf-8").splitlines()[1:] == []
    # One trust's project: RA1's three commenters are under the threshold, so its report
    # withholds how many wrote, which its comments would give: none goes, and it says why.
    ra1 = run(
        "text",
        "export",
        "--frame",
        "dmr-themes",
        "--format",
        "qdpx",
        "--trust",
        "RA1",
        "--out",
        str(tmp_path / "ra1.qdpx"),
    )
    assert "0 source(s)" in ra1 and "the comments of wave w left out" in ra1
    assert "2 coding(s) imported" in run("text", "import", str(project), "--frame", "dmr-themes")
    assert "stored (13 codes)" in run("codes", "import", str(tmp_path / "c.qdc"))
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"not a zip")
    failed = cli.invoke("text", "import", str(junk), "--frame", "dmr-themes")
    assert failed.exit_code == 1 and "not a .qdpx project" in failed.output


def test_a_trusts_csv_export_carries_what_its_qdpx_does(store: Store, tmp_path: Path) -> None:
    """`text export --format csv --trust`: the team's codings of the codes the trust's report
    prints, memos anonymised (before: every coder's codings, memos as typed, so a lead got
    counts the report withholds and the names a coder wrote down)."""
    import csv

    from text_helpers import ready_to_code

    from sharedground.text import coding

    comment_wave(store, tmp_path)
    close_wave(store, "w")
    memo = "Dr Smith on 01632 960123"
    with store.session() as session:
        setup = ready_to_code(store, session, "w")
        ann = coding.get_coder(session, "ann")
        for source in setup.sources:
            coding.add(session, source, setup.codes["external_finance"], setup.team, memo=memo)
            coding.add(session, source, setup.codes["public_esteem"], ann, memo=memo)
    out = tmp_path / "ra1.csv"

    command = ["text", "export", "--frame", "dmr-themes", "--format", "csv", "--out", str(out)]

    def export(*args: str) -> tuple[str, list[dict[str, str]]]:
        said = _Cli(store).run(*command, *args)
        with out.open(encoding="utf-8", newline="") as handle:
            return said, list(csv.DictReader(handle))

    # RA1's three commenters are withheld in every table at the wave's threshold of 5, and
    # its number of commenters with them: no comment of RA1's goes, nor any coding.
    said, rows = export("--trust", "RA1")
    assert rows == []
    assert "the comments of wave w left out" in said
    # At a threshold that withholds nothing, the team's codings go, their memos anonymised.
    with store.session() as session:
        store.get_wave(session, "w").suppression_threshold = 0
    said, rows = export("--trust", "RA1")
    assert [(r["coder"], r["code"]) for r in rows] == [("team", "external_finance")] * 3
    assert all(r["memo"] and "Smith" not in r["memo"] and "01632" not in r["memo"] for r in rows)
    assert "left out, " not in said
    # The whole study's codings, for the team: every coder's, memos as written.
    _, rows = export()
    assert len(rows) == 2 * len(COMMENTS) and {r["memo"] for r in rows} == {memo}


def test_themes_and_quotations_commands(store: Store, tmp_path: Path) -> None:
    from text_helpers import role_wave

    role_wave(store, tmp_path, {"medical_director": 12, "clinical_director": 12})
    cli = _Cli(store)
    cli.ready_to_code("r")
    run = cli.run
    path = tmp_path / "team.csv"
    coded = [*range(1, 7), *range(13, 18), *range(19, 25), 7]
    path.write_text("source,code\n" + "".join(f"{i},public_esteem\n" for i in coded[:11]))
    path_medical = tmp_path / "more.csv"
    path_medical.write_text("source,code\n" + "".join(f"{i},perceptions\n" for i in range(1, 13)))
    run("text", "code", str(path), "--coder", "team", "--frame", "dmr-themes")
    run("text", "code", str(path_medical), "--coder", "team", "--frame", "dmr-themes")
    out = run("text", "themes", "--wave", "r", "--frame", "dmr-themes")
    # Sources 1-12 are the medical directors' (6 of 12 coded with public esteem), 13-24
    # the clinical directors' (5 of 12): both shown, 50% and 42%. All 12 medical directors
    # with perceptions (none left uncoded) are withheld, and the clinical directors' 0
    # with them.
    assert "Public" in out and "6 (50%)" in out and "5 (42%)" in out
    assert "100%" not in out
    quotes = run(
        "text", "quotations", "--wave", "r", "--frame", "dmr-themes", "--code", "public_esteem"
    )
    assert "— Medical director" in quotes and "— Clinical director (or similar)" in quotes
    assert "RA1" not in quotes and "RB2" not in quotes
    # A withheld count quotes no one.
    none = run(
        "text", "quotations", "--wave", "r", "--frame", "dmr-themes", "--code", "perceptions"
    )
    assert "No quotation can be shown" in none and "—" not in none


def test_suggest_command(store: Store, tmp_path: Path) -> None:
    comment_wave(store, tmp_path)
    cli = _Cli(store)
    cli.output("text", "comments", "--wave", "w")
    args = ["text", "suggest", "--wave", "w", "--topics", "2", "--seed", "3"]
    first = cli.output(*args)
    assert "for a person to judge" in first and "Candidate 2" in first
    assert cli.invoke(*args).output == first


def test_sample_sheet_coded_and_loaded(commented: _Cli, tmp_path: Path) -> None:
    import csv

    run = commented.run
    sheet = tmp_path / "sheet.csv"
    assert "4 comment(s)" in run(
        "text", "sample", "--wave", "w", "--size", "4", "--out", str(sheet)
    )
    again = tmp_path / "again.csv"
    run("text", "sample", "--wave", "w", "--size", "4", "--out", str(again))
    assert sheet.read_text(encoding="utf-8") == again.read_text(encoding="utf-8")
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert all(r["text"] for r in rows) and all(r["code"] == "" for r in rows)
    rows[0]["code"] = "variation"
    rows[2]["code"] = "public_esteem"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert "2 coding(s) by ann" in run(
        "text", "code", str(sheet), "--coder", "ann", "--frame", "dmr-themes"
    )


def test_an_unknown_trust_is_refused_and_not_added(store: Store, tmp_path: Path) -> None:
    from sqlalchemy import select

    from sharedground.store.schema import Organisation

    comment_wave(store, tmp_path)
    done = _Cli(store).invoke("text", "list", "--trust", "NOPE")
    assert done.exit_code == 1 and "no trust 'NOPE'" in done.output
    with store.session() as session:
        assert session.scalar(select(Organisation).where(Organisation.code == "NOPE")) is None


def test_add_transcripts_and_codebook_files(store: Store, tmp_path: Path) -> None:
    cli = _Cli(store)
    good = tmp_path / "interview.md"
    good.write_text("# Interview\n\nThings improved after 2002.", encoding="utf-8")
    bad = tmp_path / "old.txt"
    bad.write_bytes(b"caf\xe9\n")
    args = ["text", "add", str(good), str(bad), "--attr", "role=medical_director"]
    refused = cli.invoke(*args)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "old.txt: line 1" in " ".join(refused.output.split())
    unknown = cli.invoke("text", "add", str(good), "--attr", "age=5")
    assert unknown.exit_code == 1 and "unknown attribute 'age'" in unknown.output
    added = cli.output(
        "text", "add", str(good), "--attr", "role=medical_director", "--attr", "trust=RA1"
    )
    assert "source 1: interview.md" in added
    listed = cli.output("text", "list", "--kind", "transcript", "--trust", "RA1")
    assert "1 source(s)" in listed
    qdc = tmp_path / "frame.qdc"
    # A built-in frame and a .qdc file are read without a database.
    done = cli.runner.invoke(main, ["codes", "export", "dmr-themes", "--out", str(qdc)])
    assert done.exit_code == 0, done.output
    shown = cli.runner.invoke(main, ["codes", "show", str(qdc), "--yaml"])
    assert shown.exit_code == 0 and "name: Public esteem" in shown.output


def _cells(line: str, border: str) -> list[str]:
    """A table line's cells: the first (the code, indented by depth) less Rich's padding
    space, the others (figures, right-aligned) stripped."""
    first, *rest = line.strip(border).split(border)
    return [first[1:].rstrip(), *(c.strip() for c in rest)]


def _boxes(out: str) -> list[tuple[list[list[str]], list[list[str]]]]:
    """Each Rich table printed: its header lines and its rows, as cells; a line whose first
    cell is empty continues the row above (a cell on two lines)."""
    found: list[tuple[list[list[str]], list[list[str]]]] = []
    for line in out.splitlines():
        if line.startswith("┏"):
            found.append(([], []))
        elif line.startswith("┃"):
            found[-1][0].append(_cells(line, "┃"))
        elif line.startswith("│"):
            cells = _cells(line, "│")
            rows = found[-1][1]
            if cells[0] or not rows:
                rows.append(cells)
            else:
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return found


def test_themes_table_reads_whole_in_80_columns(store: Store, tmp_path: Path) -> None:
    """Before, one wide table (a column per role group, All, the test) cut the code names
    ("The relations…") and folded the role labels and the figures over several lines."""
    import re

    from text_helpers import role_wave

    from sharedground.text import frames, themes

    sizes = {
        "chief_executive": 24,
        "medical_director": 30,
        "directorate_manager": 40,
        "clinical_director": 36,
    }
    role_wave(store, tmp_path, sizes)
    cli = _Cli(store, env={"COLUMNS": "80"})
    cli.ready_to_code("r")
    run = cli.output
    # Sources in role order (24, 30, 40, 36): a share of each group coded with each of
    # three codes, so that most cells are shown and the groups differ.
    starts = [1, 25, 55, 95]
    rows = []
    for code, shares in [
        ("public_esteem", (8, 10, 14, 12)),
        ("external_finance", (6, 8, 10, 18)),
        ("perceptions_of_managers", (5, 6, 8, 22)),
    ]:
        for start, n in zip(starts, shares, strict=True):
            rows += [f"{i},{code}\n" for i in range(start, start + n)]
    sheet = tmp_path / "team.csv"
    sheet.write_text("source,code\n" + "".join(rows), encoding="utf-8")
    run("text", "code", str(sheet), "--coder", "team", "--frame", "dmr-themes")
    out = run("text", "themes", "--wave", "r", "--frame", "dmr-themes")
    assert max(len(line) for line in out.splitlines()) <= 80, out
    with store.session() as session:
        wave = store.get_wave(session, "r")
        expected = themes.table(store, session, wave, frames.get(session, "dmr-themes"))

    boxes = _boxes(out)
    heads, body = boxes[0]
    # One table of every group: initials and the number of commenters, the key below.
    assert heads[0][1:] == ["CE", "MD", "DM", "CD", "All"]
    assert heads[1][1:] == [f"n={n}" for n in [*expected.commenters, expected.total_commenters]]
    assert "CE Chief executive; MD Medical director; DM Directorate manager" in out
    # Every code name whole, on one line, and every cell its respondents and percentage.
    assert [row[0] for row in body] == ["  " * r.depth + r.name for r in expected.rows]
    shown = 0
    for row, theme in zip(body, expected.rows, strict=True):
        for text, cell in zip(row[1:], [*theme.cells, theme.total], strict=True):
            if cell.withheld:
                assert text == "–"
                continue
            found = re.fullmatch(r"(\d+) \(?(\d+)%\)?", text)
            assert found, text
            assert int(found[1]) == cell.respondents
            assert int(found[2]) == round(cell.percent or 0)
            shown += 1
    assert shown >= 15
    # The test, in a table of its own: each row whose groups could be compared.
    assert len(boxes) == 2
    test_heads, tests = boxes[1]
    assert test_heads[0] == ["code", "test", "p"]
    tested = {r.name: r.test for r in expected.rows if r.test and r.test.p_value is not None}
    assert {row[0].strip() for row in tests} == set(tested) and tested
    for name, _, p in tests:
        test = tested[name.strip()]
        assert test is not None and test.p_value is not None
        assert p.split()[0] == f"{test.p_value:.3g}"
