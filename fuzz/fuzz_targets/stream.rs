//! TCP reassembly fed arbitrary segments (both directions' calls: add, consume, resync, peer
//! answers) under each overlap policy: nothing panics, the per-direction bound holds, and the
//! engine-wide byte count returns to zero when the streams are dropped.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::classify::stream::StreamBuf;
use netsonde_core::classify::{StreamConfig, StreamShared, TcpPolicy};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let policy = TcpPolicy::ALL[usize::from(pick) % TcpPolicy::ALL.len()].1;
    let shared = StreamShared::new(8192);
    let cfg = StreamConfig { policy, max_bytes: 4096, shared: Some(shared.clone()) };
    let mut s = StreamBuf::new(cfg);
    // Each record: op (1), seq (4), flags (1), length (1), then that many bytes.
    let mut rest = data;
    while let [op, s0, s1, s2, s3, flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        match op % 4 {
            0 | 1 => s.add(u32::from_be_bytes([*s0, *s1, *s2, *s3]), *flags, chunk),
            2 => s.consume(usize::from(*len)),
            _ => {
                s.peer_moved_on();
                let k = s.take_resync();
                s.skip(k);
                let _ = s.take_conflict();
            }
        }
        assert!(s.available().len() <= 4096);
        assert!(shared.stats().bytes_held <= 8192);
    }
    drop(s);
    assert_eq!(shared.stats().bytes_held, 0);
});
