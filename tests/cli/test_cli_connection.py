"""Acting on connections: kill, send, broadcast, tag, untag, rename."""

from __future__ import annotations

import json

import pytest
from cli_support import json_out, no_traceback

from frankenws_cli._kill import SEQUENTIAL_KILLS


def test_kill_one(cli, fake):
    """kill ID closes the connection and says so; exit 0."""
    result = cli("kill", "c-bob")
    assert result.exit_code == 0, result.output
    assert result.stdout == "killed c-bob\n"
    assert "c-bob" not in fake.get_clients()
    assert fake.peer("c-bob").close_code == 1006


def test_kill_unknown_id_exits_1(cli, fake):
    """An unknown id: exit 1, 'not found', nothing else touched."""
    result = cli("kill", "nobody")
    assert result.exit_code == 1
    assert result.stdout == "not found nobody\n"
    assert "not connected, or already closed" in result.stderr
    assert len(fake.get_clients()) == 3
    no_traceback(result)


def test_kill_many_json(cli, fake):
    """Several ids, one JSON report; any not-found id makes the exit code 1."""
    result = cli("--json", "kill", "c-alice", "nobody", "c-bob", "c-alice")
    assert result.exit_code == 1
    doc = json_out(result)
    assert doc["job"] == "kill"
    assert doc["ok"] is False  # agrees with the exit code
    assert doc["counts"] == {
        "done": 2,
        "not_found": 1,
        "failed": 0,
        "skipped": 0,
        "uncertain": 0,
        "not_attempted": 0,
    }
    assert doc["outcomes"] == [
        {"target": "c-alice", "action": "kill", "status": "done"},
        {"target": "nobody", "action": "kill", "status": "not_found"},
        {"target": "c-bob", "action": "kill", "status": "done"},
    ]
    assert fake.get_clients() == ["c-carol"]


def test_kill_reads_ids_from_stdin(cli, fake):
    """'-' reads ids one per line; blank lines and spaces are ignored."""
    result = cli("kill", "-", input="c-alice\n\n  c-carol  \n")
    assert result.exit_code == 0, result.output
    assert fake.get_clients() == ["c-bob"]


def test_kill_pipeline_from_clients_json(cli, fake):
    """clients --where ... --json | jq -r '.[]' | kill - works end to end."""
    ids = json_out(cli("clients", "--where", "username", "neq", "carol", "--json"))
    result = cli("kill", "-", input="\n".join(ids) + "\n")
    assert result.exit_code == 0
    assert fake.get_clients() == ["c-carol"]


def test_kill_from_file(cli, fake, tmp_path):
    """--from FILE reads ids one per line."""
    path = tmp_path / "ids.txt"
    path.write_text("c-alice\nc-bob\n")
    assert cli("kill", "--from", str(path)).exit_code == 0
    assert fake.get_clients() == ["c-carol"]


def test_kill_from_missing_file_exits_2(cli, tmp_path):
    """An unreadable --from file is a usage error naming the file."""
    result = cli("kill", "--from", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2
    assert "missing.txt" in result.stderr
    no_traceback(result)


@pytest.mark.parametrize("args", [("",), ("c-alice", "")])
def test_kill_empty_id_exits_2_before_anything(cli, fake, args):
    """An empty id is refused before any request: exit 2, nothing killed."""
    result = cli("kill", *args)
    assert result.exit_code == 2
    assert "id must not be empty" in result.stderr
    assert len(fake.get_clients()) == 3


def test_kill_without_ids_exits_2(cli):
    """kill with no id (and empty stdin) explains how to give ids."""
    result = cli("kill")
    assert result.exit_code == 2
    assert "give at least one connection id" in result.stderr


def test_kill_of_an_empty_pipeline_is_a_no_op(cli, fake, tmp_path):
    """clients --where ... | kill - matching nobody: nothing to do, exit 0 (not a usage
    error), for stdin and for --from alike."""
    empty = tmp_path / "none.txt"
    empty.write_text("\n")
    for result in (cli("kill", "-", input=""), cli("kill", "--from", str(empty))):
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert "nothing to kill" in result.stderr
    doc = json_out(cli("kill", "-", "--json", input="\n"))
    assert doc["ok"] is True
    assert doc["outcomes"] == []
    assert len(fake.get_clients()) == 3


def test_kill_prints_the_same_shape_for_3_and_for_30_ids(cli, fake):
    """A few ids go one by one, many through the bulk engine: the operator cannot tell."""
    few = sorted(fake.connect("/few") for _ in range(3))
    many = sorted(fake.connect("/many") for _ in range(30))
    for ids in (few, many):
        result = cli("kill", *ids, "nobody")
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert sorted(lines) == sorted([f"killed {i}" for i in ids] + ["not found nobody"])
        assert "1 id(s) not found" in result.stderr


def test_kill_dry_run_changes_nothing(cli, fake):
    """--dry-run lists what would be killed, kills nothing, exit 0."""
    result = cli("kill", "c-alice", "nobody", "--dry-run", "--json")
    assert result.exit_code == 0
    doc = json_out(result)
    assert doc["dry_run"] is True
    assert doc["report"] is None
    assert doc["plan"]["targets"] == [{"id": "c-alice", "reason": "connected"}]
    assert doc["plan"]["left_alone"] == [{"id": "nobody", "reason": "not connected"}]
    assert len(fake.get_clients()) == 3


def test_kill_many_uses_the_bulk_engine(cli, fake):
    """More ids than the sequential limit go through the bulk engine, same report shape."""
    ids = [fake.connect("/load") for _ in range(SEQUENTIAL_KILLS + 5)]
    result = cli("kill", *ids, "--json")
    assert result.exit_code == 0, result.output
    doc = json_out(result)
    assert doc["counts"]["done"] == len(ids)
    assert sorted(o["target"] for o in doc["outcomes"]) == sorted(ids)
    assert fake.get_clients_count("/load") == 0


def test_kill_many_with_unknown_ids_exits_1(cli, fake):
    """On the bulk path too, an unknown id gives exit 1."""
    ids = [fake.connect("/load") for _ in range(SEQUENTIAL_KILLS + 1)]
    result = cli("kill", *ids, "nobody")
    assert result.exit_code == 1
    assert "not found" in result.stdout
    assert fake.get_clients_count("/load") == 0


def test_send_text_and_file(cli, fake, tmp_path):
    """send delivers the message; --file sends the exact bytes."""
    result = cli("send", "c-bob", "héllo")
    assert result.exit_code == 0
    assert result.stdout == "sent 6 byte(s) to c-bob\n"
    blob = bytes(range(256))
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    assert json_out(cli("send", "c-bob", "--file", str(path), "--json")) == {
        "id": "c-bob",
        "bytes": 256,
        "route": None,
    }
    assert fake.received("c-bob") == ["héllo".encode(), blob]


def test_send_from_stdin(cli, fake):
    """MESSAGE '-' reads the message from stdin."""
    assert cli("send", "c-bob", "-", input="from stdin").exit_code == 0
    assert fake.received("c-bob") == [b"from stdin"]


def test_send_to_unknown_id_exits_1(cli, fake):
    """The server gives no delivery feedback, so the CLI checks the id first."""
    result = cli("send", "nobody", "hi")
    assert result.exit_code == 1
    assert "nothing was sent" in result.stderr


def test_send_wrong_route_exits_1(cli, fake):
    """--route that does not match the connection's route: nothing sent, exit 1."""
    result = cli("send", "c-bob", "hi", "--route", "/news")
    assert result.exit_code == 1
    assert fake.received("c-bob") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("c-bob", ""), "the message is empty"),
        (("c-bob",), "give the MESSAGE"),
        (("c-bob", "x", "--file", "nope.bin"), "either MESSAGE or --file"),
    ],
)
def test_send_bad_input_exits_2(cli, fake, args, message):
    """Missing, empty or doubly given payloads are usage errors; nothing is sent."""
    result = cli("send", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert fake.received("c-bob") == []


def test_send_dry_run(cli, fake):
    """send --dry-run sends nothing."""
    result = cli("--dry-run", "send", "c-bob", "hi")
    assert result.exit_code == 0
    assert result.stdout == "would send 2 byte(s) to c-bob\n"
    assert fake.received("c-bob") == []


def test_broadcast_scopes(cli, fake):
    """broadcast to all, a route, a tag or an expression; JSON says how many got it."""
    assert json_out(cli("broadcast", "all", "--json", "--yes"))["sent"] == 3
    assert json_out(cli("broadcast", "chat", "--route", "/chat", "--json"))["sent"] == 2
    doc = json_out(cli("broadcast", "vip", "--tag", "premium", "--json"))
    assert doc == {
        "sent": 1,
        "scope": "tag",
        "tag": "premium",
        "expression": None,
        "route": None,
        "bytes": 3,
    }
    assert json_out(cli("broadcast", "ops", "--expr", "admin|premium", "--json"))["sent"] == 2
    assert fake.received("c-carol") == [b"all", b"vip", b"ops"]
    assert fake.received("c-bob") == [b"all", b"chat"]


def test_broadcast_to_everyone_asks_first(cli, fake):
    """No --route/--tag/--expr: the prompt names bytes, count and server; No cancels."""
    result = cli("broadcast", "hello", input="n\n")
    assert result.exit_code == 1
    assert "Send 5 byte(s) to all 3 connection(s) on " in result.stderr
    assert "? [y/N]" in result.stderr
    assert "cancelled; nothing was sent" in result.stderr
    assert fake.received("c-alice") == []
    result = cli("broadcast", "hello", input="y\n")
    assert result.exit_code == 0, result.output
    assert fake.received("c-alice") == [b"hello"]
    narrowed = cli("broadcast", "hi", "--route", "/news")
    assert narrowed.exit_code == 0
    assert "[y/N]" not in narrowed.stderr


def test_broadcast_from_stdin_to_everyone_needs_yes(cli, fake):
    """The message took stdin, so no answer can be read: refuse unless --yes."""
    result = cli("broadcast", "-", input="hello")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert fake.received("c-alice") == []
    assert cli("broadcast", "-", "--yes", input="hello").exit_code == 0
    assert fake.received("c-alice") == [b"hello"]


def test_broadcast_refuses_an_empty_message(cli, fake, tmp_path):
    """An empty message is refused before anything is sent, as send does."""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for args in (("",), ("--file", str(empty)), ("", "--dry-run")):
        result = cli("broadcast", *args, "--yes")
        assert result.exit_code == 2, args
        assert "the message is empty" in result.stderr
    assert fake.received("c-alice") == []


def test_dry_run_applies_the_size_checks_of_a_real_run(cli, fake, tmp_path):
    """A payload the SDK would refuse is refused by --dry-run too (exit 2)."""
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * (16 * 1024 * 1024 + 1))
    for args in (("broadcast", "--file", str(huge)), ("send", "c-bob", "--file", str(huge))):
        real = cli(*args, "--yes")
        dry = cli(*args, "--dry-run")
        assert (dry.exit_code, real.exit_code) == (2, 2), args
        assert "16 MiB" in dry.stderr
    assert fake.received("c-bob") == []
    result = cli("global", "set", "k", "v", "--expire", str(10**12), "--dry-run")
    assert result.exit_code == 2


def test_broadcast_nobody_warns(cli):
    """A broadcast that reaches nobody says so on stderr."""
    result = cli("broadcast", "hi", "--tag", "nobody-has-this")
    assert result.exit_code == 0
    assert "nobody received" in result.stderr


def test_broadcast_tag_and_expr_exits_2(cli, fake):
    """--tag and --expr together are refused."""
    result = cli("broadcast", "hi", "--tag", "a", "--expr", "b")
    assert result.exit_code == 2
    assert fake.received("c-alice") == []


def test_broadcast_dry_run_counts_recipients(cli, fake):
    """broadcast --dry-run says how many would receive it and sends nothing."""
    doc = json_out(cli("broadcast", "hi", "--route", "/chat", "--dry-run", "--json"))
    assert doc["recipients"] == 2
    assert doc["dry_run"] is True
    assert fake.received("c-alice") == []


def test_tag_and_untag(cli, fake):
    """tag adds, untag removes, untag --all clears; JSON lists the tags afterwards."""
    assert json_out(cli("tag", "c-bob", "vip", "beta", "--json")) == {
        "id": "c-bob",
        "tags": ["beta", "vip"],
    }
    assert json_out(cli("untag", "c-bob", "vip", "--json")) == {"id": "c-bob", "tags": ["beta"]}
    assert json_out(cli("untag", "c-bob", "--all", "--json")) == {"id": "c-bob", "tags": []}
    assert fake.get_client_tags("c-bob") == []


def test_tag_unknown_id_exits_1(cli, fake):
    """Tagging an id that is not connected is refused (the server would accept it)."""
    result = cli("tag", "nobody", "vip")
    assert result.exit_code == 1
    assert "nothing was tagged" in result.stderr
    assert fake.get_clients_by_tag("vip") == []


@pytest.mark.parametrize("args", [("c-bob",), ("c-bob", "x", "--all")])
def test_untag_needs_tags_or_all(cli, args):
    """untag needs tags or --all, not both."""
    result = cli("untag", *args)
    assert result.exit_code == 2
    assert "--all" in result.stderr


def test_tag_empty_tag_exits_2(cli, fake):
    """An empty tag is refused before any change."""
    result = cli("tag", "c-bob", "ok", "")
    assert result.exit_code == 2
    assert fake.get_client_tags("c-bob") == []


def test_rename(cli, fake):
    """rename moves a connection to a new id; a failed rename exits 1."""
    assert json_out(cli("rename", "c-bob", "bobby", "--json")) == {
        "old_id": "c-bob",
        "new_id": "bobby",
        "renamed": True,
    }
    assert "bobby" in fake.get_clients()
    result = cli("rename", "nobody", "x")
    assert result.exit_code == 1
    assert "not connected, or 'x' is already taken" in result.stderr


def test_rename_dry_run(cli, fake):
    """rename --dry-run checks both ids and renames nothing."""
    assert cli("rename", "c-bob", "bobby", "--dry-run").exit_code == 0
    assert "c-bob" in fake.get_clients()
    taken = cli("rename", "c-bob", "c-alice", "--dry-run")
    assert taken.exit_code == 1
    assert "already taken" in taken.stderr


def test_global_options_after_the_command(cli):
    """--json written after the command works like before it."""
    before = json.loads(cli("--json", "routes").stdout)
    after = json.loads(cli("routes", "--json").stdout)
    assert before == after


def test_double_dash_keeps_option_like_messages(cli, fake):
    """After --, a message that looks like a global option is sent as is."""
    assert cli("send", "c-bob", "--", "--json").exit_code == 0
    assert fake.received("c-bob") == [b"--json"]
