//! The engine: frames in, flow records out. One instance owns its flow table and
//! defragmenter; there is no global state, so instances are independent.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::capture::RawPacket;
use crate::classify::signatures::PackError;
use crate::classify::{
    add_risk, CallCache, CandidateIndex, Classification, Confidence, Dir, DnsCache, Dpi, Endpoints,
    ExpectKey, Expectations, FlowFacts, SignatureSet, StreamConfig, StreamOptions, StreamShared,
    CALL_CACHE_ENTRIES, DNS_CACHE_ENTRIES,
};
use crate::decode::{self, decode_l4, DecodeOptions, Outcome, Packet};
use crate::flow::defrag::{DefragOptions, Defragmenter, Reassembled};
use crate::flow::{
    sender_is_client, Expiration, Flow, FlowKey, FlowTable, Lane, TCP_ACK, TCP_FIN, TCP_RST,
    TCP_SYN,
};
use crate::metadata::{Event, EventSink};
use crate::parallel::Order;
use crate::protocols;
use crate::record::FlowRecord;

/// Everything a user can set; `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// A flow with no packet for this long ends (milliseconds).
    pub idle_timeout_ms: u64,
    /// A flow that has lasted this long ends and the next packet starts a new one (ms).
    pub active_timeout_ms: u64,
    /// A TCP connection that has closed (FIN both ways, or RST) ends this long after its
    /// last packet (or the idle timeout, if shorter), which leaves time for the last
    /// acknowledgements and retransmissions.
    pub tcp_closed_timeout_ms: u64,
    /// Flows held at once; beyond it the least recently seen flow is evicted (and reported).
    pub max_flows: usize,
    /// Reassemble IP fragments; when off, first fragments count for their flow and later
    /// fragments are counted as unassembled.
    pub defrag: bool,
    pub defrag_options: DefragOptions,
    /// TCP reassembly for dissectors: overlap policy and bounds.
    pub stream: StreamOptions,
    pub decode_tunnels: bool,
    /// Addresses remembered from DNS answers, so that later flows to them without a name of
    /// their own get the application of the name resolved (0 turns the cache off).
    pub dns_cache_entries: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            idle_timeout_ms: 600_000,
            active_timeout_ms: 3_600_000,
            tcp_closed_timeout_ms: 30_000,
            max_flows: 4_000_000,
            defrag: true,
            defrag_options: DefragOptions::default(),
            stream: StreamOptions::default(),
            decode_tunnels: true,
            dns_cache_entries: DNS_CACHE_ENTRIES,
        }
    }
}

/// Counters of everything the engine saw, dropped or gave up; nothing is lost silently.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub frames: u64,
    pub bytes: u64,
    pub ip_packets: u64,
    /// Frames cut by the snap length (captured < wire length).
    pub truncated_frames: u64,
    pub not_ip: u64,
    pub not_ip_by_kind: Vec<(&'static str, u64)>,
    pub malformed: u64,
    pub malformed_by_reason: Vec<(&'static str, u64)>,
    pub unsupported_link: u64,
    pub flows_created: u64,
    pub flows_expired_idle: u64,
    pub flows_expired_active: u64,
    pub flows_ended_tcp: u64,
    pub flows_evicted: u64,
    pub flows_at_end_of_input: u64,
    pub fragments: u64,
    pub fragments_unassembled: u64,
    pub datagrams_reassembled: u64,
    pub datagrams_incomplete: u64,
    pub datagrams_evicted: u64,
    pub fragment_overlaps: u64,
    pub fragments_oversized: u64,
    pub fragments_lost: u64,
    pub max_flows_seen: u64,
    /// DNS cache entries dropped to stay within `dns_cache_entries`.
    pub dns_cache_dropped: u64,
    /// Fragments shorter than a transport header's worth of data (tiny-fragment evasion).
    pub fragments_tiny: u64,
    /// Fragment overlaps whose copies differed.
    pub fragment_overlap_conflicts: u64,
    /// TCP reassembly (see [`crate::classify::StreamStats`]).
    pub stream: crate::classify::StreamStats,
}

impl Stats {
    /// The counters as (name, value) pairs, for reports and the Python API.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = vec![
            ("frames".into(), self.frames),
            ("bytes".into(), self.bytes),
            ("ip_packets".into(), self.ip_packets),
            ("truncated_frames".into(), self.truncated_frames),
            ("not_ip".into(), self.not_ip),
            ("malformed".into(), self.malformed),
            ("unsupported_link".into(), self.unsupported_link),
            ("flows_created".into(), self.flows_created),
            ("flows_expired_idle".into(), self.flows_expired_idle),
            ("flows_expired_active".into(), self.flows_expired_active),
            ("flows_ended_tcp".into(), self.flows_ended_tcp),
            ("flows_evicted".into(), self.flows_evicted),
            ("flows_at_end_of_input".into(), self.flows_at_end_of_input),
            ("max_flows_seen".into(), self.max_flows_seen),
            ("fragments".into(), self.fragments),
            ("fragments_unassembled".into(), self.fragments_unassembled),
            ("datagrams_reassembled".into(), self.datagrams_reassembled),
            ("datagrams_incomplete".into(), self.datagrams_incomplete),
            ("datagrams_evicted".into(), self.datagrams_evicted),
            ("fragment_overlaps".into(), self.fragment_overlaps),
            ("fragments_oversized".into(), self.fragments_oversized),
            ("fragments_lost".into(), self.fragments_lost),
            ("dns_cache_dropped".into(), self.dns_cache_dropped),
            ("fragments_tiny".into(), self.fragments_tiny),
            (
                "fragment_overlap_conflicts".into(),
                self.fragment_overlap_conflicts,
            ),
            ("tcp_overlaps".into(), self.stream.overlaps),
            (
                "tcp_overlap_conflicts".into(),
                self.stream.overlap_conflicts,
            ),
            ("tcp_gaps".into(), self.stream.gaps),
            ("tcp_gap_bytes".into(), self.stream.gap_bytes),
            ("tcp_flow_bound_hits".into(), self.stream.flow_bound_hits),
            ("tcp_total_bound_hits".into(), self.stream.total_bound_hits),
            ("tcp_bytes_dropped".into(), self.stream.bytes_dropped),
        ];
        v.extend(
            self.not_ip_by_kind
                .iter()
                .map(|(k, n)| (format!("not_ip.{k}"), *n)),
        );
        v.extend(
            self.malformed_by_reason
                .iter()
                .map(|(k, n)| (format!("malformed.{k}"), *n)),
        );
        v
    }
}

impl Stats {
    /// Adds another engine's counters (the workers of one analysis). `max_flows_seen`
    /// becomes the sum of the workers' peaks, an upper bound of the flows held at once.
    pub fn merge(&mut self, o: &Stats) {
        self.frames += o.frames;
        self.bytes += o.bytes;
        self.ip_packets += o.ip_packets;
        self.truncated_frames += o.truncated_frames;
        self.not_ip += o.not_ip;
        self.malformed += o.malformed;
        self.unsupported_link += o.unsupported_link;
        self.flows_created += o.flows_created;
        self.flows_expired_idle += o.flows_expired_idle;
        self.flows_expired_active += o.flows_expired_active;
        self.flows_ended_tcp += o.flows_ended_tcp;
        self.flows_evicted += o.flows_evicted;
        self.flows_at_end_of_input += o.flows_at_end_of_input;
        self.fragments += o.fragments;
        self.fragments_unassembled += o.fragments_unassembled;
        self.datagrams_reassembled += o.datagrams_reassembled;
        self.datagrams_incomplete += o.datagrams_incomplete;
        self.datagrams_evicted += o.datagrams_evicted;
        self.fragment_overlaps += o.fragment_overlaps;
        self.fragments_oversized += o.fragments_oversized;
        self.fragments_lost += o.fragments_lost;
        self.max_flows_seen += o.max_flows_seen;
        self.fragments_tiny += o.fragments_tiny;
        self.fragment_overlap_conflicts += o.fragment_overlap_conflicts;
        self.stream.merge(&o.stream);
        // The caches are shared by the workers: their count is the same for all.
        self.dns_cache_dropped = self.dns_cache_dropped.max(o.dns_cache_dropped);
        for (k, n) in &o.not_ip_by_kind {
            add(&mut self.not_ip_by_kind, k, *n);
        }
        for (k, n) in &o.malformed_by_reason {
            add(&mut self.malformed_by_reason, k, *n);
        }
    }
}

fn add(list: &mut Vec<(&'static str, u64)>, key: &'static str, n: u64) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, m)) => *m += n,
        None => list.push((key, n)),
    }
}

/// What flows learn from one another: the DNS cache and the call cache. One set per engine,
/// shared by the workers of one analysis (behind a lock taken once per flow, when its
/// inspection ends).
pub struct Caches {
    dns: DnsCache,
    calls: CallCache,
}

fn lock(caches: &Mutex<Caches>) -> MutexGuard<'_, Caches> {
    caches
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bump(list: &mut Vec<(&'static str, u64)>, key: &'static str) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += 1,
        None => list.push((key, 1)),
    }
}

pub struct Engine {
    opts: EngineOptions,
    decode_opts: DecodeOptions,
    table: FlowTable,
    defrag: Defragmenter,
    /// TCP reassembly settings handed to each inspected flow (with the shared bound).
    streams: StreamConfig,
    stats: Stats,
    /// The latest timestamp seen; time never runs backwards for expiry.
    now_ns: i64,
    /// Until this time no flow times out, as long as the oldest flows of the table stay the
    /// same (`quiet_heads`, the table's head-change count then): lets most frames skip the
    /// expiry check, which reads the oldest flows (far from the caches).
    quiet_until_ns: i64,
    quiet_heads: u64,
    /// Scratch list for datagrams given up by the defragmenter.
    given_up: Vec<Reassembled>,
    sigs: Arc<SignatureSet>,
    /// The DNS cache and the applications of call endpoints, shared by a call's media flows.
    caches: Arc<Mutex<Caches>>,
    /// Event names subscribed to; events of other names are never built.
    subscribed: Vec<&'static str>,
    /// Data connections FTP control connections announced (kept per engine: see
    /// [`Expectations`]).
    announced: Expectations,
    events: Vec<Event>,
    /// For the workers of a sharded analysis: the order shared with the other workers and
    /// this worker's place in it (see [`Order`]).
    order: Option<(Arc<Order>, usize)>,
    /// Index of the frame being processed in the whole input (sharded analysis only).
    seq: u64,
    /// Where this engine stands in the shared order (sharded analysis only).
    stamp: u64,
    /// Flows being ended at the end of input, when [`Self::flush_some`] ends them in steps.
    draining: Option<std::vec::IntoIter<Flow>>,
    /// Sharded analysis: conclusions that use the shared caches, in the order of their
    /// stamps, waiting until every other worker has done what comes before them (see
    /// [`Self::settle`]). Their flows stop being inspected meanwhile.
    deferred: VecDeque<Deferred>,
    /// Flows that ended while their conclusion waited: their records follow it.
    held: HashMap<u64, (Flow, Expiration), ahash::RandomState>,
}

/// Puts off the conclusion of a flow still inspected whose conclusion uses the shared
/// caches (sharded analysis): it stops being inspected and waits in `deferred` at `stamp`.
/// Whether it did.
fn put_off(flow: &mut Flow, stamp: u64, deferred: &mut VecDeque<Deferred>) -> bool {
    if !flow.inspecting || !flow.dpi.as_ref().is_some_and(|d| d.needs_caches()) {
        return false;
    }
    flow.inspecting = false;
    deferred.push_back(Deferred {
        stamp,
        flow_id: flow.id,
        key: flow.key,
    });
    true
}

/// What a worker of a sharded analysis leaves at the end of input: its conclusions still
/// waiting for their turn, and the flows that ended meanwhile (see [`Engine::turns_left`]).
pub(crate) struct TurnsLeft {
    worker: usize,
    deferred: VecDeque<Deferred>,
    held: HashMap<u64, (Flow, Expiration), ahash::RandomState>,
}

/// A conclusion put off in a sharded analysis: its place in the order and its flow.
#[derive(Clone, Copy)]
struct Deferred {
    stamp: u64,
    flow_id: u64,
    key: FlowKey,
}

/// Stamps at the end of input: after every frame's, in the order flows were created.
const FLUSH_STAMP: u64 = 1 << 62;

impl Engine {
    pub fn new(opts: EngineOptions) -> Engine {
        Engine {
            decode_opts: DecodeOptions {
                decode_tunnels: opts.decode_tunnels,
            },
            defrag: Defragmenter::new(opts.defrag_options),
            streams: StreamConfig::new(
                &opts.stream,
                StreamShared::new(opts.stream.max_total_bytes),
            ),
            table: FlowTable::new(),
            stats: Stats::default(),
            now_ns: i64::MIN,
            quiet_until_ns: i64::MIN,
            quiet_heads: u64::MAX,
            given_up: Vec::new(),
            sigs: SignatureSet::builtin_shared(),
            caches: Arc::new(Mutex::new(Caches {
                dns: DnsCache::new(opts.dns_cache_entries),
                calls: CallCache::new(CALL_CACHE_ENTRIES),
            })),
            subscribed: Vec::new(),
            events: Vec::new(),
            announced: Expectations::default(),
            order: None,
            seq: 0,
            stamp: 0,
            draining: None,
            deferred: VecDeque::new(),
            held: HashMap::with_hasher(ahash::RandomState::new()),
            opts,
        }
    }

    /// Makes this engine worker `index` of a sharded analysis: from now on conclusions that
    /// use the shared caches wait for their turn in `order` (put off, see [`Self::reached`]),
    /// flow ids come from frame positions (unique across the workers), and frames must come
    /// through [`Self::process_at`] and [`Self::tick`].
    pub(crate) fn join_order(&mut self, order: Arc<Order>, index: usize) {
        self.order = Some((order, index));
    }

    /// Tells the other workers where this one stands: everything before its stamp is done,
    /// but for its oldest deferred conclusion. Done every few frames, not per frame: the
    /// others only look when they settle their own conclusions.
    #[inline]
    fn publish(&self) {
        if let Some((order, me)) = &self.order {
            let oldest = self.deferred.front().map_or(u64::MAX, |d| d.stamp);
            order.publish(*me, self.stamp.min(oldest));
        }
    }

    /// Sharded analysis: every frame before number `seq` has been seen. Carries out the
    /// deferred conclusions whose turn has come, without waiting for the others.
    pub fn reached(&mut self, seq: u64, out: &mut Vec<FlowRecord>) {
        self.stamp = self.stamp.max(2 * seq);
        self.settle(out);
    }

    /// Carries out the deferred conclusions in order, as long as every other worker has done
    /// what comes before each (lower-numbered workers first at equal stamps). Records of
    /// flows that ended meanwhile go to `out`.
    fn settle(&mut self, out: &mut Vec<FlowRecord>) {
        // Borrowed, not cloned: the count of a shared `Arc` is a cache line both workers write.
        let Some((order, me)) = &self.order else {
            return;
        };
        let me = *me;
        while let Some(d) = self.deferred.front().copied() {
            if !order.passed(me, d.stamp) {
                break;
            }
            self.deferred.pop_front();
            if let Some((flow, why)) = self.held.remove(&d.flow_id) {
                self.conclude_held(flow, why, out);
            } else if let Some(slot) = self.table.lookup(&d.key) {
                let flow = self.table.get_mut(slot);
                if flow.id == d.flow_id {
                    flow.inspecting = true;
                    conclude(flow, &self.sigs, &self.caches);
                }
            }
        }
        self.publish();
    }

    /// Ends the inspection of `flow` now, or in a sharded analysis defers it when it uses
    /// the shared caches (see [`Self::settle`]).
    fn conclude_or_defer(&mut self, slot: u32) {
        let flow = self.table.get_mut(slot);
        if self.order.is_some() && put_off(flow, self.stamp, &mut self.deferred) {
            return;
        }
        conclude(flow, &self.sigs, &self.caches);
    }

    /// Processes frame number `seq` of the whole input (sharded analysis).
    pub fn process_at(&mut self, pkt: &RawPacket<'_>, seq: u64, out: &mut Vec<FlowRecord>) {
        self.tick(pkt.ts_ns, seq, out);
        self.stamp = 2 * seq + 1;
        self.process(pkt, out);
    }

    /// Frame number `seq` went to another worker: time moves on here too, so that flows
    /// time out at the same frame as they would with one engine (sharded analysis).
    #[inline]
    pub fn tick(&mut self, ts_ns: i64, seq: u64, out: &mut Vec<FlowRecord>) {
        self.seq = seq;
        self.stamp = 2 * seq;
        self.advance_time(ts_ns, out);
    }

    /// Frames with timestamps up to `latest` went to other workers: when none of them can
    /// end a flow here, time moves on to `latest` and true is returned; else nothing changes
    /// (the caller then ticks them one by one). The same as ticking each, as long as every
    /// frame before them has been seen.
    #[inline]
    pub fn passes_quietly(&mut self, latest: i64) -> bool {
        if latest <= self.now_ns {
            return true;
        }
        if latest <= self.quiet_until_ns && self.quiet_heads == self.table.head_changes() {
            self.now_ns = latest;
            return true;
        }
        false
    }

    /// Time is `ts_ns` (if later than any seen): flows idle for longer than their timeout end.
    /// Inlined: it runs for every frame (for every worker's), and almost always returns here.
    #[inline(always)]
    fn advance_time(&mut self, ts_ns: i64, out: &mut Vec<FlowRecord>) {
        if ts_ns <= self.now_ns {
            return;
        }
        self.now_ns = ts_ns;
        if ts_ns <= self.quiet_until_ns && self.quiet_heads == self.table.head_changes() {
            return;
        }
        self.time_out_idle(out);
    }

    /// Ends the flows idle for longer than their timeout, and notes until when none can.
    #[inline(never)]
    fn time_out_idle(&mut self, out: &mut Vec<FlowRecord>) {
        self.expire_idle(out);
        self.quiet_until_ns = self.next_timeout_ns();
        self.quiet_heads = self.table.head_changes();
    }

    /// The earliest time at which a flow of the table, as it is, would time out.
    fn next_timeout_ns(&self) -> i64 {
        self.timeouts()
            .into_iter()
            .filter_map(|(lane, timeout_ns, _)| {
                let slot = self.table.oldest(lane)?;
                Some(
                    self.table
                        .get(slot)
                        .idle_since_ns
                        .saturating_add(timeout_ns),
                )
            })
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Each lane of the table, how long its flows may stay idle and why they then end.
    fn timeouts(&self) -> [(Lane, i64, Expiration); 2] {
        [
            (
                Lane::Open,
                ms_to_ns(self.opts.idle_timeout_ms),
                Expiration::Idle,
            ),
            // A closed connection waits for late segments, but never longer than an open
            // flow would wait for its next packet.
            (
                Lane::Closed,
                ms_to_ns(
                    self.opts
                        .tcp_closed_timeout_ms
                        .min(self.opts.idle_timeout_ms),
                ),
                Expiration::End,
            ),
        ]
    }

    /// Another engine with the same options, signature packs and subscriptions that shares
    /// this one's DNS and call caches, with a flow table of its own: the workers of one
    /// analysis, each fed the flows of its shard.
    pub fn sibling(&self) -> Engine {
        let mut e = Engine::new(self.opts.clone());
        e.sigs = Arc::clone(&self.sigs);
        e.caches = Arc::clone(&self.caches);
        e.subscribed = self.subscribed.clone();
        e
    }

    /// Makes this engine one of `n` workers of an analysis: each bound of its options that
    /// holds over all flows (flows held, TCP bytes held for reassembly, fragment bytes and
    /// datagrams held) becomes its share of that bound, so that the bound holds for the
    /// whole analysis.
    pub fn take_share(&mut self, n: usize) {
        let share = |bound: usize| bound.div_ceil(n.max(1)).max(1);
        self.opts.max_flows = share(self.opts.max_flows);
        self.opts.stream.max_total_bytes = share(self.opts.stream.max_total_bytes);
        let defrag = &mut self.opts.defrag_options;
        defrag.max_bytes = share(defrag.max_bytes);
        defrag.max_datagrams = share(defrag.max_datagrams);
        self.defrag.limit(defrag.max_bytes, defrag.max_datagrams);
        if let Some(shared) = &self.streams.shared {
            shared.set_max_total(self.opts.stream.max_total_bytes);
        }
    }

    /// Subscribes to an event by name (see [`protocols::events`]).
    pub fn subscribe(&mut self, name: &str) -> Result<(), String> {
        let spec = protocols::events()
            .into_iter()
            .find(|e| e.name == name)
            .ok_or_else(|| format!("unknown event {name:?}"))?;
        if !self.subscribed.contains(&spec.name) {
            self.subscribed.push(spec.name);
        }
        Ok(())
    }

    /// The events produced since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The signature packs in use.
    pub fn signatures(&self) -> &Arc<SignatureSet> {
        &self.sigs
    }

    /// Adds a signature pack (TOML text) to those in use, while flows go on: applications
    /// already declared with the same id are replaced, new ones added. Flows classified
    /// before keep their classification; flows still under inspection use the new pack.
    pub fn load_signatures(&mut self, text: &str, origin: &str) -> Result<usize, PackError> {
        let mut sigs = SignatureSet::clone(&self.sigs);
        let n = sigs.load_str(text, origin)?;
        self.sigs = Arc::new(sigs);
        Ok(n)
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// The counters so far (defragmenter counters included).
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        let d = &self.defrag.stats;
        s.fragments = d.fragments;
        s.datagrams_reassembled = d.datagrams_reassembled;
        s.datagrams_incomplete = d.datagrams_timed_out;
        s.datagrams_evicted = d.datagrams_evicted;
        s.fragment_overlaps = d.overlaps;
        s.fragments_oversized = d.oversized;
        s.fragments_tiny = d.tiny;
        s.fragment_overlap_conflicts = d.overlap_conflicts;
        if let Some(shared) = &self.streams.shared {
            s.stream = shared.stats();
        }
        s.dns_cache_dropped = lock(&self.caches).dns.dropped();
        s
    }

    /// Flows held now.
    pub fn active_flows(&self) -> usize {
        self.table.len()
    }

    /// Processes one frame; records of flows that ended are appended to `out`.
    pub fn process(&mut self, pkt: &RawPacket<'_>, out: &mut Vec<FlowRecord>) {
        self.stats.frames += 1;
        self.stats.bytes += u64::from(pkt.wire_len);
        if (pkt.data.len() as u64) < u64::from(pkt.wire_len) {
            self.stats.truncated_frames += 1;
        }
        self.advance_time(pkt.ts_ns, out);
        match decode::decode(pkt.link_type, pkt.data, pkt.wire_len, self.decode_opts) {
            Outcome::Packet(p) => {
                self.stats.ip_packets += 1;
                self.account(&p, pkt.ts_ns, 1, u64::from(pkt.wire_len), pkt.ts_ns, out);
            }
            Outcome::Fragment(f) => {
                self.stats.ip_packets += 1;
                if self.opts.defrag {
                    let done = self
                        .defrag
                        .add(&f, pkt.ts_ns, pkt.wire_len, &mut self.given_up);
                    if let Some(r) = done {
                        self.account_datagram(&r, out);
                    }
                    self.drain_given_up(out);
                } else if f.offset == 0 {
                    // The first fragment carries the transport header: it counts for its flow.
                    let outcome =
                        decode_l4(f.ctx, f.ip_version, f.src_ip, f.dst_ip, f.protocol, f.data);
                    if let Outcome::Packet(p) = outcome {
                        self.account(&p, pkt.ts_ns, 1, u64::from(pkt.wire_len), pkt.ts_ns, out);
                    } else {
                        self.stats.fragments_unassembled += 1;
                    }
                } else {
                    self.stats.fragments_unassembled += 1;
                }
            }
            Outcome::NotIp(kind) => {
                self.stats.not_ip += 1;
                bump(&mut self.stats.not_ip_by_kind, kind);
            }
            Outcome::Malformed(reason) => {
                self.stats.malformed += 1;
                bump(&mut self.stats.malformed_by_reason, reason);
            }
            Outcome::UnsupportedLink => self.stats.unsupported_link += 1,
        }
    }

    /// Numbers this engine's flows `first`, `first + step`, ...: the ids of `step` engines
    /// capturing side by side, numbered from 0 to `step - 1`, never collide.
    pub fn number_flows(&mut self, first: u64, step: u64) {
        self.table.number_ids(first, step);
    }

    /// Reads up to `max_packets` frames of a live capture, waiting up to `timeout` for the
    /// first, and processes those `admit` lets through; returns how many it processed.
    /// When no frame came, the clock moves on to the time up to which the kernel has handed
    /// every frame over, so that idle flows of a quiet link end when their timeout passes,
    /// not at the next packet.
    #[cfg(target_os = "linux")]
    pub fn read_live(
        &mut self,
        capture: &mut crate::capture::live::LiveCapture,
        max_packets: usize,
        timeout: std::time::Duration,
        admit: &mut dyn FnMut() -> bool,
        out: &mut Vec<FlowRecord>,
    ) -> Result<usize, crate::capture::live::LiveError> {
        let mut processed = 0;
        let read = capture.read(max_packets, timeout, &mut |pkt| {
            if admit() {
                processed += 1;
                self.process(pkt, out);
            }
        })?;
        if read == 0 {
            self.advance_time(capture.settled_ns(), out);
        }
        Ok(processed)
    }

    /// Ends every flow (end of input); their records are appended to `out` in creation order.
    pub fn flush(&mut self, out: &mut Vec<FlowRecord>) {
        while self.flush_some(out, usize::MAX) {}
    }

    /// [`Self::flush`] in steps of at most `max` records (`max` ≥ 1), so that the records of
    /// a large table need not all be in memory at once; `true` while flows remain. The
    /// flows still held are taken out of the table at the first call. A worker of a sharded
    /// analysis carries out the conclusions whose turn has come; the others are left for
    /// [`Self::turns_left`].
    pub fn flush_some(&mut self, out: &mut Vec<FlowRecord>, max: usize) -> bool {
        if self.draining.is_none() {
            self.stamp = FLUSH_STAMP;
            self.defrag.drain(&mut self.given_up);
            self.drain_given_up(out);
            let flows = self.table.drain();
            self.stats.flows_at_end_of_input += flows.len() as u64;
            self.draining = Some(flows.into_iter());
        }
        let Some(mut rest) = self.draining.take() else {
            return false;
        };
        for f in rest.by_ref().take(max.max(1)) {
            self.stamp = FLUSH_STAMP + f.id;
            self.report_ended(f, Expiration::EndOfInput, out);
            self.publish();
        }
        if rest.len() > 0 {
            self.draining = Some(rest);
            self.settle(out);
            return true;
        }
        // Every flow is ended: the deferred conclusions are all that is left.
        self.stamp = u64::MAX;
        self.settle(out);
        false
    }

    /// Sharded analysis, at the end of input: hands over the conclusions still waiting for
    /// their turn, with the flows they hold. The position this worker published stays at
    /// the oldest of them, so the other workers keep putting off what comes after until
    /// whoever takes them (see [`Self::finish_turns`]) has carried them out.
    pub(crate) fn turns_left(&mut self) -> TurnsLeft {
        TurnsLeft {
            worker: self.order.as_ref().map_or(0, |(_, me)| *me),
            deferred: std::mem::take(&mut self.deferred),
            held: std::mem::take(&mut self.held),
        }
    }

    /// Sharded analysis, at the end of input, for the last worker to get there: carries out
    /// the conclusions left by every other worker (see [`Self::turns_left`]) and its own, in
    /// the order the workers would have taken turns (by stamp, lower-numbered workers first
    /// at equal stamps), alone: no turn is handed between cores. Each flow held, once
    /// concluded, goes to `concluded`, in that order; its record is still to be made (see
    /// [`Self::record_of`]), by any worker: making records is most of the work left at the
    /// end of input, and only the conclusions have an order to keep.
    pub(crate) fn finish_turns(
        &mut self,
        mut left: Vec<TurnsLeft>,
        concluded: &mut dyn FnMut(Flow, Expiration),
    ) {
        left.push(self.turns_left());
        let mut turns: Vec<(u64, usize, usize, u64)> = left
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.deferred
                    .iter()
                    .map(move |d| (d.stamp, l.worker, i, d.flow_id))
            })
            .collect();
        // Stable: each worker's conclusions stay in their order.
        turns.sort_by_key(|&(stamp, worker, _, _)| (stamp, worker));
        for (_, _, i, flow_id) in turns {
            let Some(l) = left.get_mut(i) else {
                continue;
            };
            if let Some((mut flow, why)) = l.held.remove(&flow_id) {
                self.conclude_ended(&mut flow);
                concluded(flow, why);
            }
        }
        // Every held flow waits for a conclusion of its own; none is lost if one did not.
        for l in left {
            for (_, (mut flow, why)) in l.held {
                self.conclude_ended(&mut flow);
                concluded(flow, why);
            }
        }
    }

    /// The record of a flow that ended, once concluded (see [`Self::finish_turns`]).
    pub(crate) fn record_of(&self, flow: Flow, why: Expiration) -> FlowRecord {
        FlowRecord::from_flow(flow, why, &self.sigs)
    }

    /// Concludes a flow that ended while its conclusion waited for its turn: the turn has come.
    fn conclude_ended(&self, flow: &mut Flow) {
        flow.inspecting = true;
        conclude(flow, &self.sigs, &self.caches);
    }

    /// A flow that ended while its conclusion waited for its turn: the turn has come, its
    /// record goes to `out`.
    fn conclude_held(&self, mut flow: Flow, why: Expiration, out: &mut Vec<FlowRecord>) {
        self.conclude_ended(&mut flow);
        out.push(self.record_of(flow, why));
    }

    fn drain_given_up(&mut self, out: &mut Vec<FlowRecord>) {
        while let Some(r) = self.given_up.pop() {
            self.account_datagram(&r, out);
        }
    }

    /// Accounts a (possibly partial) reassembled datagram: all its frames go to its flow when
    /// the transport header arrived; otherwise they are counted as lost.
    fn account_datagram(&mut self, r: &Reassembled, out: &mut Vec<FlowRecord>) {
        if !r.has_first {
            self.stats.fragments_lost += u64::from(r.frames);
            return;
        }
        match decode_l4(
            r.ctx,
            r.ip_version,
            r.src_ip,
            r.dst_ip,
            r.protocol,
            &r.payload,
        ) {
            Outcome::Packet(p) => {
                self.account(
                    &p,
                    r.first_ns,
                    u64::from(r.frames),
                    r.wire_bytes,
                    r.last_ns,
                    out,
                );
                self.flag_flow(&p, r.risks());
            }
            Outcome::NotIp(kind) => {
                self.stats.not_ip += 1;
                bump(&mut self.stats.not_ip_by_kind, kind);
            }
            Outcome::Fragment(_) | Outcome::Malformed(_) | Outcome::UnsupportedLink => {
                self.stats.fragments_lost += u64::from(r.frames);
            }
        }
    }

    /// Raises `risks` on the packet's flow (found in the table after accounting).
    fn flag_flow(&mut self, p: &Packet<'_>, risks: impl Iterator<Item = &'static str>) {
        let mut risks = risks.peekable();
        if risks.peek().is_none() {
            return;
        }
        let (key, _) = FlowKey::of(p);
        let Some(slot) = self.table.lookup(&key) else {
            return;
        };
        let flow = self.table.get_mut(slot);
        match flow.dpi.as_mut() {
            Some(dpi) => risks.for_each(|r| add_risk(&mut dpi.risks, r)),
            None => {
                let findings = flow.findings.get_or_insert_with(Default::default);
                risks.for_each(|r| findings.add_risk(r));
            }
        }
    }

    fn expire_idle(&mut self, out: &mut Vec<FlowRecord>) {
        for (lane, timeout_ns, why) in self.timeouts() {
            while let Some(slot) = self.table.oldest(lane) {
                if self
                    .table
                    .get(slot)
                    .idle_since_ns
                    .saturating_add(timeout_ns)
                    >= self.now_ns
                {
                    break;
                }
                self.end_flow(slot, why, out);
            }
        }
    }

    fn end_flow(&mut self, slot: u32, why: Expiration, out: &mut Vec<FlowRecord>) {
        let flow = self.table.remove(slot);
        match why {
            Expiration::Idle => self.stats.flows_expired_idle += 1,
            Expiration::Active => self.stats.flows_expired_active += 1,
            Expiration::End => self.stats.flows_ended_tcp += 1,
            Expiration::Eviction => self.stats.flows_evicted += 1,
            Expiration::EndOfInput => self.stats.flows_at_end_of_input += 1,
        }
        self.report_ended(flow, why, out);
    }

    /// A flow taken out of the table: its inspection ends and its record goes to `out`; in
    /// a sharded analysis a flow whose conclusion is put off (now, if it was still
    /// inspected, or earlier: not inspected but still holding its inspection state) is held
    /// until that conclusion comes.
    fn report_ended(&mut self, mut flow: Flow, why: Expiration, out: &mut Vec<FlowRecord>) {
        let put_off_before = !flow.inspecting && flow.dpi.is_some();
        if self.order.is_some()
            && (put_off(&mut flow, self.stamp, &mut self.deferred) || put_off_before)
        {
            self.held.insert(flow.id, (flow, why));
        } else {
            conclude(&mut flow, &self.sigs, &self.caches);
            out.push(self.record_of(flow, why));
        }
    }

    /// Adds `packets` frames totalling `bytes` to the packet's flow, creating it if needed.
    fn account(
        &mut self,
        p: &Packet<'_>,
        first_ns: i64,
        packets: u64,
        bytes: u64,
        last_ns: i64,
        out: &mut Vec<FlowRecord>,
    ) {
        let (key, from_lo) = FlowKey::of(p);
        let slot = match self.table.lookup(&key) {
            Some(slot) => {
                let f = self.table.get(slot);
                let active_over = last_ns.saturating_sub(f.first_seen_ns)
                    >= ms_to_ns(self.opts.active_timeout_ms);
                let reopened = p.protocol == 6
                    && p.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN
                    && f.tcp_closed()
                    && f.client_isn != Some(p.tcp_seq);
                if active_over || reopened {
                    let client_is_lo = f.client_is_lo;
                    self.end_flow(
                        slot,
                        if reopened {
                            Expiration::End
                        } else {
                            Expiration::Active
                        },
                        out,
                    );
                    let client_is_lo = if reopened { from_lo } else { client_is_lo };
                    self.new_flow(key, client_is_lo, first_ns, out)
                } else {
                    slot
                }
            }
            None => {
                let client_is_lo = from_lo == sender_is_client(p);
                self.new_flow(key, client_is_lo, first_ns, out)
            }
        };
        let is_tcp = p.protocol == 6;
        let flow = self.table.get_mut(slot);
        flow.add(
            from_lo,
            packets,
            bytes,
            first_ns,
            last_ns,
            is_tcp.then_some(p.tcp_flags),
        );
        if is_tcp && p.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN && flow.client_isn.is_none() {
            flow.client_isn = Some(p.tcp_seq);
        }
        if flow.inspecting {
            let dir = if flow.direction(from_lo) == 0 {
                Dir::ToServer
            } else {
                Dir::ToClient
            };
            let ((client_ip, client_port), (server_ip, server_port)) = flow.endpoints();
            let facts = FlowFacts {
                l4: p.protocol,
                client_port,
                server_port,
                ip_version: p.ip_version,
                client_ip,
                server_ip,
            };
            let tcp = is_tcp.then_some((p.tcp_seq, p.tcp_flags));
            let (subscribed, events) = (&self.subscribed, &mut self.events);
            let flow_id = flow.id;
            let more = flow.dpi.as_mut().is_some_and(|dpi| {
                let mut sink = EventSink {
                    subscribed,
                    flow_id,
                    ts_ns: last_ns,
                    out: events,
                };
                let payload = if is_tcp && is_padding_taken_for_data(p.tcp_flags, p.payload, bytes)
                {
                    &[][..]
                } else {
                    p.payload
                };
                dpi.inspect(
                    payload,
                    dir,
                    facts,
                    tcp,
                    last_ns,
                    &self.sigs,
                    protocols::DISSECTORS,
                    &mut sink,
                )
            });
            if let Some((port, proto)) = flow.dpi.as_mut().and_then(|d| d.take_announcement()) {
                self.announced
                    .announce(ExpectKey::new(client_ip, server_ip, port), proto);
            }
            if !more {
                self.conclude_or_defer(slot);
            }
        }
        let now_ns = self.now_ns.max(last_ns);
        let flow = self.table.get_mut(slot);
        flow.idle_since_ns = now_ns;
        if flow.lane == Lane::Open && is_tcp && flow.tcp_closed() {
            self.table.set_lane(slot, Lane::Closed);
        }
        self.table.touch(slot);
    }

    fn new_flow(
        &mut self,
        key: FlowKey,
        client_is_lo: bool,
        ts_ns: i64,
        out: &mut Vec<FlowRecord>,
    ) -> u32 {
        while self.table.len() >= self.opts.max_flows.max(1) {
            // Closed connections go first: they have nothing more to say.
            match self
                .table
                .oldest(Lane::Closed)
                .or_else(|| self.table.oldest(Lane::Open))
            {
                Some(oldest) => self.end_flow(oldest, Expiration::Eviction, out),
                None => break,
            }
        }
        self.stats.flows_created += 1;
        if self.order.is_some() && self.stamp < FLUSH_STAMP {
            // Ids unique across the workers, in the order flows were created: from the
            // position of the frame that created the flow.
            self.table.raise_next_id(self.seq << 16);
        }
        let slot = self.table.insert(key, client_is_lo, ts_ns);
        let flow = self.table.get_mut(slot);
        if key.protocol == 6 || key.protocol == 17 {
            let order = CandidateIndex::builtin().order(key.protocol, [key.lo_port, key.hi_port]);
            let mut dpi = Dpi::with_streams(order, &self.streams);
            if !self.announced.is_empty() && key.protocol == 6 {
                let ((client_ip, client_port), (server_ip, server_port)) = flow.endpoints();
                let to = |port| ExpectKey::new(client_ip, server_ip, port);
                dpi.announced = self
                    .announced
                    .get(&to(server_port))
                    .or_else(|| self.announced.get(&to(client_port)));
            }
            flow.dpi = Some(dpi);
            flow.inspecting = true;
        } else if let Some(proto) = protocols::by_ip_proto(key.protocol) {
            flow.class = Classification {
                master: proto,
                app: None,
                sub: None,
                confidence: Confidence::Dpi,
            };
        }
        self.stats.max_flows_seen = self.stats.max_flows_seen.max(self.table.len() as u64);
        slot
    }
}

/// Ends the inspection of a flow still under inspection: the last look-ups (DNS cache, IP
/// ranges) and the release of what only inspection needed. Runs once per flow, when its
/// inspection stops or, if it never did, when the flow ends.
fn conclude(flow: &mut Flow, sigs: &SignatureSet, caches: &Mutex<Caches>) {
    if !flow.inspecting {
        return;
    }
    flow.inspecting = false;
    let ((client_ip, client_port), (server_ip, server_port)) = flow.endpoints();
    let ends = Endpoints {
        l4: flow.key.protocol,
        ip_version: flow.key.ip_version,
        client_ip,
        server_ip,
        client_port,
        server_port,
    };
    if let Some(mut dpi) = flow.dpi.take() {
        let mut c = lock(caches);
        let Caches { dns, calls } = &mut *c;
        dpi.conclude(&ends, sigs, dns, calls);
        drop(c);
        let (class, findings) = dpi.into_findings();
        flow.class = class;
        flow.findings = findings;
    }
}

/// Whether a TCP segment's payload is the zero padding of a minimum-size Ethernet frame that
/// the sender's IP length wrongly counted in (seen from some devices on bare ACKs; nDPI
/// issue 1946): an ACK or SYN-ACK without FIN, RST or PSH carrying at most 6 zero bytes, in
/// a frame of at most 64 bytes. Such bytes are not stream data (the peer does not acknowledge them, and
/// the real data follows at the same sequence number); inspecting them would corrupt the
/// stream under a first-copy-wins overlap policy. They are still counted in the flow.
fn is_padding_taken_for_data(flags: u8, payload: &[u8], frame_bytes: u64) -> bool {
    const PSH: u8 = 0x08;
    flags & (TCP_FIN | TCP_RST | PSH) == 0
        && flags & TCP_ACK != 0
        && (1..=6).contains(&payload.len())
        && frame_bytes <= 64
        && payload.iter().all(|&b| b == 0)
}

fn ms_to_ns(ms: u64) -> i64 {
    i64::try_from(ms)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
        let total = u16::try_from(20 + l4.len()).expect("small packet");
        let mut v = vec![0x45, 0];
        v.extend(total.to_be_bytes());
        v.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
        v.extend(src);
        v.extend(dst);
        v.extend_from_slice(l4);
        v
    }

    fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(sport.to_be_bytes());
        v.extend(dport.to_be_bytes());
        v.extend(
            u16::try_from(8 + payload.len())
                .expect("small")
                .to_be_bytes(),
        );
        v.extend([0, 0]);
        v.extend_from_slice(payload);
        v
    }

    fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(sport.to_be_bytes());
        v.extend(dport.to_be_bytes());
        v.extend(seq.to_be_bytes());
        v.extend(0u32.to_be_bytes());
        v.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        v.extend_from_slice(payload);
        v
    }

    /// A DNS response: `name` has one A record, `addr`.
    fn dns_answer(name: &str, addr: [u8; 4]) -> Vec<u8> {
        let mut v = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        for label in name.split('.') {
            v.push(u8::try_from(label.len()).expect("short label"));
            v.extend(label.bytes());
        }
        v.extend([0, 0, 1, 0, 1]);
        v.extend([0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        v.extend(addr);
        v
    }

    /// A TCP connection from 10.0.0.2:`sport` to `dst`:443 carrying `payload` once.
    fn connection(dst: [u8; 4], sport: u16, payload: &[u8]) -> Vec<Vec<u8>> {
        let me = [10, 0, 0, 2];
        vec![
            ipv4(6, me, dst, &tcp(sport, 443, 100, TCP_SYN, &[])),
            ipv4(6, dst, me, &tcp(443, sport, 500, TCP_SYN | TCP_ACK, &[])),
            ipv4(6, me, dst, &tcp(sport, 443, 101, TCP_ACK | 0x08, payload)),
        ]
    }

    #[test]
    fn a_flow_no_payload_named_is_guessed_by_its_well_known_port_unless_its_payload_says_no() {
        let (me, web) = ([10, 0, 0, 2], [192, 0, 2, 80]);
        let packets = [
            // A connection attempt to port 80 that nobody answers.
            ipv4(6, me, web, &tcp(40001, 80, 1, TCP_SYN, &[])),
            // Port 443, carrying bytes that are not TLS.
            ipv4(6, me, web, &tcp(40002, 443, 1, TCP_SYN, &[])),
            ipv4(6, web, me, &tcp(443, 40002, 9, TCP_SYN | TCP_ACK, &[])),
            ipv4(6, me, web, &tcp(40002, 443, 2, TCP_ACK | 0x08, &[0x99; 40])),
            // An active FTP data connection: from the server's port 20.
            ipv4(6, web, me, &tcp(20, 40003, 1, TCP_SYN, &[])),
            // UDP to 443 carrying zeros: QUIC reads the datagram and rules itself out.
            ipv4(17, me, web, &udp(40004, 443, &[0x00; 24])),
            // No well-known port at all.
            ipv4(6, me, web, &tcp(40005, 40006, 1, TCP_SYN, &[])),
            // An empty datagram to port 53.
            ipv4(17, me, web, &udp(40007, 53, &[])),
        ];
        assert_eq!(
            names_by_client_port(&packets),
            [
                (20, "FTP_DATA".to_string(), "Match by port"),
                (40001, "HTTP".to_string(), "Match by port"),
                (40002, "Unknown".to_string(), "Unknown"),
                (40004, "Unknown".to_string(), "Unknown"),
                (40005, "Unknown".to_string(), "Unknown"),
                (40007, "DNS".to_string(), "Match by port"),
            ]
        );
    }

    #[test]
    fn a_data_connection_the_ftp_control_connection_announced_is_ftp_data() {
        let (client, server, other) = ([10, 0, 0, 2], [192, 0, 2, 21], [192, 0, 2, 99]);
        let s2c = |seq, payload: &[u8]| {
            ipv4(
                6,
                server,
                client,
                &tcp(21, 40000, seq, TCP_ACK | 0x08, payload),
            )
        };
        let c2s = |seq, payload: &[u8]| {
            ipv4(
                6,
                client,
                server,
                &tcp(40000, 21, seq, TCP_ACK | 0x08, payload),
            )
        };
        let syn = |src, dst, sport, dport| ipv4(6, src, dst, &tcp(sport, dport, 1, TCP_SYN, &[]));
        let data = |src, dst, sport, dport| {
            ipv4(
                6,
                src,
                dst,
                &tcp(
                    sport,
                    dport,
                    2,
                    TCP_ACK | 0x08,
                    &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
                ),
            )
        };
        let pasv = b"227 Entering Passive Mode (192,168,1,1,195,80).\r\n";
        let packets = [
            ipv4(6, client, server, &tcp(40000, 21, 0, TCP_SYN, &[])),
            ipv4(
                6,
                server,
                client,
                &tcp(21, 40000, 0, TCP_SYN | TCP_ACK, &[]),
            ),
            s2c(1, b"220 FTP server ready\r\n"),
            c2s(1, b"USER anonymous\r\n"),
            s2c(23, b"331 Password required\r\n"),
            c2s(17, b"PASV\r\n"),
            s2c(46, pasv),
            // To the announced port (50000; the announced address is a private one, NAT).
            syn(client, server, 40001, 50000),
            data(server, client, 50000, 40001),
            // Another port, and the announced port on another host: not announced.
            syn(client, server, 40002, 50001),
            data(server, client, 50001, 40002),
            syn(client, other, 40003, 50000),
            data(other, client, 50000, 40003),
        ];
        assert_eq!(
            names_by_client_port(&packets),
            [
                (40000, "FTP_CONTROL".to_string(), "DPI"),
                (40001, "FTP_DATA".to_string(), "DPI (cache)"),
                (40002, "Unknown".to_string(), "Unknown"),
                (40003, "Unknown".to_string(), "Unknown"),
            ]
        );
    }

    /// Each record's client port, application name and confidence, by client port.
    fn names_by_client_port(packets: &[Vec<u8>]) -> Vec<(u16, String, &'static str)> {
        let mut got: Vec<_> = run(EngineOptions::default(), packets)
            .into_iter()
            .map(|r| (r.src_port, r.application_name, r.application_confidence))
            .collect();
        got.sort();
        got
    }

    /// Runs raw IPv4 packets through an engine and returns the records.
    fn run(opts: EngineOptions, packets: &[Vec<u8>]) -> Vec<FlowRecord> {
        let mut engine = Engine::new(opts);
        let mut out = feed(&mut engine, packets);
        engine.flush(&mut out);
        out
    }

    /// Processes raw IPv4 packets, one millisecond apart; the records of flows that ended.
    fn feed(engine: &mut Engine, packets: &[Vec<u8>]) -> Vec<FlowRecord> {
        let mut out = Vec::new();
        for (i, data) in packets.iter().enumerate() {
            let pkt = RawPacket {
                ts_ns: 1_000_000 * i64::try_from(i).expect("few packets"),
                link_type: LinkType::RAW,
                data,
                wire_len: u32::try_from(data.len()).expect("small"),
            };
            engine.process(&pkt, &mut out);
        }
        out
    }

    /// (application, category, confidence) of the flow to `dst`.
    fn find<'a>(recs: &'a [FlowRecord], dst: &str) -> (&'a str, &'a str, &'static str) {
        let r = recs
            .iter()
            .find(|r| crate::decode::format_ip(r.ip_version, &r.dst_ip) == dst)
            .unwrap_or_else(|| panic!("no flow to {dst}"));
        (
            r.application_name.as_str(),
            r.application_category_name.as_str(),
            r.application_confidence,
        )
    }

    /// Zero bytes of Ethernet padding that a sender's IP length counted in, on a SYN-ACK and
    /// a bare ACK, are not taken as the start of the stream (the real data follows at the
    /// same sequence number, and the default policy keeps the first copy); zeros sent as
    /// data (PSH) are.
    #[test]
    fn zero_padding_counted_as_payload_is_not_stream_data() {
        let (me, server) = ([10, 0, 0, 2], [192, 0, 2, 9]);
        let get = b"GET /x HTTP/1.1\r\nHost: padded.example\r\n\r\n";
        let exchange = |pad_flags: u8| {
            vec![
                ipv4(6, me, server, &tcp(40000, 80, 100, TCP_SYN, &[])),
                ipv4(
                    6,
                    server,
                    me,
                    &tcp(80, 40000, 500, TCP_SYN | TCP_ACK, &[0, 0]),
                ),
                ipv4(6, me, server, &tcp(40000, 80, 101, pad_flags, &[0; 6])),
                ipv4(6, me, server, &tcp(40000, 80, 101, TCP_ACK | 0x08, get)),
            ]
        };
        let host = |recs: &[FlowRecord]| {
            recs.first()
                .and_then(|r| r.requested_server_name.clone())
                .unwrap_or_default()
        };
        let recs = run(EngineOptions::default(), &exchange(TCP_ACK));
        assert_eq!(host(&recs), "padded.example");
        assert_eq!(recs.first().map(|r| r.src2dst_packets), Some(3));
        let recs = run(EngineOptions::default(), &exchange(TCP_ACK | 0x08));
        assert_eq!(host(&recs), "");
    }

    /// Bytes no dissector recognises (nor excludes at once).
    const OPAQUE: [u8; 6] = [0x01, 0x02, 0x9a, 0x4f, 0x10, 0x77];

    /// The resolver's answer naming `cdn` www.netflix.com, to 10.0.0.2.
    fn netflix_answer(resolver: [u8; 4], cdn: [u8; 4]) -> Vec<u8> {
        ipv4(
            17,
            resolver,
            [10, 0, 0, 2],
            &udp(53, 33000, &dns_answer("www.netflix.com", cdn)),
        )
    }

    #[test]
    fn apps_from_dns_cache_and_ip_ranges_at_the_end_of_inspection() {
        let resolver = [10, 0, 0, 53];
        let cdn = [192, 0, 2, 80];
        let telegram = [149, 154, 167, 91];
        let opaque = OPAQUE;
        let mut packets = vec![netflix_answer(resolver, cdn)];
        packets.extend(connection(cdn, 40000, &opaque));
        packets.extend(connection(telegram, 40001, &opaque));
        // A flow naming its own host: the name decides, not the cache nor the range.
        let get = b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";
        let mut named = connection(cdn, 40002, get);
        named.extend(connection(telegram, 40003, get));
        packets.extend(named);

        let recs = run(EngineOptions::default(), &packets);
        // The response alone makes the flow: its client is the side without the service
        // port. DNS flows stay in DNS's category whatever name they asked for.
        assert_eq!(find(&recs, "10.0.0.53"), ("DNS.NetFlix", "Network", "DPI"));
        assert_eq!(
            find(&recs, "192.0.2.80"),
            ("NetFlix", "Video", "DPI (cache)")
        );
        assert_eq!(
            find(&recs, "149.154.167.91"),
            ("Telegram", "Chat", "Match by IP")
        );
        let http: Vec<_> = recs
            .iter()
            .filter(|r| r.application_name.starts_with("HTTP"))
            .map(|r| (r.application_name.as_str(), r.application_confidence))
            .collect();
        assert_eq!(http, [("HTTP", "DPI"), ("HTTP", "DPI")]);

        // Without the cache the first connection has nothing to go by.
        let off = EngineOptions {
            dns_cache_entries: 0,
            ..EngineOptions::default()
        };
        let recs = run(off, &packets);
        assert_eq!(find(&recs, "192.0.2.80"), ("Unknown", "Unknown", "Unknown"));
        assert_eq!(
            find(&recs, "149.154.167.91"),
            ("Telegram", "Chat", "Match by IP")
        );
    }

    /// A capture (raw IP) of a DNS answer naming a CDN, then 24 connections, 12 of them to
    /// the CDN: the resolver is chosen so that its flow and the CDN's fall to different
    /// workers of two. Written to a temporary file named after `tag`.
    fn dns_then_connections_capture(tag: &str) -> std::path::PathBuf {
        let cdn = [192, 0, 2, 80];
        // Whatever the sharding hash, the cache is then shared across workers.
        let me = [10, 0, 0, 2];
        let resolver = (53..=254)
            .map(|i| [10, 0, 0, i])
            .find(|&r| owner(r, me, 2) != owner(me, cdn, 2))
            .expect("some resolver falls to the other worker");
        let opaque = OPAQUE;
        let mut packets = vec![netflix_answer(resolver, cdn)];
        for sport in 40000..40012 {
            packets.extend(connection(cdn, sport, &opaque));
            packets.extend(connection(
                [198, 51, 100, (sport % 200) as u8],
                sport,
                &opaque,
            ));
        }
        write_raw_capture(tag, &packets)
    }

    /// Which of `n` workers owns the flows between two IPv4 hosts.
    fn owner(a: [u8; 4], b: [u8; 4], n: usize) -> usize {
        use crate::decode::tests::v4;
        crate::parallel::worker_of(crate::parallel::pair_hash(&v4(a), &v4(b)), n)
    }

    /// Raw IP packets, one a second, written to a temporary capture named after `tag`.
    fn write_raw_capture(tag: &str, packets: &[Vec<u8>]) -> std::path::PathBuf {
        let frames: Vec<(u32, Vec<u8>)> = (0..).zip(packets.iter().cloned()).collect();
        write_timed_capture(tag, &frames)
    }

    /// Raw IP packets stamped with the given seconds, in this order, written to a temporary
    /// capture named after `tag`.
    fn write_timed_capture(tag: &str, frames: &[(u32, Vec<u8>)]) -> std::path::PathBuf {
        use crate::capture::tests::{pcap_header, pcap_record};
        let mut pcap = pcap_header(0xa1b2_c3d4, false, LinkType::RAW.0);
        for (t, p) in frames {
            let len = u32::try_from(p.len()).expect("small");
            pcap_record(&mut pcap, false, *t, 0, p, len);
        }
        let path = std::env::temp_dir().join(format!("netsonde-{tag}-{}.pcap", std::process::id()));
        std::fs::write(&path, &pcap).expect("temporary capture");
        path
    }

    /// One line per record of a capture analysed by `workers` workers, sorted (records
    /// come in another order with several workers).
    fn sorted_lines(
        path: &std::path::Path,
        workers: usize,
        line: impl Fn(&FlowRecord) -> String,
    ) -> Vec<String> {
        let mut v: Vec<String> = records_of(path, workers).iter().map(line).collect();
        v.sort();
        v
    }

    /// Every record of a capture, analysed by `workers` workers.
    fn records_of(path: &std::path::Path, workers: usize) -> Vec<FlowRecord> {
        let mut a = analysis_of(path, workers);
        let mut recs = Vec::new();
        while a.run(&mut recs, 1 << 20, &mut |_, _| {}) {}
        recs
    }

    fn analysis_of(path: &std::path::Path, workers: usize) -> crate::Analysis {
        let mut a = crate::Analysis::open(&[path.to_path_buf()], EngineOptions::default())
            .expect("capture opens");
        a.set_workers(workers);
        a
    }

    /// The same through a sharded analysis: whichever workers the DNS flow and the later
    /// flows fall to, the conclusions that use the cache (put off by the workers) give the
    /// records of one engine.
    #[test]
    fn dns_cache_across_workers_gives_the_records_of_one_engine() {
        let path = dns_then_connections_capture("dns-workers");
        let classes = |workers: usize| {
            sorted_lines(&path, workers, |r| {
                format!(
                    "{}:{} {} {}",
                    crate::decode::format_ip(r.ip_version, &r.dst_ip),
                    r.src_port,
                    r.application_name,
                    r.application_confidence
                )
            })
        };
        let one = classes(1);
        assert_eq!(
            one.iter()
                .filter(|c| c.ends_with("NetFlix DPI (cache)"))
                .count(),
            12
        );
        for workers in 2..=4 {
            assert_eq!(classes(workers), one, "{workers} workers");
        }
        let _ = std::fs::remove_file(&path);
    }

    /// A worker learns the time from the other workers' frames too: a flow ends idle at the
    /// frame of another worker that shows it idle (not at its own next frame, whose time
    /// may already have been seen), so a later packet with its addresses starts a new flow,
    /// as with one engine.
    #[test]
    fn flows_time_out_on_the_other_workers_frames() {
        let (quiet, busy) = (
            ([10, 0, 0, 2], [192, 0, 2, 7]),
            ([10, 0, 0, 3], [192, 0, 2, 8]),
        );
        let busy = (2..=254)
            .map(|i| ([10, 0, 0, i], busy.1))
            .find(|&(a, b)| owner(a, b, 2) != owner(quiet.0, quiet.1, 2))
            .expect("some pair falls to the other worker");
        let idle_s = EngineOptions::default().idle_timeout_ms / 1000;
        let datagram = |(src, dst): ([u8; 4], [u8; 4])| ipv4(17, src, dst, &udp(5000, 9999, b"x"));
        // The quiet pair at 0 s; the busy one every 50 s past the quiet flow's timeout; the
        // quiet pair again at the busy pair's last second.
        let last = u32::try_from(idle_s + 100).expect("small");
        let mut frames = vec![(0, datagram(quiet))];
        frames.extend((50..=last).step_by(50).map(|t| (t, datagram(busy))));
        frames.push((last, datagram(quiet)));
        let path = write_timed_capture("quiet", &frames);
        let flows = |workers: usize| {
            sorted_lines(&path, workers, |r| {
                format!(
                    "{} {}s-{}s {} packets, {}",
                    crate::decode::format_ip(r.ip_version, &r.src_ip),
                    r.first_seen_ns / 1_000_000_000,
                    r.last_seen_ns / 1_000_000_000,
                    r.src2dst_packets + r.dst2src_packets,
                    r.expiration.name()
                )
            })
        };
        let one = flows(1);
        assert_eq!(
            one.iter().filter(|l| l.starts_with("10.0.0.2 ")).count(),
            2,
            "{one:?}"
        );
        for workers in 2..=3 {
            assert_eq!(flows(workers), one, "{workers} workers");
        }
        let _ = std::fs::remove_file(&path);
    }

    /// Timestamps that go backwards (captures merged from two interfaces): a flow whose
    /// packets are stamped before the time already seen counts its idle time from the
    /// engine's clock at its packets, so whether it times out never depends on the flows
    /// that share its table. One engine and any number of workers give the same records.
    #[test]
    fn flows_stamped_in_the_past_time_out_by_the_clock_in_every_worker() {
        let first = ([10, 0, 0, 2], [192, 0, 2, 7]);
        let late = (2..=254)
            .map(|i| ([10, 0, 0, i], [192, 0, 2, 8]))
            .find(|&(a, b)| owner(a, b, 2) != owner(first.0, first.1, 2))
            .expect("some pair falls to the other worker");
        let idle_s = u32::try_from(EngineOptions::default().idle_timeout_ms / 1000).expect("small");
        let datagram = |(src, dst): ([u8; 4], [u8; 4])| ipv4(17, src, dst, &udp(5000, 9999, b"x"));
        // The first pair at 0 s and 30 s; then the late pair, stamped 0 s (the clock is at
        // 30 s) and again 10 s past its timeout counted from its stamp, but not from the clock.
        let frames = [
            (0, datagram(first)),
            (30, datagram(first)),
            (0, datagram(late)),
            (idle_s + 10, datagram(late)),
        ];
        let path = write_timed_capture("past", &frames);
        let flows = |workers: usize| {
            sorted_lines(&path, workers, |r| {
                format!(
                    "{} {} packets, {}",
                    crate::decode::format_ip(r.ip_version, &r.src_ip),
                    r.src2dst_packets + r.dst2src_packets,
                    r.expiration.name()
                )
            })
        };
        let one = flows(1);
        let late_src = crate::decode::format_ip(4, &crate::decode::tests::v4(late.0));
        assert_eq!(
            one.iter()
                .filter(|l| l.starts_with(&format!("{late_src} ")))
                .collect::<Vec<_>>(),
            [&format!("{late_src} 2 packets, end_of_input")],
            "{one:?}"
        );
        for workers in 2..=3 {
            assert_eq!(flows(workers), one, "{workers} workers");
        }
        let _ = std::fs::remove_file(&path);
    }

    /// The bounds that hold over all flows are split between the workers, like `max_flows`.
    #[test]
    fn a_worker_takes_its_share_of_each_bound() {
        let mut opts = EngineOptions {
            max_flows: 5,
            ..EngineOptions::default()
        };
        opts.stream.max_total_bytes = 1001;
        opts.defrag_options.max_bytes = 3001;
        opts.defrag_options.max_datagrams = 7;
        let mut e = Engine::new(opts);
        e.take_share(2);
        let o = e.options();
        assert_eq!(
            (
                o.max_flows,
                o.stream.max_total_bytes,
                o.defrag_options.max_bytes,
                o.defrag_options.max_datagrams
            ),
            (3, 501, 1501, 4)
        );
    }

    /// Fragments held at once: two workers with a bound of two datagrams evict as many as
    /// one engine does (each holds one), not none (each holding two).
    #[test]
    fn workers_share_the_bound_on_datagrams_under_reassembly() {
        let far = [192, 0, 2, 9];
        let mut by_worker: [Vec<[u8; 4]>; 2] = [Vec::new(), Vec::new()];
        for i in 1..=254u8 {
            let host = [10, 0, 0, i];
            if let Some(list) = by_worker.get_mut(owner(host, far, 2)) {
                if list.len() < 2 {
                    list.push(host);
                }
            }
        }
        // The first fragment of a datagram whose rest never comes, from each of four hosts.
        let packets: Vec<Vec<u8>> = by_worker
            .iter()
            .flatten()
            .map(|&host| {
                let mut v = ipv4(17, host, far, &udp(5000, 9999, &[0u8; 64]));
                v.splice(6..8, 0x2000u16.to_be_bytes());
                v
            })
            .collect();
        assert_eq!(packets.len(), 4);
        let path = write_raw_capture("defrag-share", &packets);
        let evicted = |workers: usize| {
            let mut opts = EngineOptions::default();
            opts.defrag_options.max_datagrams = 2;
            let mut a =
                crate::Analysis::open(std::slice::from_ref(&path), opts).expect("capture opens");
            a.set_workers(workers);
            let mut recs = Vec::new();
            while a.run(&mut recs, 1 << 20, &mut |_, _| {}) {}
            a.stats().datagrams_evicted
        };
        assert_eq!(evicted(1), 2);
        assert_eq!(evicted(2), 2);
        let _ = std::fs::remove_file(&path);
    }

    /// At the end of input, the last worker carries out what the others left in the order
    /// of their turns: here the resolver's answer, left by worker 0 before worker 1 had
    /// published any position, comes before worker 1's connection to the answered address,
    /// which the cache then names.
    #[test]
    fn the_last_worker_carries_out_the_turns_left_in_order() {
        let (resolver, cdn) = ([10, 0, 0, 53], [192, 0, 2, 80]);
        let order = Arc::new(Order::new(2));
        let mut first = Engine::new(EngineOptions::default());
        let mut second = first.sibling();
        first.join_order(Arc::clone(&order), 0);
        second.join_order(Arc::clone(&order), 1);
        let raw = |data: &'static [u8], seq: u64| RawPacket {
            ts_ns: i64::try_from(seq).expect("small") * 1_000_000,
            link_type: LinkType::RAW,
            data,
            wire_len: u32::try_from(data.len()).expect("small"),
        };
        let (mut out0, mut out1) = (Vec::new(), Vec::new());
        let answer: &'static [u8] = Vec::leak(netflix_answer(resolver, cdn));
        first.process_at(&raw(answer, 0), 0, &mut out0);
        for (seq, p) in (1..).zip(connection(cdn, 40000, &OPAQUE)) {
            second.process_at(&raw(Vec::leak(p), seq), seq, &mut out1);
        }
        // Worker 0 ends first: its answer still waits for worker 1, and is left.
        while first.flush_some(&mut out0, 64) {}
        let left = first.turns_left();
        assert_eq!(left.deferred.len(), 1);
        while second.flush_some(&mut out1, 64) {}
        let mut concluded = Vec::new();
        second.finish_turns(vec![left], &mut |flow, why| concluded.push((flow, why)));
        out1.extend(
            concluded
                .into_iter()
                .map(|(f, why)| second.record_of(f, why)),
        );
        let apps: Vec<_> = out0
            .iter()
            .chain(&out1)
            .map(|r| (r.application_name.as_str(), r.application_confidence))
            .collect();
        assert_eq!(apps.len(), 2, "{apps:?}");
        assert!(apps.contains(&("DNS.NetFlix", "DPI")), "{apps:?}");
        assert!(apps.contains(&("NetFlix", "DPI (cache)")), "{apps:?}");
    }

    /// Records asked for as text (written by the workers themselves when there are several)
    /// are the records' own lines, with totals by application that add up; a caller that
    /// switches to records half-way loses nothing.
    #[test]
    fn records_written_by_the_workers_are_the_records_lines() {
        use crate::record::{TextBatch, TextFormat};
        let path = dns_then_connections_capture("text-workers");
        for workers in 1..=3 {
            let mut records = Vec::new();
            let mut a = analysis_of(&path, workers);
            while a.run(&mut records, 1, &mut |_, _| {}) {}
            let mut want: Vec<String> = records
                .iter()
                .map(|r| {
                    let mut line = String::new();
                    r.write_json(&mut line);
                    line
                })
                .collect();
            want.sort();

            let mut a = analysis_of(&path, workers);
            let mut text = TextBatch::default();
            // A few at a time, taking the text away between calls as a writer does.
            let mut got = Vec::new();
            while a.run_text(TextFormat::Jsonl, &mut text, 3, &mut |_, _| {}) {
                got.extend(text.text.lines().map(|l| format!("{l}\n")));
                text.text.clear();
            }
            got.extend(text.text.lines().map(|l| format!("{l}\n")));
            got.sort();
            assert_eq!(got, want, "{workers} workers");
            assert_eq!(text.records, records.len() as u64);
            let netflix = text.by_app.get("NetFlix").copied().unwrap_or_default();
            assert_eq!(netflix.flows, 12, "{workers} workers");
            let flows: u64 = text.by_app.values().map(|t| t.flows).sum();
            let packets: u64 = text.by_app.values().map(|t| t.packets).sum();
            assert_eq!(flows, records.len() as u64);
            let all: u64 = records
                .iter()
                .map(|r| r.src2dst_packets + r.dst2src_packets)
                .sum();
            assert_eq!(packets, all);

            // Text first, then records, then text again: every record comes out once.
            let mut a = analysis_of(&path, workers);
            let mut text = TextBatch::default();
            let mut more = a.run_text(TextFormat::Csv, &mut text, 1, &mut |_, _| {});
            let mut recs = Vec::new();
            if more {
                more = a.run(&mut recs, 1, &mut |_, _| {});
            }
            while more {
                more = a.run_text(TextFormat::Csv, &mut text, 1, &mut |_, _| {});
            }
            assert_eq!(
                text.text.lines().count() + recs.len(),
                records.len(),
                "{workers} workers"
            );

            // Records first, then text: the text is in the format asked for.
            let mut a = analysis_of(&path, workers);
            let mut recs = Vec::new();
            let mut more = a.run(&mut recs, 1, &mut |_, _| {});
            let mut text = TextBatch::default();
            while more {
                more = a.run_text(TextFormat::Csv, &mut text, 1, &mut |_, _| {});
            }
            assert_eq!(text.text.lines().count() + recs.len(), records.len());
            assert!(
                text.text.lines().all(|l| !l.starts_with('{')),
                "{}",
                text.text
            );
        }
        let _ = std::fs::remove_file(&path);
    }

    /// Flows inside a tunnel whose outer datagrams are sometimes fragmented (GTP over IP
    /// fragments): every packet of an inner flow meets in one worker, whole or in fragments,
    /// so the records are those of one engine.
    #[test]
    fn fragmented_tunnel_packets_meet_their_flow_in_one_worker() {
        let (enb, gw) = ([172, 16, 0, 1], [172, 16, 0, 2]);
        let gtp = |inner: &[u8]| {
            let mut v = vec![0x30, 0xFF];
            v.extend(u16::try_from(inner.len()).expect("small").to_be_bytes());
            v.extend([0, 0, 0, 1]);
            v.extend_from_slice(inner);
            udp(2152, 2152, &v)
        };
        // The outer datagram in two fragments: the first holds the headers up to the inner
        // IP header and a little more, the second the rest.
        let fragments = |datagram: Vec<u8>, id: u16| {
            let body = datagram.get(20..).expect("an IPv4 datagram").to_vec();
            let (first, rest) = body.split_at(48);
            let piece = |data: &[u8], offset: usize, more: bool| {
                let mut v = ipv4(17, enb, gw, data);
                v.splice(4..6, id.to_be_bytes());
                let field =
                    u16::try_from(offset / 8).expect("small") | if more { 0x2000 } else { 0 };
                v.splice(6..8, field.to_be_bytes());
                v
            };
            [piece(first, 0, true), piece(rest, 48, false)]
        };
        let get = b"GET /index.html HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: t\r\n\r\n";
        let mut packets = Vec::new();
        for (i, host) in (1..=8u8).enumerate() {
            let (me, web) = ([10, 45, 0, host], [198, 51, 100, host]);
            let sport = 40000 + u16::from(host);
            let id = u16::try_from(i).expect("few");
            packets.push(ipv4(
                17,
                enb,
                gw,
                &gtp(&ipv4(6, me, web, &tcp(sport, 80, 100, TCP_SYN, &[]))),
            ));
            packets.push(ipv4(
                17,
                gw,
                enb,
                &gtp(&ipv4(
                    6,
                    web,
                    me,
                    &tcp(80, sport, 500, TCP_SYN | TCP_ACK, &[]),
                )),
            ));
            let request = ipv4(
                17,
                enb,
                gw,
                &gtp(&ipv4(6, me, web, &tcp(sport, 80, 101, TCP_ACK | 0x08, get))),
            );
            packets.extend(fragments(request, id));
        }
        let path = write_raw_capture("gtp-fragments", &packets);
        let flows = |workers: usize| {
            sorted_lines(&path, workers, |r| {
                format!(
                    "{} {} {} {}",
                    crate::decode::format_ip(r.ip_version, &r.src_ip),
                    r.src2dst_packets + r.dst2src_packets,
                    r.application_name,
                    r.metadata.len()
                )
            })
        };
        let one = flows(1);
        assert_eq!(one.len(), 8, "{one:?}");
        // Four frames each: the two fragments count as frames of the flow.
        assert!(one.iter().all(|f| f.contains(" 4 HTTP")), "{one:?}");
        // Some inner pairs are owned by another worker than the outer pair.
        let inner = |h: u8| owner([10, 45, 0, h], [198, 51, 100, h], 2);
        assert!((1..=8).any(|h| inner(h) != owner(enb, gw, 2)));
        for workers in 2..=4 {
            assert_eq!(flows(workers), one, "{workers} workers");
        }
        let _ = std::fs::remove_file(&path);
    }

    /// Per-flow state of classified flows whose inspection is over, measured on the flows
    /// themselves (table slot, key-map entry, heap): the flow's own state stays within 256
    /// bytes; the metadata kept for its record comes on top (a full HTTP transaction with
    /// eight attributes is the largest usual case).
    #[test]
    fn a_classified_flow_no_longer_inspected_holds_its_state_and_metadata_only() {
        let me = [10, 0, 0, 2];
        let web = [192, 0, 2, 80];
        let get = b"GET /index.html?q=netsonde HTTP/1.1\r\nHost: www.example.org\r\n\
            User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\
            Accept: */*\r\n\r\n";
        let reply = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n\
            Content-Length: 5\r\n\r\nhello";
        let mut packets = connection(web, 40000, get);
        packets.push(ipv4(
            6,
            web,
            me,
            &tcp(443, 40000, 501, TCP_ACK | 0x08, reply),
        ));
        packets.push(ipv4(
            17,
            [10, 0, 0, 53],
            me,
            &udp(53, 33000, &dns_answer("www.netflix.com", web)),
        ));
        let mut engine = Engine::new(EngineOptions::default());
        feed(&mut engine, &packets);
        let flows = engine.table.drain();
        assert_eq!(flows.len(), 2);
        for f in &flows {
            assert!(!f.inspecting && f.dpi.is_none(), "flow still inspected");
            let values = f.findings.as_ref().map_or(0, |x| x.meta.heap_bytes());
            assert!(values > 0, "the flow kept its metadata");
            let bytes = f.state_bytes();
            eprintln!(
                "{}: {bytes} bytes, of which {values} hold its metadata",
                crate::protocols::name(f.class.master)
            );
            // The flow's own state, whatever the metadata it carries, and the whole within
            // 512 bytes for these typical flows (metadata packed once inspection is over).
            assert!(bytes - values <= 264, "{bytes} - {values} bytes");
            assert!(bytes <= 512, "{bytes} bytes");
        }
    }
}
