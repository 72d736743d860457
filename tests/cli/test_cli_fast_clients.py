"""``clients`` without typer: the fast path gives what the typer command gives, machine
output keeps the server's order, and the JSON of a long list is still exact JSON."""

from __future__ import annotations

import io
import json
import sys

import pytest
from cli_support import run_main, via_fast, via_typer
from hypothesis import given
from hypothesis import strategies as st

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._fast import parse_clients
from frankenws_cli._output import Result, emit


def _via_typer(argv: list[str], fake: FakeFrankenPHP | None) -> tuple[int, str, str]:
    return via_typer(argv, None, fake)


def _via_fast(argv: list[str], fake: FakeFrankenPHP | None) -> tuple[int, str, str]:
    return via_fast(argv, None, fake)


CASES = [
    ["clients"],
    ["clients", "--json"],
    ["--json", "clients"],
    ["clients", "-o", "ids"],
    ["clients", "-o", "table"],
    ["clients", "-o", "wide"],
    ["clients", "--count"],
    ["clients", "-c", "--json"],
    ["clients", "--route", "/chat"],
    ["clients", "-r", "/news", "--json"],
    ["clients", "-r", "/nowhere", "--json"],
    ["clients", "-r", "/nowhere"],
    ["clients", "--tag", "admin"],
    ["clients", "-t", "premium", "--json"],
    ["clients", "--expr", "admin|premium", "--json", "--count"],
    ["clients", "--where", "username", "eq", "alice"],
    ["clients", "-w", "username", "neq", "carol", "--json", "-t", "admin"],
    ["clients", "-w", "username", "bogus", "x"],
    ["clients", "-e", "admin&&"],
    ["clients", "--dry-run", "-r", "/chat", "-o", "json"],
    ["--url", "ftp://nowhere", "clients"],
    ["clients", "--json", "-o", "table"],
]


@pytest.mark.parametrize("argv", CASES, ids=lambda v: " ".join(v))
def test_fast_path_matches_typer(fake, argv):
    """Same exit code, stdout and stderr through both parsers."""
    assert _via_fast(argv, fake) == _via_typer(argv, fake)


def test_fast_path_matches_typer_when_unreachable():
    argv = ["--url", "http://127.0.0.1:9", "clients", "--json"]
    fast_side = _via_fast(argv, None)
    assert fast_side == _via_typer(argv, None)
    assert fast_side[0] == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["clients", "--help"],
        ["clients", "-h"],
        ["clients", "extra"],
        ["clients", "--route=/chat"],
        ["clients", "-r/chat"],
        ["clients", "-r"],
        ["clients", "--where", "username", "eq"],
        ["clients", "-r", "/a", "-r", "/b"],
        ["clients", "--route", "-c"],
        ["clients", "--", "-x"],
        ["clients", "--count=1"],
        ["clients", "-x"],
        ["client"],
        ["--timeout", "0", "clients"],
    ],
)
def test_fast_path_leaves_the_rest_to_typer(argv):
    assert parse_clients(argv) is None


def test_parse_clients_understands_options_anywhere():
    parsed = parse_clients(
        ["-u", "http://h:1", "clients", "--json", "-r", "/chat", "-c", "-w", "k", "eq", "v"]
    )
    assert parsed == (
        {"url": ["http://h:1"], "json": True},
        {"route": "/chat", "count": True, "where": ("k", "eq", "v")},
    )


def _shuffled_fake() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for conn, route in (("c-zed", "/chat"), ("c-amy", "/news"), ("c-mid", "/chat")):
        fake.connect(route, id=conn)
        fake.tag_client(conn, "all")
    return fake


@pytest.mark.parametrize("via", [_via_fast, _via_typer])
def test_machine_output_keeps_the_server_order(via):
    """--json and -o ids print the ids as the server listed them (sorting a million
    costs as much as fetching them); tables and records stay sorted."""
    fake = _shuffled_fake()
    assert fake.get_clients() == ["c-zed", "c-amy", "c-mid"]
    assert json.loads(via(["clients", "--json"], fake)[1]) == ["c-zed", "c-amy", "c-mid"]
    assert via(["clients", "-o", "ids"], fake)[1] == "c-zed\nc-amy\nc-mid\n"
    filtered = via(["clients", "--tag", "all", "--json"], fake)[1]
    assert json.loads(filtered) == ["c-zed", "c-amy", "c-mid"]
    records = via(["clients"], fake)[1]  # not a terminal: records, by route then id
    assert records == "c-mid\t/chat\nc-zed\t/chat\nc-amy\t/news\n"


def test_ids_that_need_escaping_are_exact_json():
    fake = FakeFrankenPHP()
    odd = ['we"ird', "back\\slash", "tab\there", "ünï", "plain"]
    for conn in odd:
        fake.connect("/chat", id=conn)
    out = _via_fast(["clients", "--json"], fake)[1]
    assert json.loads(out) == odd


@given(st.lists(st.one_of(st.text(), st.text(alphabet='0123456789abcdef"\\,'))))
def test_json_of_a_list_of_strings_is_what_json_dumps_gives(items):
    """The quick writer for lists of plain ids changes no byte of the document."""
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8")
    saved, sys.stdout = sys.stdout, stdout
    try:
        emit(Result(list(items)), mode="json")
    finally:
        sys.stdout = saved
    expected = json.dumps(items, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert raw.getvalue() == expected.encode("utf-8")


def test_a_real_listing_runs_without_typer():
    """``frankenws clients --json``, as a real process: typer and rich are never loaded
    (about 0.3 s of a listing's time), and the ids come out as the server lists them."""
    fake = _shuffled_fake()
    with fake.serve() as server:
        code, stdout, loaded = run_main(["--url", server.admin_url, "clients", "--json"])
    assert code == 0
    assert stdout == '["c-zed","c-amy","c-mid"]\n'
    assert sorted(loaded & {"typer", "rich", "click", "pydantic", "frankenws_cli._app"}) == []
