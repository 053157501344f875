"""The demo's synthetic programme: loaded once into the demo database, evaluated from it, and
written as the evaluation document the national report's "What works" reads."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from sharedground.demo import _programme
from sharedground.initiatives.models import Initiative
from sharedground.report.evaluation_page import render_evaluation_html
from sharedground.store import Store


def test_the_demo_programme_is_loaded_once_and_evaluated(store: Store, tmp_path: Path) -> None:
    quiet = Console(quiet=True)
    doc, example = _programme(store, tmp_path, 2015, quiet)  # the demo's own programme
    with store.session() as session:
        count = session.scalar(select(func.count()).select_from(Initiative))
        assert example is not None
        kind = session.get(Initiative, example).kind  # type: ignore[union-attr]
    assert kind in ("paired_learning", "shadowing")  # a kind with a cohort and a pulse
    written = json.loads((tmp_path / "evaluation.json").read_text())
    assert written == json.loads(json.dumps(doc, default=str))
    assert {r["kind"] for r in doc["what_works"]} == {
        "paired_learning", "management_training_doctors", "shadowing", "joint_social_events",
    }  # fmt: skip
    assert (tmp_path / "programme-truth.csv").exists()
    # What the README says of the demo: the kinds with a planted effect are called "roll out"
    # on some measure, the two without one on none (one seed: a regression check, not the
    # coverage test, which is tests/evaluation/test_coverage.py).
    rolled = {r["kind"] for r in doc["what_works"] if r["verdict"] == "roll out"}
    assert rolled == {"paired_learning", "management_training_doctors"}
    again, _ = _programme(store, tmp_path, 2015, quiet)  # no second load
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Initiative)) == count
    assert [r["effect"] for r in again["what_works"]] == [r["effect"] for r in doc["what_works"]]
    page = render_evaluation_html(doc)
    label = "Share agreeing doctors and managers work well as a team (all roles)"
    assert page.count(f'title="{label}"') == 4
