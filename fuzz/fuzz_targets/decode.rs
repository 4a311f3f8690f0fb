//! The L2-L4 decoder under every link type it knows, tunnels on and off.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::decode::{decode, DecodeOptions};
use netsonde_core::LinkType;

const LINKS: [u32; 15] = [0, 1, 9, 12, 50, 51, 101, 104, 105, 108, 113, 127, 192, 228, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else { return };
    let link = LinkType(LINKS[usize::from(selector) % LINKS.len()]);
    let wire = frame.len() as u32 + u32::from(selector & 0x80);
    for decode_tunnels in [true, false] {
        let _ = decode(link, frame, wire, DecodeOptions { decode_tunnels });
    }
});
