"""store, global, ghost, ping and queue."""

from __future__ import annotations

import base64

import pytest
from cli_support import json_out

from frankenws.testing import FakeFrankenPHP


def test_store_set_get_list_delete_clear(cli, fake):
    """The store family round-trips values and reports what it did."""
    assert json_out(cli("store", "set", "c-bob", "plan", "gold", "--json")) == {
        "id": "c-bob",
        "key": "plan",
        "value": "gold",
    }
    got = cli("store", "get", "c-bob", "plan")
    assert (got.exit_code, got.stdout) == (0, "gold\n")
    assert json_out(cli("store", "list", "c-bob", "--json")) == {
        "plan": "gold",
        "username": "bob",
    }
    assert json_out(cli("store", "delete", "c-bob", "plan", "--json"))["deleted"] is True
    assert fake.get_stored_information("c-bob", "plan") is None
    assert json_out(cli("store", "clear", "c-bob", "--json")) == {
        "id": "c-bob",
        "deleted_keys": ["username"],
    }
    assert fake.get_all_stored_information("c-bob") == {}


def test_store_get_missing_exits_1(cli):
    """A missing key prints nothing on stdout, exit 1; JSON has value null."""
    result = cli("store", "get", "c-bob", "nope")
    assert (result.exit_code, result.stdout) == (1, "")
    assert json_out(cli("store", "get", "c-bob", "nope", "--json"))["value"] is None


def test_store_delete_missing_exits_1(cli):
    """Deleting a key that is not there: exit 1, nothing deleted."""
    result = cli("store", "delete", "c-bob", "nope")
    assert result.exit_code == 1
    assert "nothing was deleted" in result.stderr


def test_store_set_unknown_id_exits_1(cli, fake):
    """store set on an id that is not connected is refused."""
    result = cli("store", "set", "nobody", "k", "v")
    assert result.exit_code == 1
    assert fake.get_all_stored_information("nobody") == {}


@pytest.mark.parametrize("args", [("c-bob", "", "v"), ("c-bob", "k", ""), ("", "k", "v")])
def test_store_set_empty_values_exit_2(cli, args):
    """Empty ids, keys or values are usage errors."""
    result = cli("store", "set", *args)
    assert result.exit_code == 2
    assert "must not be empty" in result.stderr


def test_store_list_unknown_exits_1(cli):
    """store list of an unknown id with nothing stored: exit 1."""
    assert cli("store", "list", "nobody").exit_code == 1


def test_store_dry_run(cli, fake):
    """store set --dry-run stores nothing."""
    assert cli("--dry-run", "store", "set", "c-bob", "k", "v").exit_code == 0
    assert fake.get_stored_information("c-bob", "k") is None


def test_global_family(cli, fake):
    """global set/get/has/delete with expiry; exit codes follow presence."""
    assert json_out(cli("global", "set", "mode", "on", "--expire", "60", "--json")) == {
        "key": "mode",
        "value": "on",
        "expire_seconds": 60,
    }
    assert cli("global", "get", "mode").stdout == "on\n"
    assert json_out(cli("global", "has", "mode", "--json")) == {"key": "mode", "exists": True}
    assert cli("global", "has", "other").exit_code == 1
    assert cli("global", "delete", "mode").exit_code == 0
    assert fake.global_get("mode") is None
    assert cli("global", "delete", "mode").exit_code == 1
    assert cli("global", "get", "mode").exit_code == 1


def test_global_set_empty_value_allowed(cli, fake):
    """An empty global value is allowed (unlike per-connection values)."""
    assert cli("global", "set", "flag", "").exit_code == 0
    assert fake.global_has("flag")


def test_global_negative_expire_exits_2(cli):
    """--expire below zero is a usage error."""
    assert cli("global", "set", "k", "v", "--expire", "-1").exit_code == 2


def test_ghost(cli, fake):
    """ghost on/status/off, with exit 1 when there is nothing to do."""
    assert json_out(cli("ghost", "on", "c-bob", "--json")) == {"id": "c-bob", "ghost": True}
    assert cli("ghost", "status", "c-bob").stdout == "ghost\n"
    assert fake.is_ghost("c-bob")
    assert cli("ghost", "off", "c-bob").exit_code == 0
    assert cli("ghost", "off", "c-alice").exit_code == 1
    assert cli("ghost", "on", "nobody").exit_code == 1


def test_ping(cli, fake):
    """ping enable sends a ping; the client's pong gives a time; disable forgets it."""
    assert cli("ping", "enable", "c-bob").exit_code == 0
    assert len(fake.pings("c-bob")) == 1
    fake.client_pong("c-bob")
    doc = json_out(cli("ping", "time", "c-bob", "--json"))
    assert doc["measured"] is True
    assert doc["ping_time_ns"] > 0
    assert cli("ping", "disable", "c-bob").exit_code == 0
    assert json_out(cli("ping", "time", "c-bob", "--json"))["measured"] is False


def test_ping_unknown_id_exits_1(cli):
    """Enabling ping on an id that is not connected is refused."""
    assert cli("ping", "enable", "nobody", "--interval", "100").exit_code == 1


def test_queue(cli, fake):
    """queue enable records what is sent; show returns text and base64; clear empties it."""
    assert cli("queue", "enable", "c-bob", "--max-messages", "10").exit_code == 0
    fake.send("c-bob", "hello")
    fake.send("c-bob", b"\xff\x00")
    doc = json_out(cli("queue", "show", "c-bob", "--json"))
    assert doc["counter"] == 2
    assert [m["text"] for m in doc["messages"]] == ["hello", None]
    assert base64.b64decode(doc["messages"][1]["data_base64"]) == b"\xff\x00"
    assert doc["messages"][0]["send_type"] == "direct"
    human = cli("queue", "show", "c-bob")
    assert "hello" in human.stdout
    assert "<2 bytes>" in human.stdout
    assert cli("queue", "clear", "c-bob").exit_code == 0
    assert json_out(cli("queue", "show", "c-bob", "--json"))["messages"] == []
    assert cli("queue", "disable", "c-bob").exit_code == 0


def test_queue_never_enabled_exits_1(cli):
    """disable/clear of a queue that was never enabled: exit 1."""
    assert cli("queue", "disable", "c-bob").exit_code == 1
    assert cli("queue", "clear", "c-bob").exit_code == 1


def test_not_utf8_global_value_is_shown_exactly(cli, fake: FakeFrankenPHP):
    """A global value that is not UTF-8 is printed byte for byte, and --json stays valid."""
    fake.global_set("raw", b"\xffok")
    result = cli("global", "get", "raw")
    assert result.stdout_bytes == b"\xffok\n"
    doc = json_out(cli("global", "get", "raw", "--json"))
    assert doc["value"].encode("utf-8", "surrogateescape") == b"\xffok"


def _snapshot(fake: FakeFrankenPHP) -> dict[str, object]:
    ids = sorted(fake.get_clients())
    return {
        "ids": ids,
        "tags": {i: sorted(fake.get_client_tags(i)) for i in ids},
        "stored": {i: fake.get_all_stored_information(i) for i in ids},
        "ghosts": [i for i in ids if fake.is_ghost(i)],
        "pings": {i: len(fake.pings(i)) for i in ids},
        "counters": {i: fake.get_client_message_counter(i) for i in ids},
        "received": {i: fake.received(i) for i in ids},
        "global": fake.global_get("g"),
    }


@pytest.mark.parametrize(
    "args",
    [
        ("kill", "c-bob"),
        ("send", "c-bob", "hi"),
        ("broadcast", "hi"),
        ("tag", "c-bob", "x"),
        ("untag", "c-alice", "--all"),
        ("rename", "c-bob", "bobby"),
        ("store", "set", "c-bob", "k", "v"),
        ("store", "delete", "c-bob", "username"),
        ("store", "clear", "c-bob"),
        ("global", "set", "g", "new"),
        ("global", "delete", "g"),
        ("ghost", "on", "c-bob"),
        ("ghost", "off", "c-carol"),
        ("ping", "enable", "c-bob"),
        ("ping", "disable", "c-bob"),
        ("queue", "enable", "c-bob"),
        ("queue", "disable", "c-carol"),
        ("queue", "clear", "c-carol"),
    ],
)
def test_dry_run_changes_nothing_anywhere(cli, fake, dirs, args):
    """--dry-run on any state-changing command: exit 0, no change, no audit line."""
    fake.global_set("g", "old")
    fake.activate_ghost("c-carol")
    fake.enable_queue_counter("c-carol")
    before = _snapshot(fake)
    result = cli("--dry-run", *args)
    assert result.exit_code == 0, result.output
    assert "nothing was changed" in result.stderr
    assert _snapshot(fake) == before
    assert dirs.audit() == []
