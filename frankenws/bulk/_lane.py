"""The bulk engine's fast lane: the sans-I/O calls sent over an aiohttp session.

httpx's async client slows down sharply at high concurrency (ARCHITECTURE §8), so bulk
jobs send through aiohttp when it is installed. The lane reuses the client's resolved
target, headers, TLS context and timeout, and the same ``Call``/``Reply`` decoding, so a
bulk request and a single SDK call are indistinguishable on the wire and in their errors.
Strictly private.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import TYPE_CHECKING, Any, TypeVar

from frankenws._calls import Call, Reply, decode_reply
from frankenws._exceptions import ConnectError, RequestTimeout, ServerDisconnected, TransportError

if TYPE_CHECKING:
    import aiohttp

    from frankenws._client import BaseClient

__all__ = ["AiohttpLane", "lane_available"]

T = TypeVar("T")


def lane_available(client: BaseClient) -> bool:
    """True when aiohttp is installed and the client uses its default transport."""
    return not getattr(client, "_custom_transport", True) and (
        importlib.util.find_spec("aiohttp") is not None
    )


class AiohttpLane:
    """Send calls for one client over one aiohttp session. Use as an async context manager."""

    def __init__(self, client: BaseClient, concurrency: int) -> None:
        self._client = client
        self._concurrency = max(1, concurrency)
        self._session: aiohttp.ClientSession | None = None
        # The same absolute URL the client builds, as a plain string: building an
        # httpx.URL per request costs more than the request itself at bulk rates.
        base = client._base_url
        self._base = f"{base.scheme}://{base.netloc.decode('ascii')}{client._prefix}"

    async def __aenter__(self) -> AiohttpLane:
        import aiohttp

        target = self._client._target
        ssl_arg: Any = self._client._ssl
        if ssl_arg is True:
            ssl_arg = None  # aiohttp's default verification
        connector: aiohttp.BaseConnector
        if target.uds is not None:
            connector = aiohttp.UnixConnector(path=target.uds, limit=self._concurrency)
        else:
            connector = aiohttp.TCPConnector(limit=self._concurrency, ssl=ssl_arg)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._client._headers,
            timeout=aiohttp.ClientTimeout(total=self._client.timeout),
            auto_decompress=False,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, call: Call[T]) -> T:
        """Send one call and decode its reply (raising the SDK's usual errors)."""
        import aiohttp
        from yarl import URL

        assert self._session is not None, "use the lane as an async context manager"
        client = self._client
        url = URL(self._base + call.target, encoded=True)
        shown = client._display_url(call)
        try:
            async with self._session.request(
                call.method,
                url,
                data=call.body if call.body or call.method == "POST" else None,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                headers = {k.lower(): v for k, v in response.headers.items()}
                reply = Reply(response.status, headers, body, shown)
        except asyncio.TimeoutError:
            raise RequestTimeout(
                f"{shown} did not answer within {client.timeout:g} s", url=shown
            ) from None
        except aiohttp.ServerDisconnectedError as exc:
            raise ServerDisconnected(
                f"{shown} closed the connection without answering ({exc})", url=shown
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(
                f"cannot connect to {client._target.display} ({exc.os_error}). Is Caddy "
                "running with its admin endpoint at this address?",
                url=shown,
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{shown}: {type(exc).__name__}: {exc}", url=shown) from exc
        return decode_reply(call, reply)
