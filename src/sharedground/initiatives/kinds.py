"""What an initiative can be: the eight kinds of the report's table 2.11 and a few more.

The eight ids are the option ids of the `initiatives` grid of `dmr-2015` (table 2.11 of
Powell & Davies 2016), so the register can be set beside what respondents said exists.
Shadowing, coaching and a defined clinical-director role are kinds the study's discussion
names as ways of bringing the two groups together. An organisation may add kinds of its own
from a YAML kinds file (`load_kinds_file`); they are stored per organisation.

`groups_people` marks the kinds that pair or group people and so have a cohort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sharedground.initiatives.errors import InitiativeError


@dataclass(frozen=True)
class Kind:
    """One kind of initiative."""

    id: str
    label: str
    groups_people: bool = False
    #: "table 2.11", "sharedground" or the organisation code whose kinds file added it.
    source: str = "sharedground"


TABLE_2_11: tuple[Kind, ...] = (
    Kind(
        "qi_collaboration",
        "Collaboration between managers and doctors on quality improvement or service innovation",
        source="table 2.11",
    ),
    Kind("management_training_doctors", "Management training for doctors", source="table 2.11"),
    Kind("joint_discussion_events", "Joint discussion events", source="table 2.11"),
    Kind("joint_training_events", "Joint training events", source="table 2.11"),
    Kind("paired_learning", "Paired learning", groups_people=True, source="table 2.11"),
    Kind("joint_social_events", "Joint social events", source="table 2.11"),
    Kind("buddying_mentoring", "Buddying or mentoring", groups_people=True, source="table 2.11"),
    Kind("joint_social_spaces", "Joint social spaces", source="table 2.11"),
)

EXTRA: tuple[Kind, ...] = (
    Kind("shadowing", "Shadowing", groups_people=True),
    Kind("coaching", "Coaching", groups_people=True),
    Kind("clinical_director_role", "A defined clinical-director role"),
)

BUILTIN: dict[str, Kind] = {k.id: k for k in (*TABLE_2_11, *EXTRA)}

KIND_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def load_kinds_file(path: str | Path, organisation: str) -> list[Kind]:
    """An organisation's own kinds from a YAML file.

    The file holds `kinds:`, a list of `{id, label, groups_people}` (the last optional).
    Ids are lower-case letters, digits and `_`, and may not reuse a built-in id.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InitiativeError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InitiativeError(f"{path}: not a YAML file ({exc})") from None
    entries = data.get("kinds") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InitiativeError(f"{path}: expected `kinds:` with a list of {{id, label}}")
    problems: list[str] = []
    found: list[Kind] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: kinds[{number}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected id and label")
            continue
        ident = str(entry.get("id") or "")
        label = str(entry.get("label") or "").strip()
        groups = entry.get("groups_people", False)
        if not KIND_ID.match(ident):
            problems.append(f"{where}, id: {ident!r} is not an id (a-z, 0-9, _; 2-63 long)")
        elif ident in BUILTIN:
            problems.append(f"{where}, id: {ident!r} is a built-in kind already")
        elif ident in seen:
            problems.append(f"{where}, id: {ident!r} is given twice")
        if not label:
            problems.append(f"{where}, label: missing")
        elif len(label) > 300:
            problems.append(f"{where}, label: {len(label)} characters, at most 300")
        if not isinstance(groups, bool):
            problems.append(f"{where}, groups_people: give true or false")
        seen.add(ident)
        found.append(Kind(ident, label, bool(groups), source=organisation))
    if problems:
        raise InitiativeError("\n".join(problems))
    return found
