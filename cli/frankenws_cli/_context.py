"""The per-invocation state every command reads: settings, the client, the audit log.

Tests inject the fake here, never by patching the SDK::

    runner.invoke(app, ["kill", conn], obj=AppContext(transport=fake.transport()))

Strictly private.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import frankenws

from . import _output
from ._argv import BY_ATTRIBUTE, GLOBAL_OPTIONS, OutputFormat
from ._audit import AuditLog, default_actor, default_audit_path
from ._errors import NotDone, UsageProblem
from ._errors import cli_voice as _cli_voice
from ._output import Mode
from ._settings import Settings, Source, resolve_settings

if TYPE_CHECKING:
    import httpx
    import typer

__all__ = ["DEFAULT_CONCURRENCY", "AppContext", "configure", "context_of", "server_label"]

if TYPE_CHECKING:
    from typing import TypeAlias

    # Only for type checkers: naming frankenws.Cluster at run time would import the
    # fleet modules on every start-up, the fast `kill` path's included.
    Server: TypeAlias = frankenws.Client | frankenws.Cluster
    """What commands talk to: one node, or a fleet (several ``--url``, ``--discover``)."""

DEFAULT_CONCURRENCY: int = BY_ATTRIBUTE["concurrency"].default

T = TypeVar("T")


@dataclass
class AppContext:
    """Global options and shared resources of one ``frankenws`` invocation.

    Args:
        transport: An httpx transport for every client (the fake's ``transport()``).
        url, discover, profile, host_header, cert, key, ca, timeout: Connection
            settings as given on the command line (``None``: look further, see
            ``_settings``); ``url`` is a list when ``--url`` was repeated.
        output: ``-o``: ``table``, ``json``, ``ids`` or ``wide`` (``None``: tables on a
            terminal, plain records in a pipe).
        json: Print one JSON document instead of tables (``-o json``).
        yes: Do not ask for confirmation.
        dry_run: Show what would change and change nothing.
        concurrency: Requests in flight for bulk jobs.
        audit_log: Audit file (default ``$XDG_STATE_HOME/frankenws/audit.jsonl``).
        no_audit: Disable the audit log.
        url_path_ok: Accept a path in the admin URL (a reverse proxy).
        max_response_bytes: The largest answer accepted (the SDK's default when None).
        actor: Who is acting (default: the OS user).
        debug: Show tracebacks of unexpected errors.
    """

    transport: httpx.BaseTransport | None = None
    url: str | list[str] | None = None
    discover: str | None = None
    profile: str | None = None
    profile_explicit: bool = False
    host_header: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    timeout: float | None = None
    output: OutputFormat | None = None
    json: bool = False
    yes: bool = False
    dry_run: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    audit_log: Path | None = None
    no_audit: bool = False
    url_path_ok: bool = False
    max_response_bytes: int | None = None
    actor: str | None = None
    debug: bool = False
    read_config: bool = True
    """False: ignore the config file (used by the demo)."""
    journal_dir: Path | None = None
    """Where bulk jobs keep their journals (default ``$XDG_STATE_HOME/frankenws/journals``)."""
    command: str = ""
    """The command being run (for the audit log), e.g. ``"store set"``."""

    _settings: Settings | None = field(default=None, repr=False)
    _client: Server | None = field(default=None, repr=False)
    _audit: AuditLog | None = field(default=None, repr=False)
    _registered: set[str] | None = field(default=None, repr=False)

    @property
    def mode(self) -> Mode:
        """How results are printed (``--json`` is ``-o json``)."""
        if self.json:
            return "json"
        return self.output or "auto"

    # --- settings and client ---------------------------------------------------------

    def settings(self) -> Settings:
        """The resolved connection settings (reads the config file on first use)."""
        if self._settings is None:
            self._settings = resolve_settings(
                {
                    "url": self.url,
                    "discover": self.discover,
                    "host_header": self.host_header,
                    "cert": self.cert,
                    "key": self.key,
                    "ca": self.ca,
                    "timeout": self.timeout,
                },
                profile=self.profile,
                profile_explicit=self.profile_explicit,
                read_config=self.read_config,
            )
        return self._settings

    def client(self) -> Server:
        """The one SDK client of this invocation (closed when the command ends): a
        ``Cluster`` when the settings name several nodes or a discovery URL."""
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def make_client(self, **overrides: Any) -> Server:
        """A new client (or cluster) with the resolved settings."""
        s = self.settings()
        cert: Any = None
        if s.key.value is not None and s.cert.value is None:
            raise UsageProblem(
                f"a client key was given ({s.key.origin}) but no certificate",
                "pass --cert with the client certificate that goes with --key",
            )
        if s.cert.value is not None:
            cert = (s.cert.value, s.key.value) if s.key.value is not None else s.cert.value
        options: dict[str, Any] = {
            "timeout": s.timeout.value,
            "host_header": s.host_header.value,
            "cert": cert,
            "verify": s.ca.value if s.ca.value is not None else True,
            "transport": self.transport,
            "allow_path": self.url_path_ok,
        }
        if self.max_response_bytes is not None:
            options["max_response_bytes"] = self.max_response_bytes
        options.update(overrides)
        client: Server
        if s.discover.value is not None:
            options.pop("transport")
            client = new_client(frankenws.Cluster.discover, s.discover.value, **options)
        elif s.fleet:
            client = new_client(frankenws.Cluster, s.urls, **options)
        else:
            client = new_client(frankenws.Client, s.url.value, **options)
        if self._audit is not None:
            self._audit.server = server_label(client)
        return client

    def make_client_for(self, url: str, **overrides: Any) -> frankenws.Client:
        """A client of one node with the resolved settings (``doctor`` checks each)."""
        saved = self._settings
        assert saved is not None
        self._settings = replace(saved, url=Source(url, saved.url.origin), discover=_UNSET)
        try:
            client = self.make_client(**overrides)
        finally:
            self._settings = saved
        assert isinstance(client, frankenws.Client)
        return client

    # --- audit -----------------------------------------------------------------------

    @property
    def audit(self) -> AuditLog:
        if self._audit is None:
            path = None if self.no_audit else (self.audit_log or default_audit_path())
            self._audit = AuditLog(path, actor=self.actor or default_actor(), command=self.command)
            if self._client is not None:
                self._audit.server = server_label(self._client)
        return self._audit

    def begin_changes(self) -> Server:
        """Call before the first change: the audit log must be writable, the client ready."""
        client = self.client()
        audit = self.audit
        audit.server = server_label(client)
        audit.command = self.command
        audit.open()
        return client

    def act(
        self,
        action: str,
        target: str,
        fn: Callable[[], T],
        *,
        detail: dict[str, Any] | None = None,
        outcome: Callable[[T], str] = lambda _: "done",
    ) -> T:
        """Run one state-changing request and audit it, whatever happens."""
        self.begin_changes()
        try:
            value = fn()
        except frankenws.InvalidArgument:
            raise  # refused before sending: nothing happened, nothing to audit
        except frankenws.FrankenWSError as exc:
            self.audit.record(action, target, "failed", detail=detail, error=type(exc).__name__)
            raise
        except KeyboardInterrupt:
            self.audit.record(action, target, "interrupted", detail=detail)
            raise
        self.audit.record(action, target, outcome(value), detail=detail)
        return value

    # --- helpers for commands ----------------------------------------------------------

    def registered(self) -> set[str]:
        """Ids currently registered on the server (fetched once per invocation)."""
        if self._registered is None:
            self._registered = set(self.client().get_clients())
        return self._registered

    def require_connected(self, id: str, *, doing: str) -> None:
        """Refuse to act on an id the server does not know (it would accept it silently)."""
        if not id:
            raise frankenws.InvalidArgument("id must not be empty")
        if id not in self.registered():
            raise NotDone(
                f"no connection {id!r} on {server_label(self.client())}; nothing was {doing}",
                "'frankenws clients' lists the connected ids",
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._audit is not None:
            self._audit.close()


_UNSET = Source(None, "not set")


def server_label(client: Server) -> str:
    """How messages and the audit log name what the CLI talks to."""
    if isinstance(client, frankenws.Client):
        return client.url
    return "fleet of " + ", ".join(node.name for node in client.nodes)


def new_client(factory: Callable[..., T], *args: Any, **options: Any) -> T:
    """``factory(*args, **options)`` (a client or a cluster), its warnings shown as the
    CLI's own ``warning:`` lines rather than in Python's file:line form."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", frankenws.InsecureConnectionWarning)
        client = factory(*args, **options)
    for warned in caught:
        _output.warning(_cli_voice(str(warned.message)))
    return client


def configure(obj: AppContext, **given: Any) -> AppContext:
    """Apply the global options to ``obj`` (values already set on it survive defaults).

    ``given`` maps ``GLOBAL_OPTIONS`` attributes to what the command line said; a
    missing name or ``None`` means "not given". Flags only ever switch on. A valued
    option that is absent falls back to its env var, except connection settings,
    which ``_settings`` resolves together with profiles.
    """
    unknown = set(given) - set(BY_ATTRIBUTE)
    if unknown:
        raise TypeError(f"not global options: {', '.join(sorted(unknown))}")
    for spec in GLOBAL_OPTIONS:
        value = given.get(spec.attribute)
        name = spec.attribute
        if not spec.valued:
            setattr(obj, name, getattr(obj, name) or bool(value))
        elif value is not None and value != spec.default:
            setattr(obj, name, value)
            if name == "profile":
                obj.profile_explicit = True
        elif getattr(obj, name) in (None, spec.default) and not spec.setting:
            env = next((os.environ[e] for e in spec.env if os.environ.get(e)), None)
            if env is not None:
                setattr(obj, name, Path(env) if spec.kind == "file" else env)
    if obj.json and obj.output not in (None, "json"):
        raise UsageProblem(f"--json and --output {obj.output} disagree; give one of them")
    obj.json = obj.json or obj.output == "json"
    return obj


def context_of(ctx: typer.Context) -> AppContext:
    """The :class:`AppContext` of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # pragma: no cover - the root callback sets it
        raise RuntimeError("frankenws commands must run under the frankenws app")
    # "frankenws store set" -> "store set": how the audit log and hints name the command.
    obj.command = ctx.command_path.partition(" ")[2]
    if obj._audit is not None:
        obj._audit.command = obj.command
    return obj
