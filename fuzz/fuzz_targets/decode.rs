//! The L2-L4 decoder under every link type it knows, tunnels on and off; and the addresses
//! read at fixed offsets to route frames to workers agree with it on every packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::decode::{decode, plain_flow_addresses, DecodeOptions, Outcome};
use netsonde_core::LinkType;

const LINKS: [u32; 15] = [0, 1, 9, 12, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else { return };
    let link = LinkType(LINKS[usize::from(selector) % LINKS.len()]);
    let wire = frame.len() as u32 + u32::from(selector & 0x80);
    for decode_tunnels in [true, false] {
        let opts = DecodeOptions { decode_tunnels };
        let full = match decode(link, frame, wire, opts) {
            Outcome::Packet(p) => Some((p.src_ip, p.dst_ip)),
            Outcome::Fragment(f) => Some((f.src_ip, f.dst_ip)),
            _ => None,
        };
        if let (Some((src, dst)), Some(plain)) = (full, plain_flow_addresses(link, frame, opts)) {
            assert_eq!((u128::from_le_bytes(src), u128::from_le_bytes(dst)), plain);
        }
    }
});
