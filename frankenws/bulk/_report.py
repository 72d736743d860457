"""The results of bulk jobs: one :class:`Outcome` per target and step, in a :class:`BulkReport`.

Kept free of the engine (no asyncio, no HTTP) so that code which only builds or reads a
report, such as the CLI's quick ``kill`` of a few ids, can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["BulkReport", "Outcome"]

STATUSES = ("done", "not_found", "failed", "skipped", "uncertain", "not_attempted")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target in one step of a bulk job.

    Args:
        target: The connection id.
        action: The step: ``"kill"``, ``"send"``, ``"warn"``, ``"notify"``.
        status: ``"done"``; ``"not_found"`` (the server did not know the id, e.g. it was
            already gone); ``"failed"`` (an error, see ``error``); ``"skipped"`` (already
            handled by the run recorded in the resumed journal); ``"uncertain"`` (a send
            left but its answer never came — a timeout, a dropped connection, or an
            interrupted run — so it may have been delivered; never sent again);
            ``"not_attempted"`` (the job stopped first, e.g. the server went away;
            a resume does it).
        error: The error message for ``failed``, ``uncertain`` and ``not_attempted``.
        node: For a job on a ``Cluster``: the node that holds the target (``None`` on a
            single server, or when no node that answered holds it).
    """

    target: str
    action: str
    status: str
    error: str | None = None
    node: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"target": self.target, "action": self.action, "status": self.status}
        if self.error is not None:
            data["error"] = self.error
        if self.node is not None:
            data["node"] = self.node
        return data


@dataclass(slots=True)
class BulkReport:
    """The result of every bulk call: one :class:`Outcome` per target and step."""

    job: str
    outcomes: list[Outcome] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished: datetime | None = None
    notes: list[str] = field(default_factory=list)
    """Facts worth telling the operator (ids still listed after waiting, ...)."""
    sender: str | None = None
    """What carried the job's requests: ``"http1"`` (the engine's own keep-alive HTTP/1.1
    connections, used with every client's default transport), ``"httpx-threads"`` (a
    ``Client``'s own transport in a thread pool) or ``"httpx-async"`` (an ``AsyncClient``'s
    own transport). For diagnostics; not part of :meth:`to_dict`."""
    node_errors: dict[str, str] = field(default_factory=dict)
    """For a job on a ``Cluster``: node name -> why it could not be asked who it holds.
    Its targets are ``failed`` (or sent where the plan or journal placed them), and
    :attr:`ok` is false: a node that did not answer may hold connections nobody saw."""
    stopped: str | None = None
    """Why the job stopped before every target was tried (the rest is ``not_attempted``),
    e.g. the server stopped answering; ``None`` when it went through."""
    keep: int | None = None
    """At most this many outcomes per step and status are kept in :attr:`outcomes`
    (``keep_outcomes=`` of the bulk functions); ``None``: every outcome is kept."""
    omitted: dict[tuple[str, str, str | None], int] = field(default_factory=dict)
    """Outcomes counted but not kept in :attr:`outcomes` (past :attr:`keep`), per
    ``(action, status, node)``. :meth:`counts`, :meth:`counts_by_node`, :attr:`ok` and
    :meth:`summary` include them; :attr:`outcomes` and :meth:`by_status` list only the
    kept ones, and the journal has every target."""
    _kept: dict[tuple[str, str], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def add(self, outcome: Outcome) -> None:
        """Record one outcome: kept in :attr:`outcomes`, or counted in :attr:`omitted`."""
        keep = self.keep
        if keep is None:
            self.outcomes.append(outcome)
            return
        key = (outcome.action, outcome.status)
        kept = self._kept.get(key, 0)
        if kept < keep:
            self._kept[key] = kept + 1
            self.outcomes.append(outcome)
        else:
            counted = (outcome.action, outcome.status, outcome.node)
            self.omitted[counted] = self.omitted.get(counted, 0) + 1

    def by_status(self, status: str, action: str | None = None) -> list[str]:
        """Targets with this status (optionally only for one step)."""
        return [
            o.target
            for o in self.outcomes
            if o.status == status and (action is None or o.action == action)
        ]

    @property
    def done(self) -> list[str]:
        return self.by_status("done")

    @property
    def not_found(self) -> list[str]:
        return self.by_status("not_found")

    @property
    def failed(self) -> list[str]:
        return self.by_status("failed")

    @property
    def skipped(self) -> list[str]:
        return self.by_status("skipped")

    @property
    def uncertain(self) -> list[str]:
        return self.by_status("uncertain")

    @property
    def not_attempted(self) -> list[str]:
        return self.by_status("not_attempted")

    @property
    def ok(self) -> bool:
        """True when nothing failed, nothing is uncertain, every target was tried and
        every node answered."""
        bad = ("failed", "uncertain", "not_attempted")
        return (
            self.stopped is None
            and not self.node_errors
            and not any(o.status in bad for o in self.outcomes)
            and not any(status in bad for _, status, _ in self.omitted)
        )

    def counts(self, action: str | None = None) -> dict[str, int]:
        result = dict.fromkeys(STATUSES, 0)
        for o in self.outcomes:
            if action is None or o.action == action:
                result[o.status] += 1
        for (done_by, status, _), count in self.omitted.items():
            if action is None or done_by == action:
                result[status] += count
        return result

    def counts_by_node(self, action: str | None = None) -> dict[str | None, dict[str, int]]:
        """Node -> the counts of its targets (key ``None``: targets held by no known node)."""
        result: dict[str | None, dict[str, int]] = {}
        for o in self.outcomes:
            if action is None or o.action == action:
                counts = result.setdefault(o.node, dict.fromkeys(STATUSES, 0))
                counts[o.status] += 1
        for (done_by, status, node), count in self.omitted.items():
            if action is None or done_by == action:
                counts = result.setdefault(node, dict.fromkeys(STATUSES, 0))
                counts[status] += count
        return result

    def to_dict(self) -> dict[str, Any]:
        extra = {"node_errors": dict(self.node_errors)} if self.node_errors else {}
        return {
            **extra,
            "job": self.job,
            "ok": self.ok,
            "counts": self.counts(),
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "notes": list(self.notes),
            "stopped": self.stopped,
            "outcomes": [o.to_dict() for o in self.outcomes],
            **({"omitted": sum(self.omitted.values())} if self.omitted else {}),
        }

    def summary(self, name: str | None = None) -> str:
        """One line with the counts of every step, each named, as the CLI prints it.

        ``disconnect-user: kill: 3 done, 0 not found, 0 failed``; ``name`` replaces the
        job's name at the start; a report with no outcome says ``nothing to do``.
        """
        steps = [f"{a}: {_line(self.counts(a))}" for a in self._actions()]
        return f"{name or self.job}: " + ("; ".join(steps) or "nothing to do")

    def __str__(self) -> str:
        actions = self._actions()
        if len(actions) <= 1:
            return f"{self.job}: {_line(self.counts())}"
        # Several steps (warn + kill, kill + notify): one total over all of them would
        # count each connection twice, so each step gets its own counts.
        return f"{self.job}: " + "; ".join(f"{a} {_line(self.counts(a))}" for a in actions)

    def _actions(self) -> list[str]:
        actions = dict.fromkeys(o.action for o in self.outcomes)
        actions.update(dict.fromkeys(action for action, _, _ in self.omitted))
        return list(actions)


def _line(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]} {k.replace('_', ' ')}" for k in ("done", "not_found", "failed")]
    parts += [
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("skipped", "uncertain", "not_attempted")
        if counts[k]
    ]
    return ", ".join(parts)


# Reprs, tracebacks and docs show frankenws.bulk.X, the public path, not this module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "frankenws.bulk"
del _name, _obj
