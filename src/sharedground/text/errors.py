"""The one error of the text capability that a user can cause and act on."""

from __future__ import annotations


class TextError(ValueError):
    """Bad input to the text capability; the message names the file and place and the fix."""
