"""The public API: ``analyze()`` for one pass over a source, ``Engine`` for long-lived use."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any, TypeAlias, TypeVar

from . import _core
from ._config import read_pack
from .errors import TruncatedCaptureWarning
from .events import EVENTS, Event
from .flow import Flow
from .options import Options

PathLike: TypeAlias = "str | os.PathLike[str]"
#: A packet handed in from Python: (timestamp in seconds, frame bytes[, wire length]).
PacketTuple: TypeAlias = "tuple[float, bytes] | tuple[float, bytes, int]"
Source: TypeAlias = "PathLike | Sequence[PathLike] | Iterable[PacketTuple]"


_PACKET_BATCH = 4096
#: Bytes of the ring a live capture shares with the kernel.
_CAPTURE_BUFFER = 64 << 20
#: Longest wait for packets before a live capture looks at its clock and at Ctrl-C (ms).
_CAPTURE_WAIT_MS = 100
_Item = TypeVar("_Item")


def _link_type_number(link_type: int | str) -> int:
    if isinstance(link_type, bool):
        raise ValueError(f"link_type must be a name or a number, not {link_type!r}")
    if isinstance(link_type, int):
        if not 0 <= link_type < 2**32:
            raise ValueError(f"link_type {link_type} is out of range")
        return link_type
    number = _core.link_type_number(link_type)
    if number is None:
        raise ValueError(
            f"unknown link type {link_type!r}; use a LINKTYPE_ number or one of "
            "ethernet, raw, ipv4, ipv6, null, loop, ppp, ppp-hdlc, cisco-hdlc, "
            "linux-sll, linux-sll2, ieee802.11, radiotap, ppi"
        )
    return number


def _as_paths(source: Any) -> list[str] | None:
    """The capture paths named by ``source``, or None when it is something else."""
    if isinstance(source, (str, os.PathLike)):
        return [os.fspath(source)]
    if (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(s, (str, os.PathLike)) for s in source)
    ):
        return [os.fspath(s) for s in source]
    return None


def _refuse_bytes(source: object) -> None:
    """Bytes iterate as numbers, never as packets: a source of bytes is a mistake."""
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("source is bytes: pass a path, a list of paths, or an iterable of (timestamp, bytes)")


def _timestamp_ns(ts: object, index: int) -> int:
    """Seconds as int, float or Decimal (scapy's packet times) to integer nanoseconds.

    A float near today's epoch only resolves about 0.2 µs, so floats are rounded to the
    microsecond (what pcap stores) instead of carrying that noise into the milliseconds.
    """
    if isinstance(ts, bool) or not isinstance(ts, (int, float, Decimal)):
        raise TypeError(f"packet {index}: timestamp must be seconds as a number, not {ts!r}")
    if isinstance(ts, int):
        return ts * 1_000_000_000
    if isinstance(ts, Decimal):
        return int(ts * 1_000_000_000)
    return round(ts * 1_000_000) * 1000


def _packet_triples(packets: Iterable[Any]) -> Iterator[list[tuple[int, bytes, int]]]:
    """Batches of (timestamp_ns, frame, wire_len), checked, for the compiled engine."""
    it = iter(packets)
    index = 0
    while True:
        chunk = list(islice(it, _PACKET_BATCH))
        if not chunk:
            return
        batch: list[tuple[int, bytes, int]] = []
        for item in chunk:
            # The common shape first, exact types only, with the general path's result: that
            # path cost more per packet than the engine's analysis of it (1.4 us a packet).
            if type(item) is tuple and len(item) == 2:
                ts, data = item
                if type(data) is bytes:
                    if type(ts) is float:
                        batch.append((round(ts * 1_000_000) * 1000, data, len(data)))
                        index += 1
                        continue
                    if type(ts) is int:
                        batch.append((ts * 1_000_000_000, data, len(data)))
                        index += 1
                        continue
            try:
                ts, data, *rest = item
            except (TypeError, ValueError):
                raise TypeError(
                    f"packet {index} must be a (timestamp, bytes) tuple, not {type(item).__name__}"
                ) from None
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"packet {index}: frame must be bytes, not {type(data).__name__}")
            frame = bytes(data)
            wire_len = int(rest[0]) if rest else len(frame)
            batch.append((_timestamp_ns(ts, index), frame, wire_len))
            index += 1
        yield batch


class Run(Iterator[_Item]):
    """The items of one run over a source, in the order flows end, with ``stats``: the run's
    counters so far (frames, malformed, evicted flows, fragments and everything else dropped
    or given up); read it after the last item for the whole run."""

    def __init__(self, items: Iterator[_Item], stats: Callable[[], dict[str, int]]) -> None:
        self._items = items
        self._stats = stats

    def __iter__(self) -> Run[_Item]:
        return self

    def __next__(self) -> _Item:
        return next(self._items)

    @property
    def stats(self) -> dict[str, int]:
        """Counters of the run so far."""
        return self._stats()


class Analysis(Run[Flow]):
    """The flow records of one :func:`analyze` call, in the order flows end, and the run's
    counters (``stats``)."""


def analyze(source: Source, *, link_type: int | str = "ethernet", **options: Any) -> Analysis:
    """Analyse a source and yield every flow record.

    ``source`` is a capture path (pcap or pcapng), a list of paths read as one capture, or an
    iterable of ``(timestamp, bytes)`` packets of ``link_type``. Options are those of
    :class:`netsonde.Options`. A damaged capture yields every flow read before the damage and
    a :class:`TruncatedCaptureWarning`.
    """
    opts = Options.from_kwargs(options)
    paths = _as_paths(source)
    if paths is not None:
        return _analyze_files(paths, opts)
    _refuse_bytes(source)
    engine = Engine(**{k: getattr(opts, k) for k in options})
    return Analysis(_analyze_packets(engine, source, link_type), lambda: engine.stats)  # type: ignore[arg-type]


def _analyze_files(paths: list[str], opts: Options) -> Analysis:
    # Opening happens here, eagerly, so that a missing file or a non-capture raises at the
    # call rather than at the first next().
    core = _core.FileAnalysis(paths, opts.to_core(), Flow)

    def flows() -> Iterator[Flow]:
        while True:
            batch = core.next_batch(1024)
            for message in core.take_warnings():
                warnings.warn(message, TruncatedCaptureWarning, stacklevel=2)
            if batch is None:
                return
            yield from batch

    return Analysis(flows(), core.stats)


def _analyze_packets(engine: Engine, packets: Iterable[PacketTuple], link_type: int | str) -> Iterator[Flow]:
    yield from engine.process(packets, link_type=link_type)
    yield from engine.flush()


def live(
    interface: str,
    *,
    duration: float | None = None,
    packet_count: int | None = None,
    promiscuous: bool = True,
    buffer_size: int = _CAPTURE_BUFFER,
    **options: Any,
) -> Analysis:
    """Capture on a network interface and yield every flow record as the flow ends.

    Linux, as root or with ``CAP_NET_RAW``; ``interface`` is a name such as ``"eth0"``, or
    ``"any"`` for all of them. The capture runs until ``duration`` seconds have passed,
    ``packet_count`` frames have been read, or Ctrl-C (which ends it as the end of a file
    would: the flows still held are yielded, then the iteration ends); breaking out of the
    loop stops it too. If the interface goes down or away, the flows still held are
    yielded, then the ``OSError`` saying so is raised. Options are those of
    :class:`netsonde.Options`: flows end on its idle and active timeouts whether packets
    come or not, and with ``workers=N`` N threads capture, the kernel spreading the frames
    over them by flow. ``stats`` holds the run's counters and the kernel's:
    ``capture_received``, and ``capture_dropped`` for frames lost because the capture
    buffer (``buffer_size`` bytes in all) was full; while the capture runs they are at most
    half a second old.
    """
    _check_capture(interface, duration, packet_count, buffer_size)
    opts = Options.from_kwargs(options)
    core = _core.LiveAnalysis(interface, opts.to_core(), Flow, promiscuous, buffer_size, packet_count)

    def flows() -> Iterator[Flow]:
        clock = _Deadline(duration)
        error: BaseException | None = None
        try:
            while error is None and not core.counted_out() and not clock.passed():
                batch, error = core.next_batch(clock.wait_ms())
                yield from batch
        except KeyboardInterrupt:
            pass  # Ctrl-C ends a capture as the end of a file ends a read, not the program
        except GeneratorExit:
            core.stop()
            raise
        rest, stopped = core.stop()
        yield from rest
        error = error or stopped
        if error is not None:
            raise error

    return Analysis(flows(), core.stats)


class _Deadline:
    """When a capture of ``duration`` seconds (None: no end) ends, and how long to wait for
    packets before looking at the clock and at Ctrl-C again."""

    def __init__(self, duration: float | None) -> None:
        self.end = None if duration is None else time.monotonic() + duration

    def passed(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def wait_ms(self) -> int:
        if self.end is None:
            return _CAPTURE_WAIT_MS
        return max(0, min(_CAPTURE_WAIT_MS, int((self.end - time.monotonic()) * 1000)))


def _check_capture(interface: object, duration: object, packet_count: object, buffer_size: object) -> None:
    if not isinstance(interface, str) or not interface:
        raise TypeError(f"interface must be an interface name such as 'eth0', not {interface!r}")
    if duration is not None and (
        isinstance(duration, bool)
        or not isinstance(duration, (int, float))
        or not 0 < duration < float("inf")
    ):
        raise ValueError(f"duration must be a positive number of seconds or None, not {duration!r}")
    if packet_count is not None and (
        isinstance(packet_count, bool) or not isinstance(packet_count, int) or packet_count < 1
    ):
        raise ValueError(f"packet_count must be a whole number of at least 1 or None, not {packet_count!r}")
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 2 << 20:
        raise ValueError(f"buffer_size must be a number of bytes of at least 2 MiB, not {buffer_size!r}")


class Engine:
    """A long-lived engine: feed it captures or packets, get flows as they end.

    Instances are independent (no shared state). ``on("flow.end", callback)`` calls
    ``callback(flow)`` for every flow that ends, in addition to returning it; any other event
    of :data:`EVENTS` (``http.request``, ``dns.response``, ``flow.classified``, …) calls
    ``callback(event)`` with an :class:`Event`. Only subscribed events are produced.
    Callbacks run while the input is read, after every 4096 packets, capture files included;
    a callback may use the engine (``stats``, ``active_flows``).
    """

    def __init__(self, **options: Any) -> None:
        self.options = Options.from_kwargs(options)
        self._core = _core.PacketEngine(self.options.to_core(), Flow)
        self._flow_callbacks: list[Callable[[Flow], object]] = []
        self._event_callbacks: dict[str, list[Callable[[Event], object]]] = {}

    def on(self, event: str, callback: Callable[[Any], object]) -> None:
        """Subscribe ``callback`` to ``event`` (one of :data:`EVENTS`)."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; known events: {', '.join(EVENTS)}")
        if not callable(callback):
            raise TypeError("callback must be callable")
        if event == "flow.end":
            self._flow_callbacks.append(callback)
            return
        self._core.subscribe(event)
        self._event_callbacks.setdefault(event, []).append(callback)

    def process(self, source: Source, *, link_type: int | str = "ethernet") -> list[Flow]:
        """Process a capture path, a list of paths, or an iterable of ``(timestamp, bytes)``
        packets; returns the flows that ended meanwhile."""
        ended: list[Flow] = []
        paths = _as_paths(source)
        if paths is not None:
            for path in paths:
                # A step at a time, delivering between steps: callbacks run while the file is
                # read, in batches, and the events of a large file are never all held at once.
                self._core.open_file(path)
                more = True
                while more:
                    flows, more, warning = self._core.read_file(_PACKET_BATCH)
                    ended.extend(self._deliver(flows))
                    if warning:
                        warnings.warn(warning, TruncatedCaptureWarning, stacklevel=2)
            return ended
        number = _link_type_number(link_type)
        for batch in _packet_triples(source):  # type: ignore[arg-type]
            ended.extend(self._deliver(self._core.process(batch, number)))
        return ended

    def capture(
        self,
        interface: str,
        *,
        duration: float | None = None,
        packet_count: int | None = None,
        promiscuous: bool = True,
        buffer_size: int = _CAPTURE_BUFFER,
    ) -> int:
        """Capture on a network interface (Linux, as root or with ``CAP_NET_RAW``) until
        ``duration`` seconds have passed, ``packet_count`` frames have been read, or Ctrl-C;
        returns how many frames were read. Flows that end go to the ``flow.end`` callbacks,
        events to theirs, as they happen; the flows still held at the end stay in the engine
        (``flush()`` ends them). The engine reads on the calling thread (``workers`` applies
        to files; :func:`netsonde.live` captures on several). See :func:`netsonde.live` for
        the arguments and the counters."""
        _check_capture(interface, duration, packet_count, buffer_size)
        self._core.open_interface(interface, promiscuous, buffer_size)
        clock = _Deadline(duration)
        read = 0
        try:
            while not clock.passed() and (packet_count is None or read < packet_count):
                wanted = _PACKET_BATCH if packet_count is None else min(_PACKET_BATCH, packet_count - read)
                flows, n = self._core.read_interface(wanted, clock.wait_ms())
                read += n
                self._deliver(flows)
        except KeyboardInterrupt:
            pass  # as in live()
        finally:
            self._core.close_interface()
        return read

    def flush(self) -> list[Flow]:
        """End every flow still held (end of input) and return them."""
        return self._deliver(self._core.flush())

    def load_signatures(self, path: str) -> int:
        """Add a signature pack (TOML) while the engine runs, without losing flows; returns
        how many applications it declares. A bad pack raises ValueError and changes nothing."""
        return self._core.load_signatures(read_pack(path), path)

    @property
    def active_flows(self) -> int:
        """Flows held now."""
        return self._core.active_flows()

    @property
    def stats(self) -> dict[str, int]:
        """Counters of frames, flows, fragments and everything dropped or given up."""
        return self._core.stats()

    def _deliver(self, flows: list[Flow]) -> list[Flow]:
        # Events first: a flow's transactions come before its end.
        if self._event_callbacks:
            for raw in self._core.take_events():
                event = Event.from_core(raw)
                for event_callback in self._event_callbacks.get(event.name, ()):
                    event_callback(event)
        for callback in self._flow_callbacks:
            for flow in flows:
                callback(flow)
        return flows
