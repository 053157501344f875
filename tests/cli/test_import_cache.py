"""`sharedground import` leaves the wave ready for analysis: its columnar cache up to date."""

from __future__ import annotations

import os
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from sharedground.analysis.source import CACHE_ENV, load_wave
from sharedground.cli import main
from sharedground.store import Store

RESPONDENTS = 300
READY = re.compile(r"Analysis cache (built|extended|already up to date): (\d+) response\(s\)")


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _ready(result: Result) -> tuple[str, int]:
    """(what happened, respondents) from the line the import prints about the cache."""
    found = READY.search(" ".join(result.stdout.split()))
    assert found is not None, result.stdout
    return found.group(1), int(found.group(2))


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    out = tmp_path / "cohort.csv"
    run("synth", "--respondents", str(RESPONDENTS), "--seed", "3", "--out", out)
    return out


@pytest.fixture
def more(tmp_path: Path) -> Path:
    """Another synthetic cohort, under respondent ids of its own."""
    source = tmp_path / "other.csv"
    run("synth", "--respondents", str(RESPONDENTS), "--seed", "4", "--out", source)
    frame = pl.read_csv(source, infer_schema=False)
    out = tmp_path / "more.csv"
    frame.with_columns(("more-" + pl.col("respondent_id")).alias("respondent_id")).write_csv(out)
    return out


def test_import_builds_then_extends_the_cache(
    store: Store, cohort: Path, more: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    common = ("--wave", "w", "--database", store.url, "--cache-dir", cache)
    assert _ready(run("import", cohort, *common)) == ("built", RESPONDENTS)
    data = load_wave(store, "w", cache)
    assert data.cache == "hit"  # the first analysis decodes nothing
    assert data.frame.equals(load_wave(store, "w").frame)

    assert _ready(run("import", more, *common)) == ("extended", 2 * RESPONDENTS)
    data = load_wave(store, "w", cache)
    assert data.cache == "hit" and data.frame.height == 2 * RESPONDENTS
    assert data.frame.equals(load_wave(store, "w").frame)

    # Importing the same file again adds nothing and finds the cache current.
    assert _ready(run("import", more, *common)) == ("already up to date", 2 * RESPONDENTS)


def test_import_uses_the_default_cache_folder(
    store: Store, cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "from-env"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    run("import", cohort, "--wave", "w", "--database", store.url)
    assert load_wave(store, "w", folder).cache == "hit"


def test_no_cache_leaves_the_cache_alone(store: Store, cohort: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = run(
        "import", cohort, "--wave", "w", "--database", store.url, "--cache-dir", cache, "--no-cache"
    )
    assert READY.search(result.stdout) is None
    assert not cache.exists()
    assert load_wave(store, "w", cache).cache == "built"  # left to the first analysis


def test_a_cache_that_cannot_be_written_does_not_undo_the_import(
    store: Store, cohort: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    cache = blocker / "cache"
    result = run("import", cohort, "--wave", "w", "--database", store.url, "--cache-dir", cache)
    assert READY.search(result.stdout) is None
    assert "the analysis cache was not written" in " ".join(result.stdout.split())
    assert load_wave(store, "w").frame.height == RESPONDENTS
    assert os.path.isfile(blocker)
