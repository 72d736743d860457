"""The fake under measurement runs in a child process: started here, stopped on exit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def served(code: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``code`` (which prints its admin URL, then serves until stdin closes)."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    try:
        yield child, url
    finally:
        child.stdin.close()
        child.wait(60)
