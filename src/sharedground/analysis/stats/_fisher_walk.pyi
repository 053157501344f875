"""Types of the compiled walk (_fisher_walk.c); see fisher_compiled.py."""

from collections.abc import Sequence

def walk(
    rows: Sequence[int],
    stages: Sequence[int],
    fixed: Sequence[int],
    lf: Sequence[float],
    threshold: int,
    constant: float,
    limit: int,
    /,
) -> tuple[float, int, bool]: ...
