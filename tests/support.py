"""Helpers shared by test modules in several folders (tests/ is on sys.path).

Also the Hypothesis profile in force, which ``tests/conftest.py`` loads: ``dev`` (the
default) for a quick inner loop, ``ci`` (``FRANKENWS_HYPOTHESIS_PROFILE=ci``, set by
``.ci/run``) for every property test's full example count.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

HYPOTHESIS_PROFILE = os.environ.get("FRANKENWS_HYPOTHESIS_PROFILE", "dev")
DEV_MAX_EXAMPLES = 50


def max_examples(ci: int) -> int:
    """``ci`` examples under the ``ci`` profile, at most the ``dev`` count otherwise.

    A test's own ``@settings(max_examples=...)`` wins over any profile, so tests that ask
    for many examples pass their count through this to stay quick in the inner loop.
    """
    return ci if HYPOTHESIS_PROFILE == "ci" else min(ci, DEV_MAX_EXAMPLES)


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until ``predicate()`` is truthy; return its value (the server is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
