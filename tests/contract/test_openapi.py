"""docs/openapi.yaml: generated from the route table, current, and true of the server.

The document is checked three ways: it is exactly what ``frankenws openapi`` prints (so
the file cannot go stale), it names the 41 routes of the table, and the loopback fake
answers every request schemathesis makes from it with a documented status and a body
that matches the documented schema.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from typer.testing import CliRunner

import frankenws
from frankenws.testing import FakeFrankenPHP, LoopbackServer
from frankenws_cli._app import app

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "openapi.yaml"
REGENERATE = "frankenws openapi > docs/openapi.yaml"
# The C loader when PyYAML has it: the pure-Python one takes seconds on 2,000 lines.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The checks that say "the document is true": no 5xx, no undocumented status or media
# type, every body valid. Left out on purpose: negative_data_rejection (the server never
# rejects a query value, it falls back to defaults, as the parameters say) and
# positive_data_acceptance (an unknown id is a 400 on renameConnection, a 404 in the
# global store, and both are documented answers, not bugs).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["openapi", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_docs_file_is_what_the_cli_prints():
    """docs/openapi.yaml is current; when the route table changes, regenerate it."""
    assert DOC.read_text(encoding="utf-8") == _cli(), f"docs/openapi.yaml is stale: {REGENERATE}"


def test_the_installed_command_writes_the_file_byte_for_byte():
    """Through a real pipe, as the regenerate command runs it."""
    out = subprocess.run(
        [sys.executable, "-m", "frankenws_cli", "openapi"], capture_output=True, check=True
    )
    assert out.stdout == DOC.read_bytes()
    assert out.stderr == b""


def test_yaml_and_json_are_one_document():
    """The YAML (hand-written emitter) parses to exactly the JSON that -o json prints."""
    from_yaml = yaml.load(_cli(), Loader=_LOADER)
    assert from_yaml == json.loads(_cli("-o", "json")) == json.loads(_cli("--json"))
    assert from_yaml["openapi"] == "3.1.0"


def test_document_is_valid_openapi_3_1():
    """What client generators read: the file passes the OpenAPI 3.1 schema and rules."""
    validate(yaml.load(DOC.read_text(encoding="utf-8"), Loader=_LOADER))


def test_every_endpoint_has_a_route_description():
    """The per-route answer table has one entry per endpoint, no more, no less."""
    # White-box on purpose: the table lives next to the document builder, keyed by name.
    from frankenws._endpoints import ENDPOINTS
    from frankenws._openapi_routes import ROUTE_DOCS

    assert set(ROUTE_DOCS) == {e.name for e in ENDPOINTS}


def test_document_names_the_41_routes_and_their_sdk_methods():
    """Each route once, with its path parameters, decoding and SDK method."""
    from frankenws._endpoints import ENDPOINTS

    operations = _operations(json.loads(_cli("-o", "json")))
    assert set(operations) == {(e.method, e.template) for e in ENDPOINTS}
    assert len(operations) == 41
    ids = [op["operationId"] for op in operations.values()]
    assert len(set(ids)) == 41
    for endpoint in ENDPOINTS:
        operation = operations[endpoint.method, endpoint.template]
        assert callable(getattr(frankenws.Client, operation["x-frankenws-sdk-method"]))
        path_params = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
        assert [p["name"] for p in path_params] == list(endpoint.params)
        decoding = "twice" if endpoint.double else "once"
        assert all(p["x-frankenws-decoding"] == decoding for p in path_params)
        # Every answer the SDK can meet is documented, the crash excepted.
        assert {"200", "301", "307", "400", "403", "404", "405", "500"} <= set(
            operation["responses"]
        )


def test_statuses_and_bodies_of_the_odd_routes():
    """The documented oddities: null lists, empty 404s, the crash on an empty send."""
    document = json.loads(_cli("-o", "json"))
    schemas = document["components"]["schemas"]
    assert schemas["get_clients"]["properties"]["clients"]["type"] == ["array", "null"]
    assert schemas["get_client_message_queue"]["properties"]["messages"]["type"] == "array"
    operations = _operations(document)
    global_get = operations["GET", "/frankenphp_ws/global/get/{key}"]["responses"]
    assert "content" not in global_get["404"]
    assert "text/plain" in global_get["200"]["content"]
    send = operations["POST", "/frankenphp_ws/send/{clientID}"]
    assert send["requestBody"]["content"]["application/octet-stream"]["schema"]["minLength"] == 1
    assert "x-frankenws-empty-body" in send
    assert document["components"]["responses"]["NotFound"]["content"]["text/plain"] == {
        "schema": {"const": "404 page not found\n"}
    }


# --- against the loopback fake ---------------------------------------------------------

SCHEMA = schemathesis.openapi.from_path(DOC)


def _populated() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    # The ids of the document's examples exist, so example calls reach real state.
    fake.connect("/chat", id="3f9c1e2a")
    fake.connect("/chat", id="b71d0c44")
    fake.connect("/notifications", id="e0a9f3d1")
    fake.tag_client("3f9c1e2a", "premium")
    fake.tag_client("b71d0c44", "admin")
    fake.set_stored_information("3f9c1e2a", "city", "Grenoble")
    return fake


@pytest.fixture(scope="module")
def server():
    with _populated().serve() as running:
        yield running


def _example_case(operation: Any) -> Any:
    definition = operation.definition.raw
    path = {p["name"]: p["example"] for p in definition.get("parameters", []) if "in" in p}
    query = {
        name: spec["example"]
        for name, spec in SCHEMA.raw_schema["components"]["parameters"].items()
        if {"$ref": f"#/components/parameters/{name}"} in definition.get("parameters", [])
        and "example" in spec
    }
    body = b"hello" if "requestBody" in definition else schemathesis.core.NOT_SET
    return operation.Case(path_parameters=path, query=query, body=body)


def test_each_route_answers_its_examples_with_200(server: LoopbackServer[FakeFrankenPHP]):
    """The documented examples work as written, through Caddy's Host check (no 403)."""
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    # Killing the example id last keeps it registered for the routes that need it.
    operations.sort(key=lambda op: op.path.endswith("/killConnection/{clientID}"))
    assert len(operations) == 41
    for operation in operations:
        case = _example_case(operation)
        response = case.call(base_url=server.admin_url, allow_redirects=False)
        assert response.status_code == 200, (operation.label, response.text)
        case.validate_response(response, checks=CHECKS)


def _crash_allowed(case: Any) -> bool:
    """The one documented crash: an empty body to send (connection closed, no answer)."""
    empty = case.body is schemathesis.core.NOT_SET or not case.body
    return "x-frankenws-empty-body" in case.operation.definition.raw and empty


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(
    max_examples=20,
    derandomize=True,  # seeded: the same requests on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_requests_get_documented_answers(case, server):
    """Generated requests (valid and invalid) get documented statuses and bodies, no 5xx."""
    try:
        response = case.call(base_url=server.admin_url, allow_redirects=False)
    except requests.ConnectionError:
        if _crash_allowed(case):
            return
        raise
    # A 403 would mean Caddy's Host rule refused the request, not that the route answered.
    assert response.status_code != 403, response.text
    case.validate_response(response, checks=CHECKS)
