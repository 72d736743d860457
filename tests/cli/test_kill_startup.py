"""What a plain ``frankenws kill ID`` loads: only what sending one kill needs.

Start-up time is a target for ``kill`` (docs/performance.md, "CLI start-up"); it is
measured in benchmarks/, not here. What a test can pin is the cause: the modules a real
run imports. Each one left out below cost measurable start-up time when it was loaded.
"""

from __future__ import annotations

import subprocess
import sys

from cli_support import run_main

from frankenws.testing import FakeFrankenPHP

# Never needed to send one kill and print its result.
NOT_FOR_ONE_KILL = (
    "asyncio",
    "typer",
    "rich",
    "pydantic",
    "click",
    "decimal",
    "uuid",
    "frankenws._cluster",
    "frankenws._cluster_async",
    "frankenws._fanout",
    "frankenws._discovery",
    "frankenws._expr",
    "frankenws._ranges",
    "frankenws_cli._jobs",
    "frankenws_cli._app",
)


def test_a_real_kill_loads_none_of_the_heavy_modules(tmp_path):
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c1")
    with fake.serve() as server:
        argv = ["--url", server.admin_url, "--audit-log", str(tmp_path / "a.jsonl"), "kill", "c1"]
        code, stdout, loaded = run_main(argv)
    assert code == 0
    assert "killed c1" in stdout
    assert fake.get_clients() == []
    assert sorted(loaded.intersection(NOT_FOR_ONE_KILL)) == []


def test_fleet_names_still_import_from_the_package():
    """The fleet classes load on first use, and still look like frankenws' own."""
    code = (
        "import sys, frankenws\n"
        "before = 'frankenws._cluster' in sys.modules\n"
        "from frankenws import *\n"
        "from frankenws import AsyncCluster, Cluster, Node, NodeResults\n"
        "print(before, [c.__module__ for c in (AsyncCluster, Cluster, Node, NodeResults)],"
        " 'Cluster' in dir(frankenws), frankenws.SEARCH_OPERATORS[-2:])\n"
        "try:\n    frankenws.Nope\nexcept AttributeError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.strip().splitlines()
    assert first == (
        "False ['frankenws', 'frankenws', 'frankenws', 'frankenws'] True ('in', 'exists')"
    )
    assert second == "module 'frankenws' has no attribute 'Nope'"
