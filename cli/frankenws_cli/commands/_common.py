"""Small helpers shared by the command modules. Strictly private."""

from __future__ import annotations

from typing import Any

from frankenws_cli._output import Lines, Result

__all__ = ["dry_run", "ms"]


def dry_run(action: str, target: str, description: str, **detail: Any) -> Result:
    """What ``--dry-run`` returns for a single action: what would happen, nothing done."""
    return Result(
        {"dry_run": True, "action": action, "target": target, **detail},
        Lines([f"would {description}"]),
        notes=["dry run: nothing was changed"],
    )


def ms(nanoseconds: int) -> float:
    """Nanoseconds as milliseconds, rounded for display and JSON."""
    return round(nanoseconds / 1_000_000, 3)
