"""URL forms and environment variables (ARCHITECTURE §4)."""

from __future__ import annotations

import httpx
import pytest

import frankenws
from frankenws._config import resolve_address


@pytest.mark.parametrize(
    ("given", "base", "uds", "display"),
    [
        ("http://localhost:2019", "http://localhost:2019", None, "http://localhost:2019"),
        (
            "https://admin.example:2021",
            "https://admin.example:2021",
            None,
            "https://admin.example:2021",
        ),
        ("localhost:2019", "http://localhost:2019", None, "http://localhost:2019"),
        (":2019", "http://localhost:2019", None, "http://localhost:2019"),
        ("127.0.0.1:9000/", "http://127.0.0.1:9000", None, "http://127.0.0.1:9000"),
        ("[::1]:2019", "http://[::1]:2019", None, "http://[::1]:2019"),
        (
            "unix//run/caddy/admin.sock",
            "http://localhost",
            "/run/caddy/admin.sock",
            "unix//run/caddy/admin.sock",
        ),
        (
            "unix:///run/caddy/admin.sock",
            "http://localhost",
            "/run/caddy/admin.sock",
            "unix//run/caddy/admin.sock",
        ),
        (
            "unix//run/admin.sock|0600",
            "http://localhost",
            "/run/admin.sock",
            "unix//run/admin.sock",
        ),
        (
            "http://user:secret@proxy:8080/caddy",
            "http://user:secret@proxy:8080/caddy",
            None,
            "http://proxy:8080/caddy",
        ),
    ],
)
def test_url_forms(given, base, uds, display):
    """Every accepted form resolves to a base URL or a unix socket; display hides secrets."""
    address = resolve_address(given, env={})
    assert (address.base_url, address.uds, address.display) == (base, uds, display)


def test_env_precedence():
    """Explicit URL, then FRANKENWS_ADMIN_URL, then CADDY_ADMIN, then the default."""
    env = {"FRANKENWS_ADMIN_URL": "http://a:1", "CADDY_ADMIN": "b:2"}
    assert resolve_address("http://c:3", env).display == "http://c:3"
    assert resolve_address(None, env).display == "http://a:1"
    assert resolve_address(None, env).source == "FRANKENWS_ADMIN_URL"
    assert resolve_address(None, {"CADDY_ADMIN": "b:2"}).display == "http://b:2"
    assert resolve_address(None, {"CADDY_ADMIN": "  "}).display == "http://localhost:2019"
    assert resolve_address(None, {}).source == "default"


def test_client_reads_env(monkeypatch):
    """A client built without a URL uses CADDY_ADMIN."""
    monkeypatch.setenv("CADDY_ADMIN", "unix//tmp/x.sock")
    with frankenws.Client() as client:
        assert client.url == "unix//tmp/x.sock"
    assert repr(client) == "<Client url='unix//tmp/x.sock'>"


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("", "empty"),
        ("ftp://host:21", "scheme"),
        ("fd/3", "file descriptor"),
        ("unix//", "no socket path"),
        ("http://host:99999", "invalid port"),
        ("http://:2019", "no host"),
        ("http://h:1/?x=1", "query"),
    ],
)
def test_bad_urls(given, fragment):
    """Bad URLs raise InvalidArgument naming the problem."""
    with pytest.raises(frankenws.InvalidArgument, match=fragment):
        frankenws.Client(given)


def test_bad_url_from_env_names_the_variable(monkeypatch):
    """When the URL comes from the environment, the message says which variable."""
    monkeypatch.setenv("FRANKENWS_ADMIN_URL", "ftp://x:1")
    with pytest.raises(frankenws.InvalidArgument, match="FRANKENWS_ADMIN_URL"):
        frankenws.Client()


@pytest.mark.parametrize("timeout", [0, -1, "5", True])
def test_bad_timeout(timeout):
    """A non-positive or non-numeric timeout is refused."""
    with pytest.raises(frankenws.InvalidArgument, match="timeout"):
        frankenws.Client(timeout=timeout)


def test_missing_cert_files(tmp_path):
    """mTLS files that do not exist are named in the error."""
    with pytest.raises(frankenws.InvalidArgument, match="does not exist"):
        frankenws.Client("https://h:2021", cert=(tmp_path / "c.pem", tmp_path / "k.pem"))
    with pytest.raises(frankenws.InvalidArgument, match="CA bundle"):
        frankenws.Client("https://h:2021", verify=str(tmp_path / "ca.pem"))


@pytest.mark.parametrize(
    ("url", "kw", "expected"),
    [
        ("http://localhost:2019", {}, "localhost:2019"),
        ("http://[::1]:2019", {}, "[::1]:2019"),
        ("https://admin.example", {}, "admin.example"),
        ("unix/{tmp}/admin.sock", {}, ""),
        ("http://localhost:12019", {"host_header": "localhost:2019"}, "localhost:2019"),
        ("http://localhost:12019", {"headers": {"host": "127.0.0.1:2019"}}, "127.0.0.1:2019"),
    ],
)
def test_host_header_is_what_is_sent(wire, tmp_path, url, kw, expected):
    """client.host_header equals the Host header that reaches the wire."""
    (tmp_path / "admin.sock").touch()  # the socket file is checked for before sending
    url = url.format(tmp=tmp_path)
    with frankenws.Client(url, transport=httpx.MockTransport(wire.handler), **kw) as client:
        assert client.host_header == expected
        wire.body = b'{"clients":[]}'
        client.get_clients()
    assert wire.last.headers["host"] == expected
