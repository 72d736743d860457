"""Inspect commands: clients, show, search, routes, tags, watch."""

from __future__ import annotations

import json

import pytest
from cli_support import json_out, no_traceback


def test_clients_table_is_sorted_with_routes(cli):
    """-o table prints a sorted ID/ROUTE table (even into a pipe), a count on stderr."""
    result = cli("clients", "-o", "table")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "ROUTE"]
    assert [line.split() for line in lines[2:]] == [
        ["c-alice", "/chat"],
        ["c-bob", "/chat"],
        ["c-carol", "/news"],
    ]
    assert "3 connection(s)" in result.stderr


def test_clients_json_is_a_sorted_list(cli):
    """--json prints one sorted list of ids."""
    result = cli("clients", "--json")
    assert result.exit_code == 0
    assert json_out(result) == ["c-alice", "c-bob", "c-carol"]


def test_clients_json_empty_is_a_list(cli, fake):
    """An empty result is [], never null."""
    for conn in fake.get_clients():
        fake.disconnect(conn)
    assert json_out(cli("--json", "clients")) == []
    assert json_out(cli("--json", "clients", "--where", "username", "eq", "nobody")) == []


def test_clients_filters_combine(cli, fake):
    """--route, --tag, --expr and --where intersect, and only live ids are listed."""
    fake.tag_client("c-bob", "admin")
    fake.tag_client("ghost-of-dave", "admin")  # tags outlive connections on the server
    assert json_out(cli("clients", "--tag", "admin", "--json")) == ["c-alice", "c-bob"]
    assert json_out(cli("clients", "--route", "/news", "--json")) == ["c-carol"]
    assert json_out(cli("clients", "--expr", "admin&!premium", "--json")) == [
        "c-alice",
        "c-bob",
    ]
    assert json_out(
        cli("clients", "--tag", "admin", "--where", "username", "eq", "bob", "--json")
    ) == ["c-bob"]


def test_clients_count(cli):
    """--count prints a number, or {"count": N} with --json."""
    result = cli("clients", "--count")
    assert result.stdout == "3\n"
    assert json_out(cli("clients", "--route", "/chat", "--count", "--json")) == {"count": 2}
    assert json_out(cli("clients", "--tag", "admin", "--count", "--json")) == {"count": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--where", "username", "like", "a"), "unknown search operator 'like'"),
        (("--where", "username", "regex", "(("), "invalid RE2 regular expression"),
        (("--tag", ""), "must not be empty"),
    ],
)
def test_clients_bad_filter_is_a_usage_error(cli, fake, args, message):
    """Values the SDK refuses exit 2 with its message, no traceback, nothing sent."""
    before = len(fake.calls)
    result = cli("clients", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    no_traceback(result)
    assert len(fake.calls) == before


def test_show_everything_known(cli, fake):
    """show gathers route, tags, stored data, ghost flag, ping time and counters."""
    fake.activate_ghost("c-alice")
    fake.enable_queue_counter("c-alice")
    fake.send("c-alice", "hello")
    doc = json_out(cli("show", "c-alice", "--json"))
    assert doc == {
        "id": "c-alice",
        "connected": True,
        "route": "/chat",
        "ghost": True,
        "tags": ["admin"],
        "stored": {"username": "alice"},
        "ping_time_ns": 0,
        "ping_time_ms": 0.0,
        "message_counter": 1,
        "queued_messages": 1,
    }
    human = cli("show", "c-alice")
    assert human.exit_code == 0
    assert "route" in human.stdout
    assert "/chat" in human.stdout
    assert "username" in human.stdout
    assert "alice" in human.stdout


def test_show_unknown_id_exits_1(cli):
    """An id the server knows nothing about: exit 1 and a hint."""
    result = cli("show", "nobody")
    assert result.exit_code == 1
    assert "no connection 'nobody'" in result.stderr
    assert "frankenws clients" in result.stderr
    no_traceback(result)


def test_show_leftover_data_exits_1_but_shows_it(cli, fake):
    """Data kept under an id that is not connected is shown, with exit 1."""
    fake.set_stored_information("gone", "username", "dave")
    result = cli("show", "gone", "--json")
    assert result.exit_code == 1
    assert json_out(result)["stored"] == {"username": "dave"}
    assert json_out(result)["connected"] is False
    assert "not connected" in result.stderr


def test_show_empty_id_is_a_usage_error(cli):
    """show "" exits 2 with the SDK's message."""
    result = cli("show", "")
    assert result.exit_code == 2
    assert "must not be empty" in result.stderr


def test_search(cli):
    """search lists matching connected ids (JSON) or ids with the value (table)."""
    assert json_out(cli("search", "username", "prefix", "a", "--json")) == ["c-alice"]
    assert json_out(cli("search", "username", "regex", "^(bob|carol)$", "--json")) == [
        "c-bob",
        "c-carol",
    ]
    result = cli("search", "username", "eq", "bob", "--output=table")
    assert result.stdout.splitlines()[0].split() == ["ID", "USERNAME"]
    assert result.stdout.splitlines()[2].split() == ["c-bob", "bob"]
    assert cli("search", "username", "eq", "bob").stdout == "c-bob\tbob\n"


def test_clients_into_a_pipe_prints_plain_records(cli, fake):
    """Not a terminal: one record per line, id first, tab-separated, no header."""
    fake.set_stored_information("c-bob", "note", "tab\there")
    result = cli("clients")
    assert result.exit_code == 0, result.output
    assert result.stdout == "c-alice\t/chat\nc-bob\t/chat\nc-carol\t/news\n"
    assert "3 connection(s)" in result.stderr
    assert cli("search", "note", "eq", "tab\there").stdout == "c-bob\ttab\\there\n"
    assert cli("routes").stdout == "/chat\t2\n/news\t1\n"


def test_output_ids_prints_only_ids(cli, fake):
    """-o ids: the ids alone, one per line, whatever the command's table holds."""
    assert cli("clients", "-o", "ids").stdout == "c-alice\nc-bob\nc-carol\n"
    assert cli("-o", "ids", "search", "username", "neq", "x").stdout == (
        "c-alice\nc-bob\nc-carol\n"
    )
    assert cli("clients", "--tag", "admin", "--output", "ids").stdout == "c-alice\n"


def test_output_json_is_json_and_disagreeing_formats_are_refused(cli):
    """-o json is --json; --json with another -o is a usage error."""
    assert json_out(cli("clients", "-o", "json")) == ["c-alice", "c-bob", "c-carol"]
    assert json_out(cli("clients", "-o", "json", "--json")) == ["c-alice", "c-bob", "c-carol"]
    result = cli("clients", "-o", "ids", "--json")
    assert result.exit_code == 2
    assert "--json and --output ids disagree" in result.stderr
    assert cli("clients", "-o", "yaml").exit_code == 2


def test_output_wide_adds_tags_and_never_folds(cli, fake):
    """-o wide: a table with the tags too, each row on one line however long."""
    long_id = "c-" + "x" * 150
    fake.connect("/chat", id=long_id)
    fake.tag_client(long_id, "vip")
    result = cli("clients", "-o", "wide")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "ROUTE", "TAGS"]
    assert ["c-alice", "/chat", "admin"] in [line.split() for line in lines]
    assert [long_id, "/chat", "vip"] in [line.split() for line in lines]


def test_search_route_filter(cli):
    """--route narrows a search to one route."""
    assert json_out(cli("search", "username", "neq", "x", "--route", "/news", "--json")) == [
        "c-carol"
    ]


def test_search_unknown_operator_exits_2(cli):
    """An unknown operator is refused by the SDK: exit 2, clear message."""
    result = cli("search", "username", "similar", "x")
    assert result.exit_code == 2
    assert "unknown search operator" in result.stderr
    no_traceback(result)


def test_routes(cli):
    """routes lists each route with its count, sorted."""
    assert json_out(cli("routes", "--json")) == [
        {"route": "/chat", "connections": 2},
        {"route": "/news", "connections": 1},
    ]
    result = cli("routes")
    assert "3 connection(s) on 2 route(s)" in result.stderr


def test_tags(cli, fake):
    """tags lists tags with counts; tags ID lists one connection's tags."""
    fake.tag_client("c-bob", "admin")
    assert json_out(cli("tags", "--json")) == [
        {"tag": "admin", "count": 2},
        {"tag": "premium", "count": 1},
    ]
    assert json_out(cli("tags", "c-alice", "--json")) == ["admin"]
    assert json_out(cli("tags", "c-bob", "--json")) == ["admin"]


def test_tags_of_unknown_id_exits_1(cli):
    """tags of an id that is not connected: exit 1."""
    result = cli("tags", "nobody")
    assert result.exit_code == 1
    assert "no connection 'nobody'" in result.stderr


def test_watch_json_snapshots(cli):
    """watch --json prints one snapshot per refresh, one per line, then stops with -n."""
    result = cli("watch", "--json", "-n", "2", "--interval", "0.1")
    assert result.exit_code == 0, result.output
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(frames) == 2
    assert frames[0]["connections"] == 3
    assert frames[0]["routes"] == [
        {"route": "/chat", "connections": 2},
        {"route": "/news", "connections": 1},
    ]
    assert frames[0]["top_tags"] == [{"tag": "admin", "count": 1}, {"tag": "premium", "count": 1}]


def test_watch_human_frame(cli):
    """Without a terminal, each frame is printed after the previous one."""
    result = cli("watch", "-n", "1")
    assert result.exit_code == 0
    assert "3 connection(s)" in result.stdout
    assert "/chat" in result.stdout
    assert "admin" in result.stdout


def test_watch_unreachable_exits_3(tmp_path):
    """watch fails at once (exit 3) when the first snapshot cannot be taken."""
    from cli_support import make_cli

    from frankenws_cli._context import AppContext

    run = make_cli(lambda: AppContext())
    result = run("--url", "http://127.0.0.1:9", "--timeout", "2", "watch", "-n", "1")
    assert result.exit_code == 3
    assert "cannot connect" in result.stderr
    no_traceback(result)
