"""HTTPS and mutual TLS against the loopback fake's admin port (like Caddy's remote admin)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

import frankenws
from frankenws.testing import FakeFrankenPHP


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate."""
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("ops@example.com")
    base = tmp_path_factory.mktemp("pki")
    paths = {
        "ca": base / "ca.pem",
        "cert": base / "client.pem",
        "key": base / "client.key",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    client_cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    client_cert.private_key_pem.write_to_path(str(paths["key"]))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_ctx)
    ca.configure_trust(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    return {"server_ctx": server_ctx, **paths}


@pytest.fixture
def tls_server(pki: dict[str, object]) -> Iterator[str]:
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="abc")
    with fake.serve(ssl_context=pki["server_ctx"]) as server:  # type: ignore[arg-type]
        assert server.admin_url.startswith("https://")
        yield server.admin_url


def test_mutual_tls(tls_server, pki):
    """A client certificate and a private CA: the request goes through."""
    with frankenws.Client(tls_server, cert=(pki["cert"], pki["key"]), verify=str(pki["ca"])) as ws:
        assert ws.get_clients() == ["abc"]
        assert ws.kill_connection("abc") is True


async def test_mutual_tls_async(tls_server, pki):
    """The async client accepts the same TLS options."""
    async with frankenws.AsyncClient(
        tls_server, cert=(pki["cert"], pki["key"]), verify=str(pki["ca"])
    ) as ws:
        assert await ws.get_clients() == ["abc"]


def test_bulk_lane_uses_the_client_tls(tls_server, pki):
    """The bulk engine's HTTP/1.1 lane reuses the client's certificate and CA."""
    from frankenws import bulk

    with frankenws.Client(tls_server, cert=(pki["cert"], pki["key"]), verify=str(pki["ca"])) as ws:
        report = bulk.kill_connections(ws, ["abc", "nobody"])
    assert report.done == ["abc"]
    assert report.not_found == ["nobody"]


def test_without_client_certificate(tls_server, pki):
    """No client certificate: refused, and the message says to pass cert=."""
    with (
        frankenws.Client(tls_server, verify=str(pki["ca"]), retries=0) as ws,
        pytest.raises((frankenws.ConnectError, frankenws.ServerDisconnected)) as info,
    ):
        ws.get_clients()
    if isinstance(info.value, frankenws.ServerDisconnected):  # TLS 1.3 hangs up later
        assert "client certificate" in str(info.value)


def test_untrusted_server(tls_server, pki):
    """A server certificate from an unknown CA is refused (verify defaults to on)."""
    with (
        frankenws.Client(tls_server, cert=(pki["cert"], pki["key"]), retries=0) as ws,
        pytest.raises(frankenws.ConnectError, match=r"(?i)certificate"),
    ):
        ws.get_clients()


def test_bad_key_file(tmp_path, pki):
    """An unreadable client certificate is refused before any request."""
    bogus = Path(tmp_path, "bogus.pem")
    bogus.write_text("not a certificate")
    with pytest.raises(frankenws.InvalidArgument, match="cannot load client certificate"):
        frankenws.Client("https://127.0.0.1:1", cert=(bogus, pki["key"]))
