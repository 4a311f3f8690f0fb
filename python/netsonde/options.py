"""Engine options: one declaration, validated with messages a person can act on."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from . import _core


@dataclass(frozen=True)
class Options:
    """What an engine can be told. Times are in seconds.

    idle_timeout: a flow with no packet for this long ends (``expiration="idle"``).
    active_timeout: a flow that has lasted this long ends; later packets start a new one.
    max_flows: flows held at once; beyond it a flow is evicted — a closed TCP connection if
        there is one, else the least recently seen flow — and its record is still produced
        (``expiration="eviction"``).
    defrag: reassemble IPv4/IPv6 fragments (bounded memory); when off, first fragments
        count for their flow and later ones are counted as unassembled.
    decode_tunnels: decapsulate GRE, GTP-U, VXLAN, Geneve, Teredo, IP-in-IP, CAPWAP, TZSP,
        L2TP; when off the outer flow is the flow.
    signatures: paths of signature packs (TOML) added to the built-in one.
    tcp_policy: which copy of overlapping TCP bytes counts, as the receiving host's stack
        decides (Suricata's names: first, last, bsd, linux, old-linux, windows, solaris,
        hpux10, hpux11, irix, macos, vista, windows2k3). Default bsd.
    defrag_policy: the same for overlapping IP fragments (first, last, bsd, bsd-right, linux,
        windows, solaris). Default bsd.
    workers: threads analysing capture files: with more than 1, the workers read the
        captures in turns and each processes the packets whose innermost address pair it
        owns, with its own flow table and its share of ``max_flows`` (the records are the
        same; their order and ids differ). Packets handed in from Python are analysed on one
        thread.
    """

    idle_timeout: float = 600.0
    active_timeout: float = 3600.0
    max_flows: int = 4_000_000
    defrag: bool = True
    decode_tunnels: bool = True
    signatures: tuple[str, ...] = ()
    tcp_policy: str = "bsd"
    defrag_policy: str = "bsd"
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "active_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number of seconds, not {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if isinstance(self.max_flows, bool) or not isinstance(self.max_flows, int):
            raise ValueError(f"max_flows must be a whole number, not {self.max_flows!r}")
        if self.max_flows < 1:
            raise ValueError(f"max_flows must be at least 1, not {self.max_flows}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int):
            raise ValueError(f"workers must be a whole number, not {self.workers!r}")
        if not 1 <= self.workers <= 256:
            raise ValueError(f"workers must be between 1 and 256, not {self.workers}")
        if isinstance(self.signatures, (str, bytes)) or not all(isinstance(p, str) for p in self.signatures):
            raise ValueError("signatures must be a sequence of paths of signature packs")
        object.__setattr__(self, "signatures", tuple(self.signatures))
        for name in ("defrag", "decode_tunnels"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        for name, known in (("tcp_policy", _core.TCP_POLICIES), ("defrag_policy", _core.DEFRAG_POLICIES)):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in known:
                raise ValueError(f"{name} must be one of {', '.join(known)}, not {value!r}")

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> Options:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"known options: {', '.join(sorted(known))}"
            )
        return cls(**kwargs)

    def to_core(self) -> _core.EngineConfig:
        """The options as the compiled module takes them."""
        return _core.EngineConfig(
            idle_timeout_ms=round(self.idle_timeout * 1000),
            active_timeout_ms=round(self.active_timeout * 1000),
            max_flows=self.max_flows,
            defrag=self.defrag,
            decode_tunnels=self.decode_tunnels,
            signature_packs=[(path, read_pack(path)) for path in self.signatures],
            tcp_policy=self.tcp_policy,
            defrag_policy=self.defrag_policy,
            workers=self.workers,
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
