"""Which stored questionnaire items the evaluation's measures are read from (the one place).

The evaluation speaks of `agree` and `rating` (a pulse answer) and of `positive` and `rating`
(a survey answer); the questionnaires store answers under their item ids. Both the pulse
(`dmr-pulse`) and the survey (`dmr-2015`) keep the same ids for these two items, so one
mapping serves both:

- `rating`: `local_rating`, the 1-5 rating of doctor-manager relationships (table 2.1);
- `agree` (pulse) and `positive` (survey): agreement that "doctors and managers work well
  together as a team" (`work_as_team`, table 2.2): strongly or tend to agree is 1, tend to or
  strongly disagree 0, "don't know" or no answer is missing.

`sharedground.synth.scenario_load` writes the synthetic programme's answers through
`answers_of`, and `sharedground.evaluation.store` reads them back through `measures_of`, so
the scenario's tables and the store's agree value for value.
"""

from __future__ import annotations

from collections.abc import Mapping

RATING_ITEM = "local_rating"
AGREE_ITEM = "work_as_team"

#: The evaluation's name of a measure -> the stored item id.
PULSE_ITEMS: dict[str, str] = {"agree": AGREE_ITEM, "rating": RATING_ITEM}
SURVEY_ITEMS: dict[str, str] = {"positive": AGREE_ITEM, "rating": RATING_ITEM}

_AGREES = {"strongly_agree": 1, "tend_to_agree": 1, "tend_to_disagree": 0, "strongly_disagree": 0}


def agree_value(answer: object) -> int | None:
    """1 for agreement, 0 for disagreement, None for anything else."""
    return _AGREES.get(str(answer)) if answer is not None else None


def rating_value(answer: object) -> int | None:
    """The 1-5 rating, None when missing or not a whole number from 1 to 5."""
    if answer is None:
        return None
    try:
        value = int(str(answer))
    except ValueError:
        return None
    return value if 1 <= value <= 5 else None


def answers_of(agree: int | None, rating: int | None) -> dict[str, str]:
    """Stored answers (item id -> answer) for an agree flag and a rating."""
    out: dict[str, str] = {}
    if agree is not None:
        out[AGREE_ITEM] = "tend_to_agree" if agree else "tend_to_disagree"
    if rating is not None:
        out[RATING_ITEM] = str(int(rating))
    return out


def measures_of(answers: Mapping[str, object]) -> tuple[int | None, int | None]:
    """(agree, rating) from stored answers."""
    return agree_value(answers.get(AGREE_ITEM)), rating_value(answers.get(RATING_ITEM))
