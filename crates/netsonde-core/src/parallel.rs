//! Multi-core analysis by flow sharding: one reader thread, N worker threads.
//!
//! The reader reads the captures, decodes each frame just far enough to find its innermost
//! IP addresses (after tunnel decapsulation) and copies it into the batch of the worker that
//! owns that address pair. The hash is symmetric and ignores ports, so both directions of a
//! flow, every fragment of a datagram (fragments after the first carry no ports) and the
//! flow the reassembled datagram belongs to all meet in one worker. Each worker owns an
//! [`Engine`] (its flow table, defragmenter and dissection state); the engines share their
//! signature packs and their DNS and call caches. Batches go through bounded channels (the
//! reader waits when a worker falls behind, so memory stays bounded) and their buffers are
//! sent back to the reader for reuse. Records come back in batches to the caller's thread.
//!
//! Records are the same as with one engine. Flows learn from one another only through the
//! shared caches, when a flow's inspection ends; so the workers take their turns at the
//! caches in the order one engine would (see [`Order`]). Time is the other thing flows
//! share: every worker sees the timestamp of every frame (the reader sends each round's
//! timeline to all), so a flow times out at the same frame as with one engine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc as Shared;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::analysis::damage_warning;
use crate::capture::{CaptureReader, LinkType, RawPacket};
use crate::decode::{self, DecodeOptions, IpBytes, Outcome};
use crate::engine::Engine;
use crate::record::FlowRecord;

/// The reader hands out its frames in rounds of this many frames...
const ROUND_FRAMES: usize = 2048;
/// ... or fewer, when a worker's batch holds this many bytes of frames.
const BATCH_BYTES: usize = 512 * 1024;
/// Batches queued per worker before the reader waits.
const QUEUE_BATCHES: usize = 4;

#[derive(Clone, Copy)]
struct Frame {
    /// Index of the frame in the whole input.
    seq: u64,
    ts_ns: i64,
    link_type: LinkType,
    wire_len: u32,
    start: usize,
    end: usize,
}

/// One round's frames for one worker, copied into one buffer, and the round's timeline.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    frames: Vec<Frame>,
    /// The round covers frames `start..start + timeline.len()` of the input.
    start: u64,
    /// Timestamps of every frame of the round, whichever worker it went to.
    timeline: Shared<Vec<i64>>,
}

/// The order in which the workers of one analysis touch what they share: each publishes
/// its position (a stamp: `2 * frame` while a frame's flows time out, `2 * frame + 1` while
/// the frame itself is processed, then end-of-input stamps in flow creation order), and
/// before a look-up in the shared caches a worker waits until every other has passed its
/// own position. The smallest waiter never waits, so there is no deadlock; look-ups happen
/// in the order of the input, as with one engine.
pub struct Order {
    workers: Vec<Slot>,
}

/// One worker's place in the order, on a cache line of its own (its position is written
/// per frame).
#[repr(align(128))]
struct Slot {
    position: AtomicU64,
    /// The stamp this worker waits for the others to pass (0: not waiting).
    waiting_for: AtomicU64,
    /// The worker's thread, to wake it when it waits.
    thread: std::sync::OnceLock<std::thread::Thread>,
}

/// A waiting worker spins this many times before it sleeps until woken.
const SPINS: u32 = 64;

impl Order {
    pub fn new(workers: usize) -> Order {
        Order {
            workers: (0..workers)
                .map(|_| Slot {
                    position: AtomicU64::new(0),
                    waiting_for: AtomicU64::new(0),
                    thread: std::sync::OnceLock::new(),
                })
                .collect(),
        }
    }

    /// Called by worker `me` on its own thread before its first frame.
    pub fn register(&self, me: usize) {
        if let Some(slot) = self.workers.get(me) {
            let _ = slot.thread.set(std::thread::current());
        }
    }

    /// Worker `me` has done everything before `stamp`; wakes a worker waiting for that.
    #[inline]
    pub fn publish(&self, me: usize, stamp: u64) {
        if let Some(slot) = self.workers.get(me) {
            slot.position.store(stamp, Ordering::SeqCst);
        }
        for (i, other) in self.workers.iter().enumerate() {
            let wanted = other.waiting_for.load(Ordering::SeqCst);
            if i != me && wanted != 0 && wanted <= stamp {
                if let Some(t) = other.thread.get() {
                    t.unpark();
                }
            }
        }
    }

    fn passed(&self, me: usize, stamp: u64) -> bool {
        self.workers
            .iter()
            .enumerate()
            .all(|(i, w)| i == me || w.position.load(Ordering::SeqCst) >= stamp)
    }

    /// Waits until every worker other than `me` has done everything before `stamp`: a short
    /// spin, then sleeps until a worker passing the stamp wakes it (or 1 ms has passed, a
    /// safety net: the check is repeated).
    pub fn wait(&self, me: usize, stamp: u64) {
        self.publish(me, stamp);
        for _ in 0..SPINS {
            if self.passed(me, stamp) {
                return;
            }
            std::hint::spin_loop();
        }
        let Some(slot) = self.workers.get(me) else {
            return;
        };
        slot.waiting_for.store(stamp, Ordering::SeqCst);
        while !self.passed(me, stamp) {
            std::thread::park_timeout(Duration::from_millis(1));
        }
        slot.waiting_for.store(0, Ordering::SeqCst);
    }
}

enum Report {
    Records(Vec<FlowRecord>),
    /// A worker is done (input exhausted, flows flushed) and hands its engine back.
    Done(usize, Box<Engine>),
}

/// The running threads of one analysis.
pub struct Pool {
    /// Behind a lock only so that the pool can be shared (the Python bindings require it);
    /// one thread receives.
    results: Mutex<Receiver<Report>>,
    engines: Vec<Option<Engine>>,
    running: usize,
    done_bytes: Arc<AtomicU64>,
    warnings: Arc<Mutex<Vec<String>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts one worker per engine and the reader of `inputs`.
    pub fn start(
        inputs: Vec<(PathBuf, CaptureReader)>,
        engines: Vec<Engine>,
        decode_tunnels: bool,
    ) -> Pool {
        let n = engines.len();
        let order = Shared::new(Order::new(n));
        let (res_tx, results) = sync_channel::<Report>(4 * n + 4);
        let (recycle_tx, recycle_rx) = channel::<Batch>();
        let mut senders = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n + 1);
        for (i, mut engine) in engines.into_iter().enumerate() {
            engine.join_order(Shared::clone(&order), i);
            let order = Shared::clone(&order);
            let (tx, rx) = sync_channel::<Batch>(QUEUE_BATCHES);
            senders.push(tx);
            let (res, recycle) = (res_tx.clone(), recycle_tx.clone());
            threads.push(spawn(format!("netsonde-w{i}"), move || {
                work(i, engine, &order, &rx, &res, &recycle)
            }));
        }
        // Only the workers hold result senders: when all are gone, the results end.
        drop(res_tx);
        drop(recycle_tx);
        let done_bytes = Arc::new(AtomicU64::new(0));
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let (done, warn) = (Arc::clone(&done_bytes), Arc::clone(&warnings));
        let opts = DecodeOptions { decode_tunnels };
        threads.push(spawn("netsonde-rd".into(), move || {
            read(inputs, &senders, &recycle_rx, opts, &done, &warn)
        }));
        Pool {
            results: Mutex::new(results),
            engines: (0..n).map(|_| None).collect(),
            running: n,
            done_bytes,
            warnings,
            threads,
        }
    }

    /// Moves records into `out` until it holds `min_records` or every worker is done;
    /// returns whether more may come. `progress` gets the bytes read so far.
    pub fn collect(
        &mut self,
        out: &mut Vec<FlowRecord>,
        min_records: usize,
        progress: &mut dyn FnMut(u64),
    ) -> bool {
        let results = self
            .results
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while self.running > 0 {
            match results.recv_timeout(Duration::from_millis(200)) {
                Ok(Report::Records(mut r)) => out.append(&mut r),
                Ok(Report::Done(i, engine)) => {
                    if let Some(slot) = self.engines.get_mut(i) {
                        *slot = Some(*engine);
                    }
                    self.running -= 1;
                }
                Err(RecvTimeoutError::Timeout) => {}
                // A worker stopped without reporting: nothing more will come.
                Err(RecvTimeoutError::Disconnected) => self.running = 0,
            }
            progress(self.done_bytes.load(Ordering::Relaxed));
            if out.len() >= min_records {
                break;
            }
        }
        self.running > 0
    }

    /// Warnings about damaged inputs found by the reader since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        let mut w = self
            .warnings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *w)
    }

    /// Waits for the threads and gives the workers' engines back (for their counters).
    pub fn into_engines(self) -> Vec<Engine> {
        for t in self.threads {
            let _ = t.join();
        }
        self.engines.into_iter().flatten().collect()
    }
}

/// Starts a named thread (names show in `top -H` and profilers).
fn spawn(name: String, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name)
        .spawn(f)
        .unwrap_or_else(|e| panic!("cannot start a thread: {e}"))
}

fn work(
    index: usize,
    mut engine: Engine,
    order: &Order,
    batches: &Receiver<Batch>,
    results: &SyncSender<Report>,
    recycle: &Sender<Batch>,
) {
    order.register(index);
    let mut out = Vec::new();
    while let Ok(mut batch) = batches.recv() {
        let start = batch.start;
        let end = start + batch.timeline.len() as u64;
        // Frames of the round before `next` have been seen (ours processed, others ticked).
        let mut next = start;
        let timeline = Shared::clone(&batch.timeline);
        let tick_until =
            |engine: &mut Engine, next: &mut u64, upto: u64, out: &mut Vec<FlowRecord>| {
                while *next < upto {
                    let at = usize::try_from(*next - start).unwrap_or(usize::MAX);
                    if let Some(&ts) = timeline.get(at) {
                        engine.tick(ts, *next, out);
                    }
                    *next += 1;
                }
            };
        for f in &batch.frames {
            tick_until(&mut engine, &mut next, f.seq, &mut out);
            let pkt = RawPacket {
                ts_ns: f.ts_ns,
                link_type: f.link_type,
                data: batch.data.get(f.start..f.end).unwrap_or_default(),
                wire_len: f.wire_len,
            };
            engine.process_at(&pkt, f.seq, &mut out);
            next = f.seq + 1;
        }
        tick_until(&mut engine, &mut next, end, &mut out);
        order.publish(index, 2 * end);
        batch.data.clear();
        batch.frames.clear();
        batch.timeline = Shared::default();
        let _ = recycle.send(batch);
        if !out.is_empty()
            && results
                .send(Report::Records(std::mem::take(&mut out)))
                .is_err()
        {
            return;
        }
    }
    while engine.flush_some(&mut out, 4096) {
        if results
            .send(Report::Records(std::mem::take(&mut out)))
            .is_err()
        {
            return;
        }
    }
    if results.send(Report::Records(out)).is_ok() {
        let _ = results.send(Report::Done(index, Box::new(engine)));
    }
}

fn read(
    inputs: Vec<(PathBuf, CaptureReader)>,
    workers: &[SyncSender<Batch>],
    recycled: &Receiver<Batch>,
    opts: DecodeOptions,
    done_bytes: &AtomicU64,
    warnings: &Mutex<Vec<String>>,
) {
    let n = workers.len();
    let mut round = Round {
        batches: (0..n).map(|_| Batch::default()).collect(),
        timeline: Vec::with_capacity(ROUND_FRAMES),
        start: 0,
    };
    let mut before = 0u64;
    for (path, mut reader) in inputs {
        let mut count = 0u32;
        loop {
            match reader.next_packet() {
                Ok(Some(pkt)) => {
                    let w = shard(&pkt, opts, n);
                    let seq = round.start + round.timeline.len() as u64;
                    round.timeline.push(pkt.ts_ns);
                    let mut full = round.timeline.len() >= ROUND_FRAMES;
                    if let Some(b) = round.batches.get_mut(w) {
                        let start = b.data.len();
                        b.data.extend_from_slice(pkt.data);
                        b.frames.push(Frame {
                            seq,
                            ts_ns: pkt.ts_ns,
                            link_type: pkt.link_type,
                            wire_len: pkt.wire_len,
                            start,
                            end: b.data.len(),
                        });
                        full |= b.data.len() >= BATCH_BYTES;
                    }
                    if full && !round.send(workers, recycled) {
                        return;
                    }
                    count = count.wrapping_add(1);
                    if count % 4096 == 0 {
                        done_bytes.store(before + reader.progress().0, Ordering::Relaxed);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let w = damage_warning(&path, &e, &reader);
                    warnings
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(w);
                    break;
                }
            }
        }
        before += reader.progress().1;
        done_bytes.store(before, Ordering::Relaxed);
    }
    round.send(workers, recycled);
}

/// The frames read since the last round was sent.
struct Round {
    batches: Vec<Batch>,
    timeline: Vec<i64>,
    start: u64,
}

impl Round {
    /// Sends every worker its batch of the round (empty ones too: they carry the timeline);
    /// `false` when a worker is gone.
    fn send(&mut self, workers: &[SyncSender<Batch>], recycled: &Receiver<Batch>) -> bool {
        if self.timeline.is_empty() {
            return true;
        }
        let timeline = Shared::new(std::mem::replace(
            &mut self.timeline,
            Vec::with_capacity(ROUND_FRAMES),
        ));
        let start = self.start;
        self.start += timeline.len() as u64;
        for (b, tx) in self.batches.iter_mut().zip(workers) {
            let mut full = std::mem::replace(b, recycled.try_recv().unwrap_or_default());
            full.start = start;
            full.timeline = Shared::clone(&timeline);
            if tx.send(full).is_err() {
                return false;
            }
        }
        true
    }
}

/// The worker (of `n`) for a frame: by its innermost address pair; frames without IP go to
/// the first worker.
fn shard(pkt: &RawPacket<'_>, opts: DecodeOptions, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let h = match decode::decode(pkt.link_type, pkt.data, pkt.wire_len, opts) {
        Outcome::Packet(p) => pair_hash(&p.src_ip, &p.dst_ip),
        Outcome::Fragment(f) => pair_hash(&f.src_ip, &f.dst_ip),
        _ => 0,
    };
    // Multiply-shift: the high bits of the hash, scaled to 0..n.
    (((h >> 32) * n as u64) >> 32) as usize
}

/// A hash of an address pair that does not depend on the pair's order.
pub fn pair_hash(a: &IpBytes, b: &IpBytes) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for half in lo.chunks_exact(8).chain(hi.chunks_exact(8)) {
        let v = u64::from_le_bytes(half.try_into().unwrap_or([0; 8]));
        h = (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_hash_is_symmetric_and_spreads() {
        let a = [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut seen = [0u32; 4];
        for i in 0..=255u8 {
            let b = [192, 0, 2, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            assert_eq!(pair_hash(&a, &b), pair_hash(&b, &a));
            let w = ((pair_hash(&a, &b) >> 32) * 4) >> 32;
            if let Some(n) = seen.get_mut(w as usize) {
                *n += 1;
            }
        }
        // 256 hosts over 4 workers: none idle, none with most of them.
        assert!(seen.iter().all(|&n| (32..=96).contains(&n)), "{seen:?}");
    }
}
