"""A big ``frankenws kill -`` holds no per-target outcome, yet prints every target.

The CLI runs as a real process fed ids through a pipe, against the loopback fake; its
peak RSS is compared between a small and a big job. Memory is not time: the bound is
structural, independent of the load. The peak is the process's own ``VmHWM``, read as
it exits: ``ru_maxrss`` would count the test process, whose memory the child starts
with until it executes Python (Linux keeps the larger of the two).
Before the CLI streamed ids and outcomes, the big job cost the CLI 440 bytes per
target printing lines and 700 printing JSON (the id list, the report's outcomes, their
dicts, the lines); now it is the engine's tables, about 50.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_loopback import _cli_env

from frankenws.testing import FakeFrankenPHP

SMALL, BIG = 2_000, 16_000
MAX_BYTES_PER_TARGET = 200

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/status"
)

# The CLI's own entry point, reporting its peak RSS on stderr as it exits.
MEASURED = """
import atexit, sys

def peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("peak-kB " + line.split()[1] + "\\n")

atexit.register(peak)
sys.argv = ["frankenws", *sys.argv[1:]]
from frankenws_cli import main

main()
"""


def _kill(dirs, tmp_path: Path, url: str, ids: list[str], *extra: str) -> tuple[int, str, int]:
    """(exit code, stdout, peak RSS in bytes) of ``frankenws --url URL kill - ...``."""
    given = tmp_path / "ids.txt"
    given.write_text("\n".join(ids) + "\n")
    out = tmp_path / "out.txt"
    with given.open("rb") as stdin, out.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, "--url", url, "kill", "-", *extra],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=_cli_env(dirs),
            text=True,
            timeout=300,
            check=False,
        )
    (peak,) = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("peak-kB")]
    return done.returncode, out.read_text(), int(peak) * 1024


@pytest.mark.parametrize("mode", ["lines", "json"])
def test_a_big_kill_from_a_pipe_prints_every_target_in_flat_memory(dirs, tmp_path, mode):
    fake = FakeFrankenPHP()
    peaks = {}
    with fake.serve() as server:
        for count in (SMALL, BIG):
            live = [fake.connect("/load", id=f"c-{count}-{n:06d}") for n in range(count)]
            gone = [f"gone-{count}-{n}" for n in range(10)]
            # Duplicates are killed once; unknown ids are reported "not found".
            given = [*live, *gone, *live[:50]]
            extra = ("--json",) if mode == "json" else ()
            code, stdout, peaks[count] = _kill(dirs, tmp_path, server.admin_url, given, *extra)
            assert code == 1  # the unknown ids
            if mode == "json":
                (line,) = stdout.splitlines()
                doc = json.loads(line)
                assert "omitted" not in doc
                assert doc["counts"]["done"] == count
                assert doc["counts"]["not_found"] == 10
                assert doc["ok"] is False
                said = [(o["status"], o["target"]) for o in doc["outcomes"]]
            else:
                said = [tuple(line.rsplit(" ", 1)) for line in stdout.splitlines()]
            expected = {("done" if mode == "json" else "killed", t) for t in live}
            expected |= {("not_found" if mode == "json" else "not found", t) for t in gone}
            assert len(said) == count + 10
            assert set(said) == expected
            assert fake.get_clients() == []
    growth = (peaks[BIG] - peaks[SMALL]) / (BIG - SMALL)
    assert growth < MAX_BYTES_PER_TARGET, f"{growth:.0f} bytes per target"


def test_a_streamed_array_is_written_as_json_dumps_would(capsys):
    """``--json`` of a bulk job splices its outcomes in as they are read back."""
    from frankenws_cli._output import Streamed, _write_json

    items = [{"target": f"c-{n}", "status": "done"} for n in range(2500)]
    items.append({"target": 'quote " tab \t é', "status": "not_found"})
    data = {"plan": {"targets": ["a"], "empty": Streamed(lambda: iter([]))}, "ok": True}
    data["report"] = {"outcomes": Streamed(lambda: iter(items)), "notes": ["x"]}
    expected = {"plan": {"targets": ["a"], "empty": []}, "ok": True}
    expected["report"] = {"outcomes": items, "notes": ["x"]}
    _write_json(data)
    written = capsys.readouterr().out
    assert written == json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n"


def test_the_spill_gives_back_every_outcome_as_it_was():
    from frankenws.bulk import Outcome
    from frankenws_cli._jobs import Spill

    outcomes = [
        Outcome('quote " tab \t newline \n', "kill", "failed", 'error "\t"', "node\\1"),
        Outcome("lone \ud800 surrogate é", "notify", "not_found"),
        Outcome("plain", "kill", "uncertain", "", None),
    ]
    spill = Spill()
    for outcome in outcomes:
        spill.add(outcome)
    assert list(spill) == outcomes
    assert list(spill) == outcomes  # read again from the start
    assert (spill.recorded, spill.uncertain, spill.placed) == (3, 1, True)
