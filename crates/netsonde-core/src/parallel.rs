//! Multi-core analysis by flow sharding: N worker threads, no reader thread.
//!
//! The workers read the captures themselves, in turns: whichever needs a chunk that is not
//! read yet reads it (a run of whole records, moved out of the reader's buffer without
//! copying the packets, see [`CaptureReader::next_chunk`]), finds for each frame the worker
//! that owns it, and shares the chunk with the others. The owner is chosen by a symmetric
//! hash of the frame's innermost IP addresses (after tunnel decapsulation), ports ignored, so
//! both directions of a flow, every fragment of a datagram (fragments after the first carry
//! no ports) and the flow the reassembled datagram belongs to all meet in one worker. Each
//! worker owns an [`Engine`] (its flow table, defragmenter and dissection state); the engines
//! share their signature packs and their DNS and call caches. The reader of a chunk lists
//! each worker's frames; a worker processes its own and lets time move on with the others,
//! which it reads only when their time may end one of its flows.
//! At most a few chunks (`AHEAD_CHUNKS`) are held, so memory stays bounded when a worker falls
//! behind. Records come back in batches to the caller's thread, already written as text
//! when the caller asks for text (each worker writes the records it makes).
//!
//! Records are the same as with one engine. Flows learn from one another only through the
//! shared caches, when a flow's inspection ends; so the workers take their turns at the
//! caches in the order one engine would (see [`Order`]). A worker never stops for its turn:
//! it puts the conclusion off, goes on with its frames, and carries it out a few frames
//! later, once every other worker has passed that point (a flow that ends meanwhile has its
//! record held until then). What is still put off at the end of input, the last worker to
//! get there carries out alone, in the same order, while every worker makes the records of
//! the flows it has concluded. Time is the other thing flows share: every worker sees the
//! timestamp of every frame, so a flow times out at the same frame as with one engine.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc as Shared;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::analysis::damage_warning;
use crate::capture::{prefetch, CaptureReader, Chunk, ChunkFrame, RawPacket};
use crate::decode::{self, DecodeOptions, IpBytes, Outcome};
use crate::engine::{Engine, TurnsLeft};
use crate::flow::{Expiration, Flow};
use crate::record::{FlowRecord, TextBatch, TextFormat};

/// Frames per chunk at most (a chunk also ends with the reader's window, [`crate::capture::READ_CHUNK`]).
const CHUNK_FRAMES: usize = 4096;
/// Records a worker gathers before it hands them to the caller's thread (each hand-over
/// may wake that thread, which then takes a core from the workers).
const REPORT_RECORDS: usize = 1024;
/// Frames between two publications of a worker's position (and looks at the others'). A
/// chain of conclusions that alternate between workers advances one link per look, so
/// looking only once per chunk lets a backlog build up (thousands of conclusions when many
/// flows time out together), all left to the last worker at the end of input.
const SETTLE_EVERY: u64 = 16;
/// How many of its frames ahead a worker asks for a frame's first bytes.
const PREFETCH_FRAMES: usize = 4;
/// Chunks read ahead of the slowest worker at most.
const AHEAD_CHUNKS: u64 = 8;
/// Chunks a worker makes sure are read beyond the one it starts, when no one else is reading.
const READ_AHEAD: u64 = 2;

/// A chunk of the input as the workers share it.
#[derive(Default)]
struct SharedChunk {
    chunk: Chunk,
    /// Index in the whole input of the chunk's first frame.
    first_seq: u64,
    /// For each worker, the frames it owns, in order: a worker reads its own list, and
    /// touches the other workers' frames only when their time may end flows (see [`work`]).
    owned: Vec<Vec<Owned>>,
    /// The latest timestamp of the chunk's frames.
    latest_ts: i64,
}

/// A frame of a chunk, in the list of the worker that owns it.
#[derive(Clone, Copy)]
struct Owned {
    frame: ChunkFrame,
    /// Its index in the chunk.
    index: u32,
    /// The latest timestamp of the chunk's frames before it (`i64::MIN` for the first).
    latest_before: i64,
}

/// The end of a sharded analysis: the workers there, what they left, and the flows the
/// last one concluded, whose records are still to be made (see [`finish`]).
#[derive(Default)]
struct Finishing {
    arrived: usize,
    left: Vec<TurnsLeft>,
    /// Flows concluded at the end, in batches, for any worker to make their records.
    concluded: Vec<Vec<(Flow, Expiration)>>,
    /// No more concluded flows will come: the last worker has concluded them all, or a
    /// worker stopped before the end (and the last worker will never come).
    no_more: bool,
}

/// The inputs and the reading position; one worker reads at a time.
struct Source {
    inputs: VecDeque<(PathBuf, CaptureReader)>,
    /// Index of the next chunk to read.
    next_chunk: u64,
    /// Index in the whole input of the next frame.
    next_seq: u64,
    /// Bytes of the inputs already finished.
    before: u64,
    /// Where the fragments of tunnelled datagrams went.
    fragments: FragmentRoutes,
}

/// The chunks read and not yet done with by every worker.
struct Ring {
    /// Index of `chunks[0]`.
    first: u64,
    chunks: VecDeque<Shared<SharedChunk>>,
    /// For each worker, the index of the chunk it wants next (it is done with those before).
    wanted: Vec<u64>,
    /// Every input has been read.
    ended: bool,
    /// Workers waiting on [`Feed::changed`]: notifying costs a system call, made only for them.
    sleepers: usize,
}

impl Ring {
    /// Index of the chunk after the last one read.
    fn end(&self) -> u64 {
        self.first + self.chunks.len() as u64
    }

    /// The chunk the slowest worker wants (`or` when there are no workers).
    fn slowest(&self, or: u64) -> u64 {
        self.wanted.iter().copied().min().unwrap_or(or)
    }
}

/// What the workers of one analysis read from.
struct Feed {
    source: Mutex<Source>,
    ring: Mutex<Ring>,
    /// Signalled when a chunk is added, a worker moves on or the input ends.
    changed: Condvar,
    /// Chunks done with, for reuse (their buffers are already the right size).
    spare: Mutex<Vec<SharedChunk>>,
    /// Workers at the end of input, and the conclusions they left (see [`finish`]).
    finishing: Mutex<Finishing>,
    /// Signalled when concluded flows are shared at the end, or no more will come.
    concluded: Condvar,
    opts: DecodeOptions,
    workers: usize,
    done_bytes: Arc<AtomicU64>,
    warnings: Arc<Mutex<Vec<String>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Feed {
    fn new(
        inputs: Vec<(PathBuf, CaptureReader)>,
        workers: usize,
        opts: DecodeOptions,
        done_bytes: Arc<AtomicU64>,
        warnings: Arc<Mutex<Vec<String>>>,
    ) -> Feed {
        Feed {
            source: Mutex::new(Source {
                inputs: inputs.into(),
                next_chunk: 0,
                next_seq: 0,
                before: 0,
                fragments: FragmentRoutes::default(),
            }),
            ring: Mutex::new(Ring {
                first: 0,
                chunks: VecDeque::new(),
                wanted: vec![0; workers],
                ended: false,
                sleepers: 0,
            }),
            changed: Condvar::new(),
            spare: Mutex::new(Vec::new()),
            finishing: Mutex::new(Finishing::default()),
            concluded: Condvar::new(),
            opts,
            workers,
            done_bytes,
            warnings,
        }
    }

    /// No more flows concluded at the end of input will come: workers waiting for them stop.
    fn no_more_concluded(&self) {
        lock(&self.finishing).no_more = true;
        self.concluded.notify_all();
    }

    /// Chunk `index` for worker `me`, which is done with every chunk before it; `None` once
    /// the input is exhausted. Reads the chunk when no worker has yet.
    fn get(&self, me: usize, index: u64) -> Option<Shared<SharedChunk>> {
        loop {
            {
                let mut ring = lock(&self.ring);
                self.move_on(&mut ring, me, index);
                loop {
                    let at = index.checked_sub(ring.first).map(|i| i as usize);
                    if let Some(c) = at.and_then(|i| ring.chunks.get(i)) {
                        return Some(Shared::clone(c));
                    }
                    if ring.ended {
                        return None;
                    }
                    if index < ring.slowest(index).saturating_add(AHEAD_CHUNKS) {
                        break;
                    }
                    // Too far ahead: wait for the slowest worker.
                    ring.sleepers += 1;
                    ring = self
                        .changed
                        .wait(ring)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    ring.sleepers -= 1;
                }
            }
            let mut source = lock(&self.source);
            if source.next_chunk > index {
                // Another worker read it meanwhile.
                continue;
            }
            self.read_into_ring(&mut source);
        }
    }

    /// Reads the chunk after the last one read (holding `source`), for the ring.
    fn read_into_ring(&self, source: &mut Source) {
        let read = self.read_next(source);
        let mut ring = lock(&self.ring);
        match read {
            Some(c) => ring.chunks.push_back(Shared::new(c)),
            None => ring.ended = true,
        }
        source.next_chunk += 1;
        let sleepers = ring.sleepers;
        drop(ring);
        if sleepers > 0 {
            self.changed.notify_all();
        }
    }

    /// Worker `me`, about to work on chunk `index`, reads a chunk ahead if fewer than
    /// [`READ_AHEAD`] are ready after it and no other worker is reading: so that chunks are
    /// read while the other workers work, rather than while they wait for them.
    fn read_ahead(&self, index: u64) {
        {
            let ring = lock(&self.ring);
            let after = ring.end();
            if ring.ended
                || after >= index.saturating_add(1 + READ_AHEAD)
                || after >= ring.slowest(index).saturating_add(AHEAD_CHUNKS)
            {
                return;
            }
        }
        if let Ok(mut source) = self.source.try_lock() {
            let ring_end = {
                let ring = lock(&self.ring);
                (!ring.ended).then(|| ring.end())
            };
            if ring_end == Some(source.next_chunk) {
                self.read_into_ring(&mut source);
            }
        }
    }

    /// Worker `me` wants chunk `index` next: chunks every worker is done with leave the ring.
    fn move_on(&self, ring: &mut Ring, me: usize, index: u64) {
        let Some(w) = ring.wanted.get_mut(me) else {
            return;
        };
        if *w == index {
            return;
        }
        *w = index;
        let slowest = ring.slowest(index);
        while ring.first < slowest {
            match ring.chunks.pop_front() {
                Some(c) => self.recycle(c),
                None => break,
            }
            ring.first += 1;
        }
        if ring.sleepers > 0 {
            self.changed.notify_all();
        }
    }

    /// Keeps a chunk's buffers for reuse once nobody holds it any more.
    fn recycle(&self, c: Shared<SharedChunk>) {
        if let Ok(c) = Shared::try_unwrap(c) {
            let mut spare = lock(&self.spare);
            if spare.len() < AHEAD_CHUNKS as usize + self.workers {
                spare.push(c);
            }
        }
    }

    /// Reads the next chunk of the inputs (`None` at the end of the last), with the owner of
    /// each frame. Damage ends an input with a warning; the next input follows.
    fn read_next(&self, source: &mut Source) -> Option<SharedChunk> {
        let mut c = lock(&self.spare).pop().unwrap_or_default();
        loop {
            let before = source.before;
            let (path, reader) = source.inputs.front_mut()?;
            match reader.next_chunk(&mut c.chunk, CHUNK_FRAMES) {
                Ok(true) => {
                    self.done_bytes
                        .store(before + reader.progress().0, Ordering::Relaxed);
                    c.first_seq = source.next_seq;
                    source.next_seq += c.chunk.frames.len() as u64;
                    c.owned.resize_with(self.workers.max(1), Vec::new);
                    c.owned.iter_mut().for_each(Vec::clear);
                    let (n, opts) = (self.workers, self.opts);
                    let routes = &mut source.fragments;
                    let mut latest = i64::MIN;
                    for (index, frame) in (0u32..).zip(&c.chunk.frames) {
                        let owner = shard(&c.chunk.packet(frame), opts, n, routes);
                        if let Some(list) = c.owned.get_mut(owner) {
                            list.push(Owned {
                                frame: *frame,
                                index,
                                latest_before: latest,
                            });
                        }
                        latest = latest.max(frame.ts_ns);
                    }
                    c.latest_ts = latest;
                    return Some(c);
                }
                Ok(false) => {}
                Err(e) => lock(&self.warnings).push(damage_warning(path, &e, reader)),
            }
            source.before += reader.progress().1;
            self.done_bytes.store(source.before, Ordering::Relaxed);
            source.inputs.pop_front();
        }
    }
}

/// Marks a worker as done with every chunk when it stops, however it stops, so that the
/// others never wait for it.
struct Leaving<'a> {
    feed: &'a Feed,
    me: usize,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut ring = lock(&self.feed.ring);
        self.feed.move_on(&mut ring, self.me, u64::MAX);
        drop(ring);
        // A worker stops normally only once every flow is concluded; one that stops before
        // (its caller went away, or it failed) means the rest never will be.
        self.feed.no_more_concluded();
    }
}

/// The order in which the workers of one analysis touch what they share. Each publishes
/// its position, a stamp before which it has done everything: `2 * frame` while a frame's
/// flows time out, `2 * frame + 1` while the frame itself is processed, end-of-input stamps
/// in flow creation order, and no further than its oldest conclusion still put off. A
/// worker uses the shared caches at a stamp only once every other has passed it (see
/// [`Order::passed`]), so they are used in the order of the input, as with one engine. No
/// worker ever waits for its turn: it puts the conclusion off, and what is still put off at
/// the end of input the last worker carries out (see [`finish`]).
pub(crate) struct Order {
    /// Each worker's position, on a cache line of its own: written every few frames, read
    /// by the others when they look for their turns.
    positions: Vec<Padded<AtomicU64>>,
}

/// A value on a cache line of its own.
#[repr(align(128))]
struct Padded<T>(T);

impl Order {
    pub(crate) fn new(workers: usize) -> Order {
        Order {
            positions: (0..workers).map(|_| Padded(AtomicU64::new(0))).collect(),
        }
    }

    /// Worker `me` has done everything before `stamp`.
    #[inline]
    pub(crate) fn publish(&self, me: usize, stamp: u64) {
        if let Some(position) = self.positions.get(me) {
            position.0.store(stamp, Ordering::SeqCst);
        }
    }

    /// Whether worker `me` may take its turn at `stamp`: every other worker has done
    /// everything before it, and those numbered below `me` what is at it too (turns at one
    /// stamp go by worker number, so that the order never depends on timing).
    pub(crate) fn passed(&self, me: usize, stamp: u64) -> bool {
        self.positions.iter().enumerate().all(|(i, p)| {
            let at = p.0.load(Ordering::SeqCst);
            i == me || at > stamp || (at == stamp && i > me)
        })
    }
}

enum Report {
    Records(Vec<FlowRecord>),
    /// Records already written as text by the worker (see [`Pool::start`]).
    Text(TextBatch),
    /// A worker is done (input exhausted, flows flushed) and hands its engine back.
    Done(usize, Box<Engine>),
}

/// Where [`Pool::collect`] puts what the workers hand over.
pub enum Sink<'a> {
    Records(&'a mut Vec<FlowRecord>),
    /// Text in the given format (records that come as records are written here; text from
    /// the workers is in the format the pool was started with).
    Text(&'a mut TextBatch, TextFormat),
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
    /// Text handed over while records were asked for (a caller switching between
    /// [`Sink`]s), kept for the next text sink.
    unclaimed: TextBatch,
}

impl Pool {
    /// Starts one worker per engine on `inputs`. With `text`, the workers write their
    /// records in that format themselves, right after making them (while they are still in
    /// the worker's cache), and hand over text: the caller's thread only writes it out.
    pub fn start(
        inputs: Vec<(PathBuf, CaptureReader)>,
        engines: Vec<Engine>,
        decode_tunnels: bool,
        text: Option<TextFormat>,
    ) -> Pool {
        let n = engines.len();
        let order = Shared::new(Order::new(n));
        let (res_tx, results) = sync_channel::<Report>(4 * n + 4);
        let done_bytes = Arc::new(AtomicU64::new(0));
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let feed = Shared::new(Feed::new(
            inputs,
            n,
            DecodeOptions { decode_tunnels },
            Arc::clone(&done_bytes),
            Arc::clone(&warnings),
        ));
        let mut threads = Vec::with_capacity(n);
        for (i, mut engine) in engines.into_iter().enumerate() {
            engine.join_order(Shared::clone(&order), i);
            let (feed, res) = (Shared::clone(&feed), res_tx.clone());
            threads.push(spawn(format!("netsonde-w{i}"), move || {
                work(i, engine, &feed, &res, text)
            }));
        }
        // Only the workers hold result senders: when all are gone, the results end.
        drop(res_tx);
        Pool {
            results: Mutex::new(results),
            engines: (0..n).map(|_| None).collect(),
            running: n,
            done_bytes,
            warnings,
            threads,
            unclaimed: TextBatch::default(),
        }
    }

    /// Moves what the workers hand over into `out` until `min_records` more records are
    /// there or every worker is done; returns whether more may come. `progress` gets the
    /// bytes read so far. Text is moved, never copied: a worker's text that comes when `out`
    /// already holds text waits for the next call, which then returns with fewer records.
    pub fn collect(
        &mut self,
        mut out: Sink<'_>,
        min_records: usize,
        progress: &mut dyn FnMut(u64),
    ) -> bool {
        let min_records = min_records as u64;
        let mut received = 0u64;
        if let Sink::Text(batch, _) = &mut out {
            if self.unclaimed.records > 0 {
                received += self.unclaimed.records;
                batch.append(std::mem::take(&mut self.unclaimed));
            }
        }
        let results = self
            .results
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while self.running > 0 {
            match results.recv_timeout(Duration::from_millis(200)) {
                Ok(Report::Records(mut r)) => {
                    received += r.len() as u64;
                    match &mut out {
                        Sink::Records(v) => v.append(&mut r),
                        Sink::Text(batch, format) => batch.add_all(&r, *format),
                    }
                }
                Ok(Report::Text(t)) => match &mut out {
                    Sink::Text(batch, _) if batch.text.is_empty() => {
                        received += t.records;
                        batch.append(t);
                    }
                    Sink::Text(..) => {
                        // Appending would copy the text (megabytes a second) on this
                        // thread; the caller writes what it has first.
                        self.unclaimed.append(t);
                        progress(self.done_bytes.load(Ordering::Relaxed));
                        return true;
                    }
                    Sink::Records(_) => {
                        // Counted, so that the caller gets control back and can claim it.
                        received += t.records;
                        self.unclaimed.append(t);
                    }
                },
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
            if received >= min_records {
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
    feed: &Feed,
    results: &SyncSender<Report>,
    text: Option<TextFormat>,
) {
    let _leaving = Leaving { feed, me: index };
    let mut out = Vec::new();
    let mut report = Batch {
        text,
        written: TextBatch::default(),
    };
    let mut next = 0u64;
    let mut settle_at = SETTLE_EVERY;
    while let Some(c) = feed.get(index, next) {
        feed.read_ahead(next);
        next += 1;
        let (frames, first) = (&c.chunk.frames, c.first_seq);
        let mut seen = 0usize;
        let owned = c.owned.get(index).map_or(&[][..], Vec::as_slice);
        for (k, own) in owned.iter().enumerate() {
            if let Some(ahead) = owned.get(k + PREFETCH_FRAMES) {
                prefetch_frame(&c.chunk, &ahead.frame);
            }
            let at = own.index as usize;
            pass_others(
                &mut engine,
                frames,
                first,
                seen..at,
                own.latest_before,
                &mut out,
            );
            let seq = first + u64::from(own.index);
            engine.process_at(&c.chunk.packet(&own.frame), seq, &mut out);
            seen = at + 1;
            if seq + 1 >= settle_at {
                // Once every few frames of the input, its own or not.
                engine.reached(seq + 1, &mut out);
                settle_at = (seq + 1) / SETTLE_EVERY * SETTLE_EVERY + SETTLE_EVERY;
            }
        }
        pass_others(
            &mut engine,
            frames,
            first,
            seen..frames.len(),
            c.latest_ts,
            &mut out,
        );
        engine.reached(first + frames.len() as u64, &mut out);
        feed.recycle(c);
        report.write(&mut out);
        if report.len(&out) >= REPORT_RECORDS && results.send(report.take(&mut out)).is_err() {
            return;
        }
    }
    while engine.flush_some(&mut out, 4096) {
        if results.send(report.take(&mut out)).is_err() {
            return;
        }
    }
    finish(&mut engine, feed, &mut out, &mut report);
    if results.send(report.take(&mut out)).is_ok() {
        let _ = results.send(Report::Done(index, Box::new(engine)));
    }
}

/// Asks for the lines that hold the headers of `frame`: they were last written by the
/// core that read the chunk, often the other one, and fetching them from there is slow.
#[inline]
fn prefetch_frame(chunk: &Chunk, frame: &ChunkFrame) {
    let start = usize::try_from(frame.start).unwrap_or(usize::MAX);
    prefetch(&chunk.data, start);
    prefetch(&chunk.data, start.saturating_add(64));
}

/// The frames `range` of a chunk (whose first is frame `first` of the input) went to other
/// workers; `latest` is the latest timestamp of the chunk's frames up to the range's end
/// (those before the range have been seen here). Time moves on here too, so that flows time
/// out at the same frame as with one engine. Mostly none of these frames can end a flow,
/// and they are passed over at once without being read.
fn pass_others(
    engine: &mut Engine,
    frames: &[ChunkFrame],
    first: u64,
    range: std::ops::Range<usize>,
    latest: i64,
    out: &mut Vec<FlowRecord>,
) {
    if range.is_empty() || engine.passes_quietly(latest) {
        return;
    }
    let start = first + range.start as u64;
    for (seq, f) in (start..).zip(frames.get(range).unwrap_or_default()) {
        engine.tick(f.ts_ns, seq, out);
        if (seq + 1) % SETTLE_EVERY == 0 {
            engine.reached(seq + 1, out);
        }
    }
}

/// The conclusions still waiting for their turn at the end of input (on traffic where
/// many flows use the caches, thousands whose turns alternate between the workers) are
/// carried out by the last worker to get there, alone and in order: taking turns would
/// hand each one from core to core. The others leave theirs, then make the records of the
/// flows it concludes (most of the work left: building and writing a record costs several
/// times its conclusion) as it shares them, in batches; and so does it once done.
fn finish(engine: &mut Engine, feed: &Feed, out: &mut Vec<FlowRecord>, report: &mut Batch) {
    let left = {
        let mut finishing = lock(&feed.finishing);
        finishing.arrived += 1;
        if finishing.arrived < feed.workers {
            let turns = engine.turns_left();
            finishing.left.push(turns);
            None
        } else {
            Some(std::mem::take(&mut finishing.left))
        }
    };
    if let Some(left) = left {
        let mut batch = Vec::with_capacity(CONCLUDED_BATCH);
        engine.finish_turns(left, &mut |flow, why| {
            batch.push((flow, why));
            if batch.len() >= CONCLUDED_BATCH {
                share_concluded(feed, std::mem::take(&mut batch));
            }
        });
        share_concluded(feed, batch);
        feed.no_more_concluded();
    }
    while let Some(batch) = next_concluded(feed) {
        out.extend(
            batch
                .into_iter()
                .map(|(flow, why)| engine.record_of(flow, why)),
        );
        report.write(out);
    }
}

/// Flows concluded at the end of input whose records are made together (a batch is handed
/// from core to core at once).
const CONCLUDED_BATCH: usize = 256;

/// Hands a batch of flows concluded at the end of input to whichever worker makes their
/// records.
fn share_concluded(feed: &Feed, batch: Vec<(Flow, Expiration)>) {
    if batch.is_empty() {
        return;
    }
    lock(&feed.finishing).concluded.push(batch);
    feed.concluded.notify_one();
}

/// The next batch of flows concluded at the end of input, waiting for it if more may come.
fn next_concluded(feed: &Feed) -> Option<Vec<(Flow, Expiration)>> {
    let mut finishing = lock(&feed.finishing);
    loop {
        if let Some(batch) = finishing.concluded.pop() {
            return Some(batch);
        }
        if finishing.no_more {
            return None;
        }
        finishing = feed
            .concluded
            .wait(finishing)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

/// What a worker gathers before handing it over: records, or records written as text.
struct Batch {
    text: Option<TextFormat>,
    written: TextBatch,
}

impl Batch {
    /// Writes the records made since the last call, if the worker writes text.
    fn write(&mut self, out: &mut Vec<FlowRecord>) {
        if let Some(format) = self.text {
            self.written.add_all(out, format);
            out.clear();
        }
    }

    /// Records gathered.
    fn len(&self, out: &[FlowRecord]) -> usize {
        out.len() + self.written.records as usize
    }

    /// Everything gathered (the records of `out` written first, if the worker writes text).
    fn take(&mut self, out: &mut Vec<FlowRecord>) -> Report {
        self.write(out);
        match self.text {
            Some(_) => {
                let written = std::mem::take(&mut self.written);
                // The next batch is about as long: one allocation rather than a chain of
                // reallocations, each copying the text so far.
                self.written.text.reserve(written.text.len());
                Report::Text(written)
            }
            None => Report::Records(std::mem::take(out)),
        }
    }
}

/// The worker (of `n`) for a frame: by its innermost address pair; frames without IP go to
/// the first worker. Frames are routed in input order (by whichever worker reads them), so
/// `fragments` can follow a fragmented datagram from its first fragment on.
fn shard(
    pkt: &RawPacket<'_>,
    opts: DecodeOptions,
    n: usize,
    fragments: &mut FragmentRoutes,
) -> usize {
    if n <= 1 {
        return 0;
    }
    let h = if let Some((src, dst)) = decode::plain_flow_addresses(pkt.link_type, pkt.data, opts) {
        mix_pair(src, dst)
    } else {
        match decode::decode(pkt.link_type, pkt.data, pkt.wire_len, opts) {
            Outcome::Packet(p) => pair_hash(&p.src_ip, &p.dst_ip),
            Outcome::Fragment(f) => fragments.route(&f),
            _ => 0,
        }
    };
    worker_of(h, n)
}

/// Which of `n` workers a flow hash goes to: multiply-shift, the high bits of the hash
/// scaled to 0..n.
pub fn worker_of(hash: u64, n: usize) -> usize {
    (((hash >> 32) * n as u64) >> 32) as usize
}

/// A fragmented datagram, as its fragments name it.
type DatagramKey = (u8, IpBytes, IpBytes, u8, u32);

/// The fragments of one datagram must meet in the worker that owns the flow of the
/// reassembled datagram. For most datagrams that is the fragments' own address pair; for a
/// tunnel's (GTP, VXLAN, GRE… over fragmented IP) it is the pair inside, which only the
/// first fragment shows. So the first fragment is decoded as far as it goes, and when the
/// flow inside has other addresses the later fragments are sent the same way. Fragments of
/// a tunnelled datagram that arrive before its first one go by their own addresses.
#[derive(Default)]
struct FragmentRoutes {
    /// Hash of the inner address pair, for datagrams whose inner pair differs, and the
    /// number of the first fragment that set it.
    inner: std::collections::HashMap<DatagramKey, (u64, u64)>,
    /// Insertion order, to forget the oldest beyond [`FRAGMENT_ROUTES`].
    order: VecDeque<(DatagramKey, u64)>,
    /// First fragments seen.
    firsts: u64,
}

/// Tunnelled datagrams being routed at most (fragments of one datagram arrive close together).
const FRAGMENT_ROUTES: usize = 4096;

impl FragmentRoutes {
    /// The hash to route fragment `f` by.
    fn route(&mut self, f: &decode::Fragment<'_>) -> u64 {
        let outer = pair_hash(&f.src_ip, &f.dst_ip);
        let key = (f.ip_version, f.src_ip, f.dst_ip, f.protocol, f.id);
        if f.offset != 0 {
            return self.inner.get(&key).map_or(outer, |&(hash, _)| hash);
        }
        // The rest of the datagram is missing here: let lengths point past what is present.
        let ctx = decode::Context {
            uncaptured: u32::MAX >> 1,
            ..f.ctx
        };
        let inner =
            match decode::decode_l4(ctx, f.ip_version, f.src_ip, f.dst_ip, f.protocol, f.data) {
                Outcome::Packet(p) => pair_hash(&p.src_ip, &p.dst_ip),
                Outcome::Fragment(x) => pair_hash(&x.src_ip, &x.dst_ip),
                _ => outer,
            };
        self.firsts += 1;
        if inner == outer {
            // A datagram reusing the identification of a tunnelled one goes its own way.
            self.inner.remove(&key);
            return inner;
        }
        self.inner.insert(key, (inner, self.firsts));
        self.order.push_back((key, self.firsts));
        if self.order.len() > FRAGMENT_ROUTES {
            if let Some((old, first)) = self.order.pop_front() {
                // Unless a later first fragment of that key has replaced it.
                if self.inner.get(&old).is_some_and(|&(_, f)| f == first) {
                    self.inner.remove(&old);
                }
            }
        }
        inner
    }
}

/// A hash of an address pair that does not depend on the pair's order: the two addresses
/// as 128-bit numbers, the lower first, folded and mixed (a handful of instructions, for a
/// hash taken of every frame).
pub fn pair_hash(a: &IpBytes, b: &IpBytes) -> u64 {
    mix_pair(u128::from_le_bytes(*a), u128::from_le_bytes(*b))
}

/// [`pair_hash`] of two addresses read as numbers (see [`decode::plain_flow_addresses`]).
#[inline]
fn mix_pair(a: u128, b: u128) -> u64 {
    let (lo, hi) = (a.min(b), a.max(b));
    let fold = |x: u128| (x as u64) ^ ((x >> 64) as u64).rotate_left(17);
    let mut h = (fold(lo) ^ 0x243F_6A88_85A3_08D3).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h = (h ^ (h >> 29) ^ fold(hi)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    /// A worker at the end of input waits for the flows the last worker concludes; when
    /// another worker stops before getting there (its caller went away), none will come,
    /// and the waiting worker stops too rather than wait for ever.
    #[test]
    fn a_worker_waiting_at_the_end_stops_when_another_stops_before_it() {
        let feed = Shared::new(Feed::new(
            Vec::new(),
            2,
            DecodeOptions::default(),
            Arc::new(AtomicU64::new(0)),
            Arc::new(Mutex::new(Vec::new())),
        ));
        let mut engine = Engine::new(EngineOptions::default());
        engine.join_order(Shared::new(Order::new(2)), 0);
        let (done_tx, done) = sync_channel(1);
        let waiting = {
            let feed = Shared::clone(&feed);
            spawn("test-w0".into(), move || {
                let mut report = Batch {
                    text: None,
                    written: TextBatch::default(),
                };
                finish(&mut engine, &feed, &mut Vec::new(), &mut report);
                let _ = done_tx.send(());
            })
        };
        while lock(&feed.finishing).arrived == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            done.recv_timeout(Duration::from_millis(50)).is_err(),
            "worker 0 waits for the last worker"
        );
        drop(Leaving { feed: &feed, me: 1 });
        assert!(
            done.recv_timeout(Duration::from_secs(10)).is_ok(),
            "worker 0 stops once worker 1 has stopped"
        );
        waiting.join().expect("worker 0 ends");
    }

    /// A first fragment opening a GTP tunnel sends the datagram's later fragments to the
    /// inner pair's worker; a later datagram that reuses the identification without a
    /// tunnel goes by its own pair again.
    #[test]
    fn fragments_follow_the_first_fragment_into_a_tunnel() {
        use crate::decode::tests::v4;
        let (outer_src, outer_dst) = (v4([172, 16, 0, 1]), v4([172, 16, 0, 2]));
        let (inner_src, inner_dst) = ([10, 45, 0, 7], [198, 51, 100, 7]);
        // UDP to the GTP-U port, a GTP header, then the inner IPv4 header announcing more
        // bytes than this first fragment holds.
        let mut tunnelled = vec![0x08, 0x68, 0x08, 0x68, 0x05, 0xdc, 0, 0];
        tunnelled.extend([0x30, 0xff, 0x05, 0xc8, 0, 0, 0, 1]);
        tunnelled.extend([0x45, 0, 0x05, 0xc8, 0, 1, 0x40, 0, 64, 6, 0, 0]);
        tunnelled.extend(inner_src);
        tunnelled.extend(inner_dst);
        let plain: &'static [u8] = &[0x9c, 0x40, 0x00, 0x35, 0x05, 0xdc, 0, 0];
        let fragment = |offset: u32, data: &'static [u8]| decode::Fragment {
            ctx: decode::Context {
                opts_decode_tunnels: true,
                ..decode::Context::default()
            },
            ip_version: 4,
            src_ip: outer_src,
            dst_ip: outer_dst,
            protocol: 17,
            id: 77,
            offset,
            more: offset == 0,
            data,
            announced_len: 1500,
        };
        let tunnelled: &'static [u8] = Vec::leak(tunnelled);
        let outer = pair_hash(&outer_src, &outer_dst);
        let inner = pair_hash(&v4(inner_src), &v4(inner_dst));
        assert_ne!(inner, outer);
        let mut routes = FragmentRoutes::default();
        assert_eq!(routes.route(&fragment(0, tunnelled)), inner);
        assert_eq!(routes.route(&fragment(1480, b"rest")), inner);
        assert_eq!(routes.route(&fragment(0, plain)), outer);
        assert_eq!(routes.route(&fragment(1480, b"rest")), outer);
        // Bounded: old datagrams are forgotten, recent ones kept.
        for id in 0..2 * FRAGMENT_ROUTES as u32 {
            routes.route(&decode::Fragment {
                id: 1000 + id,
                ..fragment(0, tunnelled)
            });
        }
        assert!(routes.inner.len() <= FRAGMENT_ROUTES && routes.order.len() <= FRAGMENT_ROUTES);
    }

    #[test]
    fn the_pair_hash_is_symmetric_and_spreads() {
        let a = [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut seen = [0u32; 4];
        for i in 0..=255u8 {
            let b = [192, 0, 2, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            assert_eq!(pair_hash(&a, &b), pair_hash(&b, &a));
            if let Some(n) = seen.get_mut(worker_of(pair_hash(&a, &b), 4)) {
                *n += 1;
            }
        }
        // 256 hosts over 4 workers: none idle, none with most of them.
        assert!(seen.iter().all(|&n| (32..=96).contains(&n)), "{seen:?}");
    }
}
