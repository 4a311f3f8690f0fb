#![allow(clippy::indexing_slicing)]

use super::defrag::{DefragOptions, Defragmenter};
use super::*;
use crate::decode::{Context, Fragment};

fn pkt(src: u8, sport: u16, dst: u8, dport: u16, proto: u8, flags: u8) -> Packet<'static> {
    let mut s = [0u8; 16];
    let mut d = [0u8; 16];
    s[..4].copy_from_slice(&[10, 0, 0, src]);
    d[..4].copy_from_slice(&[10, 0, 0, dst]);
    Packet {
        vlan_id: 0,
        tunnel: Tunnel::NONE,
        ip_version: 4,
        src_ip: s,
        dst_ip: d,
        protocol: proto,
        src_port: sport,
        dst_port: dport,
        tcp_flags: flags,
        tcp_seq: 0,
        payload: &[],
    }
}

#[test]
fn both_directions_share_one_key() {
    let (a, a_from_lo) = FlowKey::of(&pkt(1, 40000, 2, 80, 6, 0));
    let (b, b_from_lo) = FlowKey::of(&pkt(2, 80, 1, 40000, 6, 0));
    assert_eq!(a, b);
    assert_ne!(a_from_lo, b_from_lo);
    let (mut other_vlan, _) = FlowKey::of(&pkt(1, 40000, 2, 80, 6, 0));
    other_vlan.vlan_id = 7;
    assert_ne!(a, other_vlan);
}

#[test]
fn orientation_from_first_packet() {
    assert!(sender_is_client(&pkt(1, 40000, 2, 80, 6, TCP_SYN)));
    assert!(!sender_is_client(&pkt(
        2,
        80,
        1,
        40000,
        6,
        TCP_SYN | TCP_ACK
    )));
    // Mid-stream: the side on a service port is the server.
    assert!(!sender_is_client(&pkt(2, 80, 1, 40000, 6, TCP_ACK)));
    assert!(sender_is_client(&pkt(1, 40000, 2, 80, 6, TCP_ACK)));
    // UDP between two high ports, or two service ports: the sender is the client.
    assert!(sender_is_client(&pkt(1, 5000, 2, 6000, 17, 0)));
    assert!(sender_is_client(&pkt(1, 123, 2, 123, 17, 0)));
    assert!(!sender_is_client(&pkt(2, 53, 1, 33000, 17, 0)));
}

#[test]
fn table_keeps_lanes_in_recency_order() {
    let mut t = FlowTable::new();
    let keys: Vec<FlowKey> = (1..=3)
        .map(|i| FlowKey::of(&pkt(i, 1000, 99, 80, 6, 0)).0)
        .collect();
    let slots: Vec<u32> = keys.iter().map(|k| t.insert(*k, true, 0)).collect();
    assert_eq!(t.oldest(Lane::Open), Some(slots[0]));
    t.touch(slots[0]);
    assert_eq!(t.oldest(Lane::Open), Some(slots[1]));
    t.set_lane(slots[1], Lane::Closed);
    assert_eq!(t.oldest(Lane::Open), Some(slots[2]));
    assert_eq!(t.oldest(Lane::Closed), Some(slots[1]));
    let removed = t.remove(slots[2]);
    assert_eq!(removed.key, keys[2]);
    assert_eq!(t.lookup(&keys[2]), None);
    assert_eq!(t.len(), 2);
    let drained = t.drain();
    assert_eq!(drained.iter().map(|f| f.id).collect::<Vec<_>>(), vec![0, 1]);
    assert!(t.is_empty());
}

fn frag(id: u32, offset: u32, more: bool, data: &'static [u8]) -> Fragment<'static> {
    let mut s = [0u8; 16];
    s[0] = 1;
    Fragment {
        ctx: Context::default(),
        ip_version: 4,
        src_ip: s,
        dst_ip: [2; 16],
        protocol: 17,
        id,
        offset,
        more,
        data,
        announced_len: data.len() as u32,
    }
}

#[test]
fn defrag_reassembles_out_of_order_and_counts_overlaps() {
    let mut d = Defragmenter::new(DefragOptions::default());
    let mut given_up = Vec::new();
    assert!(d
        .add(&frag(1, 16, false, b"CCCCCCCC"), 3, 60, &mut given_up)
        .is_none());
    assert!(d
        .add(&frag(1, 0, true, b"AAAAAAAA"), 1, 60, &mut given_up)
        .is_none());
    // Overlaps bytes 16..24 with other data, starting before them: under the default BSD
    // policy the new copy wins.
    let done = d
        .add(&frag(1, 8, true, b"BBBBBBBBBBBBBBBB"), 2, 60, &mut given_up)
        .expect("complete");
    assert!(done.complete && done.has_first);
    assert_eq!(done.payload, b"AAAAAAAABBBBBBBBBBBBBBBB".to_vec());
    assert!(done.overlap_risk);
    assert_eq!(
        (done.frames, done.wire_bytes, done.first_ns, done.last_ns),
        (3, 180, 3, 3)
    );
    assert_eq!(d.stats.overlaps, 1);
    assert_eq!(d.bytes_held(), 0);
    assert!(given_up.is_empty());
}

#[test]
fn defrag_gives_up_on_timeout_and_memory_bound() {
    let opts = DefragOptions {
        max_bytes: 64,
        max_datagrams: 4,
        timeout_ns: 100,
        ..DefragOptions::default()
    };
    let mut d = Defragmenter::new(opts);
    let mut given_up = Vec::new();
    d.add(&frag(1, 0, true, b"AAAAAAAA"), 0, 60, &mut given_up);
    d.add(&frag(2, 8, true, b"BBBBBBBB"), 50, 60, &mut given_up);
    // Time passes beyond the timeout: datagram 1 is handed back with its first fragment.
    d.expire(120, &mut given_up);
    assert_eq!(given_up.len(), 1);
    assert!(given_up[0].has_first && !given_up[0].complete);
    d.expire(200, &mut given_up);
    assert_eq!(given_up.len(), 2);
    assert!(!given_up[1].has_first);
    given_up.clear();
    // Memory: a datagram reaching beyond the byte bound pushes out the oldest.
    d.add(&frag(3, 0, true, &[0; 40]), 300, 60, &mut given_up);
    d.add(&frag(4, 0, true, &[0; 40]), 301, 60, &mut given_up);
    assert_eq!(given_up.len(), 1);
    assert!(d.bytes_held() <= 64);
    assert_eq!(d.stats.datagrams_evicted, 1);
    // Beyond 64 KiB is the ping of death: refused.
    assert!(d
        .add(
            &frag(5, 65_530, false, b"0123456789"),
            302,
            60,
            &mut given_up
        )
        .is_none());
    assert_eq!(d.stats.oversized, 1);
}

#[test]
fn flow_state_stays_compact() {
    // Per-flow memory matters at millions of flows: the plain flow (accounting, key, list
    // links, classification) must stay small; inspection state is boxed and freed when done.
    let size = std::mem::size_of::<Flow>();
    assert!(size <= 192, "Flow is {size} bytes");
}
