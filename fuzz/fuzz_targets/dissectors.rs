//! The classification dispatcher and every dissector over a fuzzed flow: a header picks the
//! transport and ports, then each record is one payload in one direction (with a TCP
//! sequence number). Nothing may panic, whatever the dissectors' states go through.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::classify::{candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
use netsonde_core::protocols::DISSECTORS;

fuzz_target!(|data: &[u8]| {
    let [kind, p0, p1, p2, p3, rest @ ..] = data else { return };
    let l4 = if kind & 1 == 0 { 17 } else { 6 };
    let client_port = u16::from_be_bytes([*p0, *p1]);
    let server_port = u16::from_be_bytes([*p2, *p3]);
    let facts = FlowFacts {
        l4,
        client_port,
        server_port,
        ip_version: 4,
        client_ip: [10; 16],
        server_ip: [20; 16],
    };
    // Parsed once per process: per input it would cost more than the dissectors.
    let sigs = SignatureSet::builtin_shared();
    let order = candidate_order(DISSECTORS, l4, [client_port, server_port]);
    let mut dpi = Dpi::new(order);
    let mut seq = [1000u32, 5000u32];
    // Each record: direction/flags byte, length byte, then that many bytes.
    let mut rest = rest;
    let mut ts = 0i64;
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        let dir = if flags & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        let d = dir as usize;
        let tcp = (l4 == 6).then(|| {
            let s = seq[d];
            // Sometimes a retransmission or a gap, as real streams have.
            if flags & 0x10 == 0 {
                seq[d] = s.wrapping_add(n as u32);
            }
            (s, 0x18u8)
        });
        ts += 1_000;
        let mut events = Vec::new();
        let mut sink = netsonde_core::metadata::EventSink::silent(&mut events);
        if !dpi.inspect(payload, dir, facts, tcp, ts, &sigs, DISSECTORS, &mut sink) {
            break;
        }
    }
});
