"""A lead's monitoring by role never says who has just responded (issue #15, item 1).

Completions arrive one at a time; after each, the trust's lead reads the monitoring page.
The completions by role must either not change or change by a whole batch of the
threshold at once (and questionnaires started are not split by role), so no reading tells
which role, in a trust of one chief executive whose, the last response was. An
administrator sees the true counts throughout, and the lead too once fieldwork is over.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from adminhelpers import (
    ROLES,
    close_yesterday,
    contacts_by_trust_and_role,
    login,
    make_site,
    settled,
)
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import parse

from sharedground.analysis.disclosure.release import release
from sharedground.fieldwork.clock import study_today
from sharedground.store import Contact, Organisation, Response, Store, Wave
from sharedground.store.schema import Message

THRESHOLD = 5


def _by_role(client: TestClient) -> dict[str, dict[str, str]]:
    page = parse(settled(client, "/admin/waves/w/trusts/RA1/monitor"))
    return {
        row.attributes["data-group"]: {
            td.attributes["data-measure"]: td.text().strip() for td in row.css("td")
        }
        for row in page.css("#by-role tbody tr")
    }


def _complete(store: Store, contact_id: int, mode: str = "postal") -> None:
    """Record one completion (by default a postal one: the contact's and its response, as
    keying does)."""
    with store.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        contact.completed_on = study_today()
        contact.completed_mode = mode
        session.add(
            Response(
                wave_id=contact.wave_id,
                respondent_key=f"{mode}-{contact_id}",
                role=contact.role,
                organisation_id=contact.organisation_id,
                mode=mode,
                submitted_on=study_today(),
                answers={},
            )
        )


def _people(store: Store) -> list[tuple[int, str]]:
    """RA1's contacts (id, role) in the order stored."""
    with store.session() as session:
        ra1 = session.scalar(select(Organisation.id).where(Organisation.code == "RA1"))
        return [
            (c.id, c.role)
            for c in session.scalars(
                select(Contact).where(Contact.organisation_id == ra1).order_by(Contact.id)
            )
        ]


def test_a_lead_reading_after_every_completion_cannot_tell_whose_it_was(
    store: Store, tmp_path: Path
) -> None:
    site = make_site(store, tmp_path, n=40)
    people = _people(store)
    roles = [role for _, role in people]
    assert len(people) == 20 and len(set(roles)) >= 2
    app = site.app()
    with TestClient(app) as lead, TestClient(app) as admin:
        assert login(lead, "lead-a") == 303
        assert login(admin, "admin") == 303
        readings = [_by_role(lead)]
        for i, (contact_id, _) in enumerate(people, start=1):
            _complete(store, contact_id)
            readings.append(_by_role(lead))
            truth = _by_role(admin)
            # The administrator's page is the truth, moving by one.
            for role in set(roles):
                assert int(truth[role]["completed"]) == roles[:i].count(role)
            assert readings[-1]["all"]["completed"] == str(i)
        for before, after in itertools.pairwise(readings):
            moved = sum(
                int(after[r]["completed"]) - int(before[r]["completed"]) for r in set(roles)
            )
            assert moved == 0 or moved >= THRESHOLD
            assert all(after[r]["started"] == "–" for r in set(roles))
        # What it shows is the first responses, whole batches, one batch behind.
        for n, reading in enumerate(readings):
            shown = release(n, THRESHOLD, False).shown
            for role in set(roles):
                assert int(reading[role]["completed"]) == roles[:shown].count(role)
        note = parse(lead.get("/admin/waves/w/trusts/RA1/monitor").text).css_first("#role-release")
        assert note is not None and note.attributes["data-shown"] == "15"

        # Fieldwork over (closed yesterday, nothing held back): the true counts.
        with store.session() as session:
            wave = session.scalar(select(Wave).where(Wave.name == "w"))
            assert wave is not None
            wave.opens = study_today() - dt.timedelta(days=30)
            wave.closes = study_today() - dt.timedelta(days=1)
        final = _by_role(lead)
        truth = _by_role(admin)
        # The counts of the trust's final figures, except a role whose number its report
        # withholds (under the threshold, or the partner withheld with it): "–", where the
        # page printed the very count the report keeps back.
        hidden = {role for role in set(roles) if final[role]["completed"] == "–"}
        assert {role for role in set(roles) if roles.count(role) < THRESHOLD} <= hidden
        assert len(hidden) != 1  # a lone withheld role would be the total less the others
        for role in set(roles) - hidden:
            assert int(final[role]["completed"]) == roles.count(role)
        for role in hidden:
            assert final[role]["started"] == final[role]["rate"] == "–"
            assert int(truth[role]["completed"]) == roles.count(role)  # the team sees all
        assert final["all"]["completed"] == str(len(roles))
        assert (
            parse(lead.get("/admin/waves/w/trusts/RA1/monitor").text).css_first("#role-release")
            is None
        )


def test_after_the_close_a_lead_sees_no_small_group_and_no_late_return_alone(
    store: Store, tmp_path: Path
) -> None:
    """Once fieldwork is over, RA1's lead saw the true completions by role: a group of 3
    its report withholds (and the partner withheld with it) printed exactly, and each late
    return moved them by one. Now: "–" for the groups the report withholds, and the counts
    of the final figures, where a late return waits for a whole batch of its group."""
    site = make_site(store, tmp_path, n=40)
    people = _people(store)
    by_role: dict[str, list[int]] = {}
    for contact_id, role in people:
        by_role.setdefault(role, []).append(contact_id)
    small = max(by_role, key=lambda r: len(by_role[r]))
    assert len(by_role[small]) >= 5
    late = next(ids[-1] for role, ids in by_role.items() if role != small)
    answered = {role: ids[:3] if role == small else ids for role, ids in by_role.items()}
    for ids in answered.values():
        for contact_id in ids:
            if contact_id != late:
                _complete(store, contact_id)
    close_yesterday(store)
    app = site.app()
    with TestClient(app) as lead, TestClient(app) as admin:
        assert login(lead, "lead-a") == 303
        assert login(admin, "admin") == 303
        before = _by_role(lead)
        assert int(_by_role(admin)[small]["completed"]) == 3
        assert before[small]["completed"] == "–" and before[small]["rate"] == "–"
        hidden = {role for role, row in before.items() if row["completed"] == "–"}
        assert len(hidden) >= 2  # the small group and a partner
        # A late return (keyed after the close): the team sees it, the lead's figures wait.
        _complete(store, late)
        after = _by_role(lead)
        truth = _by_role(admin)
        late_role = next(role for contact_id, role in people if contact_id == late)
        assert int(truth[late_role]["completed"]) == len(answered[late_role])
        # By role nothing moves; the trust's total (not split by role) counts it, as while
        # fieldwork ran.
        assert {r: v for r, v in after.items() if r != "all"} == {
            r: v for r, v in before.items() if r != "all"
        }


def test_after_the_close_a_late_return_moves_nothing_split_by_role(
    store: Store, tmp_path: Path
) -> None:
    """Once fieldwork was over, a lead's completions by role followed the final figures
    but questionnaires started did not: a paper return keyed late counts its person as
    started, so the started column of a group the report prints (here both of RA1's
    groups, 6 and 10 on time) moved by one and named the late respondent's role."""
    site = make_site(store, tmp_path, n=40)
    by_role: dict[str, list[int]] = {}
    for contact_id, role in _people(store):
        by_role.setdefault(role, []).append(contact_id)
    assert sorted(len(ids) for ids in by_role.values()) == [10, 10]
    first, second = sorted(by_role)
    on_time = by_role[first] + by_role[second][:6]
    for contact_id in on_time:
        _complete(store, contact_id)
    close_yesterday(store)
    app = site.app()
    with TestClient(app) as lead, TestClient(app) as admin:
        assert login(lead, "lead-a") == 303
        assert login(admin, "admin") == 303
        before = _by_role(lead)
        # Both groups are printed (neither is withheld), from the final figures.
        assert before[first]["completed"] == "10" and before[second]["completed"] == "6"
        _complete(store, by_role[second][6])  # a late return
        after = _by_role(lead)
        assert int(_by_role(admin)[second]["started"]) == 7  # the team sees it at once
        # Nothing split by role moves by one; only the trust's total counts the return.
        assert {r: v for r, v in after.items() if r != "all"} == {
            r: v for r, v in before.items() if r != "all"
        }
        assert int(after["all"]["completed"]) == int(before["all"]["completed"]) + 1
        assert all(row["started"] == "–" for r, row in after.items() if r != "all")
        page = parse(lead.get("/admin/waves/w/trusts/RA1/monitor").text)
        assert page.css_first("#role-final") is not None
        assert (
            parse(admin.get("/admin/waves/w/trusts/RA1/monitor").text).css_first("#role-final")
            is None
        )


def _remind(store: Store) -> None:
    """Record what `send` does on a reminder day: the invitation sent to everyone ten days
    ago, and reminder 1 now to everyone who has not completed."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.session() as session:
        for contact in session.scalars(select(Contact).order_by(Contact.id)):
            sent = [("invitation", now - dt.timedelta(days=10))]
            if contact.completed_on is None:
                sent.append(("reminder-1", now))
            for kind, at in sent:
                session.add(
                    Message(
                        wave_id=contact.wave_id,
                        contact_id=contact.id,
                        kind=kind,
                        status="sent",
                        address=contact.email or "",
                        message_id=f"<{kind}-{contact.id}@test>",
                        started_at=at,
                        finished_at=at,
                    )
                )


def test_reminders_by_role_do_not_tell_who_has_completed(store: Store, tmp_path: Path) -> None:
    """Reminders go only to those who have not completed, so the lead's reminded column
    by role was the true completions by role when they went, ahead of the released
    batches: RA1's 4 chief executives and 3 clinical directors and RB2's 7 medical
    directors and none of its directorate managers read alike by completions (none
    released of 7), and differed by reminders (6 and 7 against 3 and 10)."""
    site = make_site(store, tmp_path, n=40)
    people = contacts_by_trust_and_role(store)
    split = {"RA1": (4, 3), "RB2": (7, 0)}
    for trust, counts in split.items():
        for ids, n in zip((people[trust][r] for r in sorted(people[trust])), counts, strict=True):
            for contact_id in ids[:n]:
                _complete(store, contact_id)
    _remind(store)
    app = site.app()
    with TestClient(app) as a, TestClient(app) as b, TestClient(app) as admin:
        assert login(a, "lead-a") == 303
        assert login(b, "lead-b") == 303
        assert login(admin, "admin") == 303
        truth = _by_role(admin)
        assert truth["clinical_director"]["reminded"] == "7"  # the team sees them

        def rows(client: TestClient, trust: str) -> list[list[tuple[str, str]]]:
            """The trust's own groups' rows and its total, without their names."""
            page = parse(settled(client, f"/admin/waves/w/trusts/{trust}/monitor"))
            return sorted(
                sorted(
                    (td.attributes["data-measure"] or "", td.text().strip()) for td in row.css("td")
                )
                for row in page.css("#by-role tbody tr")
                if row.attributes["data-group"] in [*people[trust], "all"]
            )

        assert rows(a, "RA1") == rows(b, "RB2")


def _modes(client: TestClient) -> dict[str, str]:
    """Everything the trust's page splits by mode: completed by mode, the postal figures,
    and the daily series' online and postal columns."""
    page = parse(settled(client, "/admin/waves/w/trusts/RA1/monitor"))
    found = {
        f"{key}={row.attributes.get(key)}": row.css_first("td").text().strip()
        for key in ("data-mode", "data-postal")
        for row in page.css(f"#by-mode tr[{key}]")
    }
    heads = [th.text().strip() for th in page.css("#daily thead th")]
    for row in page.css("#daily tbody tr"):
        cells = dict(zip(heads, (td.text().strip() for td in row.css("td")), strict=True))
        for mode in ("Online", "Postal"):
            if mode in cells:
                found[f"{mode} on {cells['Day']}"] = cells[mode]
    return found


def test_a_lead_cannot_tell_the_mode_of_the_last_completion(store: Store, tmp_path: Path) -> None:
    """The postal sample is drawn by role (every chief executive, a few others), so the mode
    of a completion says its role group: a paper return says a chief executive (in RA1
    here, the only group sampled) has just responded. Completions by mode, the postal
    returns and the daily online and postal series moved by one with each completion;
    now, for a lead, the modes are counted over the released responses and the rest is
    not split by mode (the team sees it all)."""
    from sharedground.fieldwork.postal import draw_sample

    site = make_site(store, tmp_path, n=40)
    fractions = {role: 1.0 if role == "chief_executive" else 0.0 for role in ROLES}
    draw_sample(store, "w", fractions, seed=1, replace=True)
    people = _people(store)
    app = site.app()
    with TestClient(app) as lead, TestClient(app) as admin:
        assert login(lead, "lead-a") == 303
        assert login(admin, "admin") == 303
        readings = [_modes(lead)]
        for contact_id, role in people[:15]:
            _complete(store, contact_id, "postal" if role == "chief_executive" else "online")
            readings.append(_modes(lead))
        assert _modes(admin)["data-mode=postal"] == "8"  # the team sees every return
    for before, after in itertools.pairwise(readings):
        # Together the figures split by mode take in nothing or a whole batch of people.
        moved = {k: int(after[k]) - int(before[k]) for k in after.keys() & before.keys()}
        assert sum(moved.values()) == 0 or sum(moved.values()) >= THRESHOLD, moved
        assert all(m >= 0 for m in moved.values()), moved
    # What it shows: the modes of the first 10 responses released (5 chief executives by
    # post, 5 clinical directors online, in the order they came), not yet the other 5.
    assert readings[-1]["data-mode=postal"] == "5"
    assert readings[-1]["data-mode=online"] == "5"
