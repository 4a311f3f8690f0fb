"""Events: transactional DPI (``http.request``, ``dns.response``, …) and flow events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import _core

#: Every event name, from the compiled registry (``netsonde protocols --events`` lists them).
EVENTS: tuple[str, ...] = tuple(name for name, _doc, _attrs in _core.registry()[3])


@dataclass(frozen=True)
class Event:
    """One event: its name, the flow it belongs to, when, and the attributes it carries."""

    name: str
    flow_id: int
    ts_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def timestamp(self) -> float:
        """Seconds since the Unix epoch."""
        return self.ts_ns / 1e9

    @classmethod
    def from_core(cls, raw: dict[str, Any]) -> Event:
        return cls(raw["name"], raw["flow_id"], raw["ts_ns"], dict(raw["attributes"]))
