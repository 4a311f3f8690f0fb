"""The ``netsonde`` command line.

    netsonde analyze PATH... [-o OUT] [-f jsonl|csv|parquet|table]
    netsonde analyze -i INTERFACE [--duration S] [-c N] [-o OUT] [-f jsonl|csv|table]
    netsonde protocols [--attributes | --apps | --events | --risks | --fields] [--json]

Bad input (a missing file, a file that is not a capture, a bad option) gives one line on
stderr and a non-zero exit; a damaged capture gives a warning and every flow read before
the damage.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time

from . import __version__, _config, _core
from .errors import CaptureFormatError

# Start-up is part of every run, so the command line imports neither typing nor
# dataclasses nor json at run time (see _config).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, NoReturn

PROG = "netsonde"
FORMATS = ("jsonl", "csv", "parquet", "table")
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (the default prints usage first)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Deep packet inspection of captures: flows, applications, metadata."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    a = sub.add_parser(
        "analyze", help="analyse pcap/pcapng captures, or a network interface, into flow records"
    )
    a.add_argument("paths", nargs="*", metavar="PATH", help="capture files, read in order as one capture")
    live = a.add_argument_group("live capture (Linux, as root or with CAP_NET_RAW)")
    live.add_argument(
        "-i",
        "--interface",
        metavar="NAME",
        help="capture on this network interface (any: all of them) instead of reading files; "
        "records are written as flows end; Ctrl-C ends the capture and the flows still held",
    )
    live.add_argument("--duration", type=_positive_float, metavar="S", help="stop capturing after S seconds")
    live.add_argument("-c", "--count", type=_positive_int, metavar="N", help="stop capturing after N frames")
    live.add_argument("--no-promiscuous", action="store_true", help="only frames addressed to this host")
    a.add_argument("-o", "--output", metavar="OUT", help="write records here (default: standard output)")
    a.add_argument(
        "-f",
        "--format",
        choices=FORMATS,
        help="jsonl: one flow record per line; csv; parquet (needs pyarrow); table: a summary by "
        "application (default: table on a terminal, else from OUT's extension, else jsonl)",
    )
    a.add_argument(
        "--idle-timeout",
        type=_positive_float,
        default=_config.IDLE_TIMEOUT,
        metavar="S",
        help=f"end flows idle this many seconds (default {_config.IDLE_TIMEOUT:g})",
    )
    a.add_argument(
        "--active-timeout",
        type=_positive_float,
        default=_config.ACTIVE_TIMEOUT,
        metavar="S",
        help=f"end flows lasting this many seconds (default {_config.ACTIVE_TIMEOUT:g})",
    )
    a.add_argument(
        "--max-flows",
        type=_positive_int,
        default=_config.MAX_FLOWS,
        metavar="N",
        help=f"flows held at once; the least recent is evicted beyond it (default {_config.MAX_FLOWS})",
    )
    a.add_argument(
        "--workers",
        type=_positive_int,
        default=_config.WORKERS,
        metavar="N",
        help="analyse on N worker threads, flows sharded by address pair (default 1)",
    )
    a.add_argument("--no-defrag", action="store_true", help="do not reassemble IP fragments")
    a.add_argument("--no-tunnels", action="store_true", help="do not decapsulate tunnels")
    a.add_argument(
        "--tcp-policy",
        choices=_core.TCP_POLICIES,
        default=_config.TCP_POLICY,
        metavar="OS",
        help="which copy of overlapping TCP data counts, as the target host decides: "
        f"{', '.join(_core.TCP_POLICIES)} (default {_config.TCP_POLICY})",
    )
    a.add_argument(
        "--defrag-policy",
        choices=_core.DEFRAG_POLICIES,
        default=_config.DEFRAG_POLICY,
        metavar="OS",
        help="which copy of overlapping IP fragments counts: "
        f"{', '.join(_core.DEFRAG_POLICIES)} (default {_config.DEFRAG_POLICY})",
    )
    a.add_argument(
        "--signatures",
        action="append",
        default=[],
        metavar="PACK",
        help="add a signature pack (TOML: applications by host and IP range); repeatable",
    )
    a.add_argument(
        "--stats",
        action="store_true",
        help="print the run's counters on stderr at the end (frames, flows, evictions, everything dropped)",
    )
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar; no summary unless --stats")
    p = sub.add_parser("protocols", help="list the protocols, applications and attributes netsonde knows")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--attributes", action="store_true", help="list metadata attributes instead")
    what.add_argument("--apps", action="store_true", help="list applications of the built-in signature packs")
    what.add_argument("--events", action="store_true", help="list events instead")
    what.add_argument("--risks", action="store_true", help="list the risks a flow record can carry")
    what.add_argument("--fields", action="store_true", help="list the fields of the flow record")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _pick_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output:
        ext = os.path.splitext(args.output)[1].lower()
        return {".csv": "csv", ".parquet": "parquet", ".txt": "table"}.get(ext, "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


class _ProgressBar:
    """A one-line progress bar on stderr, shown only for inputs that take a while."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.start
        if elapsed < 1.0 and not self.shown:
            return
        self.shown = True
        frac = done / total if total else 1.0
        width = 30
        filled = int(frac * width)
        rate = done / elapsed / 1e6 if elapsed > 0 else 0.0
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * frac:5.1f}%  {rate:7.1f} MB/s")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _table(summary: list[tuple[str, int, int, int]], stats: dict[str, int], out: IO[str]) -> None:
    rows = sorted(summary, key=lambda r: (-r[3], r[0]))
    flows = sum(r[1] for r in rows) or 1
    total_bytes = sum(r[3] for r in rows) or 1
    out.write(f"{'application':32} {'flows':>9} {'%':>6} {'packets':>11} {'bytes':>10} {'%':>6}\n")
    for name, n, packets, nbytes in rows:
        out.write(
            f"{name[:32]:32} {n:9d} {100 * n / flows:6.1f} {packets:11d} {_human(nbytes):>10} "
            f"{100 * nbytes / total_bytes:6.1f}\n"
        )
    out.write(
        f"\n{stats.get('frames', 0)} frames, {sum(r[1] for r in rows)} flows; "
        f"not IP {stats.get('not_ip', 0)}, malformed {stats.get('malformed', 0)}, "
        f"evicted flows {stats.get('flows_evicted', 0)}\n"
    )


def _print_stats(stats: dict[str, int], flows: int, *, verbose: bool) -> None:
    """One summary line, then (verbose) every non-zero counter, one per line."""
    nonzero = {k: v for k, v in stats.items() if v and k not in ("frames", "bytes", "ip_packets")}
    print(
        f"{PROG}: {stats.get('frames', 0)} frames, {flows} flows, "
        f"{stats.get('flows_evicted', 0)} evicted, {stats.get('malformed', 0)} malformed",
        file=sys.stderr,
    )
    if verbose:
        for key in sorted(nonzero):
            print(f"{PROG}:   {key} {nonzero[key]}", file=sys.stderr)


def _output_path(args: argparse.Namespace, fmt: str) -> str | None:
    """Where the core writes records: nowhere for a table (it is written at the end), the
    file named, or standard output."""
    if fmt == "table":
        return None
    if args.output and args.output != "-":
        return str(args.output)
    sys.stdout.flush()
    return "/dev/stdout"


def _write_table(
    args: argparse.Namespace, summary: list[tuple[str, int, int, int]], stats: dict[str, int]
) -> None:
    if args.output and args.output != "-":
        with open(args.output, "w") as fh:
            _table(summary, stats, fh)
    else:
        _table(summary, stats, sys.stdout)


def _analyze(args: argparse.Namespace) -> int:
    if args.interface is not None:
        return _capture(args)
    if not args.paths:
        raise UsageError("give capture files (PATH...) to read, or -i INTERFACE to capture live")
    for option, given in (("--duration", args.duration), ("--count", args.count)):
        if given is not None:
            raise UsageError(f"{option} applies to live capture (-i INTERFACE), not to files")
    for path in args.paths:
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a directory, not a capture file")
    fmt = _pick_format(args)
    args.defrag, args.decode_tunnels = not args.no_defrag, not args.no_tunnels
    _config.check(args)
    show_progress = not args.quiet and sys.stderr.isatty()
    bar = _ProgressBar(sys.stderr) if show_progress else None
    out_path = _output_path(args, fmt)
    try:
        if fmt == "parquet":
            stats, flows, warnings = _write_parquet(args, out_path, bar)
        else:
            stats, summary, warnings, _ = _core.analyze_to_file(
                args.paths, out_path, "jsonl" if fmt == "table" else fmt, _config.to_core(args), progress=bar
            )
            flows = sum(r[1] for r in summary)
    finally:
        if bar is not None:
            bar.close()
    for message in warnings:
        print(f"{PROG}: warning: {message}", file=sys.stderr)
    if args.stats or show_progress:
        _print_stats(stats, flows, verbose=args.stats)
    if fmt == "table":
        _write_table(args, summary, stats)
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _capture(args: argparse.Namespace) -> int:
    """Captures on an interface, writing records as flows end; Ctrl-C ends it cleanly."""
    if args.paths:
        raise UsageError("give capture files or -i INTERFACE, not both")
    fmt = _pick_format(args)
    if fmt == "parquet":
        raise UsageError("a live capture is written as jsonl, csv or table; Parquet is for capture files")
    args.defrag, args.decode_tunnels = not args.no_defrag, not args.no_tunnels
    _config.check(args)
    out_path = _output_path(args, fmt)

    def started() -> None:
        if not args.quiet:
            print(f"{PROG}: capturing on {args.interface}; Ctrl-C to stop", file=sys.stderr)

    # A service manager stops a capture with SIGTERM: it ends it as Ctrl-C does, the flows
    # still held written out, rather than killing it with them.
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    stats, summary, flows, _interrupted = _core.capture_to_file(
        args.interface,
        out_path,
        "jsonl" if fmt == "table" else fmt,
        _config.to_core(args),
        args.duration,
        args.count,
        not args.no_promiscuous,
        started=started,
    )
    if args.stats or not args.quiet:
        _print_stats(stats, flows, verbose=args.stats)
        print(
            f"{PROG}: {stats['capture_received']} frames received by the kernel, "
            f"{stats['capture_dropped']} dropped (capture buffer full)",
            file=sys.stderr,
        )
    if fmt == "table":
        _write_table(args, summary, stats)
    return EXIT_OK


class _Position:
    """A binary stream that tells how much was written to it: the Parquet writer asks, and
    a pipe cannot say."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.written = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.flush()
        self.closed = True


def _write_parquet(
    args: argparse.Namespace, out_path: str | None, bar: _ProgressBar | None
) -> tuple[dict[str, int], int, list[str]]:
    """Writes the records as Parquet, a row group per batch; returns the run's counters,
    the number of flows and the warnings."""
    if out_path == "/dev/stdout" and sys.stdout.isatty():
        raise UsageError("Parquet is binary: write it to a file (-o FILE) or a pipe")
    try:
        import pyarrow.parquet  # noqa: F401  (write_batches needs it: fail before reading)

        from . import arrow
        from .flow import Flow
    except ImportError as e:
        raise UsageError(f"-f parquet needs pyarrow: pip install 'netsonde[arrow]' ({e})") from None
    core = _core.FileAnalysis(args.paths, _config.to_core(args), Flow)
    warnings: list[str] = []
    sink = _Position(sys.stdout.buffer) if out_path == "/dev/stdout" else out_path
    batches = arrow.file_batches(core, progress=bar, on_warning=warnings.append)
    flows = arrow.write_batches(sink, batches, core.stats)
    return core.stats(), flows, warnings


def _protocols(args: argparse.Namespace) -> int:
    """Lists the registry; generated from the compiled registry, never from a copy."""
    protocols, apps, attributes, events, risks = _core.registry()
    rows: list[dict[str, object]]
    if args.fields:
        # In output order, not sorted: the order of a JSON line's keys and of the CSV columns.
        rows = [{"name": n, "type": t, "description": d} for n, t, d in _core.FIELDS]
    elif args.risks:
        rows = [{"name": n, "description": d} for n, d in sorted(risks)]
    elif args.events:
        rows = [{"name": n, "attributes": ", ".join(a), "description": d} for n, d, a in sorted(events)]
    elif args.attributes:
        rows = [{"name": n, "type": t, "category": c, "description": d} for n, t, c, d in sorted(attributes)]
    elif args.apps:
        rows = [{"id": i, "name": n, "category": c} for i, n, c in sorted(apps, key=lambda a: a[1].lower())]
    else:
        rows = [
            {"id": i, "name": n, "category": c, "ports": p}
            for i, n, c, p in sorted(protocols, key=lambda p: p[1].lower())
        ]
    if args.json:
        import json

        for row in rows:
            print(json.dumps(row))
        return EXIT_OK
    if not rows:
        return EXIT_OK
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r[k])) for r in rows)) for k in keys[:-1]}
    print("  ".join(k.ljust(widths.get(k, 0)) for k in keys).rstrip())
    for r in rows:
        print("  ".join(str(r[k]).ljust(widths.get(k, 0)) for k in keys).rstrip())
    return EXIT_OK


def _reader_went_away() -> int:
    """The reader of our output closed it (``| head``): stop quietly, like other tools."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if args.command == "protocols":
            return _protocols(args)
        return _analyze(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return _reader_went_away()
    except FileNotFoundError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except (CaptureFormatError, OSError, ValueError) as e:
        if (isinstance(e, OSError) and e.errno == errno.EPIPE) or "Broken pipe" in str(e):
            return _reader_went_away()
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The ``netsonde`` command: :func:`main`, then an exit without the interpreter's
    finalization (a last garbage collection and the teardown of every module: 17 ms of a
    one-packet run's 110, up to 40 ms after a large capture), which a command whose output
    is written and closed by then has no use for. Only the standard streams are still
    buffered."""
    code = main()
    try:
        sys.stdout.flush()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        code = _reader_went_away()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
