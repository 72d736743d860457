"""The admin HTTP handler: one raw request in, one raw response out.

Layers, in the order the real server applies them:

1. Go's HTTP server parses the request line (``url.ParseRequestURI``) and the Host
   header: a malformed target is a plain-text 400 and the connection is closed.
2. Caddy's admin handler (``adminHandler.serveHTTP``): an ``Upgrade`` header containing
   ``websocket`` is refused (500), then the Host check (403), then, if enabled, the
   Origin check (403).
3. Go's ``ServeMux`` (1.22+ patterns): non-canonical paths are redirected (301, Go ≤
   1.25), unknown paths get the plain-text 404. Matching works on the escaped path
   split at literal slashes; each segment is unescaped once.
4. The extension's route: method check (405 JSON), the second decoding of the four
   ``double`` routes (400 JSON), then the route itself.

Nothing here does I/O; the same handler serves the httpx transport and the loopback
server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from frankenws._endpoints import Endpoint

from . import _msgs
from ._gojson import go_str, raw_replacement_chars
from ._gonet import (
    URL,
    EscapeError,
    clean_path,
    escape_path,
    escaped_path,
    go_query_unescape,
    hex_escape,
    html_escape,
    match,
    parse_query,
    parse_url,
    path_clean_keep_slash,
    valid_host_header,
    valid_method,
)
from ._goserver import CHUNKING_THRESHOLD
from ._http import RawRequest, RawResponse
from ._routes import JSON_HEADERS, READS_BODY, ROUTES, RouteArgs, api_error
from ._state import FakeState
from ._versions import DEFAULT_CADDY, DEFAULT_GO, Versions

__all__ = ["AdminHandler", "AllowedOrigin", "default_origins", "parse_origin"]

_TEXT_ERROR = (("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close"))


def _bad_request(detail: str = "") -> RawResponse:
    # Written by the HTTP server itself, before any handler: no Content-Length, the
    # connection is closed after the body.
    text = _msgs.BAD_REQUEST + (f": {detail}" if detail else "")
    return RawResponse(400, _TEXT_ERROR, text.encode(), close=True)


@dataclass(frozen=True, slots=True)
class AllowedOrigin:
    """One entry of Caddy's allowed origins: a host:port and an optional scheme."""

    host: str
    scheme: str = ""


def default_origins(port: int) -> tuple[AllowedOrigin, ...]:
    """Caddy's defaults for a loopback admin listener on ``port``."""
    return tuple(AllowedOrigin(f"{host}:{port}") for host in ("localhost", "[::1]", "127.0.0.1"))


def parse_origin(entry: str) -> AllowedOrigin:
    """An ``origins`` entry as Caddy reads it: ``host:port`` or ``scheme://host:port``."""
    if "://" in entry:
        scheme, _, rest = entry.partition("://")
        return AllowedOrigin(rest.split("/", 1)[0], scheme.lower())
    return AllowedOrigin(entry)


def _with_headers(response: RawResponse, extra: Sequence[tuple[str, str]]) -> RawResponse:
    if not extra and len(response.headers) < 2:
        return response  # nothing to sort: the common case, kept cheap for load tests
    # Go writes response headers sorted by name.
    headers = tuple(sorted((*extra, *response.headers), key=lambda item: item[0]))
    return RawResponse(response.status, headers, response.body, response.drop, response.close)


@dataclass(frozen=True, slots=True)
class _Routed:
    """A request that passed the server, Caddy and the mux: what the route gets."""

    endpoint: Endpoint
    params: dict[str, str]
    url: URL
    extra_headers: tuple[tuple[str, str], ...]


class AdminHandler:
    """Caddy's admin server with the extension's 41 routes, over a :class:`FakeState`.

    Args:
        state: the extension state the routes act on.
        origins: allowed origins (Host check, Origin check); Caddy's defaults for a
            loopback listener on port 2019 when omitted.
        host_check: whether the Host header is checked (off for wildcard listeners
            and unix sockets in the real server).
        enforce_origin: Caddy's ``enforce_origin``.
        module_loaded: False imitates a Caddy without the extension.
        versions: the Go and Caddy releases whose bytes to reproduce.
    """

    def __init__(
        self,
        state: FakeState,
        *,
        origins: Iterable[AllowedOrigin] | None = None,
        host_check: bool = True,
        enforce_origin: bool = False,
        module_loaded: bool = True,
        versions: Versions | None = None,
    ) -> None:
        self.state = state
        self._custom_origins = origins is not None
        self.origins: tuple[AllowedOrigin, ...] = (
            tuple(origins) if origins is not None else default_origins(2019)
        )
        self.host_check = host_check
        self.enforce_origin = enforce_origin
        self.module_loaded = module_loaded
        self.versions = versions or Versions.parse(DEFAULT_GO, DEFAULT_CADDY)

    def listening_on(self, port: int) -> AdminHandler:
        """The same server on a listener at ``port``: Caddy's default hosts follow it.

        Explicit ``origins`` stay as they are. The state is shared, so the loopback
        server and the in-process transport (which claims port 2019) serve one fake.
        """
        return AdminHandler(
            self.state,
            origins=self.origins if self._custom_origins else default_origins(port),
            host_check=self.host_check,
            enforce_origin=self.enforce_origin,
            module_loaded=self.module_loaded,
            versions=self.versions,
        )

    def __call__(self, raw: RawRequest) -> RawResponse:
        return self.handle(raw)

    def handle(self, raw: RawRequest) -> RawResponse:
        """Answer one request exactly as the real admin endpoint would."""
        return self.respond(raw, self.route(raw))

    def reads_body(self, raw: RawRequest) -> bool:
        """Whether the route answering ``raw`` reads the body before it answers.

        Go's handlers read it themselves; every other answer is written without
        waiting for a body, which matters when it never comes.
        """
        return self.route_reads_body(self.route(raw))

    def route(self, raw: RawRequest) -> object:
        """Where ``raw`` (its body not needed) goes: pass it to :meth:`respond`.

        The loopback server routes each request once, asks :meth:`route_reads_body`,
        reads the body if so, then responds; nothing here has side effects.
        """
        return self._serve(raw)

    @staticmethod
    def route_reads_body(routed: object) -> bool:
        """Whether the route :meth:`route` found reads the request body."""
        return isinstance(routed, _Routed) and routed.endpoint.name in READS_BODY

    def respond(self, raw: RawRequest, routed: object) -> RawResponse:
        """The answer to ``raw`` (body included), routed by :meth:`route`."""
        if isinstance(routed, _Routed):
            args = RouteArgs(routed.params, parse_query(routed.url.raw_query), raw.body)
            response = ROUTES[routed.endpoint.name](self.state, args)
            if self.versions.raw_replacement_char and response.headers == JSON_HEADERS:
                response = replace(response, body=raw_replacement_chars(response.body))
            response = _with_headers(response, routed.extra_headers)
        else:
            assert isinstance(routed, RawResponse)
            response = routed
        if raw.method == "HEAD" and response.body and not response.close:
            # Go's server discards whatever a handler writes for HEAD (but writes its
            # own raw 400 verbatim); a body that fit its buffer still sets the length.
            length = len(response.body)
            announced = (("Content-Length", str(length)),) if length <= CHUNKING_THRESHOLD else ()
            return RawResponse(response.status, (*response.headers, *announced))
        return response

    def _serve(self, raw: RawRequest) -> RawResponse | _Routed:
        target = raw.target.encode("utf-8", "surrogateescape")
        # A space would have split the request line: Go sees a bad HTTP version.
        if not valid_method(raw.method) or b" " in target:
            return _bad_request()
        url = parse_url(target, via_request=True)
        if url is None:
            return _bad_request()
        headers = {name.lower(): value for name, value in raw.headers.items()}
        if "host" not in headers and raw.version != "HTTP/1.0":
            return _bad_request(_msgs.MISSING_HOST)
        if not valid_host_header(headers.get("host", "")):
            return _bad_request(_msgs.MALFORMED_HOST)
        host = url.host or headers.get("host", "")
        if target == b"*" and raw.method == "OPTIONS":
            # Go's server answers "OPTIONS *" itself, before any handler.
            return RawResponse(200)

        # Caddy's adminHandler.serveHTTP.
        if "websocket" in headers.get("upgrade", ""):
            if self.versions.websocket_refusal_400:
                return api_error(400, _msgs.WEBSOCKET_REFUSED_2_11)
            return api_error(500, _msgs.WEBSOCKET_REFUSED)
        if self.host_check and not any(host == origin.host for origin in self.origins):
            return api_error(403, _msgs.HOST_NOT_ALLOWED.format(host))
        extra: list[tuple[str, str]] = []
        if self.enforce_origin:
            refusal = self._check_origin(raw.method, headers, extra)
            if refusal is not None:
                return refusal
        routed = self._mux(raw, url, tuple(extra))
        return routed if isinstance(routed, _Routed) else _with_headers(routed, extra)

    def _check_origin(
        self, method: str, headers: Mapping[str, str], extra: list[tuple[str, str]]
    ) -> RawResponse | None:
        origin = headers.get("origin", "") or headers.get("referer", "")
        parsed = parse_url(origin.encode("utf-8", "surrogateescape"), via_request=False)
        if parsed is None:
            return api_error(403, _msgs.ORIGIN_MISSING)
        allowed = any(
            (not o.scheme or o.scheme == parsed.scheme) and parsed.host == o.host
            for o in self.origins
        )
        if not allowed:
            return api_error(403, _msgs.ORIGIN_NOT_ALLOWED.format(origin))
        if method == "OPTIONS":
            extra += [
                ("Access-Control-Allow-Methods", "OPTIONS, GET, POST, PUT, PATCH, DELETE"),
                ("Access-Control-Allow-Headers", "Content-Type, Content-Length, Cache-Control"),
                ("Access-Control-Allow-Credentials", "true"),
            ]
        extra.append(("Access-Control-Allow-Origin", _origin_string(parsed)))
        return None

    def _mux(
        self, raw: RawRequest, url: URL, extra: tuple[tuple[str, str], ...]
    ) -> RawResponse | _Routed:
        if url.path == b"*":
            return RawResponse(400, (("Connection", "close"),), close=True)
        escaped = escaped_path(url.path)
        if escaped[:1] == b"/" and b"//" not in escaped and b"/." not in escaped:
            # No empty, "." or ".." segment: cleaning would give the same path back.
            cleaned = escaped
        else:
            cleaned = clean_path(escaped.decode("ascii")).encode("ascii")
        if cleaned != escaped:
            return _redirect(raw.method, cleaned, url.raw_query, self.versions)
        found = match(cleaned) if self.module_loaded else None
        if found is None:
            return _msgs.NOT_FOUND
        endpoint, params = found
        if raw.method != endpoint.method:
            return api_error(405, _msgs.METHOD_NOT_ALLOWED)
        if endpoint.double:
            for name in endpoint.params:
                try:
                    params[name] = go_query_unescape(params[name])
                except EscapeError as exc:
                    return api_error(400, _msgs.INVALID_ENCODING.format(name, exc))
        return _Routed(endpoint, params, url, extra)


def _origin_string(url: URL) -> str:
    """``url.String()`` of an origin whose path, query and fragment were cleared."""
    text = f"{url.scheme}:" if url.scheme else ""
    if url.opaque:
        text += url.opaque
    elif url.host or url.user is not None:
        text += "//" + (f"{url.user}@" if url.user is not None else "") + url.host
    return text + ("?" if url.force_query else "")


def _redirect(
    method: str, clean_escaped: bytes, raw_query: bytes, versions: Versions
) -> RawResponse:
    """ServeMux's redirect to the cleaned path: 301 up to Go 1.25, 307 from Go 1.26.

    The mux puts the cleaned *escaped* path into ``URL.Path`` and calls ``String()``,
    which escapes it again: a ``%2F`` in the original comes back as ``%252F`` (still so
    in Go 1.26.8, measured through Caddy 2.11.7).
    """
    location = escape_path(clean_escaped)
    if raw_query:
        location += b"?" + raw_query
    # http.Redirect re-cleans the path part (a no-op here) and hex-escapes non-ASCII.
    path, sep, query = location.partition(b"?")
    url = go_str(path_clean_keep_slash(path) + sep + query)
    header_value = "".join(ch if ch.isascii() else hex_escape(ch) for ch in url)
    headers = [("Location", header_value)]
    if method in ("GET", "HEAD"):
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    body = b""
    if method == "GET":
        status_text = _msgs.TEMPORARY_REDIRECT if versions.redirect_307 else _msgs.MOVED_PERMANENTLY
        text = _msgs.REDIRECT_BODY.format(html_escape(url), status_text)
        body = text.encode("utf-8", "surrogateescape")
    return RawResponse(307 if versions.redirect_307 else 301, tuple(sorted(headers)), body)
