"""Demo data: real WebSocket clients for a loopback fake, as users of a chat application.

The profiles (user names, routes, stored keys, tags) are fixed demo data for
``frankenws demo``, ``frankenws fake-server --clients`` and scenario tests, not a model
of any application of yours; for your own scenarios, open connections with
``fake.connect`` or any WebSocket client and set up the state you need.

``Population(server, 50).start()`` opens 50 real WebSocket connections (aiohttp client)
to a :class:`LoopbackServer`, on ``/chat`` and ``/notifications``. Each client says
hello with its profile; a hook on the fake plays the PHP worker and stores what a real
application would: ``username``, ``lastActivity`` (unix time, some of them old),
``violationCount`` (some of them 3 or more), ``connectedAt``, and tags such as
``admin`` and ``premium``. Every client records what it receives and when its connection
ends, so a test (or the CLI's demo) can check that a warning arrived before the kill.

Profiles are drawn from ``random.Random(seed)``: the same seed gives the same users,
routes, tags and ages. The clients run on their own event loop in a background thread
and answer the server's pings (aiohttp's autoping) until :meth:`Population.close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from ._events import Event, Hook
    from ._fake import FakeFrankenPHP
    from ._server import LoopbackServer

__all__ = ["Member", "Population"]

USERNAMES = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
)
"""The user names profiles are drawn from; the first ones get the most connections."""

ROUTES = ("/chat", "/notifications")


@dataclass
class Member:
    """One simulated client: its profile, its connection id and what it received.

    Args:
        index: Position in the population (also its hello's ``ref``).
        username, route, tags, last_activity, violation_count, connected_at: The
            profile the worker hook stores (``lastActivity``, ``violationCount`` and
            ``connectedAt`` are unix times / counts stored as decimal strings).
        id: The connection id the server gave it (set once its hello was handled).
        received: Frames received, in order, with the time (``time.time()``) of arrival.
        closed_at: When the connection ended (``None`` while open).
        close_code: The close code the client saw (1006 after a kill: TCP dropped).
    """

    index: int
    username: str
    route: str
    tags: tuple[str, ...]
    last_activity: int
    violation_count: int
    connected_at: int
    id: str | None = None
    received: list[tuple[float, bytes]] = field(default_factory=list)
    closed_at: float | None = None
    close_code: int | None = None

    @property
    def is_open(self) -> bool:
        return self.id is not None and self.closed_at is None

    @property
    def messages(self) -> list[bytes]:
        """The frames received, without their times."""
        return [data for _, data in self.received]

    def hello(self, token: str) -> str:
        """The first message the client sends (what the worker hook understands)."""
        return json.dumps(
            {
                "type": "hello",
                "population": token,
                "ref": self.index,
                "username": self.username,
                "tags": list(self.tags),
                "lastActivity": self.last_activity,
                "violationCount": self.violation_count,
                "connectedAt": self.connected_at,
            },
            separators=(",", ":"),
        )


def make_profiles(
    size: int, *, seed: int = 0, routes: Sequence[str] = ROUTES, now: float | None = None
) -> list[Member]:
    """``size`` deterministic profiles (same seed, same profiles)."""
    rng = random.Random(seed)
    reference = int(time.time() if now is None else now)
    # Zipf-like weights: a few users hold several connections each, as in real life,
    # which gives enforce-limit and disconnect-user something to do.
    weights = [1.0 / (rank + 1) ** 0.5 for rank in range(len(USERNAMES))]
    members = []
    for index in range(size):
        username = rng.choices(USERNAMES, weights)[0]
        tags: list[str] = []
        if username in ("grace", "trent"):
            tags.append("admin")
        if rng.random() < 0.3:
            tags.append("premium")
        if rng.random() < 0.15:
            tags.append("beta")
        idle = rng.choice((rng.randint(0, 600), rng.randint(0, 600), rng.randint(1800, 7200)))
        violations = rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2, rng.randint(3, 9)))
        members.append(
            Member(
                index=index,
                username=username,
                route=routes[index % len(routes)],
                tags=tuple(sorted(tags)),
                last_activity=reference - idle,
                violation_count=violations,
                connected_at=reference - idle - rng.randint(0, 3600),
            )
        )
    return members


class Population:
    """Demo data: real WebSocket clients connected to a loopback fake, with chat profiles.

    Use as a context manager. The profiles are fixed demo data (see the module
    docstring).

    Usage::

        fake = FakeFrankenPHP()
        with fake.serve() as server, Population(server, 50, seed=1) as people:
            alice = people.by_username("alice")
            ...

    Args:
        server: A running :class:`LoopbackServer` (``fake.serve()``).
        size: How many clients to connect.
        seed: Seed of the profiles.
        routes: Routes the clients connect to, in turn.
        now: Reference unix time for ``lastActivity`` (default: now).
        timeout: Seconds :meth:`start` waits for every client to be registered.
    """

    def __init__(
        self,
        server: LoopbackServer[FakeFrankenPHP],
        size: int = 50,
        *,
        seed: int = 0,
        routes: Sequence[str] = ROUTES,
        now: float | None = None,
        timeout: float = 30.0,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be an integer >= 0, got {size!r}")
        self.server = server
        self.members = make_profiles(size, seed=seed, routes=routes, now=now)
        self._timeout = timeout
        self._token = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._registered = threading.Event()
        self._by_id: dict[str, Member] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._previous: Hook | None = None
        self._errors: list[BaseException] = []
        if size == 0:
            self._registered.set()

    def __repr__(self) -> str:
        return f"<Population size={len(self.members)} open={len(self.open_members())}>"

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> Population:
        """Connect every client; returns when all of them are registered with a profile."""
        if self._thread is not None:
            raise RuntimeError("this population is already running")
        fake = self.server.fake
        self._previous = fake.on_message
        fake.on_message = self._on_message
        self._thread = threading.Thread(target=self._run, name="frankenws-population", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._registered.wait(0.02):
            if self._errors or time.monotonic() > deadline:
                break
        if not self._registered.is_set():
            self.close()
            missing = sum(1 for m in self.members if m.id is None)
            detail = f": {self._errors[0]!r}" if self._errors else ""
            raise RuntimeError(
                f"{missing} of {len(self.members)} simulated clients could not connect "
                f"and register within {self._timeout:g} s{detail}"
            )
        return self

    def close(self) -> None:
        """Close every client connection and stop the background thread."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already stopped
                loop.call_soon_threadsafe(self._stop.set)
            thread.join(30)
        self._thread = None
        fake = self.server.fake
        if fake.on_message == self._on_message:
            fake.on_message = self._previous

    def __enter__(self) -> Population:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- queries ---------------------------------------------------------------------

    def by_id(self, conn_id: str) -> Member:
        """The member whose connection id is ``conn_id``."""
        with self._lock:
            try:
                return self._by_id[conn_id]
            except KeyError:
                raise KeyError(f"no simulated client has the id {conn_id!r}") from None

    def by_username(self, username: str) -> list[Member]:
        """The members logged in as ``username`` (in population order)."""
        return [m for m in self.members if m.username == username]

    def with_tag(self, tag: str) -> list[Member]:
        return [m for m in self.members if tag in m.tags]

    def open_members(self) -> list[Member]:
        return [m for m in self.members if m.is_open]

    def ids(self) -> list[str]:
        """Connection ids of every registered member."""
        return [m.id for m in self.members if m.id is not None]

    def wait_closed(self, ids: Iterable[str], timeout: float = 5.0) -> bool:
        """Wait until the clients behind ``ids`` saw their connection end."""
        wanted = [self.by_id(i) for i in ids]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(m.closed_at is not None for m in wanted):
                return True
            time.sleep(0.01)
        return all(m.closed_at is not None for m in wanted)

    # --- the worker hook (runs on the server's thread) -------------------------------------

    def _on_message(self, event: Event) -> None:
        message: Any = None
        if event.payload:
            try:
                message = json.loads(event.payload)
            except ValueError:
                message = None
        if not (
            isinstance(message, dict)
            and message.get("type") == "hello"
            and message.get("population") == self._token
        ):
            if self._previous is not None:
                self._previous(event)
            return
        member = self.members[int(message["ref"])]
        fake = self.server.fake
        conn = event.connection
        fake.set_stored_information(conn, "username", member.username)
        fake.set_stored_information(conn, "lastActivity", str(member.last_activity))
        fake.set_stored_information(conn, "violationCount", str(member.violation_count))
        fake.set_stored_information(conn, "connectedAt", str(member.connected_at))
        for tag in member.tags:
            fake.tag_client(conn, tag)
        with self._lock:
            member.id = conn
            self._by_id[conn] = member
            if all(m.id is not None for m in self.members):
                self._registered.set()

    # --- the clients (run on the population's own loop) ------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            self._errors.append(exc)
        finally:
            loop.close()

    async def _main(self) -> None:
        import aiohttp

        self._stop = asyncio.Event()
        # aiohttp allows 100 connections per session by default: the 101st client would
        # wait for one of the first hundred to close, which they never do.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            tasks = [asyncio.ensure_future(self._client(session, m)) for m in self.members]
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, session: aiohttp.ClientSession, member: Member) -> None:
        import aiohttp

        try:
            async with session.ws_connect(
                self.server.ws_url(member.route), autoping=True, heartbeat=None
            ) as ws:
                await ws.send_str(member.hello(self._token))
                async for message in ws:
                    if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        data = message.data
                        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
                        member.received.append((time.time(), raw))
                member.close_code = ws.close_code
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._errors.append(exc)
        finally:
            if member.closed_at is None:
                member.closed_at = time.time()
