//! Drives an [`Engine`] over a list of capture files, in batches of flow records, so that
//! callers (CLI writers, the Python iterator) never handle single packets.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::capture::{CaptureError, CaptureReader};
use crate::engine::{Engine, EngineOptions, Stats};
use crate::parallel::{Pool, Sink};
use crate::record::{FlowRecord, TextBatch, TextFormat};

/// An input that could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    pub path: PathBuf,
    pub error: CaptureError,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            // I/O messages already name the path.
            CaptureError::Io(m) => write!(f, "{m}"),
            e => write!(f, "{}: {e}", self.path.display()),
        }
    }
}

impl std::error::Error for OpenError {}

pub struct Analysis {
    engine: Engine,
    /// Worker threads asked for (1: everything on the caller's thread).
    workers: usize,
    /// The reader and worker threads, once started (`workers` > 1).
    pool: Option<Pool>,
    /// The workers' engines once they are done, for their counters.
    finished_workers: Vec<Engine>,
    pending: VecDeque<(PathBuf, CaptureReader)>,
    current: Option<(PathBuf, CaptureReader)>,
    warnings: Vec<String>,
    bytes_total: u64,
    bytes_done_before: u64,
    flushed: bool,
    /// Records on their way to text, on one worker.
    scratch: Vec<FlowRecord>,
}

/// How many packets run between checks of the batch size and progress callback.
const CHECK_EVERY: u32 = 4096;

impl Analysis {
    /// Opens every input up front, so a missing file or a non-capture is reported before any
    /// work is done.
    pub fn open(paths: &[PathBuf], opts: EngineOptions) -> Result<Analysis, OpenError> {
        let mut pending = VecDeque::new();
        let mut bytes_total = 0;
        for p in paths {
            let reader = CaptureReader::open(p).map_err(|error| OpenError {
                path: p.clone(),
                error,
            })?;
            bytes_total += reader.progress().1;
            pending.push_back((p.clone(), reader));
        }
        Ok(Analysis {
            engine: Engine::new(opts),
            workers: 1,
            pool: None,
            finished_workers: Vec::new(),
            pending,
            current: None,
            warnings: Vec::new(),
            bytes_total,
            bytes_done_before: 0,
            flushed: false,
            scratch: Vec::new(),
        })
    }

    /// Spreads the analysis over `n` worker threads (1, the default, runs it on the
    /// caller's thread). With several, the workers read the captures in turns and share
    /// each chunk read; each processes the frames whose innermost IP address pair it owns
    /// (a symmetric hash: both directions, every fragment and every flow between two hosts
    /// meet in one worker) with a flow table of its own, and all share the DNS and call
    /// caches (see [`crate::parallel`]). Records are the same as with one worker (their order and flow ids differ),
    /// unless a bound of the options that holds over all flows is reached (`max_flows`,
    /// the bytes held for TCP reassembly, the fragments held): each worker holds its share
    /// of it, and evicts within its share. Call it before
    /// the first [`Self::run`]; signature packs loaded into [`Self::engine_mut`] before that
    /// apply to every worker.
    pub fn set_workers(&mut self, n: usize) {
        if self.pool.is_none() {
            self.workers = n.max(1);
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs until at least `min_records` records are in `out` or the input is exhausted.
    /// Returns `false` once everything has been read and flushed. `progress` is called now
    /// and then with (bytes read, total bytes).
    pub fn run(
        &mut self,
        out: &mut Vec<FlowRecord>,
        min_records: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> bool {
        if self.workers > 1 {
            return self.run_parallel(Sink::Records(out), None, min_records, progress);
        }
        loop {
            if self.current.is_none() {
                match self.pending.pop_front() {
                    Some(next) => self.current = Some(next),
                    None => {
                        if !self.flushed {
                            // In steps, so that a large table's records are handed out in
                            // batches too.
                            let room = min_records.saturating_sub(out.len()).max(1);
                            if self.engine.flush_some(out, room) {
                                return true;
                            }
                            self.flushed = true;
                            progress(self.bytes_total, self.bytes_total);
                        }
                        return false;
                    }
                }
            }
            let Some((path, reader)) = self.current.as_mut() else {
                continue;
            };
            let mut since_check = 0u32;
            let finished = loop {
                match reader.next_packet() {
                    Ok(Some(pkt)) => {
                        self.engine.process(&pkt, out);
                        since_check += 1;
                        if since_check == CHECK_EVERY {
                            since_check = 0;
                            let (done, _) = reader.progress();
                            progress(self.bytes_done_before + done, self.bytes_total);
                            if out.len() >= min_records {
                                break false;
                            }
                        }
                    }
                    Ok(None) => break true,
                    Err(e) => {
                        self.warnings.push(damage_warning(path, &e, reader));
                        break true;
                    }
                }
            };
            if finished {
                self.bytes_done_before += reader.progress().1;
                self.current = None;
            }
            if out.len() >= min_records {
                return true;
            }
        }
    }

    /// Like [`Self::run`], but the records are written in `format` and added to `out` with
    /// their totals by application (their text can be taken away between calls). With
    /// several workers, each writes the records it makes, so the caller's thread only has
    /// text to write out. The workers start writing text when this is called first; calls
    /// may be mixed with [`Self::run`] (text the workers wrote meanwhile waits for the next
    /// call of this one, and records waiting as records are written in `format`).
    pub fn run_text(
        &mut self,
        format: TextFormat,
        out: &mut TextBatch,
        min_records: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> bool {
        if self.workers > 1 {
            return self.run_parallel(Sink::Text(out, format), Some(format), min_records, progress);
        }
        // A few thousand packets (or, at the end, a few dozen flows) at a time, so that
        // records are written while still in cache.
        const STEP: usize = 64;
        let mut records = std::mem::take(&mut self.scratch);
        let until = out.records.saturating_add(min_records as u64);
        let more = loop {
            let more = self.run(&mut records, STEP.min(min_records.max(1)), progress);
            out.add_all(&records, format);
            records.clear();
            if !more || out.records >= until {
                break more;
            }
        };
        self.scratch = records;
        more
    }

    /// Runs the workers' pool (starting it, with the workers writing `text` if given).
    fn run_parallel(
        &mut self,
        out: Sink<'_>,
        text: Option<TextFormat>,
        min_records: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> bool {
        if self.flushed {
            return false;
        }
        if self.pool.is_none() {
            let mut inputs: Vec<(PathBuf, CaptureReader)> =
                self.current.take().into_iter().collect();
            inputs.extend(self.pending.drain(..));
            let engines: Vec<Engine> = (1..self.workers).map(|_| self.engine.sibling()).collect();
            let stand_in = self.engine.sibling();
            let first = std::mem::replace(&mut self.engine, stand_in);
            // The bounds hold for the whole analysis: each worker gets its share.
            let engines = std::iter::once(first)
                .chain(engines)
                .map(|mut e| {
                    e.take_share(self.workers);
                    e
                })
                .collect();
            let decode_tunnels = self.engine.options().decode_tunnels;
            self.pool = Some(Pool::start(inputs, engines, decode_tunnels, text));
        }
        let Some(pool) = self.pool.as_mut() else {
            return false;
        };
        let more = pool.collect(out, min_records, &mut |done| {
            progress(done, self.bytes_total)
        });
        self.warnings.extend(pool.take_warnings());
        if !more {
            if let Some(pool) = self.pool.take() {
                self.finished_workers = pool.into_engines();
            }
            self.flushed = true;
            progress(self.bytes_total, self.bytes_total);
        }
        more
    }

    /// The counters of the analysis (summed over the workers when there are several).
    pub fn stats(&self) -> Stats {
        if self.finished_workers.is_empty() {
            return self.engine.stats();
        }
        let mut total = Stats::default();
        for e in &self.finished_workers {
            total.merge(&e.stats());
        }
        total
    }

    /// Warnings about damaged inputs (each still read up to the damage).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    pub fn is_capture(path: &Path) -> bool {
        CaptureReader::open(path).is_ok()
    }
}

/// The warning for a capture whose reading stopped at damage.
pub fn damage_warning(path: &Path, e: &CaptureError, reader: &CaptureReader) -> String {
    format!(
        "{}: {e}; {} packets read before it",
        path.display(),
        reader.packets_read()
    )
}

/// Reads a whole capture file through an existing engine; records of flows that ended go to
/// `out`. Returns the warning about damage that stopped reading early, if any.
pub fn process_file(
    engine: &mut Engine,
    path: &Path,
    out: &mut Vec<FlowRecord>,
) -> Result<Option<String>, OpenError> {
    let mut reader = CaptureReader::open(path).map_err(|error| OpenError {
        path: path.to_path_buf(),
        error,
    })?;
    loop {
        match reader.next_packet() {
            Ok(Some(pkt)) => engine.process(&pkt, out),
            Ok(None) => return Ok(None),
            Err(e) => return Ok(Some(damage_warning(path, &e, &reader))),
        }
    }
}
