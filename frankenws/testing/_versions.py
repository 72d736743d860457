"""Which Go and Caddy the fake imitates, and what each version changes.

The extension's ``go.mod`` pins Caddy v2.10.2 built with Go 1.25; those are the
defaults. Newer releases change a few bytes the admin port writes (PROTOCOL.md §13):

* Go ≥ 1.26: non-canonical paths redirect with 307 instead of 301 (the ``Location`` is
  built as before: measured with Caddy 2.11.7 on Go 1.26.8, a ``%2F`` still comes back
  as ``%252F``);
* Go ≥ 1.27: ``encoding/json`` writes an invalid UTF-8 byte as the raw bytes of U+FFFD
  instead of the escape ``\\ufffd``;
* Caddy ≥ 2.11: a request carrying ``Upgrade: websocket`` gets 400 ``WebSocket
  connections aren't allowed.`` instead of 500 ``websocket connections aren't allowed``.

Strictly private; ``FakeFrankenPHP(go_version=..., caddy_version=...)`` takes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_CADDY", "DEFAULT_GO", "Versions"]

DEFAULT_GO = "1.25"
DEFAULT_CADDY = "2.10.2"

_GO = re.compile(r"(?:go)?1\.(\d{1,3})(?:\.\d{1,3})?")
_CADDY = re.compile(r"v?2\.(\d{1,3})(?:\.\d{1,3})?")


def _minor(pattern: re.Pattern[str], text: object, what: str, example: str) -> int:
    found = pattern.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ValueError(f"{what} must look like {example}, got {text!r}")
    return int(found.group(1))


@dataclass(frozen=True, slots=True)
class Versions:
    """The imitated Go minor version (``1.x``) and Caddy minor version (``2.x``)."""

    go_minor: int
    caddy_minor: int

    @classmethod
    def parse(cls, go_version: str, caddy_version: str) -> Versions:
        """Read ``"1.25"``/``"go1.26.1"`` and ``"2.10.2"``/``"v2.11"``; ValueError otherwise."""
        go = _minor(_GO, go_version, "go_version", "1.25, 1.26.1 or go1.27")
        caddy = _minor(_CADDY, caddy_version, "caddy_version", "2.10.2 or v2.11.0")
        return cls(go, caddy)

    @property
    def redirect_307(self) -> bool:
        return self.go_minor >= 26

    @property
    def raw_replacement_char(self) -> bool:
        return self.go_minor >= 27

    @property
    def websocket_refusal_400(self) -> bool:
        return self.caddy_minor >= 11
