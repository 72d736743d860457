"""Fleets and a DNS server for the cluster tests; some nodes misbehave on purpose.

* a *slow* node is a real fake behind a TCP relay that holds every answer back;
* a *blackholed* node is a listening socket that never accepts: the kernel completes the
  TCP handshake, the request is sent, and no answer ever comes;
* a *dead* node is a port where nothing listens (connection refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dnslib import AAAA, QTYPE, RCODE, RR, SRV, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from frankenws.testing import FakeFrankenPHP


@dataclass
class Fleet:
    """Loopback fakes; ``urls[i]`` serves ``fakes[i]``."""

    fakes: list[FakeFrankenPHP]
    servers: list[Any] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [server.admin_url for server in self.servers]


@contextlib.contextmanager
def serve_fleet(size: int) -> Iterator[Fleet]:
    fleet = Fleet([FakeFrankenPHP() for _ in range(size)])
    try:
        for fake in fleet.fakes:
            fleet.servers.append(fake.serve())
        yield fleet
    finally:
        for server in fleet.servers:
            server.close()


class SlowRelay:
    """Forwards TCP to ``upstream`` and holds each answer back ``delay`` seconds."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowRelay:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            # Closed transports release their sockets on the next loop iterations.
            self._loop.run_until_complete(asyncio.sleep(0.05))
            self._loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, slow: bool) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    # Read per chunk, so a test can change the delay between requests.
                    await asyncio.sleep(self.delay if slow else 0.0)
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A URL whose TCP connections are accepted by the kernel and never answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def dead_url() -> str:
    """A URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class Zone(BaseResolver):  # type: ignore[misc]
    """The records a loopback DNS server answers with; tests change them between queries."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[RR]] = {}
        self.queries: list[tuple[str, str]] = []

    def set(self, name: str, rtype: str, values: list[object], ttl: int = 60) -> None:
        fqdn = name.rstrip(".") + "."
        kinds = {"A": A, "AAAA": AAAA}
        rdatas = [kinds[rtype](v) if rtype in kinds else v for v in values]
        self.records[(fqdn, rtype)] = [
            RR(fqdn, getattr(QTYPE, rtype), rdata=rdata, ttl=ttl) for rdata in rdatas
        ]

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        reply = request.reply()
        qname, qtype = str(request.q.qname), QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        for rr in self.records.get((qname, qtype), []):
            reply.add_answer(rr)
        if not any(name == qname and rrs for (name, _), rrs in self.records.items()):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def srv(port: int, target: str) -> SRV:
    return SRV(priority=0, weight=0, port=port, target=target)


@contextlib.contextmanager
def dns_server(zone: Zone) -> Iterator[str]:
    """Serve ``zone`` over UDP on loopback; yields the ``host:port`` to use as nameserver."""
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _: None))
    server.start_thread()
    try:
        yield f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()
        server.server.server_close()
