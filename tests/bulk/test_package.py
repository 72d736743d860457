"""The public surface of frankenws.bulk: exactly the names in __all__, cheap to import."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from frankenws import bulk

ROOT = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_complete():
    """__all__ lists exactly the public names (loaded or not yet loaded), sorted."""
    every = {name: getattr(bulk, name) for name in bulk.__all__}  # loads the lazy ones too
    public = {
        name
        for name, value in vars(bulk).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert set(bulk.__all__) == public
    assert bulk.__all__ == sorted(bulk.__all__)
    assert all(value is not None for value in every.values())
    assert set(bulk.__all__) <= set(dir(bulk))


def test_public_classes_claim_the_package():
    """Reprs and tracebacks show frankenws.bulk.X, not a private module."""
    for name in bulk.__all__:
        obj = getattr(bulk, name)
        if isinstance(obj, type):
            assert obj.__module__ == "frankenws.bulk", name


def test_unknown_names_are_attribute_errors():
    """A typo is an AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="has no attribute 'kill_connection'"):
        bulk.kill_connection  # type: ignore[attr-defined]  # noqa: B018


def test_reports_and_plans_do_not_load_the_engine():
    """Building a report or reading a plan imports neither the engine nor aiohttp."""
    code = (
        "import sys\n"
        "from frankenws.bulk import BulkReport, Outcome, Plan\n"
        "report = BulkReport('kill', [Outcome('a', 'kill', 'done')])\n"
        "assert report.to_dict()['counts']['done'] == 1\n"
        "Plan.from_dict({'scenario': 'disconnect_route', 'summary': 's', 'params': "
        "{'route': '/chat'}, 'targets': [], 'left_alone': []})\n"
        "loaded = [m for m in ('frankenws.bulk._engine', 'frankenws.bulk._lane', "
        "'frankenws.bulk._planners', 'aiohttp') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""
