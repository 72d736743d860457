"""``fake-server``: the loopback fake in the foreground, optionally with simulated users."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from frankenws_cli._errors import UsageProblem
from frankenws_cli._output import Lines, Result, Stream

__all__ = ["register"]


def fake_server(
    admin_port: Annotated[
        int, typer.Option(help="Admin API port (0 picks a free one).", min=0, max=65535)
    ] = 0,
    ws_port: Annotated[
        int, typer.Option(help="WebSocket port (0 picks a free one).", min=0, max=65535)
    ] = 0,
    clients: Annotated[
        int,
        typer.Option(
            help="Connect N simulated users (usernames, tags, routes, activity data).", min=0
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated users.")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    duration: Annotated[
        float | None,
        typer.Option(
            help="Stop after this many seconds (default: run until Ctrl-C).",
            min=0,
            show_default=False,
        ),
    ] = None,
) -> Stream:
    """Run the fake FrankenPHP (admin API + WebSocket port) in the foreground.

    Point any frankenws command at it with the printed --url (or export
    FRANKENWS_ADMIN_URL). With --clients N, N real WebSocket clients connect on /chat
    and /notifications, and a stand-in for the PHP worker stores username,
    lastActivity, violationCount and connectedAt and tags them (admin, premium, beta).
    JSON: {"admin_url", "ws_url", "clients"}.
    """
    try:
        from frankenws.testing import FakeFrankenPHP, Population
    except ImportError as exc:  # pragma: no cover - the cli extra installs aiohttp
        raise UsageProblem(
            f"the fake server needs the 'fake' extra ({exc})", "pip install 'frankenws[fake]'"
        ) from None
    fake = FakeFrankenPHP()
    try:
        server = fake.serve(host=host, admin_port=admin_port, ws_port=ws_port)
    except OSError as exc:
        raise UsageProblem(
            f"cannot listen on {host} (admin port {admin_port}, WebSocket port {ws_port}): "
            f"{exc.strerror or exc}",
            "choose other ports, or 0 for free ones",
        ) from None
    try:
        people = Population(server, clients, seed=seed).start() if clients else None
    except BaseException:
        server.close()
        raise

    def items() -> Iterator[Result]:
        try:
            info: dict[str, Any] = {
                "admin_url": server.admin_url,
                "ws_url": server.ws_url("/"),
                "clients": clients,
            }
            yield Result(
                info,
                Lines(
                    [
                        f"admin API  {server.admin_url}",
                        f"WebSocket  {server.ws_url('/')}<route>",
                        f"clients    {clients}",
                    ]
                ),
                notes=[
                    f"try: frankenws --url {server.admin_url} clients",
                    f"or:  export FRANKENWS_ADMIN_URL={server.admin_url}",
                    "Ctrl-C stops the server"
                    if duration is None
                    else f"stopping after {duration:g} s",
                ],
            )
            deadline = None if duration is None else time.monotonic() + duration
            while deadline is None or time.monotonic() < deadline:
                time.sleep(
                    0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic()))
                )
        finally:
            if people is not None:
                people.close()
            server.close()

    return Stream(items())


def register(app: typer.Typer) -> None:
    app.command("fake-server", rich_help_panel="Tooling")(fake_server)
