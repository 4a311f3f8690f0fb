#!/usr/bin/env python3
"""Throughput harness: netsonde against its peers, side by side in one run.

    python benchmarks/run.py                                   # 1M packets, mix + enterprise, 3 rounds
    python benchmarks/run.py --packets 200000 --repeat 1       # quick check
    python benchmarks/run.py --nfstream                        # add nfstream (slow)

For each capture it runs every tool once untimed (warm-up and validation: flow counts,
share of flows classified), then ``--repeat`` timed rounds; inside a round the tools take
turns, and the order rotates from round to round so that no tool always runs first.
Each timed run is one child process: wall time is ``time.perf_counter`` around it, CPU
time and peak RSS come from ``os.wait4``. Before each, the capture is read through once
(untimed), so that every tool finds it in the page cache: the harness times packet
processing, not the disk (a machine may evict part of a large capture between runs).
The table goes to stdout and to ``benchmarks/results.md``; raw numbers and child logs go
to ``benchmarks/out/``.

Python 3.11 standard library only (nfstream is imported in its own child process).
The tools are a list of specs (``tool_specs``): adding a variant is one entry there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent  # <repo>/benchmarks
REPO = HERE.parent  # <repo>
DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = HERE / "data"
OUT = HERE / "out"
PROFILES = ("mix", "enterprise")
NDPI_READER = "ndpiReader"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- child runs


@dataclass
class Run:
    """One finished child process."""

    argv: list[str]
    rc: int
    wall: float  # seconds, perf_counter around spawn..reap
    cpu: float  # user + system seconds of the child and the children it reaped
    maxrss_kib: int  # peak RSS of the child or of its largest reaped descendant
    stdout: Path | None
    stderr: Path

    def stderr_tail(self, n: int = 5) -> str:
        try:
            lines = self.stderr.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-n:])


def run_child(argv: list[str], stdout: Path | None, stderr: Path, env: dict[str, str] | None = None) -> Run:
    """Run argv to completion; measure wall time, CPU time and peak RSS of this one child.

    ``os.wait4`` returns the rusage of exactly this child (plus the descendants it reaped
    itself), unlike ``getrusage(RUSAGE_CHILDREN)`` which mixes every child we ever had.
    """
    stderr.parent.mkdir(parents=True, exist_ok=True)
    with open(stderr, "wb") as err, open(stdout, "wb") if stdout else open(os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    return Run(argv, proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, stdout, stderr)


def cpu_jiffies() -> tuple[int, int] | None:
    """(all CPU time, time stolen by the hypervisor) so far, in clock ticks, from the first
    line of /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already).
    return (sum(fields[:8]), fields[7]) if len(fields) >= 8 else None


def warm_page_cache(path: Path, block: int = 8 << 20) -> float:
    """Reads `path` through (untimed) so that the next run finds it in the page cache;
    returns the seconds it took (long when part of it came from the disk)."""
    t0 = time.perf_counter()
    buf = bytearray(block)
    with open(path, "rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- tools


@dataclass
class Check:
    """What the untimed validation run learnt about a capture."""

    flows: int | None = None
    classified: int | None = None  # flows whose application is not Unknown
    notes: list[str] = field(default_factory=list)


class Tool:
    """A peer to time. ``family`` groups variants (netsonde, netsonde-2w, …) for the ratios."""

    name = "tool"
    family = "tool"
    #: How many analyses of the capture one timed run makes (2 for the concurrent pair).
    copies = 1
    #: False for a run that does not analyse the capture (no speeds, no ratios).
    analyses_capture = True

    def unavailable(self) -> str | None:
        """None when the tool can run here, else the reason it cannot."""
        return None

    def version(self) -> str:
        return "?"

    def command(self, capture: Path) -> list[str]:
        """The timed command: full analysis, output discarded."""
        raise NotImplementedError

    def display(self) -> str:
        """The timed command as the report shows it (F: the capture)."""
        return shlex.join(self.command(Path("F")))

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        """Untimed run that also counts flows (and warms the page cache)."""
        run = run_child(self.command(capture), None, workdir / f"{self.name}.check.err")
        return run, Check()

    def timed_result(self, run: Run) -> dict[str, object]:
        """Extra facts a timed run reports about itself (nfstream: flows, RSS of its processes)."""
        return {}


def _capture_output(argv: list[str], timeout: float = 60) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, errors="replace")
    except (OSError, subprocess.SubprocessError) as exc:
        return f"<{exc}>"
    return p.stdout + p.stderr


class Netsonde(Tool):
    """``netsonde analyze F -f jsonl -o /dev/null -q`` (with ``--workers N`` when given)."""

    family = "netsonde"

    def __init__(self, base: list[str], workers: int | None = None) -> None:
        self.base = base
        self.workers = workers
        self.name = "netsonde" if workers is None else f"netsonde-{workers}w"

    def _extra(self) -> list[str]:
        return [] if self.workers is None else ["--workers", str(self.workers)]

    def unavailable(self) -> str | None:
        text = _capture_output([*self.base, "analyze", "--help"])
        if "usage" not in text:
            return f"`{shlex.join(self.base)} analyze --help` failed: {text.strip()[:200]}"
        if self.workers is not None and "--workers" not in text:
            return "this netsonde build has no `analyze --workers`"
        return None

    def version(self) -> str:
        return _capture_output([*self.base, "--version"]).strip().removeprefix("netsonde ").strip()

    def command(self, capture: Path) -> list[str]:
        return [*self.base, "analyze", str(capture), "-f", "jsonl", "-o", os.devnull, "-q", *self._extra()]

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        out = workdir / f"{self.name}.check.jsonl"
        argv = [*self.base, "analyze", str(capture), "-f", "jsonl", "-o", str(out), "-q", *self._extra()]
        run = run_child(argv, None, workdir / f"{self.name}.check.err")
        chk = Check()
        if run.rc == 0 and out.exists():
            flows = classified = 0
            with open(out, "rb") as f:
                for line in f:
                    if not line.strip():
                        continue
                    flows += 1
                    try:
                        if json.loads(line).get("application_name", "Unknown") != "Unknown":
                            classified += 1
                    except ValueError:
                        chk.notes.append("unparsable JSONL line")
            chk.flows, chk.classified = flows, classified
        out.unlink(missing_ok=True)
        return run, chk


class NetsondePair(Tool):
    """Two one-worker ``netsonde analyze`` processes started together on the same capture,
    timed until both end. Nothing is shared between them, so their combined speed ÷ one
    process's is what this machine gives two cores at best (memory bandwidth, shared cache,
    the hypervisor): the ceiling for ``--workers 2``, measured in the same run."""

    family = "netsonde"
    name = "netsonde-1w-x2"
    copies = 2

    def __init__(self, one: Netsonde) -> None:
        self.one = one

    def unavailable(self) -> str | None:
        return self.one.unavailable() or (None if shutil.which("sh") else "no sh to start the pair")

    def version(self) -> str:
        return self.one.version()

    def command(self, capture: Path) -> list[str]:
        each = shlex.join(self.one.command(capture))
        return ["sh", "-c", f"{each} & {each}; s=$?; wait $! && exit $s"]

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        return run_child(self.command(capture), None, workdir / f"{self.name}.check.err"), Check()


class NetsondeStartUp(Tool):
    """``netsonde analyze`` on the capture's first packet only: what a run costs besides
    the packets (interpreter start-up, imports, engine set-up, exit). Timed in every round
    next to the full runs, so that the scaling of the workers can also be read without
    this fixed cost, which no number of workers shortens."""

    name = family = "netsonde-start-up"
    analyses_capture = False

    def __init__(self, one: Netsonde) -> None:
        self.one = one

    def unavailable(self) -> str | None:
        return self.one.unavailable()

    def version(self) -> str:
        return self.one.version()

    def command(self, capture: Path) -> list[str]:
        return self.one.command(first_packet_path(capture))

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        write_first_packet(capture, first_packet_path(capture))
        return run_child(self.command(capture), None, workdir / f"{self.name}.check.err"), Check()


def first_packet_path(capture: Path) -> Path:
    return OUT / "first-packet" / capture.name


def write_first_packet(src: Path, dst: Path) -> None:
    """Copies a classic pcap or pcapng file up to and including its first packet (the
    whole file when it has none)."""
    first = next(packet_ends(src), None)
    with open(src, "rb") as f:
        data = f.read() if first is None else f.read(first[0])
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)


class NdpiReader(Tool):
    """Debian libndpi-bin ``ndpiReader -i F -q -v 0``: full DPI with its defaults, one thread
    (``-n`` is ignored for pcap files anyway), no output."""

    name = family = "ndpiReader"

    def __init__(self, exe: str = NDPI_READER) -> None:
        self.exe = shutil.which(exe) or exe

    def unavailable(self) -> str | None:
        if not shutil.which(self.exe):
            return f"{NDPI_READER} not found (Debian: apt-get install libndpi-bin)"
        return None

    def version(self) -> str:
        m = re.search(r"nDPI\s+([\w.\-]+)", _capture_output([self.exe, "-h"]))
        ver = m.group(1) if m else "?"
        pkg = _capture_output(["dpkg-query", "-W", "-f", "${Version}", "libndpi-bin"]).strip()
        return f"{ver} (libndpi-bin {pkg})" if pkg and "<" not in pkg and "no packages" not in pkg else ver

    def command(self, capture: Path) -> list[str]:
        return [self.exe, "-i", str(capture), "-q", "-v", "0"]

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        # Without -q ndpiReader prints its summary (a few hundred lines); that is the only
        # difference from the timed command.
        out = workdir / f"{self.name}.check.out"
        run = run_child([self.exe, "-i", str(capture), "-v", "0"], out, workdir / f"{self.name}.check.err")
        chk = Check()
        text = out.read_text(errors="replace") if out.exists() else ""
        m = re.search(r"Unique flows:\s+(\d+)", text)
        if m:
            chk.flows = int(m.group(1))
            # "Confidence: Unknown N (flows)" is left out when every flow got a protocol.
            u = re.search(r"Confidence: Unknown\s+(\d+)", text)
            if u or "Confidence:" in text:
                chk.classified = chk.flows - (int(u.group(1)) if u else 0)
        m = re.search(r"nDPI throughput:\s+(.+)", text)
        t = re.search(r"Packet Processing Time:\s+(.+)", text)
        if m and t:
            chk.notes.append(f"self-reported: {m.group(1).strip()}, processing {t.group(1).strip()}")
        g = re.search(r"Guessed flow protos:\s+(\d+)", text)
        if g:
            chk.notes.append(f"{g.group(1)} flows guessed (by port/IP) rather than found by DPI")
        return run, chk


def _child_report(run: Run) -> dict[str, Any] | None:
    """The JSON object a child prints on its last line of output (None without one)."""
    try:
        lines = run.stdout.read_text().strip().splitlines() if run.stdout else []
        report = json.loads(lines[-1])
    except (OSError, ValueError, IndexError):
        return None
    return report if isinstance(report, dict) else None


# The API child: iterate every flow as a user of the library does, then report flow counts.
NETSONDE_API_CHILD = r"""
import json, sys
import netsonde
flows = classified = 0
for flow in netsonde.analyze(sys.argv[1]):
    flows += 1
    if flow.application_name != "Unknown":
        classified += 1
print(json.dumps({"flows": flows, "classified": classified}))
"""


def _module_unavailable(python: str, module: str) -> str | None:
    """Why ``python`` cannot import ``module``, or None when it can."""
    text = _capture_output([python, "-c", f"import {module}; print('ok')"])
    return None if text.startswith("ok") else f"{module} does not import: {text.strip()[-200:]}"


def _module_version(python: str, module: str) -> str:
    return _capture_output([python, "-c", f"import {module}; print({module}.__version__)"]).strip()


# The same through a DataFrame: every flow record of the capture as a row.
NETSONDE_PANDAS_CHILD = r"""
import json, sys
import netsonde
frame = netsonde.to_pandas(sys.argv[1])
print(json.dumps({"flows": len(frame), "classified": int((frame["application_name"] != "Unknown").sum())}))
"""


class NetsondeApi(Tool):
    """``for flow in netsonde.analyze(F)`` in a child process: the Python API, each record a
    ``Flow`` object, as nfstream's records are (its row is the like-for-like comparison).
    With ``pandas``, ``netsonde.to_pandas(F)`` instead, against nfstream's ``to_pandas()``."""

    family = "netsonde"

    def __init__(self, python: str = sys.executable, pandas: bool = False) -> None:
        self.python = python
        self.pandas = pandas
        self.name = "netsonde-pandas" if pandas else "netsonde-api"

    def unavailable(self) -> str | None:
        return _module_unavailable(self.python, "netsonde")

    def version(self) -> str:
        return _module_version(self.python, "netsonde")

    def command(self, capture: Path) -> list[str]:
        return [self.python, "-c", NETSONDE_PANDAS_CHILD if self.pandas else NETSONDE_API_CHILD, str(capture)]

    def display(self) -> str:
        if self.pandas:
            return "python -c 'frame = netsonde.to_pandas(F)'"
        return "python -c 'for flow in netsonde.analyze(F): count flow'"

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        out = workdir / f"{self.name}.check.out"
        run = run_child(self.command(capture), out, workdir / f"{self.name}.check.err")
        res = self.timed_result(run)
        flows, classified = res.get("flows"), res.get("classified")
        return run, Check(
            flows=flows if isinstance(flows, int) else None,
            classified=classified if isinstance(classified, int) else None,
        )

    def timed_result(self, run: Run) -> dict[str, object]:
        res = _child_report(run)
        return {} if res is None else {"flows": res["flows"], "classified": res["classified"]}


# The nfstream child: iterate every flow (the normal way to consume NFStreamer), then report
# flow counts and the peak RSS of itself and of its metering processes (reaped children).
NFSTREAM_CHILD = r"""
import json, resource, sys
from nfstream import NFStreamer
flows = classified = 0
for flow in NFStreamer(source=sys.argv[1], n_dissections=20, n_meters=int(sys.argv[2])):
    flows += 1
    if flow.application_name != "Unknown":
        classified += 1
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"flows": flows, "classified": classified, "rss_self_kib": me, "rss_children_kib": kids}))
"""

# The nfstream child for DataFrames: its own to_pandas() (the streamer writes the flows to a
# temporary CSV file, which pandas reads back).
NFSTREAM_PANDAS_CHILD = r"""
import json, resource, sys
from nfstream import NFStreamer
frame = NFStreamer(source=sys.argv[1], n_dissections=20, n_meters=int(sys.argv[2])).to_pandas()
flows, classified = len(frame), int((frame["application_name"] != "Unknown").sum())
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"flows": flows, "classified": classified, "rss_self_kib": me, "rss_children_kib": kids}))
"""


class Nfstream(Tool):
    """``NFStreamer(source=F, n_dissections=20)`` in a child process, iterating every flow."""

    family = "nfstream"

    def __init__(self, python: str = sys.executable, meters: int = 0, pandas: bool = False) -> None:
        self.python = python
        self.meters = meters
        self.pandas = pandas
        self.name = "nfstream-pandas" if pandas else "nfstream"

    def unavailable(self) -> str | None:
        return _module_unavailable(self.python, "nfstream")

    def version(self) -> str:
        return _module_version(self.python, "nfstream")

    def command(self, capture: Path) -> list[str]:
        child = NFSTREAM_PANDAS_CHILD if self.pandas else NFSTREAM_CHILD
        return [self.python, "-c", child, str(capture), str(self.meters)]

    def display(self) -> str:
        streamer = f"NFStreamer(source=F, n_dissections=20, n_meters={self.meters})"
        how = f"frame = {streamer}.to_pandas()" if self.pandas else f"for flow in {streamer}: count flow"
        return f"python -c '{how}' (nfstream picks 1 meter process for n_meters=0 on 2 cores)"

    def check(self, capture: Path, workdir: Path) -> tuple[Run, Check]:
        # nfstream is the slow one: its timed runs report flows themselves, no extra run.
        return None, Check()  # type: ignore[return-value]

    def timed_result(self, run: Run) -> dict[str, object]:
        res = _child_report(run)
        if res is None:
            return {}
        return {
            "flows": res["flows"],
            "classified": res["classified"],
            # The parent and its meter process(es) live side by side: their peaks add up.
            "rss_kib": res["rss_self_kib"] + res["rss_children_kib"],
        }


def netsonde_base(override: str | None) -> list[str]:
    """How to start netsonde: --netsonde, else the console script of this interpreter's
    environment (not a pyenv shim, whose bash start-up would be timed), else PATH, else -m."""
    if override:
        return shlex.split(override)
    beside = Path(sys.executable).parent / "netsonde"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("netsonde")
    return [found] if found else [sys.executable, "-m", "netsonde"]


def tool_specs(args: argparse.Namespace) -> list[Tool]:
    """The tools to time, in round order. One entry per variant: add e.g.
    ``Netsonde(ns, workers=2)`` to time netsonde with two workers next to the rest."""
    ns = netsonde_base(args.netsonde)
    tools: list[Tool] = [
        Netsonde(ns),
        *(Netsonde(ns, workers=w) for w in args.netsonde_workers),
        *([NetsondePair(Netsonde(ns))] if args.ceiling else []),
        *([NetsondeStartUp(Netsonde(ns))] if args.netsonde_workers else []),
        *([NetsondeApi()] if args.api else []),
        *([NetsondeApi(pandas=True)] if args.pandas else []),
        NdpiReader(),
    ]
    if args.nfstream:
        tools.append(Nfstream(meters=args.nfstream_meters))
        if args.pandas:
            tools.append(Nfstream(meters=args.nfstream_meters, pandas=True))
    return tools


# --------------------------------------------------------------------------- captures


@dataclass
class Capture:
    path: Path
    packets: int
    wire_bytes: int  # sum of each frame's original (wire) length

    @property
    def name(self) -> str:
        return self.path.stem


def packet_ends(path: Path) -> Iterator[tuple[int, int]]:
    """For each packet of a classic pcap or pcapng file, from the headers only: the file
    offset just past its record (or block) and its original length."""
    with open(path, "rb") as f:
        head = f.read(24)
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            rec = struct.Struct(end + "IIII")
            read, unpack, seek = f.read, rec.unpack, f.seek
            at = 24
            while True:
                h = read(16)
                if len(h) < 16:
                    return
                _, _, incl, orig = unpack(h)
                at += 16 + incl
                seek(incl, 1)
                yield at, orig
        if magic == b"\x0a\x0d\x0d\x0a":
            f.seek(0)
            end, at = "<", 0
            while True:
                h = f.read(8)
                if len(h) < 8:
                    return
                if h[:4] == b"\x0a\x0d\x0d\x0a":  # section header: byte order may change
                    bom = f.read(4)
                    end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                    f.seek(-4, 1)
                btype, blen = struct.unpack(end + "II", h)
                if blen < 12:
                    raise ValueError(f"{path}: bad pcapng block length {blen}")
                body = f.read(blen - 8)
                at += blen
                if btype == 6 and len(body) >= 20:  # enhanced packet block
                    yield at, struct.unpack_from(end + "I", body, 16)[0]
                elif btype == 3 and len(body) >= 4:  # simple packet block
                    yield at, struct.unpack_from(end + "I", body, 0)[0]
                elif btype == 2 and len(body) >= 20:  # obsolete packet block
                    yield at, struct.unpack_from(end + "I", body, 16)[0]
    raise ValueError(f"{path}: not a pcap or pcapng file")


def count_pcap(path: Path) -> tuple[int, int]:
    """(packets, sum of original lengths) of a classic pcap or pcapng file, headers only."""
    packets = wire = 0
    for _, orig in packet_ends(path):
        packets += 1
        wire += orig
    return packets, wire


def capture_stats(path: Path) -> Capture:
    """Count once, then reuse a small cache (keyed by size and mtime) in the benchmark's own
    output folder; never beside the input, which may be a shared read-only corpus."""
    st = path.stat()
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    cache = OUT / (path.name + ".stats.json")
    try:
        c = json.loads(cache.read_text())
        if c.get("key") == key:
            return Capture(path, c["packets"], c["wire_bytes"])
    except (OSError, ValueError, KeyError):
        pass
    t0 = time.perf_counter()
    packets, wire = count_pcap(path)
    took = time.perf_counter() - t0
    log(f"counted {path.name}: {packets:,} packets, {wire:,} bytes on the wire ({took:.1f}s)")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "packets": packets, "wire_bytes": wire}))
    except OSError:
        pass
    return Capture(path, packets, wire)


def ensure_capture(profile: str, packets: int, shared: Path) -> Path:
    out = DATA / f"{profile}-{packets}.pcap"
    if out.exists():
        return out
    maker = shared / "bench" / "make_traffic.py"
    if not maker.exists():
        sys.exit(f"run.py: {out} is missing and {maker} does not exist (use --shared DIR)")
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    argv = [
        sys.executable,
        str(maker),
        "--profile",
        profile,
        "--packets",
        str(packets),
        "--seed",
        "1",
        "--out",
        str(tmp),
    ]
    log(f"generating {out.name}: {shlex.join(argv)}")
    if subprocess.run(argv).returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        sys.exit(f"run.py: make_traffic.py failed for profile {profile}")
    tmp.rename(out)
    return out


# --------------------------------------------------------------------------- environment


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_state() -> str:
    rev = _capture_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
    if not re.fullmatch(r"[0-9a-f]{4,40}", rev):
        return "?"
    dirty = _capture_output(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"]).strip()
    return rev + (" (uncommitted changes)" if dirty else "")


def build_staleness(python: str) -> str | None:
    """Warn when Rust sources (tests, benches and fuzz targets aside) are newer than the
    compiled module netsonde imports: a heuristic, the lead rebuilds."""
    so = _capture_output([python, "-c", "import netsonde._core as c; print(c.__file__)"]).strip().splitlines()
    if not so or not Path(so[-1]).exists():
        return None
    so_mtime = Path(so[-1]).stat().st_mtime
    newest, newest_path = 0.0, None
    for p in (REPO / "crates").rglob("*"):
        if p.suffix not in (".rs", ".toml") or p.name == "tests.rs" or not p.is_file():
            continue
        if {"target", "tests", "benches", "fuzz"} & set(p.relative_to(REPO).parts):
            continue
        m = p.stat().st_mtime
        if m > newest:
            newest, newest_path = m, p
    if newest_path and newest > so_mtime:
        age = dt.timedelta(seconds=int(newest - so_mtime))
        return (
            f"the installed netsonde build ({Path(so[-1]).name}) is older than "
            f"{newest_path.relative_to(REPO)} by {age}: it may be stale "
            "(rebuild with `pip install -e .`)"
        )
    return None


def byte_compile(python: str) -> str | None:
    """Compiles the bytecode of the netsonde package that ``python`` imports, as installing
    a wheel does. An editable install has none, and where PYTHONDONTWRITEBYTECODE is set
    (this project's sandbox sets it) every run would compile the command line's modules
    again: 10 ms of each run, a cost of the development set-up, not of netsonde."""
    code = (
        "import compileall, os, netsonde; "
        "print(compileall.compile_dir(os.path.dirname(netsonde.__file__), quiet=1))"
    )
    out = _capture_output([python, "-c", code]).strip()
    return None if out.endswith("True") else f"could not byte-compile the netsonde package: {out[-200:]}"


# --------------------------------------------------------------------------- report


def fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def summarize(
    cap: Capture, tool: Tool, runs: list[Run], chk: Check, extra: dict[str, object]
) -> dict[str, object]:
    """One row of the table. Speeds count every analysis a run makes (``Tool.copies``)."""
    ok = [r for r in runs if r.rc == 0]
    row: dict[str, object] = {
        "capture": cap.name,
        "tool": tool.name,
        "family": tool.family,
        "copies": tool.copies,
        "analyses_capture": tool.analyses_capture,
        "packets": cap.packets,
        "wire_bytes": cap.wire_bytes,
        "runs": [{"wall": r.wall, "cpu": r.cpu, "maxrss_kib": r.maxrss_kib, "rc": r.rc} for r in runs],
        "failed": len(runs) - len(ok),
        "errors": [f"rc={r.rc}: {r.stderr_tail()}" for r in runs if r.rc != 0],
        "notes": list(chk.notes),
    }
    if not ok:
        return row
    wall = statistics.median(r.wall for r in ok)
    if not tool.analyses_capture:
        row.update(
            wall=wall,
            wall_min=min(r.wall for r in ok),
            wall_max=max(r.wall for r in ok),
            cpu=statistics.median(r.cpu for r in ok),
            rss_mib=max(r.maxrss_kib for r in ok) / 1024,
        )
        return row
    flows = extra.get("flows", chk.flows)
    classified = extra.get("classified", chk.classified)
    rss_kib = extra.get("rss_kib")
    if not isinstance(rss_kib, int) or not rss_kib:
        rss_kib = max(r.maxrss_kib for r in ok)
    row.update(
        wall=wall,
        wall_min=min(r.wall for r in ok),
        wall_max=max(r.wall for r in ok),
        cpu=statistics.median(r.cpu for r in ok),
        pps=tool.copies * cap.packets / wall,
        gbps=tool.copies * cap.wire_bytes * 8 / wall / 1e9,
        flows=flows,
        classified=classified,
        fps=(tool.copies * flows / wall) if isinstance(flows, int) else None,
        rss_mib=rss_kib / 1024,
    )
    return row


def paired_ratio(
    base_runs: list[dict[str, float]], runs: list[dict[str, float]], copies: int
) -> float | None:
    """The median over rounds of copies * (base's wall ÷ this tool's wall), from the runs of
    the same round only: the two ran seconds apart, so load that drifts during the whole
    run (other machines on the host) weighs less than in the ratio of the medians."""
    ratios = [
        copies * b["wall"] / r["wall"]
        for b, r in zip(base_runs, runs, strict=True)
        if b.get("rc") == 0 and r.get("rc") == 0 and r["wall"] > 0
    ]
    return statistics.median(ratios) if ratios else None


def net_of_fixed_cost(
    one_runs: list[dict[str, float]], runs: list[dict[str, float]], fixed_runs: list[dict[str, float]]
) -> float | None:
    """The median over rounds of (one worker's wall - the round's fixed cost) ÷ (this
    variant's wall - the same): the scaling of the work that workers share out."""
    ratios = [
        (o["wall"] - f["wall"]) / (r["wall"] - f["wall"])
        for o, r, f in zip(one_runs, runs, fixed_runs, strict=True)
        if o.get("rc") == 0 and r.get("rc") == 0 and f.get("rc") == 0 and r["wall"] > f["wall"]
    ]
    return statistics.median(ratios) if ratios else None


def add_ratios(rows: list[dict[str, object]], peers: tuple[str, ...]) -> None:
    """speed ÷ peer = peer's median wall ÷ this tool's median wall, times the analyses one run
    of this tool makes (>1: faster than the peer)."""
    by_cap: dict[str, dict[str, float]] = {}
    for r in rows:
        if "wall" in r and r["family"] in peers:
            by_cap.setdefault(str(r["capture"]), {})[str(r["tool"])] = float(r["wall"])  # type: ignore[arg-type]
    one_worker = {
        str(r["capture"]): float(r["wall"])  # type: ignore[arg-type]
        for r in rows
        if r["tool"] == "netsonde" and "wall" in r
    }
    one_worker_runs = {str(r["capture"]): r["runs"] for r in rows if r["tool"] == "netsonde" and "wall" in r}
    for r in rows:
        copies = int(r.get("copies", 1))  # type: ignore[call-overload]
        if not r.get("analyses_capture", True):
            r.update({f"vs_{peer}": None for peer in peers}, vs_1w=None, vs_1w_paired=None)
            continue
        for peer in peers:
            # DataFrames against DataFrames, when the peer made one too.
            same_kind = f"{peer}-pandas" if str(r["tool"]).endswith("-pandas") else peer
            cap_walls = by_cap.get(str(r["capture"]), {})
            base = cap_walls.get(same_kind, cap_walls.get(peer))
            r[f"vs_{peer}"] = (copies * base / float(r["wall"])) if base and "wall" in r else None  # type: ignore[arg-type]
        # Scaling: netsonde on one worker over this netsonde variant.
        base = one_worker.get(str(r["capture"]))
        scaled = base and "wall" in r and r["family"] == "netsonde"
        r["vs_1w"] = (copies * base / float(r["wall"])) if scaled else None  # type: ignore[arg-type]
        one_runs = one_worker_runs.get(str(r["capture"]))
        r["vs_1w_paired"] = paired_ratio(one_runs, r["runs"], copies) if scaled and one_runs else None  # type: ignore[arg-type]


def acceptance(rows: list[dict[str, object]]) -> list[str]:
    """The targets of issue 5, checked on this run's medians."""

    def row(cap_prefix: str, tool: str) -> dict[str, object] | None:
        return next(
            (
                r
                for r in rows
                if str(r["capture"]).startswith(cap_prefix) and r["tool"] == tool and "wall" in r
            ),
            None,
        )

    out = []

    def check(label: str, value: object, target: float, higher_is_better: bool = True) -> None:
        if not isinstance(value, (int, float)):
            out.append(f"{label}: not measured")
            return
        ok = value >= target if higher_is_better else value <= target
        sign = "≥" if higher_is_better else "≤"
        out.append(f"{label}: {value:.2f} (target {sign} {target:g}) {'PASS' if ok else 'FAIL'}")

    for cap, target in (("enterprise", 2.3), ("mix", 2.0)):
        r = row(cap, "netsonde")
        check(f"{cap}: netsonde 1 worker ÷ ndpiReader", r and r.get("vs_ndpiReader"), target)
    r = row("mix", "netsonde")
    check("mix: netsonde 1 worker ÷ nfstream", r and r.get("vs_nfstream"), 10.0)
    # Scaling, on every enterprise capture of the run (start-up weighs less on larger ones).
    scaled = [r for r in rows if str(r["capture"]).startswith("enterprise") and r["tool"] == "netsonde-2w"]
    for r in scaled:
        check(f"{r['capture']}: netsonde 2 workers ÷ 1 worker", r.get("vs_1w"), 1.7)
        if isinstance(r.get("vs_1w_paired"), float):
            out[-1] += f"; paired by round: {r['vs_1w_paired']:.2f}"
        same = {str(x["tool"]): x for x in rows if x["capture"] == r["capture"] and "wall" in x}
        one, fixed = same.get("netsonde"), same.get("netsonde-start-up")
        net = one and fixed and net_of_fixed_cost(one["runs"], r["runs"], fixed["runs"])  # type: ignore[arg-type]
        if net and fixed:
            out.append(
                f"{r['capture']}: netsonde 2 workers ÷ 1 worker without the fixed cost of a run "
                f"(start-up and exit, {fixed['wall']:.3f} s: a run on the first packet only, each round), "
                f"paired by round: {net:.2f} (for information: the check is on whole runs)"
            )
    if not scaled:
        check("enterprise: netsonde 2 workers ÷ 1 worker", None, 1.7)
    for r in rows:
        if r["tool"] == "netsonde-pandas" and isinstance(r.get("vs_nfstream"), float):
            out.append(
                f"{r['capture']}: netsonde.to_pandas ÷ nfstream's to_pandas(): {r['vs_nfstream']:.2f} "
                "(for information)"
            )
    for r in rows:
        if r["tool"] == "netsonde-1w-x2" and isinstance(r.get("vs_1w"), float):
            out.append(
                f"{r['capture']}: two one-worker processes side by side ÷ one "
                f"(this machine's ceiling for 2 workers): {r['vs_1w']:.2f}"
                + (
                    f"; paired by round: {r['vs_1w_paired']:.2f}"
                    if isinstance(r.get("vs_1w_paired"), float)
                    else ""
                )
            )
    for cap in ("enterprise", "mix"):
        ns, nd = row(cap, "netsonde"), row(cap, "ndpiReader")
        if ns and nd:
            check(
                f"{cap}: netsonde peak RSS ÷ ndpiReader's",
                float(ns["rss_mib"]) / float(nd["rss_mib"]),  # type: ignore[arg-type]
                1.0,
                higher_is_better=False,
            )
        for t in ("netsonde", "netsonde-2w"):
            r = row(cap, t)
            if r and isinstance(r.get("flows"), int) and r["flows"]:
                per_m = float(r["rss_mib"]) / (int(r["flows"]) / 1e6)  # type: ignore[call-overload, arg-type]
                out.append(f"{cap}: {t} peak RSS per million flows (whole process): {per_m:,.0f} MiB")
    return out


def markdown_table(rows: list[dict[str, object]], peers: tuple[str, ...]) -> str:
    head = [
        "capture",
        "tool",
        "wall s (median)",
        "min-max s",
        "CPU s",
        "Mpkt/s",
        "Gbit/s",
        "flows",
        "kflows/s",
        "classified",
        "peak RSS MiB",
        *[f"speed ÷ {p}" for p in peers],
        "speed ÷ netsonde 1w",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
    for r in rows:
        if "wall" not in r:
            cells = [str(r["capture"]), str(r["tool"]), "failed"] + [""] * (len(head) - 3)
        else:
            flows, cls = r.get("flows"), r.get("classified")
            known = isinstance(flows, int) and isinstance(cls, int) and flows
            pct = f"{100 * cls / flows:.1f}%" if known else "—"  # type: ignore[operator]
            cells = [
                str(r["capture"]),
                str(r["tool"]),
                f"{r['wall']:.3f}",
                f"{r['wall_min']:.3f}-{r['wall_max']:.3f}",
                f"{r['cpu']:.2f}",
                fmt(r.get("pps") and r["pps"] / 1e6, ".3f"),  # type: ignore[operator, arg-type]
                fmt(r.get("gbps"), ".2f"),  # type: ignore[arg-type]
                f"{flows:,}" if isinstance(flows, int) else "—",
                fmt(r.get("fps") and r["fps"] / 1e3, ".1f"),  # type: ignore[operator, arg-type]
                pct,
                f"{r['rss_mib']:.0f}",
                *[fmt(r.get(f"vs_{p}"), ".2f") for p in peers],  # type: ignore[arg-type]
                fmt(r.get("vs_1w"), ".2f"),  # type: ignore[arg-type]
            ]
            if r["failed"]:
                cells[2] += f" ({r['failed']} failed)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--packets", type=int, default=1_000_000, help="packets per generated capture (default 1000000)"
    )
    p.add_argument(
        "--profiles",
        default="mix,enterprise",
        help="make_traffic.py profiles, comma separated (default mix,enterprise); '' for none",
    )
    p.add_argument(
        "--capture",
        action="append",
        default=[],
        metavar="PCAP",
        help="also benchmark this capture (repeatable)",
    )
    p.add_argument("--repeat", type=int, default=3, help="timed rounds per capture (default 3)")
    p.add_argument("--nfstream", action="store_true", help="also time nfstream (slow)")
    p.add_argument(
        "--api", action="store_true", help="also time the Python API (for flow in netsonde.analyze(F))"
    )
    p.add_argument(
        "--pandas",
        action="store_true",
        help="also time DataFrames: netsonde.to_pandas(F), and with --nfstream NFStreamer(F).to_pandas()",
    )
    p.add_argument(
        "--nfstream-meters",
        type=int,
        default=0,
        help="NFStreamer n_meters (default 0: nfstream's own choice, 1 meter on 2 cores)",
    )
    p.add_argument(
        "--netsonde",
        metavar="CMD",
        help="how to start netsonde (default: the console script "
        "beside this Python, else PATH, else `python -m netsonde`)",
    )
    p.add_argument(
        "--netsonde-workers",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[2],
        metavar="N[,N…]",
        help="also time `netsonde analyze --workers N` for each N (default 2; '' for none)",
    )
    p.add_argument(
        "--ceiling",
        action="store_true",
        help="also time two one-worker netsonde processes side by side (netsonde-1w-x2): "
        "how far two cores scale on this machine when nothing is shared",
    )
    p.add_argument("--tools", help="only these tools, comma separated (names as in the table)")
    p.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"the shared folder with bench/make_traffic.py (default {DEFAULT_SHARED})",
    )
    p.add_argument("--results", type=Path, default=HERE / "results.md", help="Markdown report to write")
    a = p.parse_args(argv)
    if a.repeat < 1 or a.packets < 1:
        p.error("--repeat and --packets must be at least 1")
    a.profiles = [x for x in a.profiles.split(",") if x]
    for prof in a.profiles:
        if prof not in PROFILES:
            p.error(f"unknown profile {prof!r} (choose from {', '.join(PROFILES)})")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    workdir = OUT / stamp

    load_start = os.getloadavg()[0]
    if load_start > 0.5:
        log(f"note: load average is {load_start:.2f} before the run; other work skews the timings")
    tools = tool_specs(args)
    if args.tools:
        wanted = set(args.tools.split(","))
        tools = [t for t in tools if t.name in wanted]
    skipped: list[str] = []
    usable: list[Tool] = []
    for t in tools:
        why = t.unavailable()
        if why:
            log(f"skipping {t.name}: {why}")
            skipped.append(f"{t.name}: {why}")
        else:
            usable.append(t)
    if not usable:
        log("run.py: no tool can run")
        return 1
    tools = usable
    not_compiled = byte_compile(sys.executable)
    if not_compiled:
        log(f"note: {not_compiled}")
    versions = {t.name: t.version() for t in tools}
    for t in tools:
        log(f"{t.name} {versions[t.name]}: {t.display()}")

    paths = [ensure_capture(p, args.packets, args.shared) for p in args.profiles]
    paths += [Path(c).resolve() for c in args.capture]
    if not paths:
        log("run.py: no capture (use --profiles or --capture)")
        return 1
    captures = [capture_stats(p) for p in paths]

    rows: list[dict[str, object]] = []
    stolen: dict[str, float] = {}
    for cap in captures:
        cdir = workdir / cap.name
        log(f"\n== {cap.name}: {cap.packets:,} packets, {cap.wire_bytes / 1e6:,.1f} MB on the wire")
        checks: dict[str, Check] = {}
        for t in tools:  # untimed: warm-up + validation
            run, chk = t.check(cap.path, cdir)
            if run is not None:
                log(
                    f"  check {t.name}: {run.wall:.2f}s rc={run.rc} "
                    f"flows={chk.flows} classified={chk.classified}"
                )
                if run.rc != 0:
                    chk.notes.append(f"validation run failed rc={run.rc}: {run.stderr_tail()}")
            checks[t.name] = chk
        runs: dict[str, list[Run]] = {t.name: [] for t in tools}
        extras: dict[str, dict[str, object]] = {t.name: {} for t in tools}
        jiffies_before = cpu_jiffies()
        for rnd in range(args.repeat):
            k = rnd % len(tools)
            for t in tools[k:] + tools[:k]:  # rotate the order every round
                out, err = cdir / f"{t.name}.{rnd}.out", cdir / f"{t.name}.{rnd}.err"
                warm_page_cache(cap.path)
                run = run_child(t.command(cap.path), out, err)
                runs[t.name].append(run)
                if run.rc == 0 and not extras[t.name]:
                    extras[t.name] = t.timed_result(run)
                state = "ok" if run.rc == 0 else f"FAILED rc={run.rc}: {run.stderr_tail()}"
                log(
                    f"  round {rnd + 1}/{args.repeat} {t.name:<12} {run.wall:8.3f}s  cpu {run.cpu:7.2f}s  "
                    f"rss {run.maxrss_kib / 1024:7.0f} MiB  {state}"
                )
        jiffies_after = cpu_jiffies()
        if jiffies_before and jiffies_after and jiffies_after[0] > jiffies_before[0]:
            share = (jiffies_after[1] - jiffies_before[1]) / (jiffies_after[0] - jiffies_before[0])
            stolen[cap.name] = share
            log(f"  CPU time taken by the hypervisor (steal) during the timed rounds: {100 * share:.1f}%")
        for t in tools:
            rows.append(summarize(cap, t, runs[t.name], checks[t.name], extras[t.name]))

    peers = tuple(p for p in ("ndpiReader", "nfstream") if any(t.family == p for t in tools))
    add_ratios(rows, peers)
    table = markdown_table(rows, peers)
    print(table)
    verdicts = acceptance(rows)
    for c in verdicts:
        log(c)

    notes: list[str] = []
    stale = build_staleness(sys.executable)
    if stale:
        notes.append(stale)
        log(f"WARNING: {stale}")
    for r in rows:
        if r["family"] == "netsonde" and r.get("flows") and r.get("classified") == 0:
            notes.append(
                f"{r['capture']} / {r['tool']}: no flow classified: this build does flow accounting "
                "only, so its speed ratios are not DPI against DPI"
            )
        for n in r["notes"]:  # type: ignore[attr-defined]
            notes.append(f"{r['capture']} / {r['tool']}: {n}")
        for e in r["errors"]:  # type: ignore[attr-defined]
            notes.append(f"{r['capture']} / {r['tool']}: ERROR {e}")
    notes += [f"skipped {s}" for s in skipped]

    env = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load": f"{load_start:.2f} before, {os.getloadavg()[0]:.2f} after (1-min load average)",
        "steal": stolen,
        "netsonde_git": git_state(),
        "versions": versions,
        "commands": {t.name: t.display() for t in tools},
        "repeat": args.repeat,
    }
    write_report(args.results, env, captures, table, verdicts, notes, args)
    (workdir / "results.json").parent.mkdir(parents=True, exist_ok=True)
    (workdir / "results.json").write_text(json.dumps({"env": env, "rows": rows}, indent=1, default=str))
    log(f"\nwrote {args.results} and {workdir / 'results.json'}")
    return 1 if any(r["failed"] for r in rows) else 0


def write_report(
    path: Path,
    env: dict[str, object],
    captures: list[Capture],
    table: str,
    checks: list[str],
    notes: list[str],
    args: argparse.Namespace,
) -> None:
    versions = env["versions"]
    assert isinstance(versions, dict)
    cmds = env["commands"]
    assert isinstance(cmds, dict)
    lines = [
        "# netsonde throughput vs peers",
        "",
        f"- date: {env['date']}",
        f"- machine: {env['cpus']} CPUs (`nproc`), {env['cpu_model']}, Linux {env['kernel']}, "
        f"Python {env['python']}; load {env['load']}",
        *(
            [
                "- CPU time the hypervisor took (steal, /proc/stat) during each capture's timed rounds: "
                + ", ".join(f"{name} {100 * share:.1f}%" for name, share in steal.items())
            ]
            if isinstance(steal := env.get("steal"), dict) and steal
            else []
        ),
        f"- netsonde git: {env['netsonde_git']}",
        *[f"- {name} {ver}: `{cmds[name]}`" for name, ver in versions.items()],
        f"- rounds: {env['repeat']} timed per capture, tools interleaved (order rotates), after one untimed "
        "validation run each; the capture is read through (untimed) before every run, so each tool "
        "finds it in the page cache",
        "- captures: "
        + "; ".join(
            f"`{c.path.name}` {c.packets:,} packets, {c.wire_bytes:,} bytes on the wire" for c in captures
        ),
        "",
        table,
        "",
        "Wall time is the whole process (start-up, reading, analysis, output, exit); Mpkt/s and Gbit/s are "
        "the capture's packets and summed original frame lengths divided by the median wall time. "
        "`speed ÷ X` is X's median wall time over this tool's (above 1: faster than X). "
        "`classified` is the share of flows whose application is not Unknown (ndpiReader counts port/IP "
        "guesses as classified). Peak RSS is the largest process; for nfstream it is the sum of its Python "
        "process and its meter process. CPU s is user+system time, children included. "
        "`speed ÷ netsonde 1w` is netsonde's one-worker median wall time over this variant's. "
        "netsonde-1w-x2 (`--ceiling`) runs two one-worker processes side by side: its speeds count both "
        "analyses (twice the capture per wall time), its RSS is one process's. "
        "netsonde-start-up runs netsonde on the capture's first packet only: the fixed cost of every run "
        "(interpreter start-up, imports, exit), which no number of workers shortens."
        + (
            " netsonde-api (`--api`) iterates `netsonde.analyze(F)` in Python, one `Flow` object per "
            "record, as nfstream's row iterates its flow objects: the like-for-like comparison with nfstream."
            if args.api
            else ""
        )
        + (
            " netsonde-pandas (`--pandas`) makes a pandas DataFrame of every flow with "
            "`netsonde.to_pandas(F)`; nfstream-pandas with nfstream's `to_pandas()`, which its "
            "`speed ÷ nfstream` is taken against."
            if args.pandas
            else ""
        ),
        "",
        "## Acceptance (issue 5)",
        "",
        *[f"- {c}" for c in checks],
        "",
        f"Reproduce: `python benchmarks/run.py --packets {args.packets} --repeat {args.repeat} "
        f"--profiles {','.join(args.profiles)}{' --nfstream' if args.nfstream else ''}"
        + (
            f" --netsonde-workers {','.join(map(str, args.netsonde_workers))}"
            if args.netsonde_workers
            else ""
        )
        + "".join(f" --capture {shlex.quote(c)}" for c in args.capture)
        + (" --ceiling" if args.ceiling else "")
        + (" --api" if args.api else "")
        + (" --pandas" if args.pandas else "")
        + "`",
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
