"""The fake's surfaces stay in step with the endpoint table and the SDK."""

from __future__ import annotations

from frankenws._endpoints import ENDPOINTS
from frankenws.testing._routes import ROUTES


def test_route_registry_covers_exactly_the_endpoints():
    """Every endpoint has one handler, named after it, and there is no other handler."""
    assert set(ROUTES) == {endpoint.name for endpoint in ENDPOINTS}
    assert all(handler.__name__ == name for name, handler in ROUTES.items())
