"""The data commands through click's CliRunner: init, import, export, instrument, --help, docs.

Each runs in-process like `sharedground ...` would, on a real SQLite file (and PostgreSQL
where the `database_url` fixture is used). Known failures must exit with status 1 and one
clear message, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import polars as pl
import pyreadstat
import pytest
from click.testing import CliRunner, Result

from sharedground.cli import main
from sharedground.exchange.columns import all_column_names
from sharedground.instrument import builtin, load_file

README = Path(__file__).parent.parent.parent / "README.md"

# Only the columns the tests need: imported with --allow-missing-items.
GOOD_CSV = (
    "respondent_id,role,trust,mode,submitted,local_rating,outlook_improve,barriers,"
    "initiatives:paired_learning,comments_final\n"
    "A1,chief_executive,RXA,online,2015-05-20,"
    '4,tend_to_agree,time_doctors;lack_trust,yes,"Fine, thanks"\n'
    "A2,clinical_director,RXB,postal,2015-10-02,2,dont_know,none,no,\n"
    "A3,medical_director,,online,,,,,,\n"
)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_failing(*args: str | Path) -> Result:
    """Run a command that must fail cleanly: exit status 1, a message, no traceback."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
    return result


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    assert run("init", "--database", url).exit_code == 0
    return url


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "responses.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    return path


# -- init ------------------------------------------------------------------------------------


def test_init_on_each_backend(database_url: str) -> None:
    first = run("init", "--database", database_url)
    assert first.exit_code == 0
    assert "Database ready at schema" in first.stdout
    # Running it again upgrades nothing and says the same.
    assert "Database ready" in run("init", "--database", database_url).stdout


def test_init_takes_the_database_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREDGROUND_DATABASE_URL", str(tmp_path / "env.db"))
    assert run("init").exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_commands_refuse_a_database_that_was_not_initialised(
    tmp_path: Path, good_file: Path
) -> None:
    result = run_failing(
        "import",
        good_file,
        "--allow-missing-items",
        "--wave",
        "w",
        "--database",
        tmp_path / "none.db",
    )
    assert "run `sharedground init` first" in result.stderr
    assert not (tmp_path / "none.db").exists()


# -- import ----------------------------------------------------------------------------------


def test_import_then_again(database_url: str, good_file: Path) -> None:
    run("init", "--database", database_url)
    first = run(
        "import", good_file, "--allow-missing-items", "--wave", "2015", "--database", database_url
    )
    assert first.exit_code == 0
    assert re.search(
        r"Imported 3 response\(s\) into wave '2015' \(dmr-2015@1\); 0 already there", first.stdout
    )
    second = run(
        "import", good_file, "--allow-missing-items", "--wave", "2015", "--database", database_url
    )
    assert "Imported 0 response(s) into wave '2015' (dmr-2015@1); 3 already there" in second.stdout


def test_import_prints_notes(database: str, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_CSV.replace("\n", "\r\n").encode())
    result = run("import", path, "--allow-missing-items", "--wave", "w", "--database", database)
    assert "Note: a UTF-8 byte-order mark was skipped" in result.stdout
    assert "Note: Windows line endings were read as plain newlines" in result.stdout
    assert "Imported 3 response(s)" in result.stdout


def test_import_error_is_one_message_with_status_1(database: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        GOOD_CSV.replace("time_doctors;lack_trust", "time_doctors;lack_trust;other;time_managers"),
        encoding="utf-8",
    )
    result = run_failing(
        "import", path, "--allow-missing-items", "--wave", "w", "--database", database
    )
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {path}: 1 problem(s); nothing was imported"
    assert lines[1] == f"  {path}: row 2, column barriers: 4 options chosen, at most 3 allowed"
    assert result.stdout == ""
    # Nothing was written: the wave does not exist.
    assert (
        "no wave 'w'"
        in run_failing(
            "export", "--wave", "w", "--out", tmp_path / "x.csv", "--database", database
        ).stderr
    )


def test_import_refuses_missing_item_columns_unless_allowed(database: str, good_file: Path) -> None:
    refused = run_failing("import", good_file, "--wave", "w", "--database", database)
    lines = refused.stderr.splitlines()
    assert lines[0] == f"Error: {good_file}: 1 problem(s); nothing was imported"
    assert lines[1].startswith(f"  {good_file}: row 1: 59 item columns are missing")
    assert "outlook_deteriorate" in lines[1] and "--allow-missing-items" in lines[1]
    allowed = run(
        "import", good_file, "--allow-missing-items", "--wave", "w", "--database", database
    )
    assert "Note: 59 item columns are missing, imported as unanswered: " in allowed.stdout
    assert "Imported 3 response(s)" in allowed.stdout


def test_import_of_a_missing_file(database: str, tmp_path: Path) -> None:
    result = run_failing(
        "import",
        tmp_path / "nope.csv",
        "--allow-missing-items",
        "--wave",
        "w",
        "--database",
        database,
    )
    assert "nope.csv: 1 problem(s); nothing was imported" in result.stderr
    assert "no such file" in result.stderr


def test_import_with_an_instrument(database: str, good_file: Path, tmp_path: Path) -> None:
    lines = GOOD_CSV.splitlines()
    # dmr-2002 has no initiatives question: keep the columns it has.
    keep = [i for i, c in enumerate(lines[0].split(",")) if c != "initiatives:paired_learning"]
    for_2002 = tmp_path / "2002.csv"
    for_2002.write_text(
        "\n".join(
            ",".join(cells[i] for i in keep)
            for cells in (ln.split(",") for ln in [lines[0], lines[3]])
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(
        "import",
        for_2002,
        "--allow-missing-items",
        "--wave",
        "2002",
        "--instrument",
        "dmr-2002",
        "--database",
        database,
    )
    assert "(dmr-2002@1)" in result.stdout
    wrong = run_failing(
        "import",
        good_file,
        "--allow-missing-items",
        "--wave",
        "2002",
        "--instrument",
        "dmr-2015",
        "--database",
        database,
    )
    assert "wave '2002' uses instrument dmr-2002@1, not dmr-2015@1" in wrong.stderr
    unknown = run_failing(
        "import",
        good_file,
        "--allow-missing-items",
        "--wave",
        "x",
        "--instrument",
        "dmr-1999",
        "--database",
        database,
    )
    assert "no built-in instrument 'dmr-1999'" in unknown.stderr


def test_import_with_an_instrument_file(database: str, good_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "our-survey.yaml"
    assert run("instrument", "new", copy, "--from", "dmr-2015").exit_code == 0
    result = run(
        "import",
        good_file,
        "--allow-missing-items",
        "--wave",
        "ours",
        "--instrument",
        copy,
        "--database",
        database,
    )
    assert "(our-survey@1)" in result.stdout


def test_import_needs_a_wave(good_file: Path) -> None:
    result = CliRunner().invoke(main, ["import", str(good_file)])
    assert result.exit_code == 2
    assert "Missing option '--wave'" in result.stderr


# -- export ----------------------------------------------------------------------------------


@pytest.fixture
def imported(database: str, good_file: Path) -> str:
    run("import", good_file, "--allow-missing-items", "--wave", "2015", "--database", database)
    return database


def test_export_csv_is_the_import_format(imported: str, tmp_path: Path, good_file: Path) -> None:
    out = tmp_path / "out" / "2015.csv"
    result = run(
        "export", "--wave", "2015", "--format", "csv", "--out", out, "--database", imported
    )
    assert result.exit_code == 0
    assert f"Wrote 3 response(s) to {out}" in result.stdout.replace("\n", "")
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.columns == all_column_names(builtin("dmr-2015"))
    assert frame["barriers"].to_list() == ["time_doctors;lack_trust", "none", None]
    assert frame["comments_final"].to_list() == ["Fine, thanks", None, None]
    # The export imports back as the same answers.
    assert "3 already there" in run("import", out, "--wave", "2015", "--database", imported).stdout


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "sav", "dta"])
def test_export_each_format(imported: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"2015.{fmt}"
    result = run("export", "--wave", "2015", "--format", fmt, "--out", out, "--database", imported)
    assert result.exit_code == 0 and "Wrote 3 response(s)" in result.stdout
    if fmt == "xlsx":
        frame = pl.read_excel(out, engine="openpyxl", infer_schema_length=0)
        assert frame["respondent_id"].to_list() == ["A1", "A2", "A3"]
    elif fmt == "parquet":
        assert pl.read_parquet(out)["local_rating"].to_list() == ["4", "2", None]
    else:
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        data, meta = reader(str(out), user_missing=True)
        assert list(data["respondent_id"]) == ["A1", "A2", "A3"]
        assert list(data["local_rating"][:2]) == [4, 2]
        assert meta.variable_value_labels["role"][1] == "Chief executive"


def test_export_of_an_unknown_wave(imported: str, tmp_path: Path) -> None:
    result = run_failing(
        "export", "--wave", "2016", "--out", tmp_path / "x.csv", "--database", imported
    )
    assert "no wave '2016' (waves: 2015)" in result.stderr


def test_export_of_an_unknown_format(imported: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--wave",
            "2015",
            "--format",
            "json",
            "--out",
            str(tmp_path / "x"),
            "--database",
            imported,
        ],
    )
    assert result.exit_code == 2
    assert "'json' is not one of 'csv', 'xlsx', 'sav', 'dta', 'parquet'" in result.stderr


# -- instrument ------------------------------------------------------------------------------


def test_instrument_list() -> None:
    result = run("instrument", "list")
    assert result.exit_code == 0
    assert "dmr-2015" in result.stdout and "dmr-2002" in result.stdout


def test_instrument_show() -> None:
    result = run("instrument", "show", "dmr-2015")
    assert result.exit_code == 0
    for item in ("local_rating", "barriers", "initiatives", "financial_over_clinical"):
        assert item in result.stdout
    assert "(reverse-scored)" in result.stdout


def test_instrument_show_yaml_loads_back(tmp_path: Path) -> None:
    result = run("instrument", "show", "dmr-2002", "--yaml")
    path = tmp_path / "shown.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    assert load_file(path) == builtin("dmr-2002")


def test_instrument_show_unknown() -> None:
    assert (
        "no built-in instrument 'dmr-1999'" in run_failing("instrument", "show", "dmr-1999").stderr
    )


def test_instrument_new_and_validate(tmp_path: Path) -> None:
    path = tmp_path / "trust_survey.yaml"
    result = run("instrument", "new", path, "--from", "dmr-2015")
    assert result.exit_code == 0 and "trust-survey@1, based on dmr-2015@1" in result.stdout
    copy = load_file(path)
    assert copy.id == "trust-survey" and copy.based_on == "dmr-2015@1"
    assert [i.id for i in copy.items()] == [i.id for i in builtin("dmr-2015").items()]
    checked = run("instrument", "validate", path)
    # Rich wraps long lines at 80 columns off a terminal.
    unwrapped = "".join(checked.stdout.split())
    assert checked.exit_code == 0 and unwrapped.startswith(f"OK{path}:trust-survey@1,10sections")
    # An existing file is not overwritten without --force.
    again = CliRunner().invoke(main, ["instrument", "new", str(path)])
    assert again.exit_code == 2 and "use --force" in again.stderr
    assert run("instrument", "new", path, "--force").exit_code == 0


def test_instrument_validate_names_the_file_line_and_item(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    run("instrument", "new", path)
    text = path.read_text(encoding="utf-8")
    broken = text.replace("max_choices: 3", "max_choices: 12", 1)
    path.write_text(broken, encoding="utf-8")
    line = next(
        n
        for n, ln in enumerate(broken.splitlines(), start=1)
        if ln == "  - id: barriers"  # the item, not its section
    )
    result = run_failing("instrument", "validate", path)
    assert result.stderr.strip() == (
        f"Error: {path}, line {line}: section 'barriers', item 'barriers': "
        "max_choices (12) is more than the 8 options"
    )


def test_instrument_validate_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nsections: [\n", encoding="utf-8")
    assert (
        f"{path}, line 3, column 1: not valid YAML"
        in run_failing("instrument", "validate", path).stderr
    )


# -- help and documentation ------------------------------------------------------------------


def command_paths(
    group: click.Group = main, prefix: str = "sharedground"
) -> Iterator[tuple[str, click.Command]]:
    """Every command, as `sharedground a b`, groups included."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from command_paths(command, path)


ALL_COMMANDS = [path for path, _ in command_paths()]


@pytest.mark.parametrize("path", ["sharedground", *ALL_COMMANDS])
def test_help_of_every_command(path: str) -> None:
    words = path.split()[1:]
    result = run(*words, "--help")
    assert result.exit_code == 0
    # CliRunner calls the program `main`.
    assert result.stdout.startswith(" ".join(["Usage: main", *words]))
    assert "Traceback" not in result.stdout


def test_every_command_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    leaves = [path for path, command in command_paths() if not isinstance(command, click.Group)]
    missing = [path for path in leaves if not re.search(rf"{re.escape(path)}(?![\w-])", readme)]
    assert missing == [], f"commands not documented in README.md: {missing}"
