"""axe-core on the initiative pages in real Chromium: no serious or critical violation, with
the register filled, a pair flagged for six quiet weeks, and a form error shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adminhelpers import Site, sign_in
from webhelpers import LiveServer, axe_problems

from sharedground.initiatives import pairs, participants, register, scenario

pytestmark = pytest.mark.slow


def test_initiative_pages_pass_axe(
    site: Site, server: LiveServer, new_context: Callable[..., Any], tmp_path: Path
) -> None:
    with site.store.session() as session:
        ident = register.add(
            site.store,
            session,
            trust="RA1",
            kind="paired_learning",
            title="Pairs 2027",
            actor="t",
            progress=1.0,
            directorates=["Surgery"],
        ).id
    path = tmp_path / "cohort.csv"
    path.write_text("name,email,side\nDr A,a@t.nhs.uk,doctor\nB,b@t.nhs.uk,manager\n")
    participants.import_cohort(site.store, ident, path, actor="t")
    pairs.propose(site.store, ident, cross_directorate=True, actor="t")
    with site.store.session() as session:
        pairs.confirm(session, ident, actor="t")
    seen: dict[str, list[str]] = {}
    page = sign_in(new_context(bypass_csp=True).new_page(), server, "lead-a")

    def check(what: str, url: str | None = None, status: int = 200) -> None:
        if url is not None:
            response = page.goto(f"{server.url}{url}")
            assert response is not None and response.status == status, what
        seen[what] = axe_problems(page)

    check("register", "/admin/initiatives")
    assert page.locator("#register tbody tr").count() == 1
    check("initiative", f"/admin/initiatives/{ident}")
    assert page.locator("#pairs tbody tr").count() == 1
    page.select_option("#progress", "2.5")
    page.click("#save")
    page.wait_for_selector("[role=status]")
    check("initiative saved")
    assert page.locator('[data-field="progress"]').inner_text() == "2.5"
    bad = tmp_path / "bad.csv"
    bad.write_text("email,side\nx@t.nhs.uk,nurse\n")
    page.set_input_files("#cohort", str(bad))
    page.click("#upload-cohort")
    page.wait_for_selector("#file-problems")
    check("cohort upload problems")
    pair = page.locator("#pairs tbody tr").first.get_attribute("data-pair")
    page.click(f"#log-{pair} summary")
    check("log form open")
    page.fill(f"#on-{pair}", "not a day")
    page.click(f"#log-button-{pair}")
    page.wait_for_selector(".nhsuk-error-summary")
    check("log error")
    page.click("#propose")
    page.wait_for_selector("[role=status]")
    check("pairs proposed")
    page.goto(f"{server.url}/admin/initiatives")
    page.fill("#title", "")
    page.click("#register-initiative")
    page.wait_for_selector(".nhsuk-error-summary")
    check("register error")
    check("not found", "/admin/initiatives/999", 404)
    cohort = [
        {"email": f"p{k}@t.nhs.uk", "side": "doctor" if k % 2 else "manager"} for k in range(6)
    ]
    answers = [{"email": p["email"], "local_rating": "3"} for p in cohort]
    scenario.load_programme(site.store, [{
        "trust": "RA1", "kind": "coaching", "title": "Coaching", "stage": "running",
        "actual_start": "2026-01-05", "cohort": cohort,
        "pulse": {"before": {"opens": "2026-01-05", "answers": answers},
                  "after": {"opens": "2026-07-01", "answers": answers[:5]}},
    }])  # fmt: skip
    check("initiative with pulse", f"/admin/initiatives/{ident + 1}")
    assert page.locator("#pulse-after tbody tr").count() == 10
    assert {k: v for k, v in seen.items() if v} == {}
