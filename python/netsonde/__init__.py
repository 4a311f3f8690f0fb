"""netsonde: deep packet inspection for Python with a Rust core.

import netsonde
for flow in netsonde.analyze("capture.pcap"):
    print(flow.src_ip, flow.dst_ip, flow.application_name, flow.bidirectional_bytes)
"""

from ._core import __version__
from .api import Analysis, Engine, analyze
from .errors import CaptureFormatError, NetsondeError, TruncatedCaptureWarning
from .events import EVENTS, Event
from .flow import FIELD_NAMES, Flow
from .options import Options

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
    "analyze",
]
