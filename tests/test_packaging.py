"""The distribution's shape: public surface, clean imports, version, wheel contents."""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

import frankenws
from frankenws._endpoints import ENDPOINTS

ROOT = Path(__file__).resolve().parent.parent


def test_all_is_sorted_and_complete():
    """__all__ lists exactly the public names, sorted."""
    # dir(), not vars(): the fleet classes are loaded on first access (PEP 562).
    public = {
        name
        for name in dir(frankenws)
        if not name.startswith("_")
        and name != "TYPE_CHECKING"
        and not isinstance(getattr(frankenws, name), types.ModuleType)
    }
    public = (public - {"annotations"}) | {"__version__"}
    assert set(frankenws.__all__) == public
    assert frankenws.__all__ == sorted(frankenws.__all__)


def test_public_classes_claim_the_package():
    """Reprs and tracebacks show frankenws.X, not a private module."""
    for name in frankenws.__all__:
        obj = getattr(frankenws, name)
        if isinstance(obj, type):
            assert obj.__module__ == "frankenws", name


def test_public_classes_have_one_name():
    """Each exported class is known by the name it is exported under (no aliases)."""
    for name in frankenws.__all__:
        obj = getattr(frankenws, name)
        if isinstance(obj, type):
            assert obj.__qualname__ == name
            assert repr(obj) == f"<class 'frankenws.{name}'>"


def test_error_tree_is_drawn_completely():
    """Every exported error appears in the tree drawn in the _exceptions docstring."""
    from frankenws import _exceptions

    errors = [
        name
        for name in frankenws.__all__
        if isinstance(getattr(frankenws, name), type)
        and issubclass(getattr(frankenws, name), frankenws.FrankenWSError)
    ]
    assert len(errors) == 19  # + PartialFailure, NodesDisagree (fleet), ResponseTooLarge
    for name in errors:
        assert f"── {name}" in (_exceptions.__doc__ or "") or name == "FrankenWSError", name


def test_import_is_light():
    """import frankenws pulls in none of typer, rich, aiohttp."""
    code = (
        "import sys, frankenws, frankenws.testing; "
        "bad = [m for m in ('typer', 'rich', 'aiohttp', 'click') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_does_not_load_asyncio():
    """import frankenws leaves asyncio unloaded: the CLI's kill path never needs it."""
    code = "import sys, frankenws; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_version_matches_metadata():
    """__version__ is the installed distribution's version."""
    assert frankenws.__version__ == importlib.metadata.version("frankenws")


def test_every_route_has_a_method_on_both_clients():
    """41 routes, one method each, same signature on Client and AsyncClient."""
    assert len(ENDPOINTS) == 41
    assert len({e.template for e in ENDPOINTS}) == 41
    for endpoint in ENDPOINTS:
        sync = getattr(frankenws.Client, endpoint.name)
        asynchronous = getattr(frankenws.AsyncClient, endpoint.name)
        assert inspect.iscoroutinefunction(asynchronous), endpoint.name
        assert inspect.signature(sync).parameters == inspect.signature(asynchronous).parameters, (
            endpoint.name
        )
        assert sync.__doc__, endpoint.name
        assert asynchronous.__doc__ == sync.__doc__, endpoint.name


def test_clients_have_the_same_public_methods():
    """Nothing exists on one client only (apart from close/aclose)."""

    def names(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")} - {"close", "aclose"}

    assert names(frankenws.Client) == names(frankenws.AsyncClient)


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    """The wheel holds frankenws/ and frankenws_cli/ only, with py.typed."""
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"frankenws", "frankenws_cli"}
    assert "frankenws/py.typed" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "frankenws = frankenws_cli:main" in text
    assert "frankenws = frankenws.testing.pytest_plugin" in text
