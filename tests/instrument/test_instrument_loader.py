"""Loading instrument files: every mistake names the file, the line, the section and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharedground.instrument import InstrumentError, LikertItem, load_file, resolve

GOOD = """\
id: mini
version: 1
title: A small questionnaire
sections:
- id: views
  title: Your views
  items:
  - id: agree_goals
    type: likert
    text: Managers and doctors agree on goals
  - id: pressure
    type: likert
    text: Management exert pressure to discharge early
    reverse: true
    reported_as: Management do not exert pressure to discharge early
  - id: barriers
    type: multi
    text: What gets in the way?
    max_choices: 2
    options:
    - id: time
      label: Time
    - id: money
      label: Money
    - id: trust
      label: Trust
- id: about
  title: About you
  items:
  - id: role
    type: single
    text: Your role?
    options:
    - id: doctor
      label: Doctor
    - id: manager
      label: Manager
tables:
- id: table_1
  title: Views
  rows:
  - item: agree_goals
    measure: agree
    label: Agree on goals
  - item: barriers
    option: money
    measure: chosen
    label: Money is a barrier
"""


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return found[occurrence - 1]


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InstrumentError) as caught:
        load_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}"), message
    return message


def test_the_good_file_loads(tmp_path: Path) -> None:
    instrument = load_file(write(tmp_path, GOOD))
    assert instrument.key == "mini@1"
    pressure = instrument.item("pressure")
    assert isinstance(pressure, LikertItem) and pressure.reverse
    # A path or a built-in id.
    assert resolve(str(tmp_path / "mine.yaml")) == instrument
    assert resolve("dmr-2015").id == "dmr-2015"


def test_not_yaml(tmp_path: Path) -> None:
    text = GOOD.replace("    text: Your role?", "    text: [Your role?")
    message = error(tmp_path, text)
    assert "not valid YAML" in message
    # The parser notices the unclosed bracket on the line after it.
    assert f", line {line_of(text, '[Your role?') + 1}, column" in message


def test_unknown_question_type(tmp_path: Path) -> None:
    text = GOOD.replace("type: multi", "type: multiple")
    message = error(tmp_path, text)
    assert f"line {line_of(text, '- id: barriers')}: section 'views', item 'barriers'" in message
    assert "unknown question type 'multiple'" in message
    assert "'likert', 'rating', 'single', 'multi', 'grid', 'text'" in message


def test_duplicate_item_id(tmp_path: Path) -> None:
    text = GOOD.replace("- id: pressure", "- id: agree_goals")
    message = error(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, '- id: agree_goals', 2)}: section 'views', item 'agree_goals': "
        "item id 'agree_goals' is used twice"
    )


def test_duplicate_item_id_across_sections(tmp_path: Path) -> None:
    text = GOOD.replace("  - id: role\n    type: single", "  - id: pressure\n    type: single")
    text = text.replace("- id: about\n", "- id: about\n") + ""
    message = error(tmp_path, text)
    assert f"line {line_of(text, '- id: pressure', 2)}: section 'about', item 'pressure'" in message
    assert "item id 'pressure' is used twice" in message


def test_duplicate_option_id(tmp_path: Path) -> None:
    text = GOOD.replace("- id: trust", "- id: time")
    message = error(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, '- id: time', 2)}: section 'views', item 'barriers', "
        "option 'time': option id 'time' is used twice"
    )


def test_max_choices_larger_than_the_options(tmp_path: Path) -> None:
    text = GOOD.replace("max_choices: 2", "max_choices: 5")
    message = error(tmp_path, text)
    assert f"line {line_of(text, '- id: barriers')}: section 'views', item 'barriers'" in message
    assert "max_choices (5) is more than the 3 options" in message


def test_reverse_without_reported_as(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    reported_as: Management do not exert pressure to discharge early\n", ""
    )
    message = error(tmp_path, text)
    assert f"line {line_of(text, '- id: pressure')}: section 'views', item 'pressure'" in message
    assert "a reverse-scored item needs `reported_as`" in message


def test_reported_as_without_reverse(tmp_path: Path) -> None:
    text = GOOD.replace("    reverse: true\n", "")
    assert "`reported_as` is only for reverse-scored items" in error(tmp_path, text)


def test_table_row_pointing_at_a_missing_item(tmp_path: Path) -> None:
    text = GOOD.replace("  - item: agree_goals", "  - item: agree_goal")
    message = error(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, '- item: agree_goal')}: table 'table_1', row 'Agree on goals': "
        "no item 'agree_goal'"
    )


def test_table_row_pointing_at_a_missing_option(tmp_path: Path) -> None:
    text = GOOD.replace("    option: money", "    option: cash")
    message = error(tmp_path, text)
    assert message.endswith(
        f"line {line_of(text, '- item: barriers')}: table 'table_1', row 'Money is a barrier': "
        "item 'barriers' has no option 'cash'"
    )


def test_table_row_with_a_measure_that_does_not_fit(tmp_path: Path) -> None:
    text = GOOD.replace("    measure: agree", "    measure: chosen")
    message = error(tmp_path, text)
    assert "table 'table_1', row 'Agree on goals'" in message
    assert "measure 'chosen' does not apply to a likert item (allowed: agree)" in message


def test_missing_and_unknown_fields(tmp_path: Path) -> None:
    text = GOOD.replace("    text: Managers and doctors agree on goals\n", "    txt: Agree\n")
    message = error(tmp_path, text)
    line = line_of(text, "- id: agree_goals")
    assert f"line {line}: section 'views', item 'agree_goals': field 'text': is required" in message
    assert "field 'txt': is not a known field" in message
    assert len(message.splitlines()) == 2


def test_bad_id(tmp_path: Path) -> None:
    text = GOOD.replace("- id: agree_goals", "- id: Agree-Goals")
    message = error(tmp_path, text)
    assert (
        "section 'views', item 'Agree-Goals': field 'id': 'Agree-Goals' is not a valid id"
        in message
    )


def test_no_role_item(tmp_path: Path) -> None:
    text = GOOD.replace("- id: role", "- id: position")
    assert "an instrument needs a single-choice item `role`" in error(tmp_path, text)


def test_role_must_be_single_choice(tmp_path: Path) -> None:
    text = GOOD.replace("  - id: role\n    type: single", "  - id: role\n    type: multi")
    message = error(tmp_path, text)
    assert f"line {line_of(text, '- id: role')}: section 'about', item 'role'" in message
    assert "item `role` must be a single-choice item" in message


def test_not_a_mapping(tmp_path: Path) -> None:
    assert "expected a mapping with id, version, sections" in error(tmp_path, "- just\n- a list\n")


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="no such file"):
        load_file(tmp_path / "absent.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("A small", "Un petit questionnaire à").encode("latin-1"))
    with pytest.raises(InstrumentError, match=r"latin1.yaml: not UTF-8 text"):
        load_file(path)


def test_a_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_file(path).id == "mini"


def test_a_field_of_a_text_item(tmp_path: Path) -> None:
    # `text` is both a question type and a field name; the error is about max_length.
    text = GOOD.replace(
        "- id: about\n  title: About you\n  items:\n",
        "- id: about\n  title: About you\n  items:\n  - id: note\n    type: text\n"
        "    text: Anything else?\n    max_length: 0\n",
    )
    message = error(tmp_path, text)
    assert (
        f"line {line_of(text, 'max_length: 0')}: section 'about', item 'note': field 'max_length'"
        in message
    )
    assert "greater than or equal to 1" in message
