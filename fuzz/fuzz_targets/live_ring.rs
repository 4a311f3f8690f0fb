//! Live capture's reading of a ring block (`tpacket3_hdr` and `sockaddr_ll` of each frame,
//! as the kernel writes them): any block must give frames inside it, or none, never a
//! panic; every frame, as it is, with its VLAN tag put back or after a cooked header, must
//! go through the engine.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::capture::live::{block_frames, RingFrame};
use netsonde_core::{Engine, EngineOptions, LinkType};

fuzz_target!(|block: &[u8]| {
    let mut engine = Engine::new(EngineOptions::default());
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    let (mut offset, count) = block_frames(block);
    for _ in 0..count.min(64) {
        let Some(frame) = RingFrame::parse(block, offset) else {
            break;
        };
        assert!(frame.data.len() <= block.len());
        for link in [LinkType::ETHERNET, LinkType::LINUX_SLL] {
            if let Some(pkt) = frame.packet(link, &mut scratch) {
                assert!(pkt.wire_len as usize >= pkt.data.len());
                engine.process(&pkt, &mut out);
            }
        }
        if frame.next == 0 {
            break;
        }
        offset = offset.saturating_add(frame.next);
    }
    engine.flush(&mut out);
});
