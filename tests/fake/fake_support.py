"""Helpers shared by the fake's tests (imported by name; tests/fake is on sys.path)."""

from __future__ import annotations

import httpx

HOST = {"host": "localhost:2019"}
JSON = (("Content-Type", "application/json"),)


def raw_url(target: str) -> httpx.URL:
    """A URL whose path and query go on the wire exactly as written."""
    return httpx.URL("http://localhost:2019").copy_with(raw_path=target.encode("ascii"))
