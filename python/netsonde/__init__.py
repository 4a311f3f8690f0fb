"""netsonde: deep packet inspection for Python with a Rust core.

import netsonde
for flow in netsonde.analyze("capture.pcap"):
    print(flow.src_ip, flow.dst_ip, flow.application_name, flow.bidirectional_bytes)
"""

from __future__ import annotations

from importlib import import_module

from ._core import __version__
from .errors import CaptureFormatError, NetsondeError, TruncatedCaptureWarning

# typing is not imported at run time: the command line starts faster without it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .api import Analysis, Engine, analyze, live
    from .arrow import add_attribute_columns, record_batches, to_arrow, to_pandas, write_parquet
    from .events import EVENTS, Event
    from .flow import FIELD_NAMES, Flow
    from .options import Options

# The Python API loads on first use, so that the command line starts quickly.
_LAZY = {
    "Analysis": "api",
    "Engine": "api",
    "analyze": "api",
    "live": "api",
    "add_attribute_columns": "arrow",
    "record_batches": "arrow",
    "to_arrow": "arrow",
    "to_pandas": "arrow",
    "write_parquet": "arrow",
    "EVENTS": "events",
    "Event": "events",
    "FIELD_NAMES": "flow",
    "Flow": "flow",
    "Options": "options",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "EVENTS",
    "FIELD_NAMES",
    "Analysis",
    "CaptureFormatError",
    "Engine",
    "Event",
    "Flow",
    "NetsondeError",
    "Options",
    "TruncatedCaptureWarning",
    "__version__",
    "add_attribute_columns",
    "analyze",
    "live",
    "record_batches",
    "to_arrow",
    "to_pandas",
    "write_parquet",
]
