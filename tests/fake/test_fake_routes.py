"""Byte-exact responses of all 41 routes, through the raw handler and through httpx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fake_support import HOST, raw_url

from frankenws._endpoints import ENDPOINTS
from frankenws.testing import FakeFrankenPHP, RawRequest

JSON_CT = "application/json"


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    target: str
    status: int
    body: bytes
    content_type: str | None = JSON_CT
    request_body: bytes = b""
    label: str = ""
    after: Callable[[FakeFrankenPHP], None] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.endpoint}{'-' + self.label if self.label else ''}"


def _world(fake: FakeFrankenPHP) -> None:
    fake.connect("/chat", id="c1")
    fake.connect("/news", id="c2")
    fake.tag_client("c1", "admin")
    fake.set_stored_information("c1", "city", "Grenoble")
    fake.global_set("motd", b"hello")


def _received(conn: str, frames: list[bytes]) -> Callable[[FakeFrankenPHP], None]:
    def check(fake: FakeFrankenPHP) -> None:
        assert fake.received(conn) == frames

    return check


def _tags(conn: str, tags: list[str]) -> Callable[[FakeFrankenPHP], None]:
    def check(fake: FakeFrankenPHP) -> None:
        assert fake.get_client_tags(conn) == tags

    return check


P = "/frankenphp_ws/"

CASES = [
    Case("get_clients", "GET", P + "getClients", 200, b'{"clients":["c1","c2"],"route":""}\n'),
    Case(
        "get_clients",
        "GET",
        P + "getClients?route=/nowhere",
        200,
        b'{"clients":null,"route":"/nowhere"}\n',
        label="null",
    ),
    Case(
        "send",
        "POST",
        P + "send/c1",
        200,
        b"",
        None,
        b"hi",
        after=_received("c1", [b"hi"]),
    ),
    Case(
        "send",
        "POST",
        P + "send/c1?route=/news",
        200,
        b"",
        None,
        b"hi",
        label="route-mismatch",
        after=_received("c1", []),
    ),
    Case("tag_client", "POST", P + "tag/c2", 200, b"", None, b"vip", after=_tags("c2", ["vip"])),
    Case(
        "tag_client",
        "POST",
        P + "tag/c2",
        400,
        b'{"error":"tag is required"}\n',
        label="empty",
    ),
    Case("untag_client", "DELETE", P + "untag/c1/admin", 200, b"", None, after=_tags("c1", [])),
    Case("clear_tag_client", "DELETE", P + "clearTags/c1", 200, b"", None, after=_tags("c1", [])),
    Case("get_client_tags", "GET", P + "getTags/c1", 200, b'{"clientID":"c1","tags":["admin"]}\n'),
    Case(
        "get_client_tags",
        "GET",
        P + "getTags/c2",
        200,
        b'{"clientID":"c2","tags":null}\n',
        label="null",
    ),
    Case(
        "get_clients_by_tag",
        "GET",
        P + "getClientsByTag/admin",
        200,
        b'{"clients":["c1"],"tag":"admin"}\n',
    ),
    Case(
        "get_clients_by_tag",
        "GET",
        P + "getClientsByTag/none",
        200,
        b'{"clients":null,"tag":"none"}\n',
        label="null",
    ),
    Case("get_tags", "GET", P + "getAllTags", 200, b'{"tags":["admin"]}\n'),
    Case(
        "send_to_tag",
        "POST",
        P + "sendToTag/admin",
        200,
        b'{"route":"","sentCount":1,"tag":"admin"}\n',
        request_body=b"x",
        after=_received("c1", [b"x"]),
    ),
    Case(
        "set_stored_information",
        "POST",
        P + "setStoredInformation/c2/name",
        200,
        b"",
        None,
        b"bob",
    ),
    Case(
        "set_stored_information",
        "POST",
        P + "setStoredInformation/c2/name",
        400,
        b'{"error":"value is required"}\n',
        label="empty",
    ),
    Case("global_set", "POST", P + "global/set/k?exp=10", 200, b"", None, b"v"),
    Case("global_get", "GET", P + "global/get/motd", 200, b"hello", "text/plain"),
    Case("global_get", "GET", P + "global/get/nope", 404, b"", None, label="missing"),
    Case("global_has", "GET", P + "global/has/motd", 200, b"", None),
    Case("global_has", "GET", P + "global/has/nope", 404, b"", None, label="missing"),
    Case("global_delete", "DELETE", P + "global/delete/motd", 200, b"", None),
    Case("global_delete", "DELETE", P + "global/delete/nope", 404, b"", None, label="missing"),
    Case(
        "get_stored_information",
        "GET",
        P + "getStoredInformation/c1/city",
        200,
        b'{"clientID":"c1","exists":true,"key":"city","value":"Grenoble"}\n',
    ),
    Case(
        "get_stored_information",
        "GET",
        P + "getStoredInformation/c1/zip",
        200,
        b'{"clientID":"c1","exists":false,"key":"zip","value":""}\n',
        label="missing",
    ),
    Case(
        "delete_stored_information",
        "DELETE",
        P + "deleteStoredInformation/c1/zip",
        200,
        b'{"clientID":"c1","deleted":true,"key":"zip"}\n',
    ),
    Case(
        "delete_stored_information",
        "DELETE",
        P + "deleteStoredInformation/c2/zip",
        200,
        b'{"clientID":"c2","deleted":false,"key":"zip"}\n',
        label="nothing-stored",
    ),
    Case(
        "clear_stored_information",
        "DELETE",
        P + "clearStoredInformation/c9",
        200,
        b'{"cleared":true,"clientID":"c9"}\n',
    ),
    Case(
        "has_stored_information",
        "GET",
        P + "hasStoredInformation/c1/city",
        200,
        b'{"clientID":"c1","exists":true,"key":"city"}\n',
    ),
    Case(
        "list_stored_information_keys",
        "GET",
        P + "listStoredInformationKeys/c1",
        200,
        b'{"clientID":"c1","keys":["city"]}\n',
    ),
    Case(
        "list_stored_information_keys",
        "GET",
        P + "listStoredInformationKeys/c2",
        200,
        b'{"clientID":"c2","keys":null}\n',
        label="null",
    ),
    Case(
        "get_all_stored_information",
        "GET",
        P + "getAllStoredInformation/c1",
        200,
        b'{"clientID":"c1","information":{"city":"Grenoble"}}\n',
    ),
    Case(
        "get_all_stored_information",
        "GET",
        P + "getAllStoredInformation/c2",
        200,
        b'{"clientID":"c2","information":{}}\n',
        label="empty",
    ),
    Case(
        "enable_ping",
        "POST",
        P + "enablePing/c1?interval=1000",
        200,
        b'{"action":"enablePing","clientID":"c1","interval":1000,"success":true}\n',
    ),
    Case(
        "disable_ping",
        "POST",
        P + "disablePing/c1",
        200,
        b'{"action":"disablePing","clientID":"c1","success":true}\n',
    ),
    Case(
        "get_client_ping_time",
        "GET",
        P + "getClientPingTime/c1",
        200,
        b'{"clientID":"c1","pingTime":0,"pingTimeMs":0}\n',
    ),
    Case(
        "enable_queue_counter",
        "POST",
        P + "enableQueueCounter/c1?maxMessages=5&maxTime=60",
        200,
        b'{"action":"enableQueueCounter","clientID":"c1","maxMessages":5,"maxTime":60,'
        b'"success":true}\n',
    ),
    Case(
        "disable_queue_counter",
        "POST",
        P + "disableQueueCounter/c1",
        200,
        b'{"action":"disableQueueCounter","clientID":"c1","success":false}\n',
    ),
    Case(
        "get_client_message_counter",
        "GET",
        P + "getClientMessageCounter/c1",
        200,
        b'{"clientID":"c1","counter":0}\n',
    ),
    Case(
        "get_client_message_queue",
        "GET",
        P + "getClientMessageQueue/c1",
        200,
        b'{"clientID":"c1","count":0,"messages":[]}\n',
    ),
    Case(
        "clear_client_message_queue",
        "POST",
        P + "clearClientMessageQueue/c1",
        200,
        b'{"action":"clearClientMessageQueue","clientID":"c1","success":false}\n',
    ),
    Case(
        "kill_connection",
        "POST",
        P + "killConnection/c1",
        200,
        b'{"clientID":"c1","success":true}\n',
    ),
    Case(
        "kill_connection",
        "POST",
        P + "killConnection/c9",
        200,
        b'{"clientID":"c9","error":"Connection not found or already closed","success":false}\n',
        label="unknown",
    ),
    Case("send_all", "POST", P + "sendAll", 200, b'{"sentCount":2}\n', request_body=b"all"),
    Case(
        "send_all",
        "POST",
        P + "sendAll?route=/chat",
        200,
        b'{"route":"/chat","sentCount":1}\n',
        label="route",
        after=_received("c2", []),
    ),
    Case("get_clients_count", "GET", P + "getClientsCount", 200, b'{"count":2}\n'),
    Case(
        "get_clients_count",
        "GET",
        P + "getClientsCount?route=/chat",
        200,
        b'{"count":1,"route":"/chat"}\n',
        label="route",
    ),
    Case("get_tag_count", "GET", P + "getTagCount/admin", 200, b'{"count":1,"tag":"admin"}\n'),
    Case(
        "search_stored_information",
        "GET",
        P + "searchStoredInformation?key=city&op=eq&value=Grenoble",
        200,
        b'{"clients":["c1"],"count":1,"key":"city","op":"eq","route":"","value":"Grenoble"}\n',
    ),
    Case(
        "search_stored_information",
        "GET",
        P + "searchStoredInformation?key=city",
        400,
        b'{"error":"key and op are required"}\n',
        label="missing-op",
    ),
    Case(
        "send_to_tag_expression",
        "POST",
        P + "sendToTagExpression/admin%2526%2521banned",
        200,
        b'{"expression":"admin\\u0026!banned","route":"","sentCount":1}\n',
        request_body=b"e",
        after=_received("c1", [b"e"]),
    ),
    Case(
        "get_clients_by_tag_expression",
        "GET",
        P + "getClientsByTagExpression/admin",
        200,
        b'{"clients":["c1"],"count":1,"expression":"admin"}\n',
    ),
    Case(
        "get_clients_by_tag_expression",
        "GET",
        P + "getClientsByTagExpression/%2520",
        200,
        b'{"clients":[],"count":0,"expression":" "}\n',
        label="blank",
    ),
    Case("list_routes", "GET", P + "getAllRoutes", 200, b'{"routes":["/chat","/news"]}\n'),
    Case(
        "get_clients_by_route",
        "GET",
        P + "getClientsByRoute/%252Fchat",
        200,
        b'{"clients":["c1"],"count":1,"route":"/chat"}\n',
    ),
    Case(
        "rename_connection",
        "POST",
        P + "renameConnection/c2/c3",
        200,
        b'{"currentId":"c2","message":"Connection renamed successfully","newId":"c3",'
        b'"success":true}\n',
    ),
    Case(
        "rename_connection",
        "POST",
        P + "renameConnection/c2/c1",
        400,
        b'{"error":"failed to rename connection"}\n',
        label="taken",
    ),
    Case(
        "activate_ghost",
        "POST",
        P + "activateGhost/c1",
        200,
        b'{"action":"activateGhost","clientID":"c1","success":true}\n',
    ),
    Case(
        "release_ghost",
        "POST",
        P + "releaseGhost/c1",
        200,
        b'{"action":"releaseGhost","clientID":"c1","success":false}\n',
    ),
    Case("is_ghost", "GET", P + "isGhost/c1", 200, b'{"clientID":"c1","isGhost":false}\n'),
]


def test_every_route_has_a_case():
    """The table below covers each of the 41 endpoints at least once."""
    assert {case.endpoint for case in CASES} == {endpoint.name for endpoint in ENDPOINTS}
    assert len(ENDPOINTS) == 41


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route_bytes_through_handler(case: Case, fake):
    """The raw handler answers with the exact status, headers and body bytes."""
    _world(fake)
    response = fake.handle(RawRequest(case.method, case.target, HOST, case.request_body))
    assert response.status == case.status
    expected_headers = () if case.content_type is None else (("Content-Type", case.content_type),)
    assert response.headers == expected_headers
    assert response.body == case.body
    assert not response.drop
    if case.after is not None:
        case.after(fake)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route_bytes_through_httpx(case: Case, fake, http):
    """Through the httpx transport: same status and body, framing headers like Go's."""
    _world(fake)
    response = http.request(case.method, raw_url(case.target), content=case.request_body)
    assert response.status_code == case.status
    assert response.content == case.body
    assert response.headers.get("content-type") == case.content_type
    assert response.headers["content-length"] == str(len(case.body))
    if case.after is not None:
        case.after(fake)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_wrong_method_is_405_json(endpoint, call):
    """Every route checks its method first: 405 with the module's JSON error, no Allow."""
    target = endpoint.template.replace("{", "").replace("}", "")
    wrong = "GET" if endpoint.method != "GET" else "POST"
    response = call(wrong, target)
    assert response.status == 405
    assert response.headers == (("Content-Type", "application/json"),)
    assert response.body == b'{"error":"method not allowed"}\n'


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "get"])
def test_other_methods_on_a_get_route(method, call):
    """HEAD, OPTIONS, PUT and a lower-case GET are all 405 (HEAD: no body, its length)."""
    response = call(method, "/frankenphp_ws/getClients")
    assert response.status == 405
    length = (("Content-Length", "31"),) if method == "HEAD" else ()
    assert response.headers == (("Content-Type", "application/json"), *length)
    assert response.body == (b"" if method == "HEAD" else b'{"error":"method not allowed"}\n')


def test_send_with_empty_body_drops_the_connection(fake, call, http):
    """POST send with no body: Go's handler panics, nothing is written back."""
    fake.connect(id="c1")
    response = call("POST", "/frankenphp_ws/send/c1")
    assert response.drop
    assert response.status == 0
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending"):
        http.post("/frankenphp_ws/send/c1", content=b"")
    assert fake.received("c1") == []


def test_large_json_bodies_are_chunked_over_httpx(fake, http):
    """Bodies over Go's 2 KiB write buffer are sent chunked, without Content-Length."""
    for index in range(200):
        fake.connect(id=f"client-{index:04d}")
    response = http.get("/frankenphp_ws/getClients")
    assert len(response.content) > 2048
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers


def test_transport_records_calls(fake, http):
    """The transport keeps (RawRequest, RawResponse) pairs with the exact target."""
    http.get(raw_url("/frankenphp_ws/getTags/a%2Fb?x=1"))
    raw, response = fake.calls[-1]
    assert raw.method == "GET"
    assert raw.target == "/frankenphp_ws/getTags/a%2Fb?x=1"
    assert raw.headers["host"] == "localhost:2019"
    assert response.body == b'{"clientID":"a/b","tags":null}\n'


async def test_async_transport(fake):
    """The same transport serves httpx.AsyncClient."""
    fake.connect(id="c1")
    transport = fake.transport()
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:2019") as client:
        response = await client.post("/frankenphp_ws/send/c1", content=b"async")
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post("/frankenphp_ws/send/c1", content=b"")
    assert fake.received("c1") == [b"async"]
