"""The 1x and 2x decoding regimes of path parameters (PROTOCOL.md §3.1)."""

from __future__ import annotations

import json

import pytest

# value, 1x wire forms, 2x wire forms (PROTOCOL.md §3.1 table)
TABLE = [
    ("user/42", ["user%2F42"], ["user%252F42"]),
    ("a b", ["a%20b"], ["a%2520b"]),
    ("c++", ["c%2B%2B", "c++"], ["c%252B%252B"]),
    ("50%", ["50%25"], ["50%2525"]),
    ("user:1", ["user%3A1", "user:1"], ["user%253A1", "user:1"]),
    ("/chat", [], ["%252Fchat", "%2Fchat"]),
    ("(a|b)&!c", [], ["%2528a%257Cb%2529%2526%2521c"]),
    ("..", ["%2E%2E"], ["%252E%252E"]),
    ("é", ["%C3%A9"], ["%25C3%25A9"]),
]

ONCE = [(value, wire) for value, wires, _ in TABLE for wire in wires]
TWICE = [(value, wire) for value, _, wires in TABLE for wire in wires]


@pytest.mark.parametrize(("value", "wire"), ONCE)
def test_single_decoding_routes(value, wire, call):
    """1x routes (getTags) receive the segment percent-decoded once."""
    response = call("GET", f"/frankenphp_ws/getTags/{wire}")
    assert json.loads(response.body)["clientID"] == value


@pytest.mark.parametrize(("value", "wire"), TWICE)
def test_double_decoding_routes(value, wire, call):
    """2x routes decode again with form rules; all four agree."""
    route = json.loads(call("GET", f"/frankenphp_ws/getClientsByRoute/{wire}").body)
    assert route["route"] == value
    expr = json.loads(call("GET", f"/frankenphp_ws/getClientsByTagExpression/{wire}").body)
    assert expr["expression"] == value
    sent = json.loads(call("POST", f"/frankenphp_ws/sendToTagExpression/{wire}").body)
    assert sent["expression"] == value


def test_rename_decodes_both_ids_twice(fake, call):
    """renameConnection echoes (and uses) both ids after the second decoding."""
    fake.connect(id="user/1")
    response = call("POST", "/frankenphp_ws/renameConnection/user%252F1/c%252B%252B")
    assert json.loads(response.body)["newId"] == "c++"
    assert fake.get_clients() == ["c++"]


def test_single_encoding_on_double_route_turns_plus_into_space(call):
    """c++ sent once-encoded on a 2x route arrives as 'c  '."""
    response = call("GET", "/frankenphp_ws/getClientsByRoute/c%2B%2B")
    assert json.loads(response.body)["route"] == "c  "


def test_plus_stays_plus_on_single_routes(call):
    """PathUnescape keeps '+' (only the query and the 2x routes map it to a space)."""
    assert json.loads(call("GET", "/frankenphp_ws/getTags/a+b").body)["clientID"] == "a+b"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "/frankenphp_ws/getClientsByRoute/50%25",
            b'{"error":"invalid route encoding: invalid URL escape \\"%\\""}\n',
        ),
        (
            "/frankenphp_ws/getClientsByRoute/%25zz",
            b'{"error":"invalid route encoding: invalid URL escape \\"%zz\\""}\n',
        ),
        (
            "/frankenphp_ws/getClientsByTagExpression/a%25z",
            b'{"error":"invalid expression encoding: invalid URL escape \\"%z\\""}\n',
        ),
        (
            "/frankenphp_ws/getClientsByTagExpression/%25%C3%A9",
            b'{"error":"invalid expression encoding: invalid URL escape \\"%\xc3\xa9\\""}\n',
        ),
        (
            "/frankenphp_ws/getClientsByTagExpression/%25a%C3%A9",
            b'{"error":"invalid expression encoding: invalid URL escape \\"%a\\\\xc3\\""}\n',
        ),
        (
            "/frankenphp_ws/getClientsByTagExpression/%25%0A1",
            b'{"error":"invalid expression encoding: invalid URL escape \\"%\\\\n1\\""}\n',
        ),
    ],
)
def test_bad_second_escape_is_400_with_go_error_text(target, message, call):
    """url.QueryUnescape's EscapeError text, quoted with strconv.Quote."""
    method = "GET"
    response = call(method, target)
    assert response.status == 400
    assert response.headers == (("Content-Type", "application/json"),)
    assert response.body == message


def test_rename_reports_which_id_failed(fake, call):
    """currentId is decoded first; each failure names its parameter."""
    fake.connect(id="a")
    first = call("POST", "/frankenphp_ws/renameConnection/%25zz/%25zz")
    assert first.body == b'{"error":"invalid currentId encoding: invalid URL escape \\"%zz\\""}\n'
    second = call("POST", "/frankenphp_ws/renameConnection/a/%25")
    assert second.body == b'{"error":"invalid newId encoding: invalid URL escape \\"%\\""}\n'


def test_method_check_comes_before_decoding(call):
    """A wrong method wins over a bad second escape."""
    assert call("POST", "/frankenphp_ws/getClientsByRoute/%25zz").status == 405


def test_send_to_expression_decodes_before_reading_body(fake, call):
    """sendToTagExpression answers 400 on a bad escape without sending anything."""
    fake.connect(id="c1")
    fake.tag_client("c1", "a")
    assert call("POST", "/frankenphp_ws/sendToTagExpression/a%25", b"x").status == 400
    assert fake.received("c1") == []


def test_invalid_utf8_is_replaced_in_json(call):
    """An invalid byte in an echoed value becomes the 6-character escape \\ufffd."""
    response = call("GET", "/frankenphp_ws/getTags/%FFa%C3")
    assert response.body == b'{"clientID":"\\ufffda\\ufffd","tags":null}\n'


def test_invalid_utf8_ids_still_address_their_state(fake, call):
    """The bytes are kept internally: tags set on %FF are found again with %FF."""
    call("POST", "/frankenphp_ws/tag/%FF", b"t")
    assert call("GET", "/frankenphp_ws/getTagCount/t").body == b'{"count":1,"tag":"t"}\n'
    assert (
        call("GET", "/frankenphp_ws/getTags/%FF").body == b'{"clientID":"\\ufffd","tags":["t"]}\n'
    )
    assert call("GET", "/frankenphp_ws/getTags/%FE").body == b'{"clientID":"\\ufffd","tags":null}\n'


def test_raw_value_bytes_round_trip_through_global_store(call):
    """global/get returns the stored bytes unchanged, invalid UTF-8 included."""
    call("POST", "/frankenphp_ws/global/set/k", b"\xff\x00<&>")
    assert call("GET", "/frankenphp_ws/global/get/k").body == b"\xff\x00<&>"
