//! Python bindings for netsonde-core: `netsonde._core`. Thin by design: option checking,
//! the public API and the CLI live in the Python package; this crate only moves batches of
//! records across, with the GIL released while the engine works.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use netsonde_core::analysis::{damage_warning, OpenError};
use netsonde_core::capture::{CaptureError, CaptureReader, LinkType, RawPacket};
use netsonde_core::classify::TcpPolicy;
use netsonde_core::columns::column_batches;
use netsonde_core::decode::format_ip;
use netsonde_core::flow::defrag::DefragPolicy;
use netsonde_core::record::{
    tcp_flags_text, FieldValue, MetaValue, TextBatch, TextFormat, FIELDS, FIELD_NAMES,
};
use netsonde_core::{Analysis, Engine, EngineOptions, FlowRecord, Stats};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

create_exception!(
    netsonde._core,
    NetsondeError,
    PyException,
    "Base class of netsonde's errors."
);
create_exception!(
    netsonde._core,
    CaptureFormatError,
    NetsondeError,
    "The input is not a readable pcap or pcapng capture."
);

fn open_error(e: OpenError) -> PyErr {
    match &e.error {
        CaptureError::Io(m) if m.ends_with("no such file") => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        CaptureError::Io(_) => PyErr::new::<pyo3::exceptions::PyOSError, _>(e.to_string()),
        _ => CaptureFormatError::new_err(e.to_string()),
    }
}

/// Engine options as the Python layer passes them (validated there, by `netsonde.Options`).
#[pyclass(module = "netsonde._core", frozen, from_py_object)]
#[derive(Clone)]
struct EngineConfig {
    idle_timeout_ms: u64,
    active_timeout_ms: u64,
    max_flows: usize,
    defrag: bool,
    decode_tunnels: bool,
    /// Signature packs to add to the built-in one: (origin, TOML text).
    signature_packs: Vec<(String, String)>,
    tcp_policy: TcpPolicy,
    defrag_policy: DefragPolicy,
    /// Worker threads for file analysis (flow sharding); 1 runs on one thread.
    workers: usize,
}

/// A policy by name, or a ValueError listing the known names.
fn policy<P: Copy>(
    what: &str,
    name: &str,
    all: &[(&str, P)],
    parse: fn(&str) -> Option<P>,
) -> PyResult<P> {
    parse(name).ok_or_else(|| {
        let known: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
        PyValueError::new_err(format!(
            "unknown {what} {name:?}; known: {}",
            known.join(", ")
        ))
    })
}

#[pymethods]
impl EngineConfig {
    #[new]
    #[pyo3(signature = (*, idle_timeout_ms, active_timeout_ms, max_flows, defrag, decode_tunnels, signature_packs=Vec::new(), tcp_policy="bsd", defrag_policy="bsd", workers=1))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        idle_timeout_ms: u64,
        active_timeout_ms: u64,
        max_flows: usize,
        defrag: bool,
        decode_tunnels: bool,
        signature_packs: Vec<(String, String)>,
        tcp_policy: &str,
        defrag_policy: &str,
        workers: usize,
    ) -> PyResult<Self> {
        Ok(EngineConfig {
            idle_timeout_ms,
            active_timeout_ms,
            max_flows,
            defrag,
            decode_tunnels,
            signature_packs,
            tcp_policy: policy(
                "TCP policy",
                tcp_policy,
                TcpPolicy::ALL,
                TcpPolicy::from_name,
            )?,
            defrag_policy: policy(
                "defrag policy",
                defrag_policy,
                DefragPolicy::ALL,
                DefragPolicy::from_name,
            )?,
            workers: workers.max(1),
        })
    }
}

impl EngineConfig {
    /// An engine with these options and signature packs; a bad pack is a ValueError.
    fn engine(&self) -> PyResult<Engine> {
        let mut engine = Engine::new(self.engine_options());
        self.load_packs(&mut engine)?;
        Ok(engine)
    }

    fn load_packs(&self, engine: &mut Engine) -> PyResult<()> {
        for (origin, text) in &self.signature_packs {
            engine
                .load_signatures(text, origin)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(())
    }

    fn engine_options(&self) -> EngineOptions {
        let mut opts = EngineOptions {
            idle_timeout_ms: self.idle_timeout_ms,
            active_timeout_ms: self.active_timeout_ms,
            max_flows: self.max_flows,
            defrag: self.defrag,
            decode_tunnels: self.decode_tunnels,
            ..EngineOptions::default()
        };
        opts.stream.policy = self.tcp_policy;
        opts.defrag_options.policy = self.defrag_policy;
        opts
    }
}

/// Maps keyed by short names, looked up for every field of every record.
type NameMap<K, V> = HashMap<K, V, ahash::RandomState>;

/// The names every record repeats, as Python strings made once: the record's fields and
/// the metadata attributes'. Made for each record, each of its ~35 keys was created,
/// hashed and freed again.
struct Names {
    /// Each field's name, and whether its values are shared (see [`SHARED_TEXT_FIELDS`]).
    fields: Vec<(Py<PyString>, bool)>,
    attributes: NameMap<&'static str, Py<PyString>>,
}

static NAMES: PyOnceLock<Names> = PyOnceLock::new();

fn names(py: Python<'_>) -> &'static Names {
    NAMES.get_or_init(py, || Names {
        fields: FIELD_NAMES
            .iter()
            .map(|n| {
                let shared = SHARED_TEXT_FIELDS.contains(n);
                (PyString::intern(py, n).unbind(), shared)
            })
            .collect(),
        attributes: netsonde_core::protocols::attributes()
            .into_iter()
            .map(|a| (a.name, PyString::intern(py, a.name).unbind()))
            .collect(),
    })
}

/// Text fields whose values repeat from record to record (a few dozen applications and
/// categories, five reasons to end, a handful of flag sets): one Python string per value in
/// a batch, shared by its records, instead of one per record. Saves making them, and the
/// memory of every copy when the caller keeps the flows.
const SHARED_TEXT_FIELDS: [&str; 7] = [
    "expiration",
    "src2dst_tcp_flags",
    "dst2src_tcp_flags",
    "application_name",
    "application_category_name",
    "application_confidence",
    "tunnel",
];

/// The Python strings of one batch's repeated values (see [`SHARED_TEXT_FIELDS`]).
#[derive(Default)]
struct SharedText<'py> {
    strings: NameMap<String, Bound<'py, PyString>>,
}

impl<'py> SharedText<'py> {
    fn get(&mut self, py: Python<'py>, text: &str) -> Bound<'py, PyString> {
        if let Some(s) = self.strings.get(text) {
            return s.clone();
        }
        let s = PyString::new(py, text);
        self.strings.insert(text.to_owned(), s.clone());
        s
    }
}

fn field_value<'py>(
    py: Python<'py>,
    value: FieldValue<'_>,
    names: &Names,
    shared: Option<&mut SharedText<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let text = |s: &str, shared: Option<&mut SharedText<'py>>| match shared {
        Some(shared) => shared.get(py, s).into_any(),
        None => PyString::new(py, s).into_any(),
    };
    Ok(match value {
        FieldValue::UInt(n) => n.into_pyobject(py)?.into_any(),
        FieldValue::Int(n) => n.into_pyobject(py)?.into_any(),
        FieldValue::Str(s) => text(s, shared),
        FieldValue::Ip(version, addr) => PyString::new(py, &format_ip(version, addr)).into_any(),
        FieldValue::TcpFlags(flags) => text(&tcp_flags_text(flags), shared),
        FieldValue::Null => py.None().into_bound(py),
        FieldValue::List(l) => PyList::new(py, l)?.into_any(),
        FieldValue::Metadata(items) => {
            let m = PyDict::new(py);
            for (k, v) in items {
                set_attribute(&m, names, k, v)?;
            }
            m.into_any()
        }
    })
}

/// Sets an attribute in a record's `metadata` or an event's `attributes`.
fn set_attribute(d: &Bound<'_, PyDict>, names: &Names, key: &str, v: &MetaValue) -> PyResult<()> {
    let py = d.py();
    let v = match v {
        MetaValue::Str(s) => PyString::new(py, s).into_any(),
        MetaValue::Int(n) => n.into_pyobject(py)?.into_any(),
        MetaValue::List(l) => PyList::new(py, l)?.into_any(),
    };
    match names.attributes.get(key) {
        Some(name) => d.set_item(name.bind(py), v),
        None => d.set_item(key, v),
    }
}

/// The records as instances of `class` (`netsonde.Flow`), made without its `__init__`: the
/// fields are set straight from the record. Through a dict per record and `__init__`'s
/// loop, the Python objects cost more than the analysis that found the flows.
fn records_to_list<'py>(
    py: Python<'py>,
    records: &[FlowRecord],
    class: &Py<PyType>,
) -> PyResult<Bound<'py, PyList>> {
    let names = names(py);
    let class = class.bind(py);
    let new = class.getattr(intern!(py, "__new__"))?;
    let mut shared = SharedText::default();
    let list = PyList::empty(py);
    for r in records {
        let flow = new.call1((class,))?;
        for ((_, value), (key, is_shared)) in r.fields().into_iter().zip(&names.fields) {
            let shared = is_shared.then_some(&mut shared);
            flow.setattr(key.bind(py), field_value(py, value, names, shared)?)?;
        }
        list.append(flow)?;
    }
    Ok(list)
}

/// The records as column batches for pyarrow (see `netsonde_core::columns`): a list of
/// `(rows, columns)`, each column `(validity or None, [buffers])`, all as `bytes`.
fn records_to_columns<'py>(
    py: Python<'py>,
    records: &[FlowRecord],
) -> PyResult<Bound<'py, PyList>> {
    let batches = py.detach(|| column_batches(records));
    let out = PyList::empty(py);
    for b in batches {
        let columns = PyList::empty(py);
        for c in b.columns {
            let validity = c.validity.map(|v| PyBytes::new(py, &v));
            let buffers: Vec<Bound<'py, PyBytes>> =
                c.buffers.iter().map(|x| PyBytes::new(py, x)).collect();
            columns.append((validity, PyList::new(py, buffers)?))?;
        }
        out.append(PyTuple::new(
            py,
            [b.rows.into_pyobject(py)?.into_any(), columns.into_any()],
        )?)?;
    }
    Ok(out)
}

fn stats_dict<'py>(py: Python<'py>, stats: &Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in stats.counters() {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// [`stats_dict`], with the kernel's received and dropped frames of a live capture, if any.
fn live_stats_dict<'py>(
    py: Python<'py>,
    stats: &Stats,
    counts: Option<(u64, u64)>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = stats_dict(py, stats)?;
    if let Some((received, dropped)) = counts {
        d.set_item("capture_received", received)?;
        d.set_item("capture_dropped", dropped)?;
    }
    Ok(d)
}

/// Calls a Python progress callback at most a few times a second.
struct Progress {
    callback: Option<Py<PyAny>>,
    last: Instant,
}

impl Progress {
    fn new(callback: Option<Py<PyAny>>) -> Progress {
        Progress {
            callback,
            last: Instant::now(),
        }
    }

    fn report(&mut self, done: u64, total: u64) {
        let Some(cb) = &self.callback else { return };
        if done < total && self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        // Progress is best effort: an error raised by the callback is printed, not fatal.
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, (done, total)) {
                e.print(py);
            }
        });
    }
}

/// Reads capture files through one engine and hands flow records out in batches.
#[pyclass(module = "netsonde._core")]
struct FileAnalysis {
    inner: Analysis,
    batch: Vec<FlowRecord>,
    /// The class of the records handed out (see [`records_to_list`]).
    record_class: Py<PyType>,
}

#[pymethods]
impl FileAnalysis {
    /// Records come out as instances of `record_class` (`netsonde.Flow`), their fields set
    /// as attributes.
    #[new]
    fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        config: EngineConfig,
        record_class: Py<PyType>,
    ) -> PyResult<Self> {
        let mut inner = py
            .detach(|| Analysis::open(&paths, config.engine_options()))
            .map_err(open_error)?;
        config.load_packs(inner.engine_mut())?;
        inner.set_workers(config.workers);
        Ok(FileAnalysis {
            inner,
            batch: Vec::new(),
            record_class,
        })
    }

    /// The next batch of flow records, or `None` when the input is exhausted.
    #[pyo3(signature = (min_records=1024, progress=None))]
    fn next_batch<'py>(
        &mut self,
        py: Python<'py>,
        min_records: usize,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        if !self.run(py, min_records, progress) {
            return Ok(None);
        }
        records_to_list(py, &self.batch, &self.record_class).map(Some)
    }

    /// The next flow records as column batches (see [`records_to_columns`]), or `None` when
    /// the input is exhausted.
    #[pyo3(signature = (min_records=65536, progress=None))]
    fn next_columns<'py>(
        &mut self,
        py: Python<'py>,
        min_records: usize,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        if !self.run(py, min_records, progress) {
            return Ok(None);
        }
        records_to_columns(py, &self.batch).map(Some)
    }

    /// Warnings about damaged inputs since the last call.
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, &self.inner.stats())
    }
}

impl FileAnalysis {
    /// Runs the analysis until `self.batch` holds at least `min_records` records or the
    /// input ends; false once nothing is left.
    fn run(&mut self, py: Python<'_>, min_records: usize, progress: Option<Py<PyAny>>) -> bool {
        let batch = &mut self.batch;
        batch.clear();
        let inner = &mut self.inner;
        let mut reporter = Progress::new(progress);
        let more =
            py.detach(|| inner.run(batch, min_records.max(1), &mut |d, t| reporter.report(d, t)));
        more || !batch.is_empty()
    }
}

/// A long-lived engine fed with packets from Python.
#[pyclass(module = "netsonde._core")]
struct PacketEngine {
    engine: Engine,
    /// The class of the records handed out (see [`records_to_list`]).
    record_class: Py<PyType>,
    /// Records gathered for [`PacketEngine::process_columns`] until there are enough.
    pending: Vec<FlowRecord>,
    /// The capture file being read in steps (see [`PacketEngine::open_file`]).
    file: Option<(PathBuf, CaptureReader)>,
    /// The interface being captured (see [`PacketEngine::open_interface`]).
    live: Option<Live>,
    /// Frames received and dropped by the kernel on the last interface captured.
    live_counts: Option<(u64, u64)>,
}

#[pymethods]
impl PacketEngine {
    /// Records come out as instances of `record_class`, as [`FileAnalysis`]'s do.
    #[new]
    fn new(config: EngineConfig, record_class: Py<PyType>) -> PyResult<Self> {
        Ok(PacketEngine {
            engine: config.engine()?,
            record_class,
            pending: Vec::new(),
            file: None,
            live: None,
            live_counts: None,
        })
    }

    /// Adds a signature pack (TOML text) while the engine runs; returns how many
    /// applications it declared. A bad pack raises ValueError and changes nothing.
    fn load_signatures(&mut self, text: &str, origin: &str) -> PyResult<usize> {
        self.engine
            .load_signatures(text, origin)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Processes `(timestamp_ns, frame, wire_len)` triples of one link type; returns the
    /// records of flows that ended meanwhile. The frames are read where Python holds them
    /// (`bytes` is immutable), not copied.
    fn process<'py>(
        &mut self,
        py: Python<'py>,
        packets: Vec<(i64, PyBackedBytes, u32)>,
        link_type: u32,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut out = Vec::new();
        self.process_into(py, &packets, link_type, &mut out);
        records_to_list(py, &out, &self.record_class)
    }

    /// As [`PacketEngine::process`], but the records gather in the engine until there are
    /// `min_records`, and come out as column batches (see [`records_to_columns`]); an empty
    /// list until then. [`PacketEngine::flush_columns`] hands out the rest.
    #[pyo3(signature = (packets, link_type, min_records=65536))]
    fn process_columns<'py>(
        &mut self,
        py: Python<'py>,
        packets: Vec<(i64, PyBackedBytes, u32)>,
        link_type: u32,
        min_records: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut pending = std::mem::take(&mut self.pending);
        self.process_into(py, &packets, link_type, &mut pending);
        if pending.len() < min_records.max(1) {
            self.pending = pending;
            return Ok(PyList::empty(py));
        }
        let columns = records_to_columns(py, &pending);
        pending.clear();
        self.pending = pending;
        columns
    }

    /// Ends every flow; returns the records gathered by [`PacketEngine::process_columns`]
    /// and theirs as column batches.
    fn flush_columns<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut pending = std::mem::take(&mut self.pending);
        let engine = &mut self.engine;
        py.detach(|| engine.flush(&mut pending));
        records_to_columns(py, &pending)
    }

    /// Opens a capture file, to be read through this engine by [`PacketEngine::read_file`]
    /// a step at a time: between steps the caller delivers records and events, so that
    /// callbacks run while the file is read (and may use the engine), not after it.
    fn open_file(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let reader = py.detach(|| CaptureReader::open(&path)).map_err(|error| {
            open_error(OpenError {
                path: path.clone(),
                error,
            })
        })?;
        self.file = Some((path, reader));
        Ok(())
    }

    /// Reads up to `packets` packets of the file opened by [`PacketEngine::open_file`];
    /// returns the records of flows that ended meanwhile, whether the file has more, and the
    /// warning about damage that ended it early, if any. The file is closed at its end.
    fn read_file<'py>(
        &mut self,
        py: Python<'py>,
        packets: usize,
    ) -> PyResult<(Bound<'py, PyList>, bool, Option<String>)> {
        let Some((path, reader)) = self.file.as_mut() else {
            return Err(PyValueError::new_err("no capture file is open"));
        };
        let engine = &mut self.engine;
        let (out, more, warning) = py.detach(|| {
            let mut out = Vec::new();
            for _ in 0..packets.max(1) {
                match reader.next_packet() {
                    Ok(Some(pkt)) => engine.process(&pkt, &mut out),
                    Ok(None) => return (out, false, None),
                    Err(e) => return (out, false, Some(damage_warning(path, &e, reader))),
                }
            }
            (out, true, None)
        });
        if !more {
            self.file = None;
        }
        Ok((
            records_to_list(py, &out, &self.record_class)?,
            more,
            warning,
        ))
    }

    /// Starts capturing on a network interface, to be read through this engine by
    /// [`PacketEngine::read_interface`]; returns the link type of its frames.
    #[pyo3(signature = (interface, promiscuous=true, buffer_bytes=64 << 20))]
    fn open_interface(
        &mut self,
        py: Python<'_>,
        interface: &str,
        promiscuous: bool,
        buffer_bytes: usize,
    ) -> PyResult<String> {
        let mut live = py.detach(|| Live::open(interface, promiscuous, buffer_bytes))?;
        let link = live.link_name();
        self.live = Some(live);
        Ok(link.to_string())
    }

    /// Reads up to `max_packets` frames of the interface, waiting up to `timeout_ms` for the
    /// first; returns the records of flows that ended meanwhile (idle flows end as the
    /// clock moves on, packets or not) and how many frames were read.
    fn read_interface<'py>(
        &mut self,
        py: Python<'py>,
        max_packets: usize,
        timeout_ms: u64,
    ) -> PyResult<(Bound<'py, PyList>, usize)> {
        let Some(live) = self.live.as_mut() else {
            return Err(PyValueError::new_err("no interface is being captured"));
        };
        let engine = &mut self.engine;
        let mut out = Vec::new();
        let read = py.detach(|| live.read(engine, max_packets, timeout_ms, &mut out));
        self.live_counts = Some(live.counts());
        let read = read?;
        Ok((records_to_list(py, &out, &self.record_class)?, read))
    }

    /// Stops capturing (the flows stay in the engine until they end or are flushed).
    fn close_interface(&mut self) {
        if let Some(mut live) = self.live.take() {
            self.live_counts = Some(live.counts());
        }
    }

    /// Ends every flow and returns their records.
    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let engine = &mut self.engine;
        let out = py.detach(|| {
            let mut out = Vec::new();
            engine.flush(&mut out);
            out
        });
        records_to_list(py, &out, &self.record_class)
    }

    fn active_flows(&self) -> usize {
        self.engine.active_flows()
    }

    /// Subscribes to an event by name; unknown names raise ValueError.
    fn subscribe(&mut self, name: &str) -> PyResult<()> {
        self.engine.subscribe(name).map_err(PyValueError::new_err)
    }

    /// Events since the last call, as dicts: name, flow_id, ts_ns, attributes.
    fn take_events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let names = names(py);
        let list = PyList::empty(py);
        for e in self.engine.take_events() {
            let d = PyDict::new(py);
            d.set_item("name", e.name)?;
            d.set_item("flow_id", e.flow_id)?;
            d.set_item("ts_ns", e.ts_ns)?;
            let attrs = PyDict::new(py);
            for (k, v) in &e.attrs {
                set_attribute(&attrs, names, k, v)?;
            }
            d.set_item("attributes", attrs)?;
            list.append(d)?;
        }
        Ok(list)
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        live_stats_dict(py, &self.engine.stats(), self.live_counts)
    }
}

impl PacketEngine {
    /// Runs `(timestamp_ns, frame, wire_len)` triples of one link type through the engine,
    /// the GIL released; the records of flows that end go to `out`.
    fn process_into(
        &mut self,
        py: Python<'_>,
        packets: &[(i64, PyBackedBytes, u32)],
        link_type: u32,
        out: &mut Vec<FlowRecord>,
    ) {
        let engine = &mut self.engine;
        let link = LinkType(link_type);
        py.detach(|| {
            for (ts_ns, data, wire_len) in packets {
                let data: &[u8] = data;
                let pkt = RawPacket {
                    ts_ns: *ts_ns,
                    link_type: link,
                    data,
                    wire_len: (*wire_len).max(data.len() as u32),
                };
                engine.process(&pkt, out);
            }
        });
    }
}

/// A value a Python class owns that is `Send` but not `Sync`: in a mutex only because a
/// Python class must be shareable between threads; reached through `&mut` (`get_mut`), it
/// is never locked, so never poisoned.
#[cfg(target_os = "linux")]
struct Owned<T>(std::sync::Mutex<T>);

#[cfg(target_os = "linux")]
impl<T> Owned<T> {
    fn new(value: T) -> Self {
        Owned(std::sync::Mutex::new(value))
    }

    fn get(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

/// A live capture of an interface (Linux), read by the engine of the calling thread.
#[cfg(target_os = "linux")]
struct Live(Owned<netsonde_core::capture::live::LiveCapture>);

#[cfg(target_os = "linux")]
impl Live {
    fn open(interface: &str, promiscuous: bool, buffer_bytes: usize) -> PyResult<Live> {
        use netsonde_core::capture::live::{LiveCapture, LiveOptions};
        let opts = LiveOptions {
            promiscuous,
            buffer_bytes,
            ..LiveOptions::default()
        };
        LiveCapture::open(interface, &opts)
            .map(|c| Live(Owned::new(c)))
            .map_err(live_error)
    }

    fn capture(&mut self) -> &mut netsonde_core::capture::live::LiveCapture {
        self.0.get()
    }

    fn link_name(&mut self) -> &'static str {
        self.capture().link_type().name()
    }

    fn read(
        &mut self,
        engine: &mut Engine,
        max_packets: usize,
        timeout_ms: u64,
        out: &mut Vec<FlowRecord>,
    ) -> PyResult<usize> {
        let timeout = Duration::from_millis(timeout_ms);
        engine
            .read_live(self.capture(), max_packets, timeout, &mut || true, out)
            .map_err(live_error)
    }

    /// Frames received and dropped by the kernel so far.
    fn counts(&mut self) -> (u64, u64) {
        self.capture().counts()
    }
}

#[cfg(target_os = "linux")]
fn live_error(e: netsonde_core::capture::live::LiveError) -> PyErr {
    if e.permission {
        PyErr::new::<pyo3::exceptions::PyPermissionError, _>(e.to_string())
    } else {
        PyErr::new::<pyo3::exceptions::PyOSError, _>(e.to_string())
    }
}

/// Elsewhere than on Linux there is no live capture yet: opening one says so, and there is
/// never a value of this type to use.
#[cfg(not(target_os = "linux"))]
enum Live {}

#[cfg(not(target_os = "linux"))]
impl Live {
    fn open(interface: &str, _promiscuous: bool, _buffer_bytes: usize) -> PyResult<Live> {
        Err(PyErr::new::<pyo3::exceptions::PyOSError, _>(format!(
            "{interface}: live capture is supported on Linux only"
        )))
    }

    fn link_name(&mut self) -> &'static str {
        match *self {}
    }

    fn read(
        &mut self,
        _engine: &mut Engine,
        _max_packets: usize,
        _timeout_ms: u64,
        _out: &mut Vec<FlowRecord>,
    ) -> PyResult<usize> {
        match *self {}
    }

    fn counts(&mut self) -> (u64, u64) {
        match *self {}
    }
}

/// Per-application totals for the terminal summary: (flows, packets, bytes).
type Summary = Vec<(String, u64, u64, u64)>;

/// Analyses capture files and writes every record to `out_path` (`None`: nothing written)
/// as JSON lines or CSV, entirely in Rust. Returns (stats, per-application summary,
/// warnings, flows written).
#[pyfunction]
#[pyo3(signature = (paths, out_path, fmt, config, progress=None))]
fn analyze_to_file<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    out_path: Option<PathBuf>,
    fmt: &str,
    config: EngineConfig,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyDict>, Summary, Vec<String>, u64)> {
    let csv = match fmt {
        "jsonl" => false,
        "csv" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown output format {other:?}"
            )))
        }
    };
    let mut analysis = py
        .detach(|| Analysis::open(&paths, config.engine_options()))
        .map_err(open_error)?;
    config.load_packs(analysis.engine_mut())?;
    analysis.set_workers(config.workers);
    let mut reporter = Progress::new(progress);
    let result = py.detach(|| -> std::io::Result<(Summary, u64)> {
        let mut sink: Option<Box<dyn Write>> = match &out_path {
            Some(p) => Some(Box::new(std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(p)?,
            ))),
            None => None,
        };
        let format = match (&sink, csv) {
            (None, _) => TextFormat::TotalsOnly,
            (Some(_), true) => TextFormat::Csv,
            (Some(_), false) => TextFormat::Jsonl,
        };
        let mut batch = TextBatch::default();
        if csv {
            batch.text.push_str(&FlowRecord::csv_header());
        }
        loop {
            let more =
                analysis.run_text(format, &mut batch, 4096, &mut |d, t| reporter.report(d, t));
            if let Some(w) = sink.as_mut() {
                w.write_all(batch.text.as_bytes())?;
            }
            batch.text.clear();
            if !more {
                break;
            }
        }
        if let Some(w) = sink.as_mut() {
            w.flush()?;
        }
        let summary = batch
            .by_app
            .into_iter()
            .map(|(app, t)| (app, t.flows, t.packets, t.bytes))
            .collect();
        let written = batch.records;
        Ok((summary, written))
    });
    let (summary, written) =
        result.map_err(|e| PyErr::new::<pyo3::exceptions::PyOSError, _>(e.to_string()))?;
    let stats = stats_dict(py, &analysis.stats())?;
    Ok((stats, summary, analysis.take_warnings(), written))
}

/// A live capture on worker threads (see `netsonde_core::live`), from the bindings.
#[cfg(target_os = "linux")]
struct LiveRun(Owned<netsonde_core::live::LiveWorkers>);

#[cfg(target_os = "linux")]
impl LiveRun {
    fn start(
        interface: &str,
        config: &EngineConfig,
        promiscuous: bool,
        buffer_bytes: usize,
        count: Option<u64>,
    ) -> PyResult<LiveRun> {
        use netsonde_core::capture::live::LiveOptions;
        let engine = config.engine()?;
        let opts = LiveOptions {
            promiscuous,
            buffer_bytes,
            ..LiveOptions::default()
        };
        netsonde_core::live::LiveWorkers::start(interface, &opts, &engine, config.workers, count)
            .map(|w| LiveRun(Owned::new(w)))
            .map_err(live_error)
    }

    fn workers(&mut self) -> &mut netsonde_core::live::LiveWorkers {
        self.0.get()
    }

    /// Records of flows that ended, waiting up to `wait` for some; the error that ended a
    /// worker's capture, if one did.
    fn next(&mut self, wait: Duration, out: &mut Vec<FlowRecord>) -> Option<PyErr> {
        let batch = self.workers().next(wait)?;
        out.extend(batch.records);
        batch.error.map(live_error)
    }

    fn done(&mut self) -> bool {
        self.workers().counted_out()
    }

    /// Stops the workers; the records of every flow they held go to `out`.
    fn stop(&mut self, out: &mut Vec<FlowRecord>) -> Option<PyErr> {
        let mut error = None;
        for batch in self.workers().stop() {
            out.extend(batch.records);
            error = error.or(batch.error.map(live_error));
        }
        error
    }

    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (stats, counts) = self.workers().stats();
        live_stats_dict(py, &stats, Some(counts))
    }
}

/// As [`Live`]: never a value elsewhere than on Linux.
#[cfg(not(target_os = "linux"))]
enum LiveRun {}

#[cfg(not(target_os = "linux"))]
impl LiveRun {
    fn start(
        interface: &str,
        _config: &EngineConfig,
        _promiscuous: bool,
        _buffer_bytes: usize,
        _count: Option<u64>,
    ) -> PyResult<LiveRun> {
        Live::open(interface, false, 0).map(|live| match live {})
    }

    fn next(&mut self, _wait: Duration, _out: &mut Vec<FlowRecord>) -> Option<PyErr> {
        match *self {}
    }

    fn done(&mut self) -> bool {
        match *self {}
    }

    fn stop(&mut self, _out: &mut Vec<FlowRecord>) -> Option<PyErr> {
        match *self {}
    }

    fn stats<'py>(&mut self, _py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        match *self {}
    }
}

/// A live capture from Python (`netsonde.live()`): records come out as flows end, on as
/// many worker threads as the configuration says.
#[pyclass(module = "netsonde._core")]
struct LiveAnalysis {
    run: LiveRun,
    record_class: Py<PyType>,
    stopped: bool,
}

#[pymethods]
impl LiveAnalysis {
    #[new]
    #[pyo3(signature = (interface, config, record_class, promiscuous=true, buffer_bytes=64 << 20, count=None))]
    fn new(
        py: Python<'_>,
        interface: &str,
        config: EngineConfig,
        record_class: Py<PyType>,
        promiscuous: bool,
        buffer_bytes: usize,
        count: Option<u64>,
    ) -> PyResult<Self> {
        let run =
            py.detach(|| LiveRun::start(interface, &config, promiscuous, buffer_bytes, count))?;
        Ok(LiveAnalysis {
            run,
            record_class,
            stopped: false,
        })
    }

    /// Records of flows that ended, waiting up to `timeout_ms` for some, and the error
    /// that ended the capture, if one did (the caller then stops it).
    fn next_batch<'py>(
        &mut self,
        py: Python<'py>,
        timeout_ms: u64,
    ) -> PyResult<(Bound<'py, PyList>, Option<PyErr>)> {
        let mut out = Vec::new();
        let run = &mut self.run;
        let error = py.detach(|| run.next(Duration::from_millis(timeout_ms), &mut out));
        Ok((records_to_list(py, &out, &self.record_class)?, error))
    }

    /// Whether the frame count asked for has been read.
    fn counted_out(&mut self) -> bool {
        self.run.done()
    }

    /// Stops the capture and returns the records of every flow still held, and the error
    /// that ended a worker's capture, if one did. Once only: later calls return nothing.
    fn stop<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, Option<PyErr>)> {
        let mut out = Vec::new();
        let mut error = None;
        if !self.stopped {
            self.stopped = true;
            let run = &mut self.run;
            error = py.detach(|| run.stop(&mut out));
        }
        Ok((records_to_list(py, &out, &self.record_class)?, error))
    }

    /// The counters, and the kernel's, as last reported (complete once stopped).
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.run.stats(py)
    }
}

/// Captures on `interface` and writes every record to `out_path` (`None`: nothing
/// written) as JSON lines or CSV, as flows end, until `duration_s` seconds have passed,
/// `count` frames have been read, or Ctrl-C; then ends the flows still held. Returns (stats
/// with the kernel's counts, per-application summary, flows written, whether Ctrl-C
/// ended it). `started` is called once the interface is open. A capture error is raised
/// after every record is written.
#[pyfunction]
#[pyo3(signature = (interface, out_path, fmt, config, duration_s=None, count=None, promiscuous=true, buffer_bytes=64 << 20, started=None))]
#[allow(clippy::too_many_arguments)]
fn capture_to_file<'py>(
    py: Python<'py>,
    interface: &str,
    out_path: Option<PathBuf>,
    fmt: &str,
    config: EngineConfig,
    duration_s: Option<f64>,
    count: Option<u64>,
    promiscuous: bool,
    buffer_bytes: usize,
    started: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyDict>, Summary, u64, bool)> {
    let format = match (&out_path, fmt) {
        (None, _) => TextFormat::TotalsOnly,
        (Some(_), "jsonl") => TextFormat::Jsonl,
        (Some(_), "csv") => TextFormat::Csv,
        (_, other) => {
            return Err(PyValueError::new_err(format!(
                "unknown output format {other:?}"
            )))
        }
    };
    let mut run =
        py.detach(|| LiveRun::start(interface, &config, promiscuous, buffer_bytes, count))?;
    // Told once the interface is open, so that a bad name is an error and nothing else.
    if let Some(callback) = started {
        callback.call0(py)?;
    }
    let io_error = |e: std::io::Error| PyErr::new::<pyo3::exceptions::PyOSError, _>(e.to_string());
    let mut sink: Option<Box<dyn Write>> = match &out_path {
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(io_error)?,
        ))),
        None => None,
    };
    let mut batch = TextBatch::default();
    if format == TextFormat::Csv {
        batch.text.push_str(&FlowRecord::csv_header());
    }
    let deadline = duration_s.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut records = Vec::new();
    let mut interrupted = false;
    let mut failure: Option<PyErr>;
    loop {
        let wait = deadline.map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100))
        });
        failure = py.detach(|| run.next(wait, &mut records));
        batch.add_all(&records, format);
        records.clear();
        // As flows end, not at the end: a reader of the output sees them as they come.
        if let Some(w) = sink.as_mut() {
            if !batch.text.is_empty() {
                w.write_all(batch.text.as_bytes()).map_err(io_error)?;
                w.flush().map_err(io_error)?;
                batch.text.clear();
            }
        }
        if failure.is_some() || run.done() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if let Err(e) = py.check_signals() {
            if e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                interrupted = true;
            } else {
                failure = Some(e);
            }
            break;
        }
    }
    let stopped = py.detach(|| run.stop(&mut records));
    failure = failure.or(stopped);
    batch.add_all(&records, format);
    if let Some(w) = sink.as_mut() {
        w.write_all(batch.text.as_bytes()).map_err(io_error)?;
        w.flush().map_err(io_error)?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let stats = run.stats(py)?;
    let summary = batch
        .by_app
        .into_iter()
        .map(|(app, t)| (app, t.flows, t.packets, t.bytes))
        .collect();
    Ok((stats, summary, batch.records, interrupted))
}

type Registry = (
    Vec<(u16, &'static str, &'static str, String)>,
    Vec<(u16, String, String)>,
    Vec<(&'static str, &'static str, &'static str, &'static str)>,
    Vec<(&'static str, &'static str, Vec<&'static str>)>,
    Vec<(&'static str, &'static str)>,
);

/// The registry: protocols as (id, name, category, well-known ports such as "tcp/53 udp/53"),
/// applications of the built-in signature
/// packs as (id, name, category), attributes as (name, type, category, description), events
/// as (name, description, attribute names), risks as (name, description).
#[pyfunction]
fn registry() -> Registry {
    let protocols = netsonde_core::protocols::PROTOCOLS
        .iter()
        .map(|p| {
            let tcp = p.tcp_ports.iter().map(|n| format!("tcp/{n}"));
            let udp = p.udp_ports.iter().map(|n| format!("udp/{n}"));
            let ports = tcp.chain(udp).collect::<Vec<_>>().join(" ");
            (p.id.0, p.name, p.category, ports)
        })
        .collect();
    let sigs = netsonde_core::classify::SignatureSet::builtin();
    let apps = sigs
        .apps()
        .iter()
        .map(|a| (a.id.0, a.name.clone(), a.category.clone()))
        .collect();
    let attrs = netsonde_core::protocols::attributes()
        .into_iter()
        .map(|a| (a.name, a.ty.name(), a.category.name(), a.doc))
        .collect();
    let events = netsonde_core::protocols::events()
        .into_iter()
        .map(|e| (e.name, e.doc, e.attrs.to_vec()))
        .collect();
    let risks = netsonde_core::risks::ALL.to_vec();
    (protocols, apps, attrs, events, risks)
}

/// Whether a file is a pcap or pcapng capture.
#[pyfunction]
fn is_capture(path: PathBuf) -> bool {
    Analysis::is_capture(&path)
}

/// The link type number for a name such as "ethernet" or "raw", or `None`.
#[pyfunction]
fn link_type_number(name: &str) -> Option<u32> {
    LinkType::parse(name).map(|l| l.0)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", netsonde_core::VERSION)?;
    m.add("FIELD_NAMES", FIELD_NAMES.to_vec())?;
    let fields: Vec<(&str, &str, &str)> = FIELDS
        .iter()
        .map(|f| (f.name, f.ty.name(), f.description))
        .collect();
    m.add("FIELDS", fields)?;
    let tcp: Vec<&str> = TcpPolicy::ALL.iter().map(|(n, _)| *n).collect();
    m.add("TCP_POLICIES", tcp)?;
    let defrag: Vec<&str> = DefragPolicy::ALL.iter().map(|(n, _)| *n).collect();
    m.add("DEFRAG_POLICIES", defrag)?;
    m.add("NetsondeError", m.py().get_type::<NetsondeError>())?;
    m.add(
        "CaptureFormatError",
        m.py().get_type::<CaptureFormatError>(),
    )?;
    m.add_class::<EngineConfig>()?;
    m.add_class::<FileAnalysis>()?;
    m.add_class::<PacketEngine>()?;
    m.add_class::<LiveAnalysis>()?;
    m.add_function(wrap_pyfunction!(analyze_to_file, m)?)?;
    m.add_function(wrap_pyfunction!(capture_to_file, m)?)?;
    m.add_function(wrap_pyfunction!(is_capture, m)?)?;
    m.add_function(wrap_pyfunction!(registry, m)?)?;
    m.add_function(wrap_pyfunction!(link_type_number, m)?)?;
    Ok(())
}
