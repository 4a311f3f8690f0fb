"""The flow record as a Python object."""

from __future__ import annotations

from typing import Any

from . import _core

# The record's fields are declared once, in the Rust core (`record::FIELDS`); the
# annotations below give them types for users and mypy, and a test checks both agree.
FIELD_NAMES: tuple[str, ...] = tuple(_core.FIELD_NAMES)


class Flow:
    """One bidirectional flow, as it ended.

    ``src`` is the client (the initiator: the SYN sender, else the side not on a service
    port, else the first sender). Bytes are link-layer frame lengths on the wire.
    ``to_dict()`` returns exactly the JSON Lines record.
    """

    __slots__ = FIELD_NAMES

    id: int
    expiration: str
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    protocol: int
    ip_version: int
    vlan_id: int
    tunnel_id: int
    bidirectional_first_seen_ms: int
    bidirectional_last_seen_ms: int
    bidirectional_duration_ms: int
    bidirectional_packets: int
    bidirectional_bytes: int
    src2dst_packets: int
    src2dst_bytes: int
    dst2src_packets: int
    dst2src_bytes: int
    src2dst_tcp_flags: str
    dst2src_tcp_flags: str
    application_name: str
    application_category_name: str
    application_confidence: str
    requested_server_name: str | None
    user_agent: str | None
    content_type: str | None
    client_fingerprint: str | None
    server_fingerprint: str | None
    metadata: dict[str, Any]
    risks: list[str]
    tunnel: str

    def __init__(self, record: dict[str, Any]) -> None:
        for name in FIELD_NAMES:
            object.__setattr__(self, name, record[name])

    def to_dict(self) -> dict[str, Any]:
        """The flow record, with the same keys and values as its JSON line."""
        out = {name: getattr(self, name) for name in FIELD_NAMES}
        out["metadata"] = dict(self.metadata)
        out["risks"] = list(self.risks)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Flow) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Flow(id={self.id}, {self.src_ip}:{self.src_port} -> {self.dst_ip}:{self.dst_port} "
            f"proto={self.protocol}, application_name={self.application_name!r}, "
            f"packets={self.bidirectional_packets}, bytes={self.bidirectional_bytes}, "
            f"expiration={self.expiration!r})"
        )
