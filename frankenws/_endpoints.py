"""The admin API as one declarative table.

Every one of the 41 routes that the FrankenPHP WebSocket extension registers under
``/frankenphp_ws/`` is listed here exactly once. The SDK builds its requests from this
table and the fake server routes incoming requests with the same table, so the two
cannot drift apart.

``double`` marks the four routes whose handlers decode their path parameters a second
time with form rules (PROTOCOL.md §3.1); the SDK has to encode their values twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ENDPOINTS", "PREFIX", "Endpoint", "by_name"]

PREFIX = "/frankenphp_ws/"

_PARAM = re.compile(r"^\{([A-Za-z]+)\}$")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One admin route. Strictly private."""

    name: str
    """The SDK method name (snake_case of the PHP function, or of the route)."""
    method: str
    template: str
    double: bool = False
    segments: tuple[str, ...] = field(init=False)
    """The template split at ``/`` (without the leading empty segment)."""
    params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        segments = tuple(self.template.split("/")[1:])
        params = tuple(m.group(1) for s in segments if (m := _PARAM.match(s)))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "params", params)

    @property
    def route_key(self) -> str:
        """The path without the prefix and parameters, e.g. ``global/set``."""
        literal = [s for s in self.segments[1:] if not _PARAM.match(s)]
        return "/".join(literal)


def _e(name: str, method: str, template: str, *, double: bool = False) -> Endpoint:
    return Endpoint(name, method, PREFIX.rstrip("/") + template, double)


# Order follows PROTOCOL.md §1 (the "#" column).
ENDPOINTS: tuple[Endpoint, ...] = (
    _e("get_clients", "GET", "/getClients"),
    _e("send", "POST", "/send/{clientID}"),
    _e("tag_client", "POST", "/tag/{clientID}"),
    _e("untag_client", "DELETE", "/untag/{clientID}/{tag}"),
    _e("clear_tag_client", "DELETE", "/clearTags/{clientID}"),
    _e("get_client_tags", "GET", "/getTags/{clientID}"),
    _e("get_clients_by_tag", "GET", "/getClientsByTag/{tag}"),
    _e("get_tags", "GET", "/getAllTags"),
    _e("send_to_tag", "POST", "/sendToTag/{tag}"),
    _e("set_stored_information", "POST", "/setStoredInformation/{clientID}/{key}"),
    _e("global_set", "POST", "/global/set/{key}"),
    _e("global_get", "GET", "/global/get/{key}"),
    _e("global_has", "GET", "/global/has/{key}"),
    _e("global_delete", "DELETE", "/global/delete/{key}"),
    _e("get_stored_information", "GET", "/getStoredInformation/{clientID}/{key}"),
    _e("delete_stored_information", "DELETE", "/deleteStoredInformation/{clientID}/{key}"),
    _e("clear_stored_information", "DELETE", "/clearStoredInformation/{clientID}"),
    _e("has_stored_information", "GET", "/hasStoredInformation/{clientID}/{key}"),
    _e("list_stored_information_keys", "GET", "/listStoredInformationKeys/{clientID}"),
    _e("get_all_stored_information", "GET", "/getAllStoredInformation/{clientID}"),
    _e("enable_ping", "POST", "/enablePing/{clientID}"),
    _e("disable_ping", "POST", "/disablePing/{clientID}"),
    _e("get_client_ping_time", "GET", "/getClientPingTime/{clientID}"),
    _e("enable_queue_counter", "POST", "/enableQueueCounter/{clientID}"),
    _e("disable_queue_counter", "POST", "/disableQueueCounter/{clientID}"),
    _e("get_client_message_counter", "GET", "/getClientMessageCounter/{clientID}"),
    _e("get_client_message_queue", "GET", "/getClientMessageQueue/{clientID}"),
    _e("clear_client_message_queue", "POST", "/clearClientMessageQueue/{clientID}"),
    _e("kill_connection", "POST", "/killConnection/{clientID}"),
    _e("send_all", "POST", "/sendAll"),
    _e("get_clients_count", "GET", "/getClientsCount"),
    _e("get_tag_count", "GET", "/getTagCount/{tag}"),
    _e("search_stored_information", "GET", "/searchStoredInformation"),
    _e("send_to_tag_expression", "POST", "/sendToTagExpression/{expression}", double=True),
    _e(
        "get_clients_by_tag_expression",
        "GET",
        "/getClientsByTagExpression/{expression}",
        double=True,
    ),
    _e("list_routes", "GET", "/getAllRoutes"),
    _e("get_clients_by_route", "GET", "/getClientsByRoute/{route}", double=True),
    _e("rename_connection", "POST", "/renameConnection/{currentId}/{newId}", double=True),
    _e("activate_ghost", "POST", "/activateGhost/{clientID}"),
    _e("release_ghost", "POST", "/releaseGhost/{clientID}"),
    _e("is_ghost", "GET", "/isGhost/{clientID}"),
)

_BY_NAME = {e.name: e for e in ENDPOINTS}


def by_name(name: str) -> Endpoint:
    """The endpoint whose SDK method is ``name``."""
    return _BY_NAME[name]
