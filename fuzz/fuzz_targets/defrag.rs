//! The defragmenter fed arbitrary fragments under each overlap policy: memory stays within its bound and nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::decode::{Context, Fragment};
use netsonde_core::flow::defrag::{DefragOptions, DefragPolicy, Defragmenter};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let policies = DefragPolicy::ALL;
    let policy = policies[usize::from(pick) % policies.len()].1;
    let opts = DefragOptions { max_bytes: 4096, max_datagrams: 8, timeout_ns: 1_000, policy };
    let mut defrag = Defragmenter::new(opts);
    let mut given_up = Vec::new();
    let mut ts = 0i64;
    // Each record: id (1), offset/8 (2), more (1), length (1), then that many bytes.
    let mut rest = data;
    while let [id, o0, o1, more, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        ts += i64::from(*id & 0x0f) * 100;
        let frag = Fragment {
            ctx: Context::default(),
            ip_version: 4,
            src_ip: [1; 16],
            dst_ip: [2; 16],
            protocol: 17,
            id: u32::from(*id & 0x07),
            offset: u32::from(u16::from_be_bytes([*o0, *o1])) * 8,
            more: more & 1 == 1,
            data: chunk,
            announced_len: n as u32,
        };
        let _ = defrag.add(&frag, ts, 100, &mut given_up);
        assert!(defrag.bytes_held() <= opts.max_bytes + 65_535);
    }
    defrag.drain(&mut given_up);
    assert_eq!(defrag.bytes_held(), 0);
});
