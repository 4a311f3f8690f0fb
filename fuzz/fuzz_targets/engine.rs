//! The whole engine over a fuzzed capture: every frame decoded, tracked and flushed; the
//! records' counters add up to no more packets than were read; the records lay out as
//! columns (each value of its field's declared type: a debug assertion).
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::{CaptureReader, Engine, EngineOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_vec(data.to_vec()) else { return };
    let opts = EngineOptions { max_flows: 16, idle_timeout_ms: 1_000, ..EngineOptions::default() };
    let mut engine = Engine::new(opts);
    let mut out = Vec::new();
    let mut frames = 0u64;
    while let Ok(Some(pkt)) = reader.next_packet() {
        engine.process(&pkt, &mut out);
        frames += 1;
    }
    engine.flush(&mut out);
    let counted: u64 = out.iter().map(|r| r.src2dst_packets + r.dst2src_packets).sum();
    assert!(counted <= frames);
    assert_eq!(engine.active_flows(), 0);
    let batches = netsonde_core::columns::column_batches(&out);
    assert_eq!(batches.iter().map(|b| b.rows).sum::<usize>(), out.len());
});
