//! TCP stream reassembly for dissectors: the in-order bytes of one direction, built the way
//! the receiving host would build them.
//!
//! - Segments are placed by sequence number in a window that starts at the first byte not
//!   yet consumed by the dissector; out-of-order segments wait in it for the hole to fill.
//! - Bytes sent twice (retransmissions, overlaps) are resolved by a [`TcpPolicy`]: which of
//!   the old and the new copy the target operating system keeps. An overlap whose copies
//!   differ is counted and raises [`RISK_TCP_OVERLAP_CONFLICT`] on the flow. Bytes already
//!   consumed by a dissector are final (their overlaps are counted, not compared).
//! - A hole that does not fill (the capture lost a segment) is skipped when the window is
//!   full, the sender sends FIN or RST, or the peer answers meanwhile: the bytes before it
//!   are dropped, the data after it is shown, and the stream is marked as resynchronising so
//!   that dissectors get each new segment from its start (see [`StreamBuf::take_resync`]).
//! - SYN sets the first sequence number (data on a SYN is kept); data beyond a FIN, and data
//!   after an in-window RST, is ignored and counted.
//! - Every buffer has a bound: bytes per direction ([`StreamOptions::max_bytes`]) and bytes
//!   over all flows of an engine ([`StreamOptions::max_total_bytes`]); a bound hit is
//!   counted and the data beyond it dropped.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub use crate::risks::TCP_OVERLAP_CONFLICT as RISK_TCP_OVERLAP_CONFLICT;

/// Default bytes held per direction (unconsumed plus waiting) before data is dropped.
pub const MAX_STREAM_BYTES: usize = 64 * 1024;
/// Default bytes held by all streams of one engine.
pub const MAX_TOTAL_STREAM_BYTES: usize = 256 << 20;
/// Segment records kept per direction for overlap decisions; beyond it the records of the
/// in-order part are merged into one.
const MAX_SEGMENT_RECORDS: usize = 64;
/// Out-of-order pieces (separate runs after a hole) before the hole is skipped.
const MAX_PENDING_RUNS: usize = 1024;
/// Segments in a row that fall beyond the window before the stream jumps to them.
const FAR_SEGMENTS_BEFORE_JUMP: u8 = 8;

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;

/// How overlapping TCP bytes are resolved: the behaviour of the receiving host's stack, as
/// Suricata names them (`host-os-policy`). "New" is the segment arriving now, "old" one
/// received before whose bytes it covers.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum TcpPolicy {
    /// The old copy always stays.
    First,
    /// The new copy always wins.
    Last,
    /// BSD stacks: the new copy wins only where it starts before the old one. The default:
    /// Suricata's and Snort's default too, and the behaviour of the largest family of
    /// stacks (BSD, macOS, Windows), so it is the best guess for an unknown receiver.
    #[default]
    Bsd,
    /// Linux: the new copy wins where it starts before the old one, or at the same byte and
    /// reaches further.
    Linux,
    /// Linux 2.2 and older: as Linux, and an exact duplicate range replaces the old copy.
    OldLinux,
    /// Windows (XP and before): as BSD.
    Windows,
    /// Solaris: the new copy wins only where it starts before the old one and reaches at
    /// least as far (it covers it).
    Solaris,
    /// HP-UX 10: as BSD.
    Hpux10,
    /// HP-UX 11: as Solaris.
    Hpux11,
    /// IRIX: as BSD.
    Irix,
    /// macOS: as BSD.
    Macos,
    /// Windows Vista and later: the old copy always stays.
    Vista,
    /// Windows Server 2003: as BSD.
    Windows2k3,
}

impl TcpPolicy {
    /// Every policy with its configuration name.
    pub const ALL: &'static [(&'static str, TcpPolicy)] = &[
        ("first", TcpPolicy::First),
        ("last", TcpPolicy::Last),
        ("bsd", TcpPolicy::Bsd),
        ("linux", TcpPolicy::Linux),
        ("old-linux", TcpPolicy::OldLinux),
        ("windows", TcpPolicy::Windows),
        ("solaris", TcpPolicy::Solaris),
        ("hpux10", TcpPolicy::Hpux10),
        ("hpux11", TcpPolicy::Hpux11),
        ("irix", TcpPolicy::Irix),
        ("macos", TcpPolicy::Macos),
        ("vista", TcpPolicy::Vista),
        ("windows2k3", TcpPolicy::Windows2k3),
    ];

    /// The policy of a configuration name (`"bsd"`, `"old-linux"`, ...).
    pub fn from_name(name: &str) -> Option<TcpPolicy> {
        crate::names::by_name(Self::ALL, name)
    }

    pub fn name(self) -> &'static str {
        crate::names::name_of(Self::ALL, &self).unwrap_or("bsd")
    }

    /// Whether the new copy `[new_start, new_end)` replaces the bytes it shares with the old
    /// `[old_start, old_end)` (offsets in one sequence space, wrap already resolved).
    pub fn new_wins(self, new: (i64, i64), old: (i64, i64)) -> bool {
        let starts_before = new.0 < old.0;
        let same_start = new.0 == old.0;
        match self {
            TcpPolicy::First | TcpPolicy::Vista => false,
            TcpPolicy::Last => true,
            TcpPolicy::Bsd
            | TcpPolicy::Windows
            | TcpPolicy::Hpux10
            | TcpPolicy::Irix
            | TcpPolicy::Macos
            | TcpPolicy::Windows2k3 => starts_before,
            TcpPolicy::Linux => starts_before || (same_start && new.1 > old.1),
            TcpPolicy::OldLinux => starts_before || (same_start && new.1 >= old.1),
            TcpPolicy::Solaris | TcpPolicy::Hpux11 => starts_before && new.1 >= old.1,
        }
    }
}

/// Reassembly settings of an engine.
#[derive(Clone, Copy, Debug)]
pub struct StreamOptions {
    pub policy: TcpPolicy,
    /// Bytes held per direction of a flow.
    pub max_bytes: usize,
    /// Bytes held over all flows.
    pub max_total_bytes: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            policy: TcpPolicy::default(),
            max_bytes: MAX_STREAM_BYTES,
            max_total_bytes: MAX_TOTAL_STREAM_BYTES,
        }
    }
}

/// Counters of the reassembly of all flows of an engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Segments that overlapped bytes received before.
    pub overlaps: u64,
    /// Overlaps whose two copies differed.
    pub overlap_conflicts: u64,
    /// Holes skipped (lost segments) and the bytes they held.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Segment bytes dropped because a direction's bound was reached.
    pub flow_bound_hits: u64,
    /// Segment bytes dropped because the engine's bound was reached.
    pub total_bound_hits: u64,
    /// Bytes dropped (bounds, beyond FIN, after RST).
    pub bytes_dropped: u64,
    /// Bytes held now by all streams.
    pub bytes_held: u64,
}

impl StreamStats {
    /// Adds another engine's counters (the workers of one analysis).
    pub fn merge(&mut self, o: &StreamStats) {
        self.overlaps += o.overlaps;
        self.overlap_conflicts += o.overlap_conflicts;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.flow_bound_hits += o.flow_bound_hits;
        self.total_bound_hits += o.total_bound_hits;
        self.bytes_dropped += o.bytes_dropped;
        self.bytes_held += o.bytes_held;
    }
}

/// What the streams of one engine share: the total bound and the counters.
#[derive(Debug, Default)]
pub struct StreamShared {
    /// The bound, changed only when the engine becomes one worker of several.
    max_total: AtomicUsize,
    used: AtomicUsize,
    overlaps: AtomicU64,
    overlap_conflicts: AtomicU64,
    gaps: AtomicU64,
    gap_bytes: AtomicU64,
    flow_bound_hits: AtomicU64,
    total_bound_hits: AtomicU64,
    bytes_dropped: AtomicU64,
}

impl StreamShared {
    pub fn new(max_total_bytes: usize) -> Arc<StreamShared> {
        Arc::new(StreamShared {
            max_total: AtomicUsize::new(max_total_bytes),
            ..StreamShared::default()
        })
    }

    /// Changes the bound on bytes held over all flows (for the bytes reserved from now on).
    pub fn set_max_total(&self, max_total_bytes: usize) {
        self.max_total.store(max_total_bytes, Ordering::Relaxed);
    }

    pub fn stats(&self) -> StreamStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StreamStats {
            overlaps: get(&self.overlaps),
            overlap_conflicts: get(&self.overlap_conflicts),
            gaps: get(&self.gaps),
            gap_bytes: get(&self.gap_bytes),
            flow_bound_hits: get(&self.flow_bound_hits),
            total_bound_hits: get(&self.total_bound_hits),
            bytes_dropped: get(&self.bytes_dropped),
            bytes_held: self.used.load(Ordering::Relaxed) as u64,
        }
    }

    /// Reserves `n` bytes; false when the total bound would be passed.
    fn reserve(&self, n: usize) -> bool {
        let max_total = self.max_total.load(Ordering::Relaxed);
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&v| v <= max_total) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(v) => cur = v,
            }
        }
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Per-flow stream settings, handed to each [`StreamBuf`].
#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub policy: TcpPolicy,
    pub max_bytes: usize,
    pub shared: Option<Arc<StreamShared>>,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            policy: TcpPolicy::default(),
            max_bytes: MAX_STREAM_BYTES,
            shared: None,
        }
    }
}

impl StreamConfig {
    pub fn new(opts: &StreamOptions, shared: Arc<StreamShared>) -> StreamConfig {
        StreamConfig {
            policy: opts.policy,
            max_bytes: opts.max_bytes,
            shared: Some(shared),
        }
    }
}

/// One direction of a TCP connection.
#[derive(Default)]
pub struct StreamBuf {
    cfg: StreamConfig,
    /// Sequence number of `win[0]`; unknown until the first segment.
    base: Option<u32>,
    /// Bytes from `base` on; holes hold zeros.
    win: Vec<u8>,
    /// Received ranges of `win`, sorted and merged.
    covered: Vec<(usize, usize)>,
    /// Segments as received (relative to `base`; negative once partly consumed), for
    /// overlap decisions.
    segs: Vec<(i64, i64)>,
    /// Sequence number just past the FIN, once seen.
    fin: Option<u32>,
    /// An accepted RST closed this direction.
    closed: bool,
    far: u8,
    /// An overlap with differing copies happened since the last [`StreamBuf::take_conflict`].
    conflict: bool,
    /// In-order bytes already shown to dissectors were replaced by another copy since the
    /// last [`StreamBuf::take_rewrite`].
    rewrite: bool,
    /// A hole was skipped: dissectors should resynchronise on segment starts.
    resync: bool,
    /// Bytes became available outside [`StreamBuf::add`] (a hole skipped when the peer
    /// answered) and no dissector saw them yet.
    unseen: bool,
    /// Offset in the available bytes where the last segment added starts, when it extended
    /// them.
    last_start: Option<usize>,
    /// Bytes that could not be kept (bounds, holes, FIN/RST).
    pub dropped: u64,
}

/// `a - b` in sequence space (wrapping), as a signed distance.
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

impl Drop for StreamBuf {
    fn drop(&mut self) {
        if let Some(s) = &self.cfg.shared {
            s.release(self.win.len());
        }
    }
}

impl StreamBuf {
    pub fn new(cfg: StreamConfig) -> StreamBuf {
        let mut s = StreamBuf::default();
        s.cfg = cfg;
        s
    }

    fn count(&self, f: impl Fn(&StreamShared)) {
        if let Some(s) = &self.cfg.shared {
            f(s);
        }
    }

    fn drop_bytes(&mut self, n: usize) {
        self.dropped += n as u64;
        self.count(|s| {
            s.bytes_dropped.fetch_add(n as u64, Ordering::Relaxed);
        });
    }

    /// Adds a segment with sequence number `seq` and TCP `flags`.
    pub fn add(&mut self, seq: u32, flags: u8, payload: &[u8]) {
        self.last_start = None;
        let data_seq = if flags & SYN != 0 {
            seq.wrapping_add(1)
        } else {
            seq
        };
        let base = *self.base.get_or_insert(data_seq);
        if self.closed {
            self.drop_bytes(payload.len());
            return;
        }
        let mut start = seq_diff(data_seq, base);
        let mut end = start + payload.len() as i64;
        if flags & RST != 0 {
            // Accepted only within what this side could have sent next (a blind RST with a
            // far sequence number is an evasion attempt and is ignored).
            let next = self.covered.last().map_or(0, |r| r.1 as i64);
            if (0..=next + 65_535).contains(&start) || self.win.is_empty() {
                self.skip_holes();
                self.closed = true;
            }
            return;
        }
        if let Some(fin) = self.fin {
            let limit = seq_diff(fin, base);
            if end > limit {
                self.drop_bytes(to_usize(end - limit.max(start)));
                end = limit;
            }
        }
        if flags & FIN != 0 && self.fin.is_none() {
            self.fin = Some(data_seq.wrapping_add(payload.len() as u32));
        }
        if start < end {
            if start < 0 {
                // Bytes already consumed are final; count the overlap.
                self.count(|s| {
                    s.overlaps.fetch_add(1, Ordering::Relaxed);
                });
            }
            let max = self.cfg.max_bytes as i64;
            if start >= max {
                self.far = self.far.saturating_add(1);
                if self.far >= FAR_SEGMENTS_BEFORE_JUMP {
                    // The stream went on far beyond what we hold: follow it.
                    let held = self.win.len();
                    self.gap(held);
                    self.drop_bytes(held);
                    self.consume_raw(held);
                    self.segs.clear();
                    self.covered.clear();
                    self.base = Some(data_seq);
                    start = 0;
                    end = payload.len() as i64;
                } else {
                    self.count(|s| {
                        s.flow_bound_hits.fetch_add(1, Ordering::Relaxed);
                    });
                    self.drop_bytes(payload.len());
                    return;
                }
            }
            self.far = 0;
            if end > max {
                self.count(|s| {
                    s.flow_bound_hits.fetch_add(1, Ordering::Relaxed);
                });
                self.drop_bytes(to_usize(end - max));
                end = max;
            }
            let skip = to_usize(-start.min(0));
            let new = (start, start + payload.len() as i64);
            let (s, e) = (to_usize(start.max(0)), to_usize(end));
            if let Some(bytes) = payload.get(skip..skip + (e - s)) {
                let before = self.available_len();
                self.place(new, s, bytes);
                if s <= before && self.available_len() > before {
                    self.last_start = Some(s);
                }
            }
        }
        let runs = self.covered.len();
        let full = self.win.len() >= self.cfg.max_bytes;
        let has_hole = self.covered.first().is_some_and(|r| r.0 > 0) || runs > 1;
        if has_hole && (runs > MAX_PENDING_RUNS || full || self.fin.is_some()) {
            self.skip_holes();
        }
    }

    /// The peer sent data: a hole still open on this side is taken as lost (the peer would
    /// not answer a request it did not receive).
    pub fn peer_moved_on(&mut self) {
        if self.covered.len() > 1 || self.covered.first().is_some_and(|r| r.0 > 0) {
            self.skip_holes();
            self.unseen = !self.available().is_empty();
        }
    }

    /// Whether bytes became available since the last call without a segment of this
    /// direction bringing them (see [`StreamBuf::peer_moved_on`]).
    pub fn take_unseen(&mut self) -> bool {
        std::mem::take(&mut self.unseen)
    }

    /// Writes `bytes` (the new segment `new`, clipped to `[s, s + bytes.len())`).
    fn place(&mut self, new: (i64, i64), s: usize, bytes: &[u8]) {
        let e = s + bytes.len();
        if self.win.len() < e {
            let grow = e - self.win.len();
            if let Some(shared) = &self.cfg.shared {
                if !shared.reserve(grow) {
                    shared.total_bound_hits.fetch_add(1, Ordering::Relaxed);
                    self.drop_bytes(bytes.len());
                    return;
                }
            }
            self.win.resize(e, 0);
        }
        // Which old copies stay: those the policy prefers over the new one.
        let mut keep: Vec<(usize, usize)> = Vec::new();
        let mut overlapped = false;
        for &(a, b) in &self.segs {
            let (ia, ib) = (a.max(s as i64), b.min(e as i64));
            if ia >= ib {
                continue;
            }
            overlapped = true;
            if !self.cfg.policy.new_wins(new, (a, b)) {
                keep.push((to_usize(ia), to_usize(ib)));
            }
        }
        if overlapped {
            let conflict = self.covered.iter().any(|&(a, b)| {
                let (ia, ib) = (a.max(s), b.min(e));
                ia < ib && self.win.get(ia..ib) != bytes.get(ia - s..ib - s)
            });
            self.count(|sh| {
                sh.overlaps.fetch_add(1, Ordering::Relaxed);
                if conflict {
                    sh.overlap_conflicts.fetch_add(1, Ordering::Relaxed);
                }
            });
            self.conflict |= conflict;
        }
        keep.sort_unstable();
        let shown = self.available_len();
        let mut cursor = s;
        for (a, b) in keep.into_iter().chain(std::iter::once((e, e))) {
            if a > cursor {
                if let (Some(d), Some(src)) =
                    (self.win.get_mut(cursor..a), bytes.get(cursor - s..a - s))
                {
                    self.rewrite |= cursor < shown && d != src;
                    d.copy_from_slice(src);
                }
            }
            cursor = cursor.max(b);
        }
        self.segs.push((new.0, new.1.min(e as i64)));
        if self.segs.len() > MAX_SEGMENT_RECORDS {
            self.merge_records();
        }
        self.covered.push((s, e));
        self.covered.sort_unstable();
        // Merged in place (no allocation per segment): a range that starts within the one
        // before it joins it.
        self.covered.dedup_by(|next, last| {
            let joins = next.0 <= last.1;
            if joins {
                last.1 = last.1.max(next.1);
            }
            joins
        });
    }

    /// Merges the records of the in-order part into one (bounded bookkeeping for streams of
    /// tiny segments).
    fn merge_records(&mut self) {
        let avail = self.available_len() as i64;
        let (mut lo, mut hi, mut any) = (i64::MAX, i64::MIN, false);
        self.segs.retain(|&(a, b)| {
            if b <= avail {
                lo = lo.min(a);
                hi = hi.max(b);
                any = true;
                false
            } else {
                true
            }
        });
        if any {
            self.segs.insert(0, (lo, hi));
        }
        if self.segs.len() > MAX_SEGMENT_RECORDS {
            // Still too many (out-of-order pieces): keep the latest.
            let extra = self.segs.len() - MAX_SEGMENT_RECORDS;
            self.segs.drain(..extra);
        }
    }

    fn gap(&mut self, bytes: usize) {
        self.resync = true;
        self.count(|s| {
            s.gaps.fetch_add(1, Ordering::Relaxed);
            s.gap_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        });
    }

    /// Skips every hole: the bytes before the last hole are dropped (what was in order
    /// before it was shown already), what follows becomes available.
    fn skip_holes(&mut self) {
        while let Some(&(a, _)) = self
            .covered
            .get(1)
            .or_else(|| self.covered.first().filter(|r| r.0 > 0))
        {
            let hole = a - self.covered.first().filter(|r| r.0 == 0).map_or(0, |r| r.1);
            self.gap(hole);
            self.drop_bytes(a);
            self.consume_raw(a);
        }
    }

    /// The in-order bytes not yet consumed.
    pub fn available(&self) -> &[u8] {
        self.win.get(..self.available_len()).unwrap_or_default()
    }

    fn available_len(&self) -> usize {
        self.covered.first().filter(|r| r.0 == 0).map_or(0, |r| r.1)
    }

    /// Forgets the first `n` available bytes.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.available_len());
        if n > 0 {
            self.resync = false;
        }
        self.consume_raw(n);
    }

    fn consume_raw(&mut self, n: usize) {
        let n = n.min(self.win.len());
        if n == 0 {
            return;
        }
        self.win.drain(..n);
        if let Some(s) = &self.cfg.shared {
            s.release(n);
        }
        if let Some(b) = self.base.as_mut() {
            *b = b.wrapping_add(n as u32);
        }
        self.covered.retain_mut(|r| {
            r.0 = r.0.saturating_sub(n);
            r.1 = r.1.saturating_sub(n);
            r.1 > r.0
        });
        let d = n as i64;
        self.segs.retain_mut(|r| {
            r.0 -= d;
            r.1 -= d;
            r.1 > 0
        });
        self.last_start = self.last_start.and_then(|x| x.checked_sub(n));
    }

    /// Whether bytes already shown (in order, not consumed) were replaced by a later copy
    /// since the last call: what dissectors concluded from them may be wrong.
    pub fn take_rewrite(&mut self) -> bool {
        std::mem::take(&mut self.rewrite)
    }

    /// Whether two copies of the same bytes differed since the last call.
    pub fn take_conflict(&mut self) -> bool {
        std::mem::take(&mut self.conflict)
    }

    /// After a skipped hole, data may start in the middle of a message. While no dissector
    /// has parsed anything since, each new segment is shown from its own start (a message
    /// usually starts a segment): returns how many available bytes precede the last
    /// segment added, to be dropped, or 0.
    pub fn take_resync(&mut self) -> usize {
        if !self.resync {
            return 0;
        }
        self.last_start.take().unwrap_or(0)
    }

    /// Whether the stream is resynchronising after a hole.
    pub fn resyncing(&self) -> bool {
        self.resync
    }

    /// Drops the first `n` available bytes while resynchronising (counted as dropped).
    pub fn skip(&mut self, n: usize) {
        let n = n.min(self.available_len());
        self.drop_bytes(n);
        self.consume_raw(n);
    }

    /// Ends resynchronisation (a dissector recognised the data).
    pub fn synced(&mut self) {
        self.resync = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(policy: TcpPolicy) -> StreamBuf {
        StreamBuf::new(StreamConfig {
            policy,
            max_bytes: MAX_STREAM_BYTES,
            shared: Some(StreamShared::new(1 << 20)),
        })
    }

    #[test]
    fn reorders_and_drops_retransmissions() {
        let mut s = StreamBuf::default();
        s.add(100, SYN, b"");
        s.add(106, 0, b"world");
        s.add(101, 0, b"hello");
        assert_eq!(s.available(), b"helloworld");
        s.add(101, 0, b"hello"); // retransmission
        s.add(109, 0, b"ld!!"); // overlaps the tail, adds "!!"
        assert_eq!(s.available(), b"helloworld!!");
        assert!(!s.take_conflict());
        s.consume(5);
        assert_eq!(s.available(), b"world!!");
    }

    #[test]
    fn wraps_around_sequence_space() {
        let mut s = StreamBuf::default();
        s.add(u32::MAX - 1, 0, b"ab");
        s.add(0, 0, b"cd");
        assert_eq!(s.available(), b"abcd");
    }

    /// The stream after `old` then `new` (seq, data) under `policy`, from seq 10.
    fn overlap(policy: TcpPolicy, old: (u32, &[u8]), new: (u32, &[u8])) -> Vec<u8> {
        let mut s = buf(policy);
        s.add(9, SYN, b"");
        s.add(10, 0, b"..");
        s.add(old.0, 0, old.1);
        s.add(new.0, 0, new.1);
        assert!(s.take_conflict());
        let end = (old.0 as usize + old.1.len()).max(new.0 as usize + new.1.len());
        s.add(
            end as u32,
            0,
            b"..........".get(..20 - end).unwrap_or_default(),
        );
        s.available().to_vec()
    }

    #[test]
    fn policies_resolve_overlaps_as_their_targets() {
        use TcpPolicy::*;
        // Same start, same length.
        let exact = |p| overlap(p, (12, b"GOOD"), (12, b"EVIL"));
        let mut s = buf(Last);
        s.add(0, 0, b"abc");
        s.add(1, 0, b"X");
        assert!(s.take_rewrite() && !s.take_rewrite());
        assert_eq!(s.available(), b"aXc");
        assert_eq!(exact(Bsd), b"..GOOD....");
        assert_eq!(exact(First), b"..GOOD....");
        assert_eq!(exact(Linux), b"..GOOD....");
        assert_eq!(exact(Solaris), b"..GOOD....");
        assert_eq!(exact(Last), b"..EVIL....");
        assert_eq!(exact(OldLinux), b"..EVIL....");
        // The new segment starts before the old one and covers it.
        let covers = |p| overlap(p, (13, b"ab"), (12, b"WXYZ"));
        assert_eq!(covers(Bsd), b"..WXYZ....");
        assert_eq!(covers(Solaris), b"..WXYZ....");
        assert_eq!(covers(First), b"..WabZ....");
        assert_eq!(covers(Vista), covers(First));
        // The new segment starts before and ends inside the old one.
        let left = |p| overlap(p, (13, b"abc"), (12, b"XYZ"));
        assert_eq!(left(Bsd), b"..XYZc....");
        assert_eq!(left(Solaris), b"..Xabc....");
        assert_eq!(left(Last), b"..XYZc....");
        // The new segment starts inside the old one: the old copy stays but under "last".
        let right = |p| overlap(p, (12, b"abc"), (13, b"XYZ"));
        assert_eq!(right(Bsd), b"..abcZ....");
        assert_eq!(right(Linux), b"..abcZ....");
        assert_eq!(right(Last), b"..aXYZ....");
        // Same start, the new one longer: Linux takes it, BSD keeps the old bytes.
        let longer = |p| overlap(p, (12, b"ab"), (12, b"XYZ"));
        assert_eq!(longer(Linux), b"..XYZ.....");
        assert_eq!(longer(Bsd), b"..abZ.....");
        for (name, p) in TcpPolicy::ALL {
            assert_eq!(TcpPolicy::from_name(name), Some(*p));
            assert_eq!(p.name(), *name);
        }
        assert_eq!(TcpPolicy::from_name("OLD_LINUX"), Some(OldLinux));
        assert_eq!(TcpPolicy::from_name("beos"), None);
    }

    #[test]
    fn same_data_is_no_conflict_and_counts() {
        let shared = StreamShared::new(1 << 20);
        let mut s = StreamBuf::new(StreamConfig {
            policy: TcpPolicy::Bsd,
            max_bytes: 1000,
            shared: Some(shared.clone()),
        });
        s.add(0, SYN, b"");
        s.add(1, 0, b"abcdef");
        s.add(3, 0, b"cd");
        assert!(!s.take_conflict());
        s.add(3, 0, b"XY");
        assert!(s.take_conflict());
        assert_eq!(s.available(), b"abcdef");
        let st = shared.stats();
        assert_eq!((st.overlaps, st.overlap_conflicts), (2, 1));
        assert_eq!(st.bytes_held, 6);
        drop(s);
        assert_eq!(shared.stats().bytes_held, 0);
    }

    #[test]
    fn tiny_segments_in_any_order_rebuild_the_stream() {
        let text = b"GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n";
        let mut s = buf(TcpPolicy::Bsd);
        s.add(999, SYN, b"");
        // One byte per segment, odd offsets first, then the even ones backwards.
        let order: Vec<usize> = (0..text.len())
            .filter(|i| i % 2 == 1)
            .chain((0..text.len()).filter(|i| i % 2 == 0).rev())
            .collect();
        for i in order {
            s.add(1000 + i as u32, 0, text.get(i..=i).unwrap_or_default());
        }
        assert_eq!(s.available(), &text[..]);
    }

    #[test]
    fn a_lost_segment_is_skipped_and_resync_starts_at_segments() {
        let mut s = buf(TcpPolicy::Bsd);
        s.add(0, SYN, b"");
        s.add(1, 0, b"MSG1 ");
        s.add(11, 0, b"tail2 ");
        s.add(17, 0, b"MSG3 ");
        assert_eq!(s.available(), b"MSG1 ");
        // The peer answers: the hole [6, 11) is taken as lost.
        s.peer_moved_on();
        assert_eq!(s.available(), b"tail2 MSG3 ");
        assert!(s.resyncing());
        s.add(22, 0, b"MSG4");
        let skip = s.take_resync();
        assert_eq!(skip, 11);
        s.skip(skip);
        assert_eq!(s.available(), b"MSG4");
        s.consume(4);
        assert!(!s.resyncing());
    }

    #[test]
    fn fin_and_rst_end_the_stream() {
        let mut s = buf(TcpPolicy::Bsd);
        s.add(0, SYN, b"");
        s.add(1, 0, b"abc");
        s.add(7, FIN, b"fin"); // hole [4, 7) skipped at FIN
        assert_eq!(s.available(), b"fin");
        s.add(10, 0, b"after");
        assert_eq!(s.available(), b"fin");
        let mut r = buf(TcpPolicy::Bsd);
        r.add(0, SYN, b"");
        r.add(1, 0, b"abc");
        r.add(1_000_000, RST, b""); // blind RST far away: ignored
        r.add(4, 0, b"def");
        assert_eq!(r.available(), b"abcdef");
        r.add(7, RST, b"");
        r.add(7, 0, b"ghi");
        assert_eq!(r.available(), b"abcdef");
    }

    #[test]
    fn bounds_per_flow_and_in_total_are_counted() {
        let shared = StreamShared::new(10);
        let cfg = StreamConfig {
            policy: TcpPolicy::Bsd,
            max_bytes: 8,
            shared: Some(shared.clone()),
        };
        let mut a = StreamBuf::new(cfg.clone());
        a.add(0, 0, b"0123456789");
        assert_eq!(a.available(), b"01234567");
        let mut b = StreamBuf::new(cfg);
        b.add(0, 0, b"abcd");
        assert_eq!(b.available(), b"");
        let st = shared.stats();
        assert_eq!((st.flow_bound_hits, st.total_bound_hits), (1, 1));
        assert_eq!(st.bytes_dropped, 2 + 4);
        a.consume(8);
        b.add(0, 0, b"abcd");
        assert_eq!(b.available(), b"abcd");
        // A lower bound (a worker's share) holds for what is reserved from then on.
        shared.set_max_total(5);
        let mut c = StreamBuf::new(StreamConfig {
            policy: TcpPolicy::Bsd,
            max_bytes: 8,
            shared: Some(shared.clone()),
        });
        c.add(0, 0, b"wxyz");
        assert_eq!(c.available(), b"");
        assert_eq!(shared.stats().total_bound_hits, 2);
        // Far beyond the window: dropped, then followed after several in a row.
        for i in 0..FAR_SEGMENTS_BEFORE_JUMP {
            a.add(1000 + u32::from(i), 0, b"x");
        }
        assert_eq!(a.available(), b"x");
    }
}
