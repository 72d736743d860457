"""Finding the nodes of a fleet in DNS.

Two forms, the ones orchestrators publish:

* ``dns+a://name:port`` - every A and AAAA record of ``name`` is a node listening on
  ``port`` (a Kubernetes headless service, Docker's service name with several replicas).
* ``dns+srv://_service._proto.name`` - every SRV record is a node at its target and port
  (Kubernetes named ports, Consul); targets are resolved to addresses with the same
  resolver.

``?scheme=https`` after either form makes the node URLs ``https://``;
``?nameserver=host:port`` (repeatable) asks that DNS server instead of the system's, e.g.
Consul's DNS on port 8600, or a cluster's DNS from outside it. Answers are kept
for their TTL (the smallest one seen). Needs ``dnspython`` (``frankenws[cluster]``).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._exceptions import ConnectError, InvalidArgument

__all__ = ["Discovery", "parse_dns_url"]

# An empty answer carries no TTL we can use; ask again after this many seconds.
_EMPTY_TTL = 5.0


@dataclass(frozen=True, slots=True)
class DnsTarget:
    kind: str
    """``a`` or ``srv``."""
    name: str
    port: int | None
    scheme: str
    nameservers: tuple[str, ...] = ()
    """From ``?nameserver=`` (empty: the system's resolvers)."""


def parse_dns_url(url: str) -> DnsTarget:
    """Check and split a ``dns+a://`` / ``dns+srv://`` URL."""
    parts = urlsplit(url)
    kind = {"dns+a": "a", "dns+srv": "srv"}.get(parts.scheme)
    if kind is None or not parts.hostname:
        raise InvalidArgument(
            f"{url!r} is not a discovery URL: use dns+a://name:port (every A/AAAA record is a "
            "node) or dns+srv://_service._proto.name (every SRV record is a node)"
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidArgument(f"{url!r}: the port is not a number from 0 to 65535") from None
    if kind == "a" and port is None:
        raise InvalidArgument(f"{url!r}: dns+a:// needs the admin port, e.g. dns+a://name:2019")
    if kind == "srv" and port is not None:
        raise InvalidArgument(f"{url!r}: dns+srv:// takes the ports from the SRV records")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"scheme", "nameserver"})
    if unknown:
        raise InvalidArgument(
            f"{url!r}: unknown option {unknown[0]!r}; a discovery URL takes ?scheme=https "
            "and ?nameserver=host:port"
        )
    schemes = query.get("scheme", ["http"])
    if schemes[-1] not in ("http", "https"):
        raise InvalidArgument(f"{url!r}: scheme must be http or https")
    nameservers = tuple(query.get("nameserver", []))
    for entry in nameservers:
        try:
            _host_port(entry)
        except ValueError:
            raise InvalidArgument(
                f"{url!r}: nameserver {entry!r} is not an address, address:port or "
                "[v6 address]:port"
            ) from None
    return DnsTarget(kind, parts.hostname, port, schemes[-1], nameservers)


class Discovery:
    """Resolves a discovery URL to node URLs, honouring the records' TTL.

    Args:
        url: ``dns+a://name:port`` or ``dns+srv://_service._proto.name``.
        nameservers: ``"host"`` or ``"host:port"`` (``"[v6]:port"``) entries to ask instead
            of the system's resolvers.
        resolver: a ready ``dns.resolver.Resolver`` (wins over ``nameservers``).
        refresh_interval: seconds between automatic re-resolutions (``None``: only when
            asked); never sooner than the TTL allows.
        lifetime: seconds one resolution may take in total.
    """

    def __init__(
        self,
        url: str,
        *,
        nameservers: Sequence[str] | None = None,
        resolver: Any = None,
        refresh_interval: float | None = None,
        lifetime: float = 5.0,
    ) -> None:
        self.url = url
        self.target = parse_dns_url(url)
        if refresh_interval is not None and refresh_interval <= 0:
            raise InvalidArgument("refresh_interval must be a positive number of seconds")
        self.refresh_interval = refresh_interval
        if nameservers is None and self.target.nameservers:
            nameservers = self.target.nameservers
        self._resolver = resolver if resolver is not None else _resolver(nameservers, lifetime)
        self._nodes: list[str] = []
        self._resolved_at = -math.inf
        self._expires_at = -math.inf

    @property
    def ttl_left(self) -> float:
        return max(0.0, self._expires_at - time.monotonic())

    def due(self) -> bool:
        """Whether the automatic refresh should resolve again now."""
        if self.refresh_interval is None:
            return False
        now = time.monotonic()
        return now >= self._expires_at and now - self._resolved_at >= self.refresh_interval

    def resolve(self, *, force: bool = False) -> list[str]:
        """The node URLs, sorted; asks DNS only when the last answer expired (or ``force``).

        Raises :class:`ConnectError` when DNS fails or names no node.
        """
        if not force and time.monotonic() < self._expires_at:
            return list(self._nodes)
        import dns.exception

        try:
            if self.target.kind == "a":
                assert self.target.port is not None
                addresses, ttl = self._addresses(self.target.name)
                found = [(address, self.target.port) for address in addresses]
            else:
                found, ttl = self._services(self.target.name)
        except dns.exception.DNSException as exc:
            raise ConnectError(
                f"{self.url}: DNS lookup failed ({type(exc).__name__}: {exc}); check the "
                "name and the nameservers",
                url=self.url,
            ) from exc
        if not found:
            raise ConnectError(
                f"{self.url}: DNS names no node (no {self.target.kind.upper()} records); is "
                "the service deployed and does the name match?",
                url=self.url,
            )
        self._nodes = sorted({_node_url(self.target.scheme, host, port) for host, port in found})
        now = time.monotonic()
        self._resolved_at, self._expires_at = now, now + ttl
        return list(self._nodes)

    def _query(self, name: str, rdtype: str) -> tuple[list[Any], float]:
        import dns.resolver

        try:
            answer = self._resolver.resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return [], _EMPTY_TTL
        if answer.rrset is None:
            return [], _EMPTY_TTL
        return list(answer.rrset), float(answer.rrset.ttl)

    def _addresses(self, name: str) -> tuple[list[str], float]:
        v4, ttl4 = self._query(name, "A")
        v6, ttl6 = self._query(name, "AAAA")
        ttls = [ttl for ttl, records in ((ttl4, v4), (ttl6, v6)) if records] or [_EMPTY_TTL]
        return [r.address for r in v4 + v6], min(ttls)

    def _services(self, name: str) -> tuple[list[tuple[str, int]], float]:
        records, ttl = self._query(name, "SRV")
        found: list[tuple[str, int]] = []
        for record in records:
            target = record.target.to_text(omit_final_dot=True)
            if target in ("", "."):  # "service decidedly not available" (RFC 2782)
                continue
            addresses, address_ttl = self._addresses(target)
            if addresses:
                ttl = min(ttl, address_ttl)
            # A target this resolver cannot resolve is left to the system's resolver.
            found += [(address, record.port) for address in addresses or [target]]
        return found, ttl


def _node_url(scheme: str, host: str, port: int) -> str:
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False
    return f"{scheme}://[{host}]:{port}" if is_v6 else f"{scheme}://{host}:{port}"


def _resolver(nameservers: Sequence[str] | None, lifetime: float) -> Any:
    try:
        import dns.nameserver
        import dns.resolver
    except ImportError:
        raise InvalidArgument(
            "DNS discovery needs dnspython: pip install 'frankenws[cluster]'"
        ) from None
    if nameservers is None:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_nameserver(entry) for entry in nameservers]
    resolver.lifetime = lifetime
    return resolver


def _host_port(entry: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` as (address, port); ValueError otherwise."""
    host, port = entry, 53
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif entry.count(":") == 1:
        host, _, number = entry.partition(":")
        port = int(number)
    ipaddress.ip_address(host)  # dnspython needs an address, not a name
    if not 0 < port < 65536:
        raise ValueError(entry)
    return host, port


def _nameserver(entry: str) -> Any:
    import dns.nameserver

    return dns.nameserver.Do53Nameserver(*_host_port(entry))
