"""Bulk jobs on ``frankenws.bulk``: plan, show, confirm, run with progress, report.

Each command reads the server, builds a plan (who is affected and why) and returns it
as a :class:`~frankenws_cli._jobs.BulkJob`; showing, confirming, running and reporting
happen in ``_jobs``. ``--dry-run`` stops after the plan.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from frankenws_cli._context import AppContext, context_of
from frankenws_cli._errors import UsageProblem
from frankenws_cli._jobs import KEEP_OUTCOMES, BulkJob
from frankenws_cli._parse import MAX_GRACE_HOURS, duration, non_empty
from frankenws_cli._progress import countdown, spinner

if TYPE_CHECKING:
    from frankenws.bulk import Plan

__all__ = ["register"]

PANEL = "Bulk jobs (plan, confirm, run)"

# Kills are acknowledged before the server has cleaned up; waiting a moment lets the
# report say which connections are really gone (and lets the next command see it).
WAIT_CLOSED_SECONDS = 5.0

ResumeOpt = Annotated[
    Path | None,
    typer.Option(
        "--resume",
        help="Continue the run recorded in this journal; targets already handled are skipped.",
        show_default=False,
        dir_okay=False,
    ),
]
JournalOpt = Annotated[
    Path | None,
    typer.Option(
        "--journal",
        help="Record every target's outcome in this file (default: a file under "
        "$XDG_STATE_HOME/frankenws/journals, kept only if the run is not clean).",
        show_default=False,
        dir_okay=False,
    ),
]

JSON_DOC = """

JSON: {"plan": {"scenario", "summary", "params", "targets": [{"id", "reason"}],
"left_alone": [{"id", "reason"}]}, "report": null or {"job", "ok", "counts",
"started", "finished", "notes", "outcomes"}, "dry_run"}. Exit 1 when a target failed
or the confirmation was refused.
"""


def _planned(obj: AppContext, make: Callable[[], Plan]) -> Plan:
    """Read the server for a plan, with a spinner and a counter on a terminal."""
    from frankenws import bulk

    if not obj.dry_run:
        # An audit log that cannot be written stops the job anyway: say so before
        # a long read of the server, not after it.
        obj.begin_changes()
    with spinner("reading the server") as tick, bulk.planning_progress(tick):
        return make()


def _near(given: str, known: list[str]) -> str | None:
    """A known name close enough to ``given`` to be what the operator meant."""
    close = difflib.get_close_matches(given, known, n=1, cutoff=0.75)
    return close[0] if close and close[0] != given else None


def _route_typo(obj: AppContext, plan: Plan, route: str | None) -> tuple[list[str], bool]:
    """The advice for a route nobody is on that is close to one somebody is on."""
    near = None if plan.targets or route is None else _near(route, obj.client().list_routes())
    if near is None:
        return [], False
    return [f"no connection is on route {route!r}; did you mean {near!r}?"], True


# How much of the server a did-you-mean reads, whatever its size: a few searches, then
# the values of at most this many connections (and one search per name found).
NEAR_VALUE_READS = 20
NEAR_SHOWN = 3
# The regex search is one pattern of about 3n alternatives of n characters.
NEAR_REGEX_MAX_LENGTH = 32
# Go's regexp.QuoteMeta set; any other character stands for itself in RE2.
_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def _near_values(client: Any, key: str, given: str) -> list[str]:
    """Stored values of ``key`` that ``given`` is probably a typo of, closest first.

    The server's searches find the candidates (equal but for case, one edit away,
    containing ``given``), so only a few values are ever read, even among 100,000
    connections."""
    searches = [("ieq", given)]
    if 3 <= len(given) <= NEAR_REGEX_MAX_LENGTH:
        searches.append(("regex", _one_edit_away(given)))
    if len(given) >= 3:
        searches.append(("icontains", given))
    pool: dict[str, None] = {}
    for op, operand in searches:
        pool.update(dict.fromkeys(sorted(client.search_stored_information(key, op, operand))))
    found: list[str] = []
    reads = 0
    while pool and reads < NEAR_VALUE_READS:
        conn = next(iter(pool))
        value = client.get_stored_information(conn, key)
        reads += 1
        pool.pop(conn)
        if value is None:
            continue  # gone or changed since the search
        if value != given:  # ``given`` itself is only held by disconnected ids
            found.append(value)
        # Many connections share a name: drop them all rather than read each one.
        for other in client.search_stored_information(key, "eq", value):
            pool.pop(other, None)
    found.sort(key=lambda v: -difflib.SequenceMatcher(None, v.lower(), given.lower()).ratio())
    return found[:NEAR_SHOWN]


def _one_edit_away(text: str) -> str:
    """An RE2 pattern matching, case aside, ``text`` or any string one edit away from it
    (a character replaced, dropped, added, or two neighbours swapped)."""
    chars = ["\\" + c if c in _RE2_SPECIAL else c for c in text]
    options = set()
    for i in range(len(chars) + 1):
        head, tail = "".join(chars[:i]), chars[i:]
        options.add(head + "." + "".join(tail))  # one added
        if tail:
            options.add(head + ".?" + "".join(tail[1:]))  # one replaced or dropped
        if len(tail) >= 2:
            options.add(head + tail[1] + tail[0] + "".join(tail[2:]))  # two swapped
    return "(?is)^(?:" + "|".join(sorted(options)) + ")$"


def _either(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _job(
    obj: AppContext,
    plan: Plan,
    resume: Path | None,
    journal: Path | None,
    *,
    advice: list[str] | None = None,
    doubtful: bool = False,
) -> BulkJob:
    from frankenws import bulk

    if resume is not None and not resume.exists():
        raise UsageProblem(f"journal {resume} does not exist; nothing to resume")

    def run(
        progress: Any, journal_path: Path | None, resume_path: Path | None, on_outcome: Any
    ) -> Any:
        return bulk.run(
            obj.client(),
            plan,
            concurrency=obj.concurrency,
            progress=progress,
            journal=journal_path,
            resume=resume_path,
            on_outcome=on_outcome,
            keep_outcomes=KEEP_OUTCOMES,
            wait_closed=True,
            timeout=WAIT_CLOSED_SECONDS,
            sleep=lambda seconds: countdown(seconds, progress),
        )

    return BulkJob(
        plan, run, resume=resume, journal=journal, advice=advice or [], doubtful=doubtful
    )


def disconnect_user(
    ctx: typer.Context,
    username: Annotated[
        str, typer.Argument(metavar="USERNAME", help="The user name.", show_default=False)
    ],
    key: Annotated[str, typer.Option(help="Stored key holding the user name.")] = "username",
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Disconnect every connection of a user (stored KEY equals USERNAME).

    A USERNAME that no connection has, but close to stored names (another case, one
    edit away), gets a did-you-mean and the run exits 1 instead of "nothing to do".
    """
    from frankenws import bulk

    obj = context_of(ctx)
    non_empty(username=username, key=key)
    plan = _planned(obj, lambda: bulk.plan_disconnect_user(obj.client(), username, key=key))
    if plan.targets:
        return _job(obj, plan, resume, journal)
    near = _near_values(obj.client(), key, username)
    advice = f"no connection has {key} {username!r}"
    if near:
        advice += f"; did you mean {_either(near)}?"
    return _job(obj, plan, resume, journal, advice=[advice], doubtful=bool(near))


def maintenance(
    ctx: typer.Context,
    message: Annotated[
        str, typer.Option("--message", "-m", help="Text of the warning sent first.")
    ] = "Scheduled maintenance: please reconnect in a few minutes.",
    grace: Annotated[
        str, typer.Option(help="Time between the warning and the disconnection, e.g. 5s, 1m.")
    ] = "5s",
    route: Annotated[
        str | None, typer.Option("--route", "-r", help="Only connections on this route.")
    ] = None,
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Warn everyone (or a route), wait --grace, then disconnect them.

    The warning is a JSON message {"type": "maintenance_warning", "message",
    "timestamp", "grace_seconds"}; connections that arrive during the grace period are
    disconnected too.
    """
    from frankenws import bulk

    obj = context_of(ctx)
    seconds = duration(grace, "--grace", allow_zero=True, max_days=MAX_GRACE_HOURS / 24)
    plan = _planned(
        obj, lambda: bulk.plan_maintenance(obj.client(), message, grace=seconds, route=route)
    )
    advice, doubtful = _route_typo(obj, plan, route)
    return _job(obj, plan, resume, journal, advice=advice, doubtful=doubtful)


def cleanup_inactive(
    ctx: typer.Context,
    max_idle: Annotated[
        str, typer.Option(help="Disconnect when idle longer than this, e.g. 30m, 2h.")
    ] = "30m",
    key: Annotated[
        str, typer.Option(help="Stored key holding the last activity (unix time).")
    ] = "lastActivity",
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Disconnect connections whose stored last activity is older than --max-idle.

    Connections without the key, or with a value that is not a unix time, are left
    alone.
    """
    from frankenws import bulk

    obj = context_of(ctx)
    seconds = duration(max_idle, "--max-idle")
    plan = _planned(obj, lambda: bulk.plan_cleanup_inactive(obj.client(), seconds, key=key))
    return _job(obj, plan, resume, journal)


def enforce_limit(
    ctx: typer.Context,
    max_: Annotated[int, typer.Option("--max", help="Connections kept per user.", min=1)] = 3,
    key: Annotated[str, typer.Option(help="Stored key holding the user name.")] = "username",
    order_key: Annotated[
        str | None,
        typer.Option(
            help="Numeric stored key deciding who stays (smallest first, e.g. connectedAt); "
            "default: the smallest ids stay.",
            show_default=False,
        ),
    ] = None,
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Keep at most --max connections per user; disconnect the others."""
    from frankenws import bulk

    obj = context_of(ctx)
    plan = _planned(
        obj,
        lambda: bulk.plan_enforce_connection_limit(
            obj.client(), max_, key=key, order_key=order_key
        ),
    )
    return _job(obj, plan, resume, journal)


def disconnect_route(
    ctx: typer.Context,
    route: Annotated[
        str, typer.Argument(metavar="ROUTE", help="The route, e.g. /chat.", show_default=False)
    ],
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Disconnect every connection on a route."""
    return route_job(context_of(ctx), route, resume, journal)


def route_job(
    obj: AppContext, route: str, resume: Path | None = None, journal: Path | None = None
) -> BulkJob:
    """``disconnect-route``'s work, which the fast path (``_fast``) runs without typer."""
    from frankenws import bulk

    plan = _planned(obj, lambda: bulk.plan_disconnect_route(obj.client(), route))
    advice, doubtful = _route_typo(obj, plan, route)
    return _job(obj, plan, resume, journal, advice=advice, doubtful=doubtful)


def sweep(
    ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(metavar="KEY", help="Stored key, e.g. violationCount.", show_default=False),
    ],
    op: Annotated[
        str,
        typer.Argument(
            metavar="OP",
            help="Search operator, e.g. eq, regex, gte (see 'search').",
            show_default=False,
        ),
    ],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The operand.")] = "",
    notify_tag: Annotated[
        str | None,
        typer.Option(
            help="After each disconnection, alert the connections with this tag "
            '({"type": "user_disconnected", "who", "connection", "reason"}).',
            show_default=False,
        ),
    ] = None,
    resume: ResumeOpt = None,
    journal: JournalOpt = None,
) -> BulkJob:
    """Disconnect connections whose stored KEY matches OP VALUE (security sweeps),
    e.g. sweep violationCount gte 3 --notify-tag admin.

    With eq or ieq, a VALUE that nobody has but close to stored ones gets a
    did-you-mean and the run exits 1, as in disconnect-user.
    """
    from frankenws import bulk

    obj = context_of(ctx)
    client = obj.client()
    plan = _planned(
        obj, lambda: bulk.plan_disconnect_matching(client, key, op, value, notify_tag=notify_tag)
    )
    advice = []
    typo: list[str] = []
    if not plan.targets and op in ("eq", "ieq") and value:
        # Selecting by one stored value (a user name): a near miss is likely a typo.
        typo = _near_values(client, key, value)
        if typo:
            advice.append(f"no connection has {key} {value!r}; did you mean {_either(typo)}?")
    if notify_tag is not None and client.get_tag_count(notify_tag) == 0:
        near = _near(notify_tag, client.get_tags())
        advice.append(
            f"no connection holds tag {notify_tag!r}: the alerts would reach nobody"
            + (f"; did you mean {near!r}?" if near else "")
        )
    return _job(obj, plan, resume, journal, advice=advice, doubtful=bool(typo))


def register(app: typer.Typer) -> None:
    for name, fn in (
        ("disconnect-user", disconnect_user),
        ("maintenance", maintenance),
        ("cleanup-inactive", cleanup_inactive),
        ("enforce-limit", enforce_limit),
        ("disconnect-route", disconnect_route),
        ("sweep", sweep),
    ):
        fn.__doc__ = (fn.__doc__ or "").rstrip() + JSON_DOC
        app.command(name, rich_help_panel=PANEL)(fn)
