"""The fake's surfaces stay in step with the endpoint table and the SDK."""

from __future__ import annotations

import inspect

import pytest

import frankenws
from frankenws._endpoints import ENDPOINTS
from frankenws.testing import FakeFrankenPHP
from frankenws.testing._routes import ROUTES


def test_route_registry_covers_exactly_the_endpoints():
    """Every endpoint has one handler, named after it, and there is no other handler."""
    assert set(ROUTES) == {endpoint.name for endpoint in ENDPOINTS}
    assert all(handler.__name__ == name for name, handler in ROUTES.items())


# Where server mode deliberately differs from the SDK: what the PHP functions return
# (a write's success, the state's raw bytes and records), and the fake's search, which
# knows only the server's ten operators and therefore only string values.
INTENDED_RETURNS = {
    "send": "bool",
    "delete_stored_information": "bool",
    "global_get": "bytes | None",
    "get_client_message_queue": "list[RecordedMessage]",
}
INTENDED_PARAMETERS = {("search_stored_information", "value"): "str"}


def _described(function: object) -> tuple[str, list[tuple[str, object, object, object]]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    parameters = [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()]
    return str(signature.return_annotation), parameters


@pytest.mark.parametrize("name", [endpoint.name for endpoint in ENDPOINTS])
def test_server_mode_signatures_match_the_sdk(name):
    """Each server-mode method takes the SDK method's parameters, with the listed exceptions."""
    sdk_return, sdk_parameters = _described(getattr(frankenws.Client, name))
    fake_return, fake_parameters = _described(getattr(FakeFrankenPHP, name))
    assert fake_return == INTENDED_RETURNS.get(name, sdk_return)
    expected = [
        (pname, kind, default, INTENDED_PARAMETERS.get((name, pname), annotation))
        for pname, kind, default, annotation in sdk_parameters
    ]
    assert fake_parameters == expected
