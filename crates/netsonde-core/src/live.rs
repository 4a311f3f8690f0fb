//! Live capture on several threads. Each worker owns a socket of one `PACKET_FANOUT` group
//! and an engine: the kernel spreads the interface's frames over the sockets by a symmetric
//! hash of their flow, so both directions of a flow reach the same worker and each flow
//! table holds its own flows (the flow sharding of [`crate::parallel`], done by the kernel).
//! The engines share the signature set and the DNS and call caches, and number their flows
//! apart. Records come back to the caller's thread in batches.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::capture::live::{Fanout, LiveCapture, LiveError, LiveOptions};
use crate::{Engine, FlowRecord, Stats};

/// What a worker hands back: records of flows that ended, or the error that ended its
/// capture (after the records of its flows), and now and then its counters.
pub struct LiveBatch {
    pub records: Vec<FlowRecord>,
    pub error: Option<LiveError>,
    progress: Option<(usize, Progress)>,
}

/// A worker's engine counters and the kernel's received and dropped frames.
#[derive(Clone, Default)]
struct Progress {
    stats: Stats,
    counts: (u64, u64),
}

/// How often a worker reports its counters.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// A live capture running on worker threads; stopped (and its flows ended) by
/// [`LiveWorkers::stop`], or when dropped.
pub struct LiveWorkers {
    stop: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    /// The frames to read before stopping, if a count was given.
    count: Option<u64>,
    batches: Receiver<LiveBatch>,
    threads: Vec<JoinHandle<Progress>>,
    /// Each worker's last reported counters.
    progress: Vec<Progress>,
}

/// How long a worker waits for packets before it looks at the stop flag.
const WAIT: Duration = Duration::from_millis(50);

impl LiveWorkers {
    /// Opens `workers` sockets on `interface` (all of them before any thread starts, so that
    /// a bad name or missing privileges are one error at the call) and starts a worker on
    /// each, with an engine made by `engine.sibling()` given its share of the bounds; they
    /// read `count` frames in all, if given, then wait to be stopped.
    pub fn start(
        interface: &str,
        opts: &LiveOptions,
        engine: &Engine,
        workers: usize,
        count: Option<u64>,
    ) -> Result<LiveWorkers, LiveError> {
        let workers = workers.max(1);
        let mut opts = LiveOptions {
            fanout: if workers > 1 {
                Fanout::NewGroup
            } else {
                Fanout::Alone
            },
            buffer_bytes: (opts.buffer_bytes / workers).max(2 << 20),
            ..opts.clone()
        };
        let first = LiveCapture::open(interface, &opts)?;
        if workers > 1 {
            // The others join the group the kernel made for the first; without its id they
            // would each get every frame.
            let group = first.fanout_group().ok_or_else(|| LiveError {
                interface: interface.to_string(),
                message: "cannot read the fanout group's id".to_string(),
                permission: false,
                no_such_interface: false,
            })?;
            opts.fanout = Fanout::Join(group);
        }
        let mut captures = vec![first];
        for _ in 1..workers {
            captures.push(LiveCapture::open(interface, &opts)?);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let frames = Arc::new(AtomicU64::new(0));
        let budget = count.map(|c| Arc::new(AtomicU64::new(c)));
        let (sender, batches) = mpsc::channel();
        let threads = captures
            .into_iter()
            .enumerate()
            .map(|(i, capture)| {
                let mut engine = engine.sibling();
                engine.take_share(workers);
                engine.number_flows(i as u64, workers as u64);
                let shared = Shared {
                    stop: stop.clone(),
                    frames: frames.clone(),
                    budget: budget.clone(),
                };
                let sender = sender.clone();
                std::thread::spawn(move || work(i, capture, engine, &shared, &sender))
            })
            .collect();
        Ok(LiveWorkers {
            stop,
            frames,
            count,
            batches,
            threads,
            progress: vec![Progress::default(); workers],
        })
    }

    /// Frames read so far, by all workers.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    /// Whether the `count` frames asked for have all been read.
    pub fn counted_out(&self) -> bool {
        self.count.is_some_and(|c| self.frames() >= c)
    }

    /// The next batch, waiting up to `timeout`; None when none came.
    pub fn next(&mut self, timeout: Duration) -> Option<LiveBatch> {
        match self.batches.recv_timeout(timeout) {
            Ok(mut batch) => {
                self.note(&mut batch);
                Some(batch)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    fn note(&mut self, batch: &mut LiveBatch) {
        if let Some((worker, progress)) = batch.progress.take() {
            if let Some(slot) = self.progress.get_mut(worker) {
                *slot = progress;
            }
        }
    }

    /// The counters of all engines, and the kernel's received and dropped frames, as the
    /// workers last reported them (every half second, and at the end).
    pub fn stats(&self) -> (Stats, (u64, u64)) {
        let mut stats = Stats::default();
        let mut counts = (0, 0);
        for p in &self.progress {
            stats.merge(&p.stats);
            counts.0 += p.counts.0;
            counts.1 += p.counts.1;
        }
        (stats, counts)
    }

    /// Stops the workers, which end their flows; returns the batches not yet taken. The
    /// counters ([`LiveWorkers::stats`]) are then complete.
    pub fn stop(&mut self) -> Vec<LiveBatch> {
        self.stop.store(true, Ordering::Relaxed);
        for (worker, thread) in self.threads.drain(..).enumerate() {
            // A worker panics only on a bug; its flows are lost, the others' are kept.
            if let (Ok(end), Some(slot)) = (thread.join(), self.progress.get_mut(worker)) {
                *slot = end;
            }
        }
        let mut rest: Vec<LiveBatch> = self.batches.try_iter().collect();
        for batch in &mut rest {
            batch.progress = None;
        }
        rest
    }
}

impl Drop for LiveWorkers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// What the workers share: the stop flag, the frames read, the frames still allowed.
struct Shared {
    stop: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    budget: Option<Arc<AtomicU64>>,
}

impl Shared {
    /// Whether one more frame may be processed: always, or while the count lasts. The
    /// frames the workers read beyond it are passed over, as if read after the stop.
    fn admit(&self) -> bool {
        match &self.budget {
            None => true,
            Some(budget) => budget
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                    left.checked_sub(1)
                })
                .is_ok(),
        }
    }
}

/// One worker: reads its socket into its engine until told to stop or the capture fails,
/// sending what ends as it ends; then ends its flows.
fn work(
    worker: usize,
    mut capture: LiveCapture,
    mut engine: Engine,
    shared: &Shared,
    sender: &Sender<LiveBatch>,
) -> Progress {
    let mut records = Vec::new();
    let mut error = None;
    let mut reported = Instant::now();
    let mut told_count = false;
    while !shared.stop.load(Ordering::Relaxed) {
        match engine.read_live(
            &mut capture,
            4096,
            WAIT,
            &mut || shared.admit(),
            &mut records,
        ) {
            Ok(n) => {
                shared.frames.fetch_add(n as u64, Ordering::AcqRel);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        let report = reported.elapsed() >= PROGRESS_EVERY;
        // The count just ran out: a batch, empty or not, tells the caller without delay.
        let counted_out = !told_count
            && shared
                .budget
                .as_ref()
                .is_some_and(|b| b.load(Ordering::Acquire) == 0);
        told_count |= counted_out;
        if report || counted_out || !records.is_empty() {
            let progress = report.then(|| {
                reported = Instant::now();
                let counts = capture.counts();
                (
                    worker,
                    Progress {
                        stats: engine.stats(),
                        counts,
                    },
                )
            });
            // The receiver is gone only once the capture is being dropped.
            let _ = sender.send(LiveBatch {
                records: std::mem::take(&mut records),
                error: None,
                progress,
            });
        }
    }
    engine.flush(&mut records);
    let _ = sender.send(LiveBatch {
        records,
        error,
        progress: None,
    });
    Progress {
        stats: engine.stats(),
        counts: capture.counts(),
    }
}
