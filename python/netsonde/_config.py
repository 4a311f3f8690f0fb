"""Engine settings: their defaults, their checks and their form for the compiled module.

`Options` (the API's frozen dataclass) and the command line share this module. The command
line uses it directly: importing dataclasses (and typing, which it imports) took about a
fifth of its start-up.
"""

from __future__ import annotations

import math

from . import _core

# typing is not imported at run time, for the same reason.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol

    class Settings(Protocol):
        """What `check` and `to_core` read: an `Options`, or the command line's arguments."""

        @property
        def idle_timeout(self) -> float: ...
        @property
        def active_timeout(self) -> float: ...
        @property
        def max_flows(self) -> int: ...
        @property
        def defrag(self) -> bool: ...
        @property
        def decode_tunnels(self) -> bool: ...
        @property
        def signatures(self) -> Sequence[str]: ...
        @property
        def tcp_policy(self) -> str: ...
        @property
        def defrag_policy(self) -> str: ...
        @property
        def workers(self) -> int: ...


IDLE_TIMEOUT = 600.0
ACTIVE_TIMEOUT = 3600.0
MAX_FLOWS = 4_000_000
TCP_POLICY = "bsd"
DEFRAG_POLICY = "bsd"
WORKERS = 1
MAX_WORKERS = 256


def check(s: Settings) -> None:
    """Raises ValueError, with a message a person can act on, for a setting out of range."""
    for name, value in (("idle_timeout", s.idle_timeout), ("active_timeout", s.active_timeout)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number of seconds, not {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    if isinstance(s.max_flows, bool) or not isinstance(s.max_flows, int):
        raise ValueError(f"max_flows must be a whole number, not {s.max_flows!r}")
    if s.max_flows < 1:
        raise ValueError(f"max_flows must be at least 1, not {s.max_flows}")
    if isinstance(s.workers, bool) or not isinstance(s.workers, int):
        raise ValueError(f"workers must be a whole number, not {s.workers!r}")
    if not 1 <= s.workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {s.workers}")
    if isinstance(s.signatures, (str, bytes)) or not all(isinstance(p, str) for p in s.signatures):
        raise ValueError("signatures must be a sequence of paths of signature packs")
    for name, flag in (("defrag", s.defrag), ("decode_tunnels", s.decode_tunnels)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False, not {flag!r}")
    for name, policy, known in (
        ("tcp_policy", s.tcp_policy, _core.TCP_POLICIES),
        ("defrag_policy", s.defrag_policy, _core.DEFRAG_POLICIES),
    ):
        if not isinstance(policy, str) or policy not in known:
            raise ValueError(f"{name} must be one of {', '.join(known)}, not {policy!r}")


def to_core(s: Settings) -> _core.EngineConfig:
    """The settings as the compiled module takes them (the signature packs read)."""
    return _core.EngineConfig(
        idle_timeout_ms=round(s.idle_timeout * 1000),
        active_timeout_ms=round(s.active_timeout * 1000),
        max_flows=s.max_flows,
        defrag=s.defrag,
        decode_tunnels=s.decode_tunnels,
        signature_packs=[(path, read_pack(path)) for path in s.signatures],
        tcp_policy=s.tcp_policy,
        defrag_policy=s.defrag_policy,
        workers=s.workers,
    )


def read_pack(path: str) -> str:
    """A signature pack's text; a missing or unreadable file is a clear error."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such signature pack") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read signature pack: {e}") from None
