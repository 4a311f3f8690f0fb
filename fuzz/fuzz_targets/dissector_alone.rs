//! Every registered dissector alone, through the real dispatcher (stream buffers, packet
//! budget, handovers), over a fuzzed conversation: the first byte picks the dissector and
//! the transport, then each chunk is `[direction|length][bytes]`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::classify::{application_name, candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
use netsonde_core::protocols::DISSECTORS;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else { return };
    let Some(&dissector) = DISSECTORS.get(usize::from(selector & 0x7f) % DISSECTORS.len()) else { return };
    let l4 = if selector & 0x80 != 0 { 17 } else { 6 };
    let one = [dissector];
    let sigs = SignatureSet::default();
    let mut dpi = Dpi::new(candidate_order(&one, l4, [40000, 443]));
    let facts = FlowFacts { l4, client_port: 40000, server_port: 443, ip_version: 4, client_ip: [0; 16], server_ip: [0; 16] };
    let mut seq = [1u32, 1u32];
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head & 0x7f).min(tail.len());
        let (payload, next) = tail.split_at(len);
        rest = next;
        let dir = if head & 0x80 != 0 { Dir::ToClient } else { Dir::ToServer };
        let d = dir as usize;
        let tcp = (l4 == 6).then(|| (seq[d], 0x18));
        seq[d] = seq[d].wrapping_add(len as u32);
        let mut events = Vec::new();
        let mut sink = netsonde_core::metadata::EventSink::silent(&mut events);
        if !dpi.inspect(payload, dir, facts, tcp, 0, &sigs, DISSECTORS, &mut sink) {
            break;
        }
    }
    let _ = application_name(&dpi.class, &sigs);
});
