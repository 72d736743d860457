"""How every benchmark reports a figure over rounds: min / median / max."""

from __future__ import annotations

import statistics
from collections.abc import Iterable


def spread(values: Iterable[float], fmt: str = ".2f") -> str:
    """``min / median / max`` of ``values``, each formatted with ``fmt``."""
    ordered = sorted(values)
    return " / ".join(format(v, fmt) for v in (ordered[0], statistics.median(ordered), ordered[-1]))
