//! IPv4 and IPv6 defragmentation with bounded memory and time.
//!
//! Fragments are copied (the only copy on the packet path, and only for fragments) into a
//! per-datagram buffer. Overlapping data is resolved by a [`DefragPolicy`] (which copy the
//! target host keeps, as Suricata and Snort name them) and counted; an overlap whose copies
//! differ, or that is not an exact duplicate, and tiny fragments (the classic ways to hide a
//! transport header or a payload from a monitor) are counted and flagged on the datagram,
//! which the engine turns into a risk on its flow. A datagram that completes is handed back
//! whole; one that times out or is pushed out by the memory bound is handed back as far as it
//! got, so that its frames are still accounted to their flow when its first fragment (with
//! the ports) arrived.

use std::collections::VecDeque;

use crate::decode::{Context, Fragment, IpBytes, Tunnel};
use hashbrown::HashMap;

/// Largest IP datagram; fragments reaching beyond it are malformed (the "ping of death").
const MAX_DATAGRAM_LEN: u32 = 65_535;
/// Fragments kept per datagram before it is given up.
const MAX_FRAGMENTS_PER_DATAGRAM: u32 = 256;
/// A fragment that is not the last and carries fewer bytes than this is "tiny": no link in
/// use has an MTU that small (IPv4 requires 576-byte datagrams to pass, IPv6 1280).
const TINY_FRAGMENT: usize = 256;

pub use crate::risks::{
    IP_FRAGMENT_OVERLAP as RISK_FRAGMENT_OVERLAP, IP_TINY_FRAGMENT as RISK_TINY_FRAGMENT,
};

/// How overlapping fragment data is resolved, as the target host's stack does (Suricata's
/// and Snort's names). "New" is the fragment arriving now, "old" one received before.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum DefragPolicy {
    /// The old copy always stays (HP-UX 11, macOS, Windows since Vista for IPv6 …).
    First,
    /// The new copy always wins (Cisco IOS).
    Last,
    /// The new copy wins only where it starts before the old one (FreeBSD, AIX, IRIX,
    /// HP-UX 10). The default, as in Suricata and Snort.
    #[default]
    Bsd,
    /// The new copy wins where it reaches further right than the old one (HP JetDirect).
    BsdRight,
    /// The new copy wins where it starts before the old one, or at the same offset and
    /// reaches at least as far (Linux).
    Linux,
    /// The new copy wins only where it starts before and ends after the old one (it
    /// strictly covers it) (Windows).
    Windows,
    /// The new copy wins where it starts before the old one and reaches at least as far
    /// (Solaris).
    Solaris,
}

impl DefragPolicy {
    /// Every policy with its configuration name.
    pub const ALL: &'static [(&'static str, DefragPolicy)] = &[
        ("first", DefragPolicy::First),
        ("last", DefragPolicy::Last),
        ("bsd", DefragPolicy::Bsd),
        ("bsd-right", DefragPolicy::BsdRight),
        ("linux", DefragPolicy::Linux),
        ("windows", DefragPolicy::Windows),
        ("solaris", DefragPolicy::Solaris),
    ];

    /// The policy of a configuration name (`"bsd"`, `"bsd-right"`, ...).
    pub fn from_name(name: &str) -> Option<DefragPolicy> {
        crate::names::by_name(Self::ALL, name)
    }

    pub fn name(self) -> &'static str {
        crate::names::name_of(Self::ALL, &self).unwrap_or("bsd")
    }

    /// Whether the new fragment `[start, end)` replaces the bytes it shares with the old one.
    pub fn new_wins(self, new: (u32, u32), old: (u32, u32)) -> bool {
        match self {
            DefragPolicy::First => false,
            DefragPolicy::Last => true,
            DefragPolicy::Bsd => new.0 < old.0,
            DefragPolicy::BsdRight => new.1 > old.1,
            DefragPolicy::Linux => new.0 < old.0 || (new.0 == old.0 && new.1 >= old.1),
            DefragPolicy::Windows => new.0 < old.0 && new.1 > old.1,
            DefragPolicy::Solaris => new.0 < old.0 && new.1 >= old.1,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct DefragOptions {
    /// Bytes of fragment data held at once, over all datagrams.
    pub max_bytes: usize,
    /// Datagrams under reassembly at once.
    pub max_datagrams: usize,
    /// How long a datagram may wait for its missing fragments.
    pub timeout_ns: i64,
    /// Which copy of overlapping fragment data is kept.
    pub policy: DefragPolicy,
}

impl Default for DefragOptions {
    fn default() -> Self {
        DefragOptions {
            max_bytes: 32 << 20,
            max_datagrams: 16_384,
            timeout_ns: 30_000_000_000,
            policy: DefragPolicy::default(),
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
    /// Fragments as received, for overlap decisions.
    frags: Vec<(u32, u32)>,
    /// An overlap other than an exact duplicate, or with differing data, was seen.
    overlap_risk: bool,
    /// A tiny fragment was seen.
    tiny: bool,
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
    /// Overlapping fragments (other than exact duplicates) were seen.
    pub overlap_risk: bool,
    /// Tiny fragments were seen.
    pub tiny: bool,
}

impl Reassembled {
    /// The risks the datagram's fragments raise on its flow.
    pub fn risks(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.overlap_risk, RISK_FRAGMENT_OVERLAP),
            (self.tiny, RISK_TINY_FRAGMENT),
        ]
        .into_iter()
        .filter_map(|(on, r)| on.then_some(r))
    }
}

#[derive(Default, Clone, Debug)]
pub struct DefragStats {
    pub fragments: u64,
    pub datagrams_reassembled: u64,
    pub datagrams_timed_out: u64,
    pub datagrams_evicted: u64,
    pub overlaps: u64,
    /// Overlaps whose copies differed.
    pub overlap_conflicts: u64,
    pub oversized: u64,
    /// Tiny fragments (see [`TINY_FRAGMENT`]; also a first fragment too short for the
    /// transport header).
    pub tiny: u64,
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
    /// Changes the bounds on fragment bytes and datagrams held (enforced from the next
    /// fragment on).
    pub fn limit(&mut self, max_bytes: usize, max_datagrams: usize) {
        self.opts.max_bytes = max_bytes;
        self.opts.max_datagrams = max_datagrams.max(1);
    }

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
                    frags: Vec::new(),
                    overlap_risk: false,
                    tiny: false,
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
        let header = match frag.protocol {
            6 => 20,
            _ => 8,
        };
        let tiny = (frag.more && frag.data.len() < TINY_FRAGMENT)
            || (start == 0 && frag.data.len() < header);
        if tiny {
            self.stats.tiny += 1;
            dg.tiny = true;
        }
        let (overlapped, conflict) = Self::write(self.opts.policy, dg, start, frag.data);
        if overlapped {
            self.stats.overlaps += 1;
        }
        if conflict {
            self.stats.overlap_conflicts += 1;
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

    /// Writes a fragment's bytes under `policy`; returns whether it overlapped bytes
    /// received before, and whether the copies differed.
    fn write(policy: DefragPolicy, dg: &mut Datagram, start: u32, data: &[u8]) -> (bool, bool) {
        let end = start + data.len() as u32;
        if data.is_empty() {
            return (false, false);
        }
        let mut overlapped = false;
        let mut duplicate_only = true;
        // Old copies the policy keeps.
        let mut keep: Vec<(u32, u32)> = Vec::new();
        for &(a, b) in &dg.frags {
            let (ia, ib) = (a.max(start), b.min(end));
            if ia >= ib {
                continue;
            }
            overlapped = true;
            duplicate_only &= (a, b) == (start, end);
            if !policy.new_wins((start, end), (a, b)) {
                keep.push((ia, ib));
            }
        }
        let conflict = overlapped
            && dg.covered.iter().any(|&(a, b)| {
                let (ia, ib) = (a.max(start), b.min(end));
                ia < ib
                    && dg.data.get(ia as usize..ib as usize)
                        != data.get((ia - start) as usize..(ib - start) as usize)
            });
        if overlapped && (conflict || !duplicate_only) {
            dg.overlap_risk = true;
        }
        keep.sort_unstable();
        let mut cursor = start;
        for (a, b) in keep.into_iter().chain(std::iter::once((end, end))) {
            if a > cursor {
                let src = data.get((cursor - start) as usize..(a - start) as usize);
                let dst = dg.data.get_mut(cursor as usize..a as usize);
                if let (Some(s), Some(d)) = (src, dst) {
                    d.copy_from_slice(s);
                }
            }
            cursor = cursor.max(b);
        }
        if dg.frags.len() < MAX_FRAGMENTS_PER_DATAGRAM as usize {
            dg.frags.push((start, end));
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
        (overlapped, conflict)
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
            overlap_risk: dg.overlap_risk,
            tiny: dg.tiny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(offset: u32, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            ctx: Context::default(),
            ip_version: 4,
            src_ip: [1; 16],
            dst_ip: [2; 16],
            protocol: 17,
            id: 7,
            offset,
            more,
            data,
            announced_len: data.len() as u32,
        }
    }

    /// The datagram built from: a last fragment at 24..32, an old fragment at 8..16, then
    /// `new`, then fillers for what is still missing; under `policy`.
    fn build(policy: DefragPolicy, new: (u32, u32)) -> Reassembled {
        let mut d = Defragmenter::new(DefragOptions {
            policy,
            ..DefragOptions::default()
        });
        let mut up = Vec::new();
        assert!(d
            .add(&frag(24, false, b"ZZZZZZZZ"), 0, 60, &mut up)
            .is_none());
        assert!(d.add(&frag(8, true, b"oooooooo"), 0, 60, &mut up).is_none());
        let n = vec![b'n'; (new.1 - new.0) as usize];
        let mut done = d.add(&frag(new.0, true, &n), 0, 60, &mut up);
        for (a, b) in [(0u32, 8u32), (16, 24)] {
            let covered = |x: u32| (8..16).contains(&x) || (new.0..new.1).contains(&x);
            let (mut s, mut e) = (a, b);
            while s < e && covered(s) {
                s += 1;
            }
            while e > s && covered(e - 1) {
                e -= 1;
            }
            if s < e {
                let f = vec![b'f'; (e - s) as usize];
                done = d.add(&frag(s, true, &f), 0, 60, &mut up).or(done);
            }
        }
        let r = done.expect("complete");
        assert!(r.complete && r.overlap_risk);
        assert_eq!(d.stats.overlap_conflicts, 1);
        r
    }

    #[test]
    fn policies_keep_the_copy_their_target_keeps() {
        use DefragPolicy::*;
        let policies = [First, Last, Bsd, BsdRight, Linux, Windows, Solaris];
        // Per scenario, whether the new copy wins under each policy (in the order above).
        let scenarios: [((u32, u32), [bool; 7]); 5] = [
            // exact duplicate range
            ((8, 16), [false, true, false, false, true, false, false]),
            // starts before, ends inside
            ((4, 12), [false, true, true, false, true, false, false]),
            // starts inside, ends after
            ((12, 20), [false, true, false, true, false, false, false]),
            // strictly covers
            ((0, 24), [false, true, true, true, true, true, true]),
            // same start, ends after
            ((8, 20), [false, true, false, true, true, false, false]),
        ];
        for (new, wins) in scenarios {
            for (policy, new_wins) in policies.iter().zip(wins) {
                let got = build(*policy, new).payload;
                let want: Vec<u8> = (0u32..32)
                    .map(|x| {
                        let in_old = (8..16).contains(&x);
                        let in_new = (new.0..new.1).contains(&x);
                        match (in_old, in_new) {
                            _ if x >= 24 => b'Z',
                            (true, true) if new_wins => b'n',
                            (true, _) => b'o',
                            (false, true) => b'n',
                            (false, false) => b'f',
                        }
                    })
                    .collect();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{policy:?} {new:?}"
                );
            }
        }
        for (name, p) in DefragPolicy::ALL {
            assert_eq!(DefragPolicy::from_name(name), Some(*p));
            assert_eq!(p.name(), *name);
        }
        assert_eq!(DefragPolicy::from_name("old-linux"), None);
    }

    #[test]
    fn tiny_fragments_and_duplicates() {
        let mut d = Defragmenter::new(DefragOptions::default());
        let mut up = Vec::new();
        let head = [0u8; 8];
        assert!(d.add(&frag(0, true, &head), 0, 60, &mut up).is_none());
        // The same bytes again: an overlap, but no risk.
        assert!(d.add(&frag(0, true, &head), 0, 60, &mut up).is_none());
        let r = d
            .add(&frag(8, false, b"payload!"), 0, 60, &mut up)
            .expect("complete");
        assert!(r.tiny && !r.overlap_risk);
        assert_eq!(r.risks().collect::<Vec<_>>(), vec![RISK_TINY_FRAGMENT]);
        assert_eq!(
            (d.stats.tiny, d.stats.overlaps, d.stats.overlap_conflicts),
            (2, 1, 0)
        );
    }
}
