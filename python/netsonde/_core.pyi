"""Type stubs for the compiled module ``netsonde._core`` (checked by mypy.stubtest)."""

from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any, final

from netsonde.flow import Flow

__all__ = [
    "DEFRAG_POLICIES",
    "FIELDS",
    "FIELD_NAMES",
    "TCP_POLICIES",
    "CaptureFormatError",
    "EngineConfig",
    "FileAnalysis",
    "LiveAnalysis",
    "NetsondeError",
    "PacketEngine",
    "__version__",
    "analyze_to_file",
    "capture_to_file",
    "is_capture",
    "link_type_number",
    "registry",
]

__version__: str
FIELD_NAMES: list[str]
#: Each field's name, column type (uint8, uint16, uint64, int64, text, optional_text, json,
#: text_list) and description, in output order.
FIELDS: list[tuple[str, str, str]]
TCP_POLICIES: list[str]
DEFRAG_POLICIES: list[str]

class NetsondeError(Exception): ...
class CaptureFormatError(NetsondeError): ...

_Path = str | PathLike[str]
_Progress = Callable[[int, int], object]
#: One column in Arrow's layout: the validity bitmap (None: no nulls) and the other buffers.
_Column = tuple[bytes | None, list[bytes]]

@final
class EngineConfig:
    def __new__(
        cls,
        *,
        idle_timeout_ms: int,
        active_timeout_ms: int,
        max_flows: int,
        defrag: bool,
        decode_tunnels: bool,
        signature_packs: Sequence[tuple[str, str]] = ...,
        tcp_policy: str = ...,
        defrag_policy: str = ...,
        workers: int = 1,
    ) -> EngineConfig: ...

@final
class FileAnalysis:
    def __new__(
        cls, paths: Sequence[_Path], config: EngineConfig, record_class: type[Flow]
    ) -> FileAnalysis: ...
    def next_batch(self, min_records: int = 1024, progress: _Progress | None = None) -> list[Flow] | None: ...
    def next_columns(
        self, min_records: int = 65536, progress: _Progress | None = None
    ) -> list[tuple[int, list[_Column]]] | None: ...
    def take_warnings(self) -> list[str]: ...
    def stats(self) -> dict[str, int]: ...

@final
class PacketEngine:
    def __new__(cls, config: EngineConfig, record_class: type[Flow]) -> PacketEngine: ...
    def process(self, packets: Sequence[tuple[int, bytes, int]], link_type: int) -> list[Flow]: ...
    def process_columns(
        self, packets: Sequence[tuple[int, bytes, int]], link_type: int, min_records: int = 65536
    ) -> list[tuple[int, list[_Column]]]: ...
    def flush_columns(self) -> list[tuple[int, list[_Column]]]: ...
    def open_file(self, path: _Path) -> None: ...
    def read_file(self, packets: int) -> tuple[list[Flow], bool, str | None]: ...
    def open_interface(self, interface: str, promiscuous: bool = True, buffer_bytes: int = ...) -> str: ...
    def read_interface(self, max_packets: int, timeout_ms: int) -> tuple[list[Flow], int]: ...
    def close_interface(self) -> None: ...
    def flush(self) -> list[Flow]: ...
    def active_flows(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def subscribe(self, name: str) -> None: ...
    def load_signatures(self, text: str, origin: str) -> int: ...
    def take_events(self) -> list[dict[str, Any]]: ...

@final
class LiveAnalysis:
    def __new__(
        cls,
        interface: str,
        config: EngineConfig,
        record_class: type[Flow],
        promiscuous: bool = True,
        buffer_bytes: int = ...,
        count: int | None = None,
    ) -> LiveAnalysis: ...
    def next_batch(self, timeout_ms: int) -> tuple[list[Flow], BaseException | None]: ...
    def counted_out(self) -> bool: ...
    def stop(self) -> tuple[list[Flow], BaseException | None]: ...
    def stats(self) -> dict[str, int]: ...

def analyze_to_file(
    paths: Sequence[_Path],
    out_path: _Path | None,
    fmt: str,
    config: EngineConfig,
    progress: _Progress | None = None,
) -> tuple[dict[str, int], list[tuple[str, int, int, int]], list[str], int]: ...
def capture_to_file(
    interface: str,
    out_path: _Path | None,
    fmt: str,
    config: EngineConfig,
    duration_s: float | None = None,
    count: int | None = None,
    promiscuous: bool = True,
    buffer_bytes: int = ...,
    started: Callable[[], object] | None = None,
) -> tuple[dict[str, int], list[tuple[str, int, int, int]], int, bool]: ...
def is_capture(path: _Path) -> bool: ...
def registry() -> tuple[
    list[tuple[int, str, str, str]],
    list[tuple[int, str, str]],
    list[tuple[str, str, str, str]],
    list[tuple[str, str, list[str]]],
    list[tuple[str, str]],
]: ...
def link_type_number(name: str) -> int | None: ...
