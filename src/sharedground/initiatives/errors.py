"""The initiatives' error, light to import so the command line can name it."""


class InitiativeError(ValueError):
    """A request about initiatives that cannot be met; the message says what and where.

    Nothing has been written when it is raised (the caller's transaction rolls back).
    """
