"""``demo``: a guided tour on the embedded fake, with about 50 real WebSocket clients.

Each step shows the command a user would type, then the real output of that command,
run in this process against the served fake (no subprocess, no network beyond
127.0.0.1, no input).
"""

from __future__ import annotations

import json
import shlex
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from frankenws_cli._context import AppContext, context_of
from frankenws_cli._errors import UsageProblem
from frankenws_cli._output import Lines, Result, Stream
from frankenws_cli._parse import duration

__all__ = ["register"]


def demo(
    ctx: typer.Context,
    clients: Annotated[int, typer.Option(help="How many WebSocket clients.", min=4, max=500)] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the simulated users.")] = 0,
    grace: Annotated[str, typer.Option(help="Grace period of the maintenance step.")] = "1s",
) -> Stream:
    """A guided tour: list, search, show, disconnect a user, a security sweep and a
    maintenance, on the embedded fake with real WebSocket clients. No server needed.
    """
    obj = context_of(ctx)
    if obj.json:
        raise UsageProblem("demo is a guided tour for humans; it has no --json output")
    seconds = duration(grace, "--grace", allow_zero=True)
    from frankenws.testing import FakeFrankenPHP, Population

    fake = FakeFrankenPHP()
    server = fake.serve()
    try:
        people = Population(server, clients, seed=seed).start()
    except BaseException:
        server.close()
        raise
    # The root command, to run each step in this process; reached through the
    # context rather than by importing _app, which imports this module.
    root = ctx.find_root().command
    return Stream(_tour(obj, root, server, people, seconds))


def _say(*lines: str) -> Result:
    return Result(None, Lines(list(lines)))


def _tour(
    obj: AppContext, command: Any, server: Any, people: Any, grace: float
) -> Iterator[Result]:
    workdir = tempfile.TemporaryDirectory(prefix="frankenws-demo-")
    audit = Path(workdir.name) / "audit.jsonl"
    failures: list[str] = []

    def run(*args: str, expect: int = 0) -> Iterator[Result]:
        yield _say("", "$ frankenws " + " ".join(shlex.quote(a) for a in args))
        child = AppContext(
            url=server.admin_url,
            audit_log=audit,
            actor=obj.actor or "demo",
            read_config=False,
            journal_dir=Path(workdir.name),
        )
        value = command.main(
            args=list(args), prog_name="frankenws", standalone_mode=False, obj=child
        )
        code = value if isinstance(value, int) else 0
        if code != expect:
            failures.append(f"'frankenws {' '.join(args)}' exited {code}")

    try:
        started = time.monotonic()
        members = people.members
        top_user, count = Counter(m.username for m in members).most_common(1)[0]
        one = people.by_username(top_user)[0]
        yield _say(
            f"A fake FrankenPHP runs on 127.0.0.1 with {len(members)} real WebSocket clients.",
            "Each client said hello; a stand-in for the PHP worker stored its username,",
            "lastActivity, violationCount and tagged it (admin, premium, beta).",
            "",
            f"$ export FRANKENWS_ADMIN_URL={server.admin_url}",
        )
        yield from run("routes")
        yield from run("tags")
        yield from run("clients", "--tag", "admin")
        yield from run("search", "username", "eq", top_user)
        yield from run("show", str(one.id))

        yield _say("", f"# {top_user} has {count} connections; disconnect all of them:")
        yield from run("disconnect-user", top_user, "--yes")
        gone = people.wait_closed([m.id for m in people.by_username(top_user)])
        codes = sorted({m.close_code for m in people.by_username(top_user)}, key=str)
        yield _say(
            f"# their clients saw the TCP connection drop: {gone} (close code "
            f"{', '.join(str(c) for c in codes)})"
        )

        yield _say("", "# security sweep: disconnect users with 3+ violations, alert the admins")
        yield from run("sweep", "violationCount", "gte", "3", "--notify-tag", "admin", "--yes")
        admins = [m for m in people.with_tag("admin") if m.is_open]
        alerts = [data for m in admins for data in m.messages if b"user_disconnected" in data]
        if alerts:
            yield _say(
                f"# the {len(admins)} admin clients received {len(alerts)} alert(s), e.g.:",
                "#   " + alerts[0].decode("utf-8", "replace"),
            )

        yield _say("", "# maintenance on /chat: warn, wait, disconnect")
        on_chat = [m for m in members if m.route == "/chat" and m.is_open]
        yield from run(
            "maintenance",
            "--route",
            "/chat",
            "--message",
            "Maintenance starts now",
            "--grace",
            f"{grace:g}s",
            "--yes",
        )
        if on_chat:
            sample = on_chat[0]
            people.wait_closed([sample.id])
            warned = [t for t, d in sample.received if b"maintenance_warning" in d]
            if warned and sample.closed_at is not None:
                yield _say(
                    f"# a /chat client got the warning, then its connection dropped "
                    f"{sample.closed_at - warned[0]:.1f} s later:",
                    "#   " + json.loads(sample.received[-1][1])["message"],
                )

        yield from run("routes")
        lines = audit.read_text(encoding="utf-8").splitlines() if audit.exists() else []
        yield _say(
            "",
            f"# every change above went to an audit log: {len(lines)} JSON lines, e.g.",
            "#   " + (lines[-1] if lines else "(none)"),
            "",
            f"The tour took {time.monotonic() - started:.1f} s. Next: 'frankenws --help', "
            "'frankenws fake-server --clients 50' to play with it yourself.",
        )
        if failures:
            result = _say(*(f"step failed: {f}" for f in failures))
            result.exit_code = 1
            yield result
    finally:
        people.close()
        server.close()
        workdir.cleanup()


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Tooling")(demo)
