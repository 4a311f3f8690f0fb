//! The suricata-verify TCP overlap cases (`eve-overlap-payload-*`, `eve-payload-*-overlap`):
//! the client's reassembled stream holds what the README says for the test's policy — GOOD
//! under the default (bsd, Suricata's default too), EVIL under old-linux, and for the partial
//! overlap GOOD and never XXX. Skipped when the shared corpus is absent.

use std::path::{Path, PathBuf};

use netsonde_core::capture::CaptureReader;
use netsonde_core::classify::stream::StreamBuf;
use netsonde_core::classify::{StreamConfig, StreamShared, TcpPolicy};
use netsonde_core::decode::{self, DecodeOptions, Outcome};

fn corpus() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../../../shared/corpus/suricata-verify"),
        PathBuf::from("/work/shared/corpus/suricata-verify"),
    ]
    .into_iter()
    .find(|p| p.join("index.jsonl").is_file())
}

/// The client-to-server stream (port 12345 -> 8080) of `pcap` under `policy`.
fn client_stream(dir: &Path, pcap: &str, policy: TcpPolicy) -> Vec<u8> {
    let mut reader = CaptureReader::open(&dir.join("pcap").join(pcap)).expect("readable");
    let mut stream = StreamBuf::new(StreamConfig {
        policy,
        max_bytes: 1 << 16,
        shared: Some(StreamShared::new(1 << 20)),
    });
    let opts = DecodeOptions {
        decode_tunnels: true,
    };
    while let Some(pkt) = reader.next_packet().expect("intact") {
        if let Outcome::Packet(p) = decode::decode(pkt.link_type, pkt.data, pkt.wire_len, opts) {
            if p.protocol == 6 && p.src_port == 12345 {
                stream.add(p.tcp_seq, p.tcp_flags, p.payload);
            }
        }
    }
    stream.available().to_vec()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn exact_overlap_keeps_good_by_default_and_evil_under_old_linux() {
    let Some(dir) = corpus() else {
        eprintln!("shared corpus absent: skipped");
        return;
    };
    let pcap = "eve-overlap-payload-01__tcp-overlap.pcap";
    // eve-overlap-payload-01 and eve-payload-01-tcp-exact-overlap: default policy.
    let s = client_stream(&dir, pcap, TcpPolicy::default());
    assert!(contains(&s, b"GOOD") && !contains(&s, b"EVIL"), "{s:?}");
    // -02-policy-oldlinux: old-linux for the server 2.2.2.2.
    let s = client_stream(&dir, pcap, TcpPolicy::OldLinux);
    assert!(contains(&s, b"EVIL") && !contains(&s, b"GOOD"), "{s:?}");
    // -02's other hosts use windows: the same as the default here.
    let s = client_stream(&dir, pcap, TcpPolicy::Windows);
    assert!(contains(&s, b"GOOD"), "{s:?}");
}

#[test]
fn partial_overlap_keeps_good() {
    let Some(dir) = corpus() else {
        eprintln!("shared corpus absent: skipped");
        return;
    };
    let pcap = "eve-overlap-payload-04-partial-overlap__tcp-overlap2.pcap";
    for (_, policy) in TcpPolicy::ALL.iter().filter(|(n, _)| *n != "last") {
        let s = client_stream(&dir, pcap, *policy);
        assert!(
            contains(&s, b"GOOD") && !contains(&s, b"XXX"),
            "{policy:?} {s:?}"
        );
    }
}
