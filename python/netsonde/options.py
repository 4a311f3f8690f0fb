"""Engine options: one declaration, validated with messages a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from . import _config, _core


@dataclass(frozen=True)
class Options:
    """What an engine can be told. Times are in seconds.

    idle_timeout: a flow with no packet for this long ends (``expiration="idle"``; a TCP
        connection that has closed ends 30 s after its last packet, or after this if
        shorter, with ``expiration="end"``). Time is the capture's clock, the latest
        timestamp read so far: a packet stamped earlier than frames before it (captures
        merged from two interfaces) counts as seen then. A live capture's clock also moves
        on while no packet comes.
    active_timeout: a flow that has lasted this long ends; later packets start a new one.
    max_flows: flows held at once; beyond it a flow is evicted — a closed TCP connection if
        there is one, else the least recently seen flow — and its record is still produced
        (``expiration="eviction"``).
    defrag: reassemble IPv4/IPv6 fragments (bounded memory); when off, first fragments
        count for their flow and later ones are counted as unassembled.
    decode_tunnels: decapsulate GRE (also over UDP), GTP-U, VXLAN, Geneve, Teredo, AYIYA,
        IP-in-IP, CAPWAP, TZSP, L2TP; when off the outer flow is the flow.
    signatures: paths of signature packs (TOML) added to the built-in one.
    tcp_policy: which copy of overlapping TCP bytes counts, as the receiving host's stack
        decides (Suricata's names: first, last, bsd, linux, old-linux, windows, solaris,
        hpux10, hpux11, irix, macos, vista, windows2k3). Default bsd.
    defrag_policy: the same for overlapping IP fragments (first, last, bsd, bsd-right, linux,
        windows, solaris). Default bsd.
    workers: threads analysing capture files: with more than 1, the workers read the
        captures in turns and each processes the packets whose innermost address pair it
        owns, with its own flow table and its share of ``max_flows`` and of the memory
        bounds for reassembly (the records are the same; their order and ids differ).
        A live capture (``netsonde.live``, ``netsonde analyze -i``) on N threads has N
        sockets, over which the kernel spreads the frames by a symmetric hash of their flow
        (reassembling IP fragments first). Packets handed in from Python, and
        ``Engine.capture``, are analysed on one thread.
    """

    idle_timeout: float = _config.IDLE_TIMEOUT
    active_timeout: float = _config.ACTIVE_TIMEOUT
    max_flows: int = _config.MAX_FLOWS
    defrag: bool = True
    decode_tunnels: bool = True
    signatures: tuple[str, ...] = ()
    tcp_policy: str = _config.TCP_POLICY
    defrag_policy: str = _config.DEFRAG_POLICY
    workers: int = _config.WORKERS

    def __post_init__(self) -> None:
        _config.check(self)
        object.__setattr__(self, "signatures", tuple(self.signatures))

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
        return _config.to_core(self)
