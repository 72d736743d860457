"""Where connection settings come from: options, environment, profiles, defaults.

Each setting is taken from the first of:

1. its command-line option (``--url``, ``--host-header``, ``--cert``, ``--key``,
   ``--ca``, ``--timeout``);
2. the profile named by ``--profile`` on the command line;
3. its environment variable (``FRANKENWS_ADMIN_URL`` then ``CADDY_ADMIN`` for the URL,
   ``FRANKENWS_HOST_HEADER``, ``FRANKENWS_CERT``, ``FRANKENWS_KEY``, ``FRANKENWS_CA``,
   ``FRANKENWS_TIMEOUT``);
4. the profile named by ``FRANKENWS_PROFILE`` or by ``default_profile`` in the file;
5. the built-in default.

A profile typed on the command line beats the environment because it is the more
recent and more specific choice (an exported ``FRANKENWS_ADMIN_URL`` must not redirect
``--profile prod`` elsewhere); a profile chosen implicitly does not.

The file is ``$XDG_CONFIG_HOME/frankenws/config.toml`` (``~/.config/...`` by default)::

    default_profile = "local"

    [profiles.local]
    url = "http://localhost:2019"

    [profiles.prod]
    url = "https://admin.example.net:2019"
    host_header = "localhost:2019"
    cert = "~/.config/frankenws/prod-client.pem"
    key = "~/.config/frankenws/prod-client.key"
    ca = "~/.config/frankenws/prod-ca.pem"
    timeout = 5

    [profiles.fleet]                 # several nodes operated as one (frankenws.Cluster)
    nodes = ["http://10.0.0.5:2019", "http://10.0.0.6:2019"]
    host_header = "localhost:2019"

    [profiles.k8s]                   # the nodes a DNS name lists
    discover = "dns+a://frankenphp-admin.prod.svc.cluster.local:2019"

``--url`` may be repeated (a fleet); ``--discover`` (or a ``discover`` from the
environment or a profile) is used unless ``--url`` was typed.

Strictly private.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._argv import BY_ATTRIBUTE, GLOBAL_OPTIONS
from ._errors import UsageProblem

__all__ = [
    "PROFILE_KEYS",
    "Settings",
    "Source",
    "config_path",
    "profile_names",
    "resolve_settings",
]

PROFILE_KEYS = (*(o.attribute for o in GLOBAL_OPTIONS if o.setting), "nodes")
"""``nodes`` is the list form of ``url`` (a fleet), as a repeated ``--url``."""
DEFAULT_URL = "http://localhost:2019"
DEFAULT_TIMEOUT = 10.0

_TIMEOUT_ENV = BY_ATTRIBUTE["timeout"].env[0]


@dataclass(frozen=True, slots=True)
class Source:
    """A resolved value and where it came from (shown by ``doctor``)."""

    value: Any
    origin: str


@dataclass(frozen=True, slots=True)
class Settings:
    """The connection settings of one invocation."""

    url: Source
    host_header: Source
    cert: Source
    key: Source
    ca: Source
    timeout: Source
    profile: str | None = None
    config_file: Path | None = None
    discover: Source = Source(None, "not set")

    @property
    def urls(self) -> list[str]:
        """Every node's URL (one for a single server)."""
        value = self.url.value
        return list(value) if isinstance(value, (list, tuple)) else [str(value)]

    @property
    def fleet(self) -> bool:
        """More than one node, or nodes from DNS: the CLI talks to a ``Cluster``."""
        return self.discover.value is not None or len(self.urls) > 1


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/frankenws/config.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "frankenws" / "config.toml"


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise UsageProblem(
                f"reading {path} needs the 'tomli' package on Python 3.10",
                "pip install 'frankenws[cli]' installs it",
            ) from None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageProblem(
            f"cannot read the config file {path}: {exc.strerror or exc}",
            "fix its permissions, or move it away to run without profiles",
        ) from None
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageProblem(f"the config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"the config file {path} is not valid TOML: {exc}") from None
    return data


def _did_you_mean(given: str, known: Iterable[str]) -> list[str]:
    """A hint naming the closest known name, if one is close (``host-header``)."""
    import difflib

    candidates = {k.replace("_", "-").lower(): k for k in known}
    close = difflib.get_close_matches(given.replace("_", "-").lower(), candidates, n=1)
    return [f"did you mean {candidates[close[0]]!r} instead of {given!r}?"] if close else []


def _profile(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UsageProblem(f"in {path}, 'profiles' must be a table such as [profiles.prod]")
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise UsageProblem(
            f"unknown profile {name!r} in {path} (known profiles: {known})",
            *_did_you_mean(name, profiles),
            f"add a [profiles.{name}] table to that file",
        )
    profile = profiles[name]
    if not isinstance(profile, dict):
        raise UsageProblem(f"in {path}, profile {name!r} must be a table")
    unknown = sorted(set(profile) - set(PROFILE_KEYS))
    if unknown:
        raise UsageProblem(
            f"in {path}, profile {name!r} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(PROFILE_KEYS)}",
            *(hint for key in unknown for hint in _did_you_mean(key, PROFILE_KEYS)),
        )
    result: dict[str, Any] = {}
    if "nodes" in profile and "url" in profile:
        raise UsageProblem(f"in {path}, profile {name!r}: give either url or nodes, not both")
    for key, value in profile.items():
        if key == "nodes":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v for v in value)
            ):
                raise UsageProblem(
                    f"in {path}, profile {name!r}: nodes must be a non-empty list of URLs, "
                    f"got {value!r}"
                )
            result["url"] = value[0] if len(value) == 1 else list(value)
        elif key == "timeout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise UsageProblem(
                    f"in {path}, profile {name!r}: timeout must be a positive number of "
                    f"seconds, got {value!r}"
                )
            result[key] = float(value)
        elif not isinstance(value, str) or not value:
            raise UsageProblem(
                f"in {path}, profile {name!r}: {key} must be a non-empty string, got {value!r}"
            )
        elif key in ("cert", "key", "ca"):
            # Relative paths in a config file mean "next to the file", not the cwd.
            result[key] = str((path.parent / os.path.expanduser(value)).resolve())
        else:
            result[key] = value
    return result


def profile_names(env: Mapping[str, str] | None = None) -> list[str]:
    """The profiles of the config file (none when there is no file)."""
    path = config_path(env)
    if not path.exists():
        return []
    profiles = _load_toml(path).get("profiles", {})
    return sorted(profiles) if isinstance(profiles, dict) else []


def _env_timeout(env: Mapping[str, str]) -> float | None:
    raw = env.get(_TIMEOUT_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise UsageProblem(f"{_TIMEOUT_ENV}={raw!r} is not a positive number of seconds")
    return value


def resolve_settings(
    options: Mapping[str, Any],
    *,
    profile: str | None,
    profile_explicit: bool,
    env: Mapping[str, str] | None = None,
    read_config: bool = True,
) -> Settings:
    """Combine options, profile and environment (see the module docstring).

    Args:
        options: ``url``, ``host_header``, ``cert``, ``key``, ``ca``, ``timeout`` as
            given on the command line (``None`` when absent).
        profile: ``--profile`` or ``FRANKENWS_PROFILE``.
        profile_explicit: True when the profile was typed on the command line.
        read_config: False ignores the config file (the demo must not depend on it).
    """
    env = os.environ if env is None else env
    path = config_path(env)
    values: dict[str, Any] = {}
    chosen = profile
    file_used: Path | None = None
    if read_config and (chosen is not None or path.exists()):
        if not path.exists():
            raise UsageProblem(
                f"unknown profile {chosen!r}: the config file {path} does not exist",
                f"create it with a [profiles.{chosen}] table (see 'frankenws --help')",
            )
        data = _load_toml(path)
        file_used = path
        if chosen is None:
            default = data.get("default_profile")
            if default is not None and not isinstance(default, str):
                raise UsageProblem(f"in {path}, default_profile must be a string")
            chosen = default
        if chosen is not None:
            values = _profile(path, data, chosen)
    label = f"profile {chosen!r}"

    def pick(key: str) -> Source:
        given = options.get(key)
        if isinstance(given, (list, tuple)):
            # A repeated option; one occurrence is the plain single-server form.
            given = (given[0] if len(given) == 1 else list(given)) if given else None
        if given is not None:
            return Source(given, "--" + key.replace("_", "-"))
        if profile_explicit and key in values:
            return Source(values[key], label)
        for name in BY_ATTRIBUTE[key].env:
            raw = env.get(name, "").strip()
            if raw:
                return Source(_env_timeout(env) if key == "timeout" else raw, name)
        if key in values:
            return Source(values[key], label)
        if key == "url":
            return Source(DEFAULT_URL, "default")
        if key == "timeout":
            return Source(DEFAULT_TIMEOUT, "default")
        return Source(None, "not set")

    url, discover = pick("url"), pick("discover")
    if discover.value is not None and url.origin == "--url":
        if discover.origin == "--discover":
            raise UsageProblem("--url and --discover both name the nodes; give one of them")
        discover = Source(None, f"not used: --url was given ({discover.origin} has one)")
    return Settings(
        url=url,
        discover=discover,
        host_header=pick("host_header"),
        cert=pick("cert"),
        key=pick("key"),
        ca=pick("ca"),
        timeout=pick("timeout"),
        profile=chosen,
        config_file=file_used,
    )
