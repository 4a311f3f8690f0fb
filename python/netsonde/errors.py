"""netsonde's exceptions and warnings."""

from ._core import CaptureFormatError, NetsondeError


class TruncatedCaptureWarning(UserWarning):
    """A capture ends inside a record; every packet before the damage was read."""


__all__ = ["CaptureFormatError", "NetsondeError", "TruncatedCaptureWarning"]
