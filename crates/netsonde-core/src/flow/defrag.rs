//! IPv4 and IPv6 defragmentation with bounded memory and time.
//!
//! Fragments are copied (the only copy on the packet path, and only for fragments) into a
//! per-datagram buffer. Overlapping data is counted; the bytes first received are kept (the
//! "first" policy). A datagram that completes is handed back whole; one that times out or is
//! pushed out by the memory bound is handed back as far as it got, so that its frames are
//! still accounted to their flow when its first fragment (with the ports) arrived.

use std::collections::VecDeque;

use crate::decode::{Context, Fragment, IpBytes, Tunnel};
use hashbrown::HashMap;

/// Largest IP datagram; fragments reaching beyond it are malformed (the "ping of death").
const MAX_DATAGRAM_LEN: u32 = 65_535;
/// Fragments kept per datagram before it is given up.
const MAX_FRAGMENTS_PER_DATAGRAM: u32 = 256;

#[derive(Clone, Copy, Debug)]
pub struct DefragOptions {
    /// Bytes of fragment data held at once, over all datagrams.
    pub max_bytes: usize,
    /// Datagrams under reassembly at once.
    pub max_datagrams: usize,
    /// How long a datagram may wait for its missing fragments.
    pub timeout_ns: i64,
}

impl Default for DefragOptions {
    fn default() -> Self {
        DefragOptions {
            max_bytes: 32 << 20,
            max_datagrams: 16_384,
            timeout_ns: 30_000_000_000,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct DatagramKey {
    src: IpBytes,
    dst: IpBytes,
    id: u32,
    protocol: u8,
    ip_version: u8,
    vlan_id: u16,
    tunnel: Tunnel,
}

struct Datagram {
    ctx: Context,
    first_ns: i64,
    last_ns: i64,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    covered: Vec<(u32, u32)>,
    /// Datagram length, known once the last fragment has arrived.
    total: Option<u32>,
    frames: u32,
    wire_bytes: u64,
    /// Bytes the announced header said the first fragment carried.
    generation: u64,
}

/// A datagram handed back to the engine.
pub struct Reassembled {
    pub ctx: Context,
    pub ip_version: u8,
    pub src_ip: IpBytes,
    pub dst_ip: IpBytes,
    pub protocol: u8,
    pub payload: Vec<u8>,
    /// Whether every fragment arrived.
    pub complete: bool,
    /// Whether the first fragment (with the transport header) arrived.
    pub has_first: bool,
    pub frames: u32,
    pub wire_bytes: u64,
    pub first_ns: i64,
    pub last_ns: i64,
}

#[derive(Default, Clone, Debug)]
pub struct DefragStats {
    pub fragments: u64,
    pub datagrams_reassembled: u64,
    pub datagrams_timed_out: u64,
    pub datagrams_evicted: u64,
    pub overlaps: u64,
    pub oversized: u64,
}

pub struct Defragmenter {
    opts: DefragOptions,
    map: HashMap<DatagramKey, Datagram, ahash::RandomState>,
    /// Datagrams in arrival order, for timeouts and eviction (stale entries are skipped).
    order: VecDeque<(DatagramKey, u64)>,
    generation: u64,
    bytes_held: usize,
    pub stats: DefragStats,
}

impl Defragmenter {
    pub fn new(opts: DefragOptions) -> Defragmenter {
        Defragmenter {
            opts,
            map: HashMap::with_hasher(ahash::RandomState::new()),
            order: VecDeque::new(),
            generation: 0,
            bytes_held: 0,
            stats: DefragStats::default(),
        }
    }

    /// Bytes of fragment data held now.
    pub fn bytes_held(&self) -> usize {
        self.bytes_held
    }

    /// Adds a fragment; returns the datagram when this fragment completed it, and pushes any
    /// datagram given up (timeout, memory bound) into `given_up`.
    pub fn add(
        &mut self,
        frag: &Fragment<'_>,
        ts_ns: i64,
        wire_len: u32,
        given_up: &mut Vec<Reassembled>,
    ) -> Option<Reassembled> {
        self.stats.fragments += 1;
        self.expire(ts_ns, given_up);
        let key = DatagramKey {
            src: frag.src_ip,
            dst: frag.dst_ip,
            id: frag.id,
            protocol: frag.protocol,
            ip_version: frag.ip_version,
            vlan_id: frag.ctx.vlan_id,
            tunnel: frag.ctx.tunnel,
        };
        let start = frag.offset;
        let end = start.saturating_add(frag.data.len() as u32);
        if end > MAX_DATAGRAM_LEN {
            self.stats.oversized += 1;
            return None;
        }
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.opts.max_datagrams {
                if !self.give_up_oldest(given_up, true) {
                    break;
                }
            }
            self.generation += 1;
            self.map.insert(
                key,
                Datagram {
                    ctx: frag.ctx,
                    first_ns: ts_ns,
                    last_ns: ts_ns,
                    data: Vec::new(),
                    covered: Vec::new(),
                    total: None,
                    frames: 0,
                    wire_bytes: 0,
                    generation: self.generation,
                },
            );
            self.order.push_back((key, self.generation));
        }
        let dg = self.map.get_mut(&key)?;
        dg.frames += 1;
        dg.wire_bytes += u64::from(wire_len);
        dg.last_ns = dg.last_ns.max(ts_ns);
        if !frag.more {
            dg.total = Some(end);
        }
        if dg.data.len() < end as usize {
            self.bytes_held += end as usize - dg.data.len();
            dg.data.resize(end as usize, 0);
        }
        if Self::write_first_policy(dg, start, frag.data) {
            self.stats.overlaps += 1;
        }
        let done = dg
            .total
            .is_some_and(|t| dg.covered.first() == Some(&(0, t)));
        let too_many = dg.frames > MAX_FRAGMENTS_PER_DATAGRAM;
        if done || too_many {
            let dg = self.map.remove(&key)?;
            self.bytes_held -= dg.data.len();
            if done {
                self.stats.datagrams_reassembled += 1;
            } else {
                self.stats.datagrams_evicted += 1;
            }
            return Some(Self::hand_back(key, dg));
        }
        while self.bytes_held > self.opts.max_bytes {
            if !self.give_up_oldest(given_up, true) {
                break;
            }
        }
        None
    }

    /// Writes the bytes not yet received; returns whether any received byte was overlapped.
    fn write_first_policy(dg: &mut Datagram, start: u32, data: &[u8]) -> bool {
        let end = start + data.len() as u32;
        let mut overlapped = false;
        let mut cursor = start;
        let mut gaps: Vec<(u32, u32)> = Vec::new();
        for &(a, b) in &dg.covered {
            if b <= cursor || a >= end {
                continue;
            }
            overlapped = true;
            if a > cursor {
                gaps.push((cursor, a));
            }
            cursor = cursor.max(b);
        }
        if cursor < end {
            gaps.push((cursor, end));
        }
        for (a, b) in gaps {
            let src = data.get((a - start) as usize..(b - start) as usize);
            let dst = dg.data.get_mut(a as usize..b as usize);
            if let (Some(s), Some(d)) = (src, dst) {
                d.copy_from_slice(s);
            }
        }
        // Merge the new range into the covered list.
        dg.covered.push((start, end));
        dg.covered.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(dg.covered.len());
        for &(a, b) in &dg.covered {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        dg.covered = merged;
        overlapped && !data.is_empty()
    }

    /// Gives up datagrams older than the timeout.
    pub fn expire(&mut self, now_ns: i64, given_up: &mut Vec<Reassembled>) {
        while let Some(&(key, generation)) = self.order.front() {
            match self.map.get(&key) {
                Some(dg) if dg.generation == generation => {
                    if dg.first_ns.saturating_add(self.opts.timeout_ns) > now_ns {
                        break;
                    }
                    self.order.pop_front();
                    if let Some(dg) = self.map.remove(&key) {
                        self.bytes_held -= dg.data.len();
                        self.stats.datagrams_timed_out += 1;
                        given_up.push(Self::hand_back(key, dg));
                    }
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
    }

    /// Hands back every datagram still waiting (end of input).
    pub fn drain(&mut self, given_up: &mut Vec<Reassembled>) {
        while self.give_up_oldest(given_up, false) {}
        self.order.clear();
    }

    fn give_up_oldest(&mut self, given_up: &mut Vec<Reassembled>, evicted: bool) -> bool {
        while let Some((key, generation)) = self.order.pop_front() {
            if self
                .map
                .get(&key)
                .is_some_and(|d| d.generation == generation)
            {
                if let Some(dg) = self.map.remove(&key) {
                    self.bytes_held -= dg.data.len();
                    if evicted {
                        self.stats.datagrams_evicted += 1;
                    } else {
                        self.stats.datagrams_timed_out += 1;
                    }
                    given_up.push(Self::hand_back(key, dg));
                    return true;
                }
            }
        }
        false
    }

    fn hand_back(key: DatagramKey, dg: Datagram) -> Reassembled {
        let complete = dg
            .total
            .is_some_and(|t| dg.covered.first() == Some(&(0, t)));
        let first_run = dg.covered.first().filter(|r| r.0 == 0).map_or(0, |r| r.1);
        let mut payload = dg.data;
        if !complete {
            // Keep only the contiguous start: the transport header and what follows it.
            payload.truncate(first_run as usize);
        }
        Reassembled {
            ctx: dg.ctx,
            ip_version: key.ip_version,
            src_ip: key.src,
            dst_ip: key.dst,
            protocol: key.protocol,
            has_first: first_run > 0,
            payload,
            complete,
            frames: dg.frames,
            wire_bytes: dg.wire_bytes,
            first_ns: dg.first_ns,
            last_ns: dg.last_ns,
        }
    }
}
