"""The global key/value store with expiry (PROTOCOL.md §6.9)."""

from __future__ import annotations

import pytest


def get(call, key):
    response = call("GET", f"/frankenphp_ws/global/get/{key}")
    return response.status, response.headers, response.body


def has(call, key):
    return call("GET", f"/frankenphp_ws/global/has/{key}").status


def test_set_get_has_delete(call):
    """The four routes: 200s with raw bytes / empty bodies, 404 when missing."""
    assert call("POST", "/frankenphp_ws/global/set/k", b"value").status == 200
    assert get(call, "k") == (200, (("Content-Type", "text/plain"),), b"value")
    assert has(call, "k") == 200
    assert call("DELETE", "/frankenphp_ws/global/delete/k").status == 200
    assert get(call, "k") == (404, (), b"")
    assert has(call, "k") == 404
    assert call("DELETE", "/frankenphp_ws/global/delete/k").status == 404


def test_empty_value_is_not_missing(call):
    """An empty body is a valid value: 200 text/plain with no bytes."""
    call("POST", "/frankenphp_ws/global/set/empty")
    assert get(call, "empty") == (200, (("Content-Type", "text/plain"),), b"")


def test_expiry_boundaries(clock, call):
    """get expires strictly after the deadline; has already at the deadline."""
    call("POST", "/frankenphp_ws/global/set/k?exp=10", b"v")
    clock.advance(10)
    assert has(call, "k") == 404  # Now().Before(deadline) is false at the deadline
    assert get(call, "k")[0] == 200  # Now().After(deadline) is false too
    clock.advance(1e-9)
    assert has(call, "k") == 404
    assert get(call, "k")[0] == 404


def test_has_does_not_purge_but_get_does(clock, call):
    """An expired key still exists for delete until a get purges it."""
    call("POST", "/frankenphp_ws/global/set/a?exp=1", b"v")
    call("POST", "/frankenphp_ws/global/set/b?exp=1", b"v")
    clock.advance(2)
    assert has(call, "a") == 404
    assert call("DELETE", "/frankenphp_ws/global/delete/a").status == 200
    assert get(call, "b")[0] == 404
    assert call("DELETE", "/frankenphp_ws/global/delete/b").status == 404


def test_set_without_exp_makes_a_key_permanent(clock, call):
    """Every set replaces value and expiry."""
    call("POST", "/frankenphp_ws/global/set/k?exp=1", b"v1")
    call("POST", "/frankenphp_ws/global/set/k", b"v2")
    clock.advance(10**6)
    assert get(call, "k")[2] == b"v2"


@pytest.mark.parametrize(
    "exp", ["0", "-5", "5s", "1.5", "%205", "+5", "", "abc", "9223372036854775808", "1_0"]
)
def test_unusable_exp_means_no_expiry(exp, clock, call):
    """Anything that is not a positive int64 (after query decoding) never expires."""
    call("POST", f"/frankenphp_ws/global/set/k?exp={exp}", b"v")
    clock.advance(10**9)
    assert get(call, "k")[0] == 200


def test_plus_sign_must_be_encoded(clock, call):
    """exp=%2B5 is '+5' (5 s); a raw '+' in the query would be a space."""
    call("POST", "/frankenphp_ws/global/set/k?exp=%2B5", b"v")
    clock.advance(5.1)
    assert get(call, "k")[0] == 404


@pytest.mark.parametrize(
    ("exp", "alive_at", "dead_at"),
    [
        ("9223372036", 9_000_000_000.0, 9_223_372_037.0),  # just below the wrap: ~292 years
        ("18446744074", 0.2, 0.3),  # wraps to +0.290448384 s
    ],
)
def test_exp_overflow_wraps_like_go(exp, alive_at, dead_at, clock, call):
    """time.Duration(exp)*time.Second wraps around int64, as Go computes it."""
    call("POST", f"/frankenphp_ws/global/set/k?exp={exp}", b"v")
    clock.advance(alive_at)
    assert has(call, "k") == 200
    clock.advance(dead_at - alive_at)
    assert get(call, "k")[0] == 404


@pytest.mark.parametrize("exp", ["9223372037", "10000000000"])
def test_exp_overflow_into_the_past(exp, call):
    """Some large values wrap into the past: the key reads as missing at once."""
    call("POST", f"/frankenphp_ws/global/set/k?exp={exp}", b"v")
    assert has(call, "k") == 404
    assert get(call, "k")[0] == 404


def test_global_store_ignores_connections(fake, call):
    """Connections coming and going leave the global store alone."""
    conn = fake.connect()
    call("POST", "/frankenphp_ws/global/set/k", b"v")
    fake.kill_connection(conn)
    assert fake.global_get("k") == b"v"
    fake.global_set("s", "text", expire_seconds=1)
    assert fake.global_has("s")
    assert fake.global_delete("s")
