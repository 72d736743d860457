"""The admin API as one declarative table.

Every one of the 41 routes that the FrankenPHP WebSocket extension registers under
``/frankenphp_ws/`` is listed here exactly once. The SDK builds its requests from this
table and the fake server routes incoming requests with the same table, so the two
cannot drift apart.

``double`` marks the four routes whose handlers decode their path parameters a second
time with form rules (PROTOCOL.md §3.1); the SDK has to encode their values twice.

``combine`` and ``fold`` say how a fleet of nodes answers as one server (``frankenws.Cluster``):

* ``combine`` picks the nodes: ``union``/``sum`` ask every node and merge, ``all`` writes to
  every node (the global store is per node), ``agree`` asks every node and wants one answer,
  ``owner`` goes to the node that holds the connection id named first.
* ``fold`` merges the answers of several nodes. For ``owner`` routes it is used when no node
  holds the id: then every node is asked, as each would answer for an unknown id (orphan
  state, the queue log of a closed connection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["COMBINE_RULES", "ENDPOINTS", "FOLDS", "PREFIX", "Endpoint", "by_name"]

PREFIX = "/frankenphp_ws/"

COMBINE_RULES = ("union", "sum", "owner", "all", "agree")
FOLDS = ("union", "sum", "any", "agree", "none", "first", "merge", "concat", "max")

_PARAM = re.compile(r"^\{([A-Za-z]+)\}$")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One admin route. Strictly private."""

    name: str
    """The SDK method name (snake_case of the PHP function, or of the route)."""
    method: str
    template: str
    double: bool = False
    combine: str = "union"
    """Which nodes of a fleet get the call: one of :data:`COMBINE_RULES`."""
    fold: str = "union"
    """How the answers of several nodes merge: one of :data:`FOLDS`."""
    segments: tuple[str, ...] = field(init=False)
    """The template split at ``/`` (without the leading empty segment)."""
    params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        segments = tuple(self.template.split("/")[1:])
        params = tuple(m.group(1) for s in segments if (m := _PARAM.match(s)))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "params", params)
        if self.combine not in COMBINE_RULES or self.fold not in FOLDS:
            raise ValueError(f"{self.name}: unknown combine/fold {self.combine}/{self.fold}")


def _e(
    name: str,
    method: str,
    template: str,
    combine: str,
    fold: str | None = None,
    *,
    double: bool = False,
) -> Endpoint:
    # union, sum and agree merge with the rule of the same name.
    return Endpoint(name, method, PREFIX.rstrip("/") + template, double, combine, fold or combine)


# Order follows PROTOCOL.md §1 (the "#" column).
ENDPOINTS: tuple[Endpoint, ...] = (
    _e("get_clients", "GET", "/getClients", "union"),
    _e("send", "POST", "/send/{clientID}", "owner", "none"),
    _e("tag_client", "POST", "/tag/{clientID}", "owner", "none"),
    _e("untag_client", "DELETE", "/untag/{clientID}/{tag}", "owner", "none"),
    _e("clear_tag_client", "DELETE", "/clearTags/{clientID}", "owner", "none"),
    _e("get_client_tags", "GET", "/getTags/{clientID}", "owner", "union"),
    _e("get_clients_by_tag", "GET", "/getClientsByTag/{tag}", "union"),
    _e("get_tags", "GET", "/getAllTags", "union"),
    _e("send_to_tag", "POST", "/sendToTag/{tag}", "sum"),
    _e("set_stored_information", "POST", "/setStoredInformation/{clientID}/{key}", "owner", "none"),
    _e("global_set", "POST", "/global/set/{key}", "all", "none"),
    _e("global_get", "GET", "/global/get/{key}", "agree"),
    _e("global_has", "GET", "/global/has/{key}", "agree"),
    _e("global_delete", "DELETE", "/global/delete/{key}", "all", "any"),
    _e("get_stored_information", "GET", "/getStoredInformation/{clientID}/{key}", "owner", "first"),
    _e(
        "delete_stored_information",
        "DELETE",
        "/deleteStoredInformation/{clientID}/{key}",
        "owner",
        "none",
    ),
    _e("clear_stored_information", "DELETE", "/clearStoredInformation/{clientID}", "owner", "none"),
    _e("has_stored_information", "GET", "/hasStoredInformation/{clientID}/{key}", "owner", "any"),
    _e(
        "list_stored_information_keys",
        "GET",
        "/listStoredInformationKeys/{clientID}",
        "owner",
        "union",
    ),
    _e(
        "get_all_stored_information", "GET", "/getAllStoredInformation/{clientID}", "owner", "merge"
    ),
    _e("enable_ping", "POST", "/enablePing/{clientID}", "owner", "any"),
    _e("disable_ping", "POST", "/disablePing/{clientID}", "owner", "any"),
    _e("get_client_ping_time", "GET", "/getClientPingTime/{clientID}", "owner", "max"),
    _e("enable_queue_counter", "POST", "/enableQueueCounter/{clientID}", "owner", "any"),
    _e("disable_queue_counter", "POST", "/disableQueueCounter/{clientID}", "owner", "any"),
    _e("get_client_message_counter", "GET", "/getClientMessageCounter/{clientID}", "owner", "sum"),
    _e("get_client_message_queue", "GET", "/getClientMessageQueue/{clientID}", "owner", "concat"),
    _e("clear_client_message_queue", "POST", "/clearClientMessageQueue/{clientID}", "owner", "any"),
    _e("kill_connection", "POST", "/killConnection/{clientID}", "owner", "any"),
    _e("send_all", "POST", "/sendAll", "sum"),
    _e("get_clients_count", "GET", "/getClientsCount", "sum"),
    _e("get_tag_count", "GET", "/getTagCount/{tag}", "sum"),
    _e("search_stored_information", "GET", "/searchStoredInformation", "union"),
    _e("send_to_tag_expression", "POST", "/sendToTagExpression/{expression}", "sum", double=True),
    _e(
        "get_clients_by_tag_expression",
        "GET",
        "/getClientsByTagExpression/{expression}",
        "union",
        double=True,
    ),
    _e("list_routes", "GET", "/getAllRoutes", "union"),
    _e("get_clients_by_route", "GET", "/getClientsByRoute/{route}", "union", double=True),
    _e(
        "rename_connection",
        "POST",
        "/renameConnection/{currentId}/{newId}",
        "owner",
        "any",
        double=True,
    ),
    _e("activate_ghost", "POST", "/activateGhost/{clientID}", "owner", "any"),
    _e("release_ghost", "POST", "/releaseGhost/{clientID}", "owner", "any"),
    _e("is_ghost", "GET", "/isGhost/{clientID}", "owner", "any"),
)

_BY_NAME = {e.name: e for e in ENDPOINTS}


def by_name(name: str) -> Endpoint:
    """The endpoint whose SDK method is ``name``."""
    return _BY_NAME[name]
