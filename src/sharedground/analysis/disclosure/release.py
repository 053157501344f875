"""Which of a trust's responses live figures may show while fieldwork runs.

A reader who opens live results before and after one person responds learns that
person's answers from the difference. So live figures never move by fewer than `batch`
responses (the wave's suppression threshold): they are computed from the trust's first
`shown` responses (in the order the store received them), where `shown` is a multiple of
`batch`, and a difference between any two readings covers `batch` people or more.

They also lag one batch behind: `shown` is `batch` x (whole batches received - 1). So
when the wave closes and every response is shown, the last step is still at least
`batch` responses (between `batch` and 2 x `batch` - 1), and the final figures cannot be
set against the last live ones to isolate fewer people either.

After the close, a questionnaire can still arrive (a paper return keyed late). Final
figures show every response that arrived by the close and the late ones in whole
batches only (`late`), so a late return does not move them by one either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """What live figures show, out of what has been received."""

    received: int
    shown: int
    batch: int
    #: Fieldwork is over: every response is shown and the figures no longer change.
    final: bool
    #: Responses received at which the figures next change (None once final).
    next_at: int | None


def release(received: int, batch: int, final: bool, late: int = 0) -> Release:
    """The responses live figures may use: `received` so far, in steps of `batch`.

    Args:
        received: the trust's responses in the store.
        batch: the smallest step the figures may take (the suppression threshold).
        final: fieldwork is over (the wave has closed and nothing is held back).
        late: of `received`, those that arrived after the close (with `final`): shown in
            whole batches of `batch`, the last of them the store received left out.
    """
    if received < 0 or not 0 <= late <= received:
        raise ValueError("received must be at least 0, and late between 0 and received")
    if batch <= 1:
        return Release(received, received, max(batch, 1), final, None)
    if final:
        held_back = late % batch
        return Release(
            received,
            received - held_back,
            batch,
            True,
            received - held_back + batch if held_back else None,
        )
    whole = received // batch
    shown = batch * max(whole - 1, 0)
    return Release(received, shown, batch, False, batch * (whole + 1))
