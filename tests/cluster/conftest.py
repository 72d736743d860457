from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster_support import Fleet, serve_fleet


@pytest.fixture
def fleet3() -> Iterator[Fleet]:
    """Three loopback fakes."""
    with serve_fleet(3) as fleet:
        yield fleet
