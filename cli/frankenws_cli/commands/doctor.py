"""``doctor``: can we reach the server, how, how fast, and what to fix if not."""

from __future__ import annotations

import statistics
import time
from typing import Any

import typer

import frankenws
from frankenws_cli._context import AppContext, context_of, new_client, server_label
from frankenws_cli._errors import REJECTED, UNREACHABLE, USAGE, CliError, classify
from frankenws_cli._output import Fields, Lines, Result, Stack, Table
from frankenws_cli._parse import masked_url

__all__ = ["register"]

LATENCY_SAMPLES = 5


def _host_sent(url: str, explicit: str | None) -> str:
    """The Host header the SDK sends for ``url`` (Caddy compares it literally)."""
    try:
        with new_client(frankenws.Client, url, host_header=explicit) as probe:
            return probe.host_header
    except frankenws.InvalidArgument:
        return "?"  # the settings check below reports the bad URL


def doctor(ctx: typer.Context) -> Result:
    """Check the connection to the admin API and say what to fix.

    Shows the URL, Host header and TLS settings in use and where each came from, whether
    the server answers and has the WebSocket extension, and the round-trip latency.
    JSON: {"url", "url_source", "host_header", "host_header_source", "tls", "profile",
    "config_file", "checks": [{"name", "ok", "detail", "fix"}], "latency_ms",
    "connections"}. The exit code is that of the first failed check.

    With several nodes (--url repeated, --discover, a profile's nodes) every node is
    checked on its own: one "node NAME" check each, and "nodes": [{"node", "ok",
    "connections", "error"}] in JSON.
    """
    obj: AppContext = context_of(ctx)
    checks: list[dict[str, Any]] = []
    code = 0

    def check(name: str, ok: bool, detail: str, fix: str | None = None, fail: int = 0) -> None:
        nonlocal code
        checks.append({"name": name, "ok": ok, "detail": detail, "fix": fix})
        if not ok and not code:
            code = fail

    data: dict[str, Any] = {
        "url": None,
        "url_source": None,
        "host_header": None,
        "host_header_source": None,
        "tls": None,
        "profile": None,
        "config_file": None,
        "checks": checks,
        "latency_ms": None,
        "connections": None,
    }
    try:
        settings = obj.settings()
    except CliError as exc:
        check("config", False, exc.message, "; ".join(exc.hints) or None, USAGE)
        return _result(data, code)
    data["profile"] = settings.profile
    data["config_file"] = str(settings.config_file) if settings.config_file else None
    check(
        "config",
        True,
        f"profile {settings.profile!r} from {settings.config_file}"
        if settings.profile
        else (
            f"{settings.config_file} (no profile selected)"
            if settings.config_file
            else "no config file"
        ),
    )
    if settings.fleet:
        _check_fleet(obj, data, check)
        return _result(data, code)
    url = str(settings.url.value)
    # The password of a proxy's basic auth stays out of the report (which gets pasted
    # into tickets); the Host check below still uses the real URL.
    data["url"], data["url_source"] = masked_url(url), settings.url.origin
    host = _host_sent(url, settings.host_header.value)
    data["host_header"] = host
    data["host_header_source"] = (
        settings.host_header.origin if settings.host_header.value else _derived_host(host)
    )
    secure = url.startswith("https://")
    data["tls"] = {
        "enabled": secure,
        "ca": settings.ca.value if secure else None,
        "client_cert": settings.cert.value,
        "client_key": settings.key.value,
    }
    try:
        client = obj.make_client(retries=0)
    except CliError as exc:
        check("settings", False, exc.message, "; ".join(exc.hints) or None, USAGE)
        return _result(data, code)
    except frankenws.InvalidArgument as exc:
        check("settings", False, exc.message, "fix --url / the profile / the env var", USAGE)
        return _result(data, code)
    with client:
        try:
            started = time.perf_counter()
            data["connections"] = client.get_clients_count()
            first = (time.perf_counter() - started) * 1000
        except frankenws.FrankenWSError as exc:
            failure = classify(exc)
            assert failure is not None
            name = "reach" if failure.exit_code == UNREACHABLE else "extension"
            check(
                name,
                False,
                failure.message,
                "; ".join(failure.hints) or None,
                failure.exit_code or REJECTED,
            )
            return _result(data, code)
        check("reach", True, f"{server_label(client)} answered (Host: {_shown_host(host)})")
        check("extension", True, f"WebSocket extension loaded, {data['connections']} connection(s)")
        samples = [first]
        for _ in range(LATENCY_SAMPLES - 1):
            started = time.perf_counter()
            client.get_clients_count()
            samples.append((time.perf_counter() - started) * 1000)
        latency = {
            "min": round(min(samples), 2),
            "median": round(statistics.median(samples), 2),
            "max": round(max(samples), 2),
        }
        data["latency_ms"] = latency
        check("latency", True, f"median {latency['median']} ms over {len(samples)} requests")
    audit = obj.audit
    if audit.enabled:
        try:
            audit.open()
        except CliError as exc:
            check("audit log", False, exc.message, "; ".join(exc.hints), USAGE)
        else:
            check("audit log", True, f"writable: {audit.path}")
    else:
        check("audit log", True, "disabled (--no-audit)")
    return _result(data, code)


def _check_fleet(obj: AppContext, data: dict[str, Any], check: Any) -> None:
    """Every node of a fleet on its own: which answer, and which fail and why."""
    settings = obj.settings()
    source = settings.discover if settings.discover.value is not None else settings.url
    data["url"], data["url_source"] = str(source.value), source.origin
    data["host_header"] = settings.host_header.value
    data["host_header_source"] = settings.host_header.origin
    try:
        fleet = obj.make_client(retries=0)
    except CliError as exc:
        check("nodes", False, exc.message, "; ".join(exc.hints) or None, USAGE)
        return
    except frankenws.FrankenWSError as exc:
        failure = classify(exc)
        assert failure is not None
        check("nodes", False, failure.message, "; ".join(failure.hints) or None, USAGE)
        return
    assert isinstance(fleet, frankenws.Cluster)
    with fleet:

        def probe(client: frankenws.Client) -> tuple[int, float]:
            started = time.perf_counter()
            count = client.get_clients_count()
            return count, (time.perf_counter() - started) * 1000

        answers = fleet.map(probe)
    nodes = []
    check("nodes", True, f"{len(fleet.nodes)} node(s) from {source.origin}")
    for node in fleet.nodes:
        if node.name in answers.results:
            count, ms = answers.results[node.name]
            nodes.append({"node": node.name, "ok": True, "connections": count, "error": None})
            check(f"node {node.name}", True, f"answered in {ms:.1f} ms, {count} connection(s)")
            continue
        failure = classify(answers.errors[node.name])
        assert failure is not None
        nodes.append(
            {"node": node.name, "ok": False, "connections": None, "error": failure.message}
        )
        check(
            f"node {node.name}",
            False,
            failure.message,
            "; ".join(failure.hints) or None,
            failure.exit_code or REJECTED,
        )
    data["nodes"] = nodes
    if not answers.errors:
        data["connections"] = sum(n["connections"] for n in nodes)


def _result(data: dict[str, Any], code: int) -> Result:
    settings = Fields(
        [
            ("url", f"{data['url']}  ({data['url_source']})" if data["url"] else None),
            (
                "host header",
                f"{_shown_host(data['host_header'])}  ({data['host_header_source']})"
                if data["host_header"] is not None
                else None,
            ),
            ("tls", _tls_text(data["tls"])),
            ("profile", data["profile"]),
        ]
    )
    rows = [(c["name"], "ok" if c["ok"] else "FAIL", c["detail"]) for c in data["checks"]]
    fixes = [f"fix ({c['name']}): {c['fix']}" for c in data["checks"] if c["fix"]]
    return Result(
        data,
        Stack([settings, Table(["CHECK", "STATUS", "DETAIL"], rows), Lines(fixes)]),
        exit_code=code,
    )


def _derived_host(host: str) -> str:
    if host == "":
        return "a unix socket: accepted by every Caddy version"
    return "derived from the URL"


def _shown_host(host: str) -> str:
    return "(empty)" if host == "" else host


def _tls_text(tls: dict[str, Any] | None) -> str | None:
    if tls is None:
        return None
    if not tls["enabled"]:
        return "no (plain http)"
    parts = ["yes", f"CA {tls['ca'] or 'system bundle'}"]
    if tls["client_cert"]:
        parts.append(f"client certificate {tls['client_cert']}")
    return ", ".join(parts)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Tooling")(doctor)
