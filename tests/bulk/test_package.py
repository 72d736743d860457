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
    """A report loads nothing else; reading a plan loads no engine and no aiohttp."""
    code = (
        "import sys\n"
        "from frankenws.bulk import BulkReport, Outcome\n"
        "report = BulkReport('kill', [Outcome('a', 'kill', 'done')])\n"
        "assert report.to_dict()['counts']['done'] == 1\n"
        "print(sorted(m for m in sys.modules if m.startswith('frankenws.bulk')))\n"
        "from frankenws.bulk import Plan\n"
        "Plan.from_dict({'scenario': 'disconnect_route', 'summary': 's', 'params': "
        "{'route': '/chat'}, 'targets': [], 'left_alone': []})\n"
        "print(sorted(m for m in sys.modules if m.startswith('frankenws.bulk') "
        "or m.startswith('aiohttp')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.splitlines() == [
        "['frankenws.bulk', 'frankenws.bulk._report']",
        "['frankenws.bulk', 'frankenws.bulk._plans', 'frankenws.bulk._report']",
    ]
