"""The synthetic cohort, calibrated to the published 2015 (and 2002) survey figures.

Use `generate` for a cohort in the exchange layout and `write` to save it; see
`sharedground.synth.cohort` for what is guaranteed and the modules it names for the assumptions.
"""

from sharedground.synth.cohort import generate, instrument_for, write

__all__ = ["generate", "instrument_for", "write"]
