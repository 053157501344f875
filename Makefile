# One entry point for the chores. Each target builds its own virtual environment from
# pyproject.toml, so a fresh clone needs nothing but Python 3.11+.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-sqlite lint format bench soak clean

$(STAMP): pyproject.toml hatch_build.py src/sharedground/analysis/stats/_fisher_walk.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install sharedground with its test tools

demo: $(STAMP)  ## build demo/demo.db from the synthetic cohorts and summarise it
	$(BIN)/sharedground demo --out demo

test: $(STAMP)  ## the whole suite, on SQLite and PostgreSQL
	$(BIN)/pytest

test-sqlite: $(STAMP)  ## the suite without PostgreSQL
	$(BIN)/pytest -m "not postgres"

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)  ## the benchmarks the issues name, each beside a peer measured in the same run
	$(BIN)/python bench/run.py

# Not in CI (minutes): the kill tests at full size. `make test` runs them small.
soak: $(STAMP)  ## kill tests at full size; evaluation coverage over 1,000 scenarios; the demo's full disclosure audit
	SHAREDGROUND_SOAK=1 SHAREDGROUND_REQUIRE_POSTGRES=1 $(BIN)/pytest -p no:cacheprovider -q -s \
		tests/web/test_web_kill.py tests/fieldwork/test_send_kills.py \
		tests/evaluation/test_coverage.py \
		"tests/text/test_text_disclosure.py::test_the_demo_wave_passes_with_its_comments_coded"

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
