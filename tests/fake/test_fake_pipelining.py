"""Pipelined HTTP/1.1 requests on the loopback admin port, answered in order as Go does.

Clients that read plans quickly write many GETs on one connection before reading any
answer. Each test writes its requests with one ``sendall`` and reads the answers back
in order; where a real Caddy answers the same routes (404s, redirects, ``OPTIONS *``,
unread bodies), the same byte stream is sent to both and the bytes compared.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from frankenws.testing import FakeFrankenPHP, LoopbackServer


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes
    chunked: bool


def exchange(url: str, stream: bytes, timeout: float = 5.0, receive_buffer: int = 0) -> bytes:
    """Write ``stream`` in one ``sendall``; read until the server closes."""
    parts = urlsplit(url)
    data = b""
    with socket.socket() as sock:
        sock.settimeout(timeout)
        if receive_buffer:
            # Small, so that the server's answers back up into its own buffers.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect((parts.hostname, parts.port))
        sock.sendall(stream)
        while chunk := sock.recv(65536):
            data += chunk
    return data


def split_answers(data: bytes, heads: list[bool]) -> list[Answer]:
    """Cut a stream of HTTP/1.1 answers apart (``heads[i]``: answer i is to a HEAD)."""
    answers = []
    for is_head in heads:
        head, sep, data = data.partition(b"\r\n\r\n")
        assert sep, f"missing answer; left: {head!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = dict(line.split(": ", 1) for line in lines[1:])
        chunked = headers.get("Transfer-Encoding") == "chunked"
        if is_head:
            body = b""
        elif chunked:
            body = b""
            while True:
                size_line, _, data = data.partition(b"\r\n")
                size = int(size_line, 16)
                body, data = body + data[:size], data[size + 2 :]
                if size == 0:
                    break
        else:
            length = int(headers.get("Content-Length", len(data)))
            body, data = data[:length], data[length:]
        answers.append(Answer(status, headers, body, chunked))
    assert data == b"", f"unexpected bytes after the answers: {data[:200]!r}"
    return answers


def get(url: str, path: str, extra: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n".encode() + extra + b"\r\n"


def post(url: str, path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


@pytest.fixture
def served() -> Iterator[LoopbackServer[FakeFrankenPHP]]:
    fake = FakeFrankenPHP()
    for number in range(80):
        conn = fake.connect("/chat", id=f"connection-{number:02d}-{'x' * 30}")
        fake.set_stored_information(conn, "user", f"user{number}")
    with fake.serve() as server:
        yield server


def test_pipelined_reads_are_answered_in_order(served):
    """Reads, a chunked answer over 2,048 bytes and a 404 in the middle: one answer each."""
    url = served.admin_url
    ws = "/frankenphp_ws"
    paths = [
        f"{ws}/getClientsCount",
        f"{ws}/getClients",
        f"{ws}/noSuchRoute",
        *(f"{ws}/getStoredInformation/connection-{n:02d}-{'x' * 30}/user" for n in range(5)),
        f"{ws}/getTagCount/none",
    ]
    stream = b"".join(get(url, path) for path in paths)
    stream += get(url, f"{ws}/getClientsCount", b"Connection: close\r\n")
    answers = split_answers(exchange(url, stream), [False] * (len(paths) + 1))

    assert [a.status for a in answers] == [200, 200, 404, 200, 200, 200, 200, 200, 200, 200]
    assert answers[0].body == b'{"count":80}\n'
    assert answers[1].chunked
    assert len(answers[1].body) > 2048
    assert len(json.loads(answers[1].body)["clients"]) == 80
    assert answers[2].body == b"404 page not found\n"
    assert [json.loads(a.body)["value"] for a in answers[3:8]] == [f"user{n}" for n in range(5)]
    assert answers[8].body == b'{"count":0,"tag":"none"}\n'
    assert answers[9].headers["Connection"] == "close"
    assert all("Date" in a.headers for a in answers)


def test_pipelined_writes_act_in_order(served):
    """A body-reading route and a kill between reads: each read sees what came before."""
    url = served.admin_url
    ws = "/frankenphp_ws"
    first = "connection-00-" + "x" * 30
    stream = get(url, f"{ws}/getClientsCount")
    stream += post(url, f"{ws}/setStoredInformation/{first}/user", b"renamed")
    stream += get(url, f"{ws}/getStoredInformation/{first}/user")
    stream += post(url, f"{ws}/killConnection/{first}", b"")
    stream += get(url, f"{ws}/getClientsCount", b"Connection: close\r\n")
    answers = split_answers(exchange(url, stream), [False] * 5)

    assert [a.status for a in answers] == [200] * 5
    assert answers[0].body == b'{"count":80}\n'
    assert json.loads(answers[2].body)["value"] == "renamed"
    assert json.loads(answers[3].body)["success"] is True
    assert answers[4].body == b'{"count":79}\n'


def test_a_chunked_body_mid_pipeline_keeps_the_order(served):
    """A chunked request body (read piece by piece) between plain GETs."""
    url = served.admin_url
    ws = "/frankenphp_ws"
    first = "connection-01-" + "x" * 30
    chunked = f"POST {ws}/tag/{first} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
    chunked += "Transfer-Encoding: chunked\r\n\r\n3\r\nvip\r\n0\r\n\r\n"
    stream = get(url, f"{ws}/getTagCount/vip") + chunked.encode()
    stream += get(url, f"{ws}/getClientsCount")
    stream += get(url, f"{ws}/getTagCount/vip", b"Connection: close\r\n")
    answers = split_answers(exchange(url, stream), [False] * 4)

    assert [a.status for a in answers] == [200] * 4
    assert answers[0].body == b'{"count":0,"tag":"vip"}\n'
    assert answers[2].body == b'{"count":80}\n'
    assert answers[3].body == b'{"count":1,"tag":"vip"}\n'


def test_many_pipelined_requests_without_reading(served):
    """A client that writes 2,000 requests before reading gets 2,000 answers, in order."""
    url = served.admin_url
    ws = "/frankenphp_ws"
    stream = b"".join(get(url, f"{ws}/getTagCount/t{n}") for n in range(1999))
    stream += get(url, f"{ws}/getTagCount/last", b"Connection: close\r\n")
    answers = split_answers(exchange(url, stream, timeout=30), [False] * 2000)
    tags = [json.loads(a.body)["tag"] for a in answers]
    assert tags == [f"t{n}" for n in range(1999)] + ["last"]


def _caddy_stream(url: str) -> bytes:
    """Requests a Caddy without the extension and the bare fake answer alike."""
    h = f"Host: {urlsplit(url).netloc}\r\n".encode()
    long_path = "/a/../" + "b" * 2100  # its redirect's HTML body is over 2,048 bytes
    return b"".join(
        [
            b"GET /x HTTP/1.1\r\n" + h + b"\r\n",
            b"HEAD /y HTTP/1.1\r\n" + h + b"\r\n",
            b"GET " + long_path.encode() + b" HTTP/1.1\r\n" + h + b"\r\n",
            b"POST /z HTTP/1.1\r\n" + h + b"Content-Length: 5\r\n\r\nhello",
            b"OPTIONS * HTTP/1.1\r\n" + h + b"\r\n",
            b"GET /c/./d HTTP/1.1\r\n" + h + b"\r\n",
            b"GET /w HTTP/1.1\r\n" + h + b"Transfer-Encoding: chunked\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\n",
            b"GET /v HTTP/1.1\r\n" + h + b"Connection: close\r\n\r\n",
        ]
    )


@pytest.fixture(scope="module")
def bare() -> Iterator[str]:
    with FakeFrankenPHP(module_loaded=False).serve() as server:
        yield server.admin_url


def test_pipelined_bytes_like_caddy(real_caddy, bare):
    """The same pipelined stream gets the same bytes from a real Caddy and the fake."""

    def normalised(url: str) -> bytes:
        data = exchange(url, _caddy_stream(url))
        data = re.sub(rb"Date: [^\r]*\r\n", b"", data)
        return data.replace(urlsplit(url).netloc.encode(), b"HOST")

    want = normalised(real_caddy)
    got = normalised(bare)
    answers = split_answers(want, [False, True, False, False, False, False, False, False])
    assert [a.status for a in answers] == [404, 404, 301, 404, 200, 301, 404, 404]
    assert answers[2].chunked
    assert len(answers[2].body) > 2048
    assert got == want


def test_answers_wait_for_a_slow_reader(served, caplog):
    """Megabytes of answers to a client that reads only after writing everything.

    The server stops reading while its answers back up, then resumes, and the
    connection closes cleanly (nothing logged by asyncio).
    """
    url = served.admin_url
    count = 1000  # about 3.5 MB of chunked getClients answers
    stream = b"".join(get(url, "/frankenphp_ws/getClients") for _ in range(count - 1))
    stream += get(url, "/frankenphp_ws/getClientsCount", b"Connection: close\r\n")
    data = exchange(url, stream, timeout=60, receive_buffer=4096)
    answers = split_answers(data, [False] * count)
    assert all(a.chunked and len(json.loads(a.body)["clients"]) == 80 for a in answers[:-1])
    assert answers[-1].body == b'{"count":80}\n'
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_expect_100_continue_then_the_body(served):
    """The route reads the body: 100 Continue first, then the answer once the body came."""
    url = served.admin_url
    first = "connection-02-" + "x" * 30
    head = f"POST /frankenphp_ws/tag/{first} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
    head += "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head.encode())
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"vip" + get(url, "/frankenphp_ws/getTagCount/vip", b"Connection: close\r\n"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answers = split_answers(data, [False, False])
    assert [a.status for a in answers] == [200, 200]
    assert answers[1].body == b'{"count":1,"tag":"vip"}\n'


def test_requests_written_a_few_bytes_at_a_time(served):
    """Heads and a body split anywhere (the blank line too) are answered once whole."""
    url = served.admin_url
    first = "connection-03-" + "x" * 30
    stream = get(url, "/frankenphp_ws/getClientsCount")
    stream += post(url, f"/frankenphp_ws/tag/{first}", b"gold")
    stream += get(url, "/frankenphp_ws/getTagCount/gold", b"Connection: close\r\n")
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for offset in range(0, len(stream), 3):
            sock.sendall(stream[offset : offset + 3])
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answers = split_answers(data, [False] * 3)
    assert [a.status for a in answers] == [200, 200, 200]
    assert answers[0].body == b'{"count":80}\n'
    assert answers[2].body == b'{"count":1,"tag":"gold"}\n'
