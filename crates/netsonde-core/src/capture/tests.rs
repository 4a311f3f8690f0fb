#![allow(clippy::indexing_slicing)]

use super::*;

/// A pcap file header (version 2.4, snap length 65535); also used by other modules' tests.
pub(crate) fn pcap_header(magic: u32, big_endian: bool, link: u32) -> Vec<u8> {
    let mut v = Vec::new();
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    put32(&mut v, magic);
    put16(&mut v, 2);
    put16(&mut v, 4);
    put32(&mut v, 0);
    put32(&mut v, 0);
    put32(&mut v, 65535);
    put32(&mut v, link);
    v
}

pub(crate) fn pcap_record(
    v: &mut Vec<u8>,
    big_endian: bool,
    sec: u32,
    frac: u32,
    data: &[u8],
    wire: u32,
) {
    for x in [sec, frac, data.len() as u32, wire] {
        v.extend(if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        });
    }
    v.extend_from_slice(data);
}

/// (timestamp ns, link type, captured bytes, wire length) of each packet read.
type Packets = Vec<(i64, LinkType, Vec<u8>, u32)>;

fn read_all(r: &mut CaptureReader) -> (Packets, Option<CaptureError>) {
    let mut out = Vec::new();
    loop {
        match r.next_packet() {
            Ok(Some(p)) => out.push((p.ts_ns, p.link_type, p.data.to_vec(), p.wire_len)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn pcap_both_byte_orders_and_resolutions() {
    for big_endian in [false, true] {
        for (magic, frac, want_ns) in [
            (0xa1b2_c3d4u32, 250_000u32, 250_000_000i64),
            (0xa1b2_3c4d, 250, 250),
        ] {
            let mut f = pcap_header(magic, big_endian, 1);
            pcap_record(&mut f, big_endian, 10, frac, &[1, 2, 3], 60);
            let mut r = CaptureReader::from_vec(f).expect("pcap recognised");
            let (pkts, err) = read_all(&mut r);
            assert!(err.is_none());
            assert_eq!(
                pkts,
                vec![(
                    10_000_000_000 + want_ns,
                    LinkType::ETHERNET,
                    vec![1, 2, 3],
                    60
                )]
            );
        }
    }
}

#[test]
fn pcap_truncated_record_keeps_earlier_packets() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 101);
    pcap_record(&mut f, false, 1, 0, &[0x45; 20], 20);
    pcap_record(&mut f, false, 2, 0, &[0x45; 20], 20);
    f.truncate(f.len() - 5);
    let mut r = CaptureReader::from_vec(f).expect("pcap recognised");
    let (pkts, err) = read_all(&mut r);
    assert_eq!(pkts.len(), 1);
    assert_eq!(
        err,
        Some(CaptureError::Truncated {
            offset: 24 + 16 + 20
        })
    );
    // After the error the reader stays finished.
    assert!(matches!(r.next_packet(), Ok(None)));
}

#[test]
fn pcap_absurd_record_length_is_corrupt() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 1);
    f.extend(1u32.to_le_bytes());
    f.extend(0u32.to_le_bytes());
    f.extend(0x7fff_ffffu32.to_le_bytes());
    f.extend(0x7fff_ffffu32.to_le_bytes());
    let mut r = CaptureReader::from_vec(f).expect("pcap recognised");
    assert!(matches!(
        r.next_packet(),
        Err(CaptureError::Corrupt { offset: 24, .. })
    ));
}

#[test]
fn not_a_capture() {
    assert_eq!(
        CaptureReader::from_vec(b"hello world, not a capture".to_vec()).err(),
        Some(CaptureError::NotACapture)
    );
    assert_eq!(
        CaptureReader::from_vec(Vec::new()).err(),
        Some(CaptureError::NotACapture)
    );
}

fn block(big_endian: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while body.len() % 4 != 0 {
        body.push(0);
    }
    let len = (body.len() + 12) as u32;
    let enc = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let mut v = Vec::new();
    v.extend(enc(kind));
    v.extend(enc(len));
    v.extend(body);
    v.extend(enc(len));
    v
}

fn shb(big_endian: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(if big_endian {
        0x1A2B_3C4Du32.to_be_bytes()
    } else {
        0x1A2B_3C4Du32.to_le_bytes()
    });
    body.extend([0, 1, 0, 0]);
    body.extend((-1i64).to_le_bytes());
    block(big_endian, 0x0A0D_0D0A, &body)
}

fn idb(big_endian: bool, link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let e16 = |x: u16| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let e32 = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    body.extend(e16(link));
    body.extend(e16(0));
    body.extend(e32(262_144));
    if let Some(r) = tsresol {
        body.extend(e16(9));
        body.extend(e16(1));
        body.extend([r, 0, 0, 0]);
        body.extend(e16(0));
        body.extend(e16(0));
    }
    block(big_endian, 1, &body)
}

fn epb(big_endian: bool, iface: u32, ts: u64, data: &[u8], wire: u32) -> Vec<u8> {
    let e32 = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let mut body = Vec::new();
    body.extend(e32(iface));
    body.extend(e32((ts >> 32) as u32));
    body.extend(e32(ts as u32));
    body.extend(e32(data.len() as u32));
    body.extend(e32(wire));
    body.extend_from_slice(data);
    block(big_endian, 6, &body)
}

#[test]
fn pcapng_sections_interfaces_and_resolutions() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None)); // microseconds
    f.extend(idb(false, 101, Some(9))); // nanoseconds
    f.extend(block(false, 5, &[0; 16])); // interface statistics: skipped
    f.extend(epb(false, 0, 1_500_000, &[0xAA; 3], 64));
    f.extend(epb(false, 1, 2_000_000_123, &[0x45; 2], 2));
    // A second section, big-endian, forgets the first section's interfaces.
    f.extend(shb(true));
    f.extend(idb(true, 113, Some(3))); // milliseconds
    f.extend(epb(true, 0, 7, &[9], 1));
    let mut r = CaptureReader::from_vec(f).expect("pcapng recognised");
    assert_eq!(r.format_name(), "pcapng");
    let (pkts, err) = read_all(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        pkts,
        vec![
            (1_500_000_000, LinkType::ETHERNET, vec![0xAA; 3], 64),
            (2_000_000_123, LinkType::RAW, vec![0x45; 2], 2),
            (7_000_000, LinkType::LINUX_SLL, vec![9], 1),
        ]
    );
}

#[test]
fn pcapng_packet_of_undescribed_interface_is_kept_with_unknown_link() {
    let mut f = shb(false);
    f.extend(epb(false, 3, 0, &[1, 2], 2));
    let mut r = CaptureReader::from_vec(f).expect("pcapng recognised");
    let (pkts, err) = read_all(&mut r);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].1, LinkType(u32::MAX));
}

#[test]
fn pcapng_bad_block_length_is_corrupt_and_truncation_is_reported() {
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    let good_len = f.len();
    f.extend(epb(false, 0, 0, &[1; 10], 10));
    let mut cut = f.clone();
    cut.truncate(good_len + 8);
    let mut r = CaptureReader::from_vec(cut).expect("pcapng recognised");
    assert_eq!(
        read_all(&mut r).1,
        Some(CaptureError::Truncated {
            offset: good_len as u64
        })
    );
    let mut bad = f;
    bad[good_len + 4..good_len + 8].copy_from_slice(&7u32.to_le_bytes());
    let mut r = CaptureReader::from_vec(bad).expect("pcapng recognised");
    assert!(matches!(
        read_all(&mut r).1,
        Some(CaptureError::Corrupt { .. })
    ));
}

#[test]
fn link_type_names_round_trip() {
    for n in [0u32, 1, 9, 101, 104, 108, 113, 127, 192, 228, 229, 276] {
        let l = LinkType(n);
        assert_eq!(LinkType::parse(l.name()).map(|p| p.name()), Some(l.name()));
    }
    assert_eq!(LinkType::parse("1"), Some(LinkType::ETHERNET));
    assert_eq!(LinkType::parse("nonsense"), None);
}

/// Every chunk size gives the packets and the error that reading the bytes whole gives:
/// records straddling the buffer's end are joined, offsets stay file offsets.
fn same_when_streamed(file: &[u8]) {
    let whole = read_all(&mut CaptureReader::from_vec(file.to_vec()).expect("recognised"));
    for chunk in [1, 2, 3, 7, 16, 17, 64, 100, 4096] {
        let cursor = std::io::Cursor::new(file.to_vec());
        let mut r = CaptureReader::from_read(Box::new(cursor), Some(file.len() as u64), chunk)
            .expect("recognised");
        assert_eq!(read_all(&mut r), whole, "chunk {chunk}");
        assert!(matches!(r.next_packet(), Ok(None)));
        if whole.1.is_none() {
            assert_eq!(r.progress(), (file.len() as u64, file.len() as u64));
        }
        for max_frames in [1, 3, 1000] {
            let cursor = std::io::Cursor::new(file.to_vec());
            let mut r = CaptureReader::from_read(Box::new(cursor), Some(file.len() as u64), chunk)
                .expect("recognised");
            assert_eq!(
                read_chunks(&mut r, max_frames),
                whole,
                "chunk {chunk}, {max_frames} frames"
            );
        }
    }
    for max_frames in [1, 2, 1000] {
        let mut r = CaptureReader::from_vec(file.to_vec()).expect("recognised");
        assert_eq!(
            read_chunks(&mut r, max_frames),
            whole,
            "in memory, {max_frames} frames"
        );
    }
}

/// Reads with [`CaptureReader::next_chunk`], reusing the chunk as a caller would; also checks
/// that a chunk's packets stay intact while the reader goes on (their buffer is the chunk's).
fn read_chunks(r: &mut CaptureReader, max_frames: usize) -> (Packets, Option<CaptureError>) {
    let mut out = Vec::new();
    let mut chunk = Chunk::default();
    let mut previous = Chunk::default();
    let mut previous_packets = Packets::new();
    let packets = |c: &Chunk| -> Packets {
        c.frames
            .iter()
            .map(|f| {
                let p = c.packet(f);
                (p.ts_ns, p.link_type, p.data.to_vec(), p.wire_len)
            })
            .collect()
    };
    loop {
        let res = r.next_chunk(&mut chunk, max_frames);
        // The chunk before is still whole while the reader goes on: its buffer is its own.
        assert_eq!(packets(&previous), previous_packets);
        match res {
            Ok(true) => {
                assert!(chunk.frames.len() <= max_frames);
                previous_packets = packets(&chunk);
                out.extend(previous_packets.iter().cloned());
                // Handed back for reuse one call later, as a pipeline would.
                std::mem::swap(&mut chunk, &mut previous);
            }
            Ok(false) => return (out, None),
            Err(e) => {
                assert!(matches!(r.next_chunk(&mut chunk, max_frames), Ok(false)));
                return (out, Some(e));
            }
        }
    }
}

#[test]
fn streamed_pcap_records_straddle_chunks() {
    let mut f = pcap_header(0xa1b2_c3d4, false, 101);
    for i in 0..20u8 {
        pcap_record(
            &mut f,
            false,
            u32::from(i),
            0,
            &vec![i; usize::from(i) * 7],
            1500,
        );
    }
    same_when_streamed(&f);
    // Truncated in a record's header, then in its data.
    same_when_streamed(&f[..f.len() - 140]);
    same_when_streamed(&f[..f.len() - 5]);
    // A record length beyond any bound is reported as damage, not read into memory.
    let mut bad = pcap_header(0xa1b2_c3d4, true, 1);
    pcap_record(&mut bad, true, 1, 0, &[1; 30], 30);
    let at = bad.len();
    pcap_record(&mut bad, true, 2, 0, &[2; 30], 30);
    bad[at + 8..at + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    same_when_streamed(&bad);
}

/// Chunks read records in a loop of their own: every pcap variant (both byte orders, micro-
/// and nanoseconds, the 24-byte record headers of the modified format, a wire length below
/// the captured one) gives the packets that reading them one by one gives, whole and cut.
#[test]
fn chunks_read_every_pcap_variant_as_packets_do() {
    for big_endian in [false, true] {
        for magic in [0xa1b2_c3d4u32, 0xa1b2_3c4d, 0xa1b2_cd34] {
            let mut f = pcap_header(magic, big_endian, 1);
            for i in 0..30u8 {
                let wire = if i % 5 == 0 { 3 } else { 1500 };
                pcap_record(
                    &mut f,
                    big_endian,
                    7 + u32::from(i),
                    999 * u32::from(i),
                    &vec![i; usize::from(i) * 11],
                    wire,
                );
                if magic == 0xa1b2_cd34 {
                    // The modified format's interface index, protocol and packet type.
                    let header_at = f.len() - usize::from(i) * 11 - 16;
                    f.splice(header_at + 16..header_at + 16, [0, 0, 0, 2, 0, 8, 4, 0]);
                }
            }
            let (packets, error) =
                read_all(&mut CaptureReader::from_vec(f.clone()).expect("recognised"));
            assert!(
                error.is_none() && packets.len() == 30,
                "{magic:x} {big_endian}"
            );
            assert_eq!(
                packets[5].3, 55,
                "wire length below the captured one is raised to it"
            );
            same_when_streamed(&f);
            same_when_streamed(&f[..f.len() - 100]);
        }
    }
}

#[test]
fn streamed_pcapng_blocks_straddle_chunks() {
    let mut f = shb(false);
    f.extend(idb(false, 1, Some(9)));
    for i in 0..10u8 {
        f.extend(epb(
            false,
            0,
            u64::from(i) * 1000,
            &vec![i; usize::from(i) * 13],
            900,
        ));
    }
    // A second section in the other byte order.
    f.extend(shb(true));
    f.extend(idb(true, 101, None));
    f.extend(epb(true, 0, 5, &[9; 33], 33));
    same_when_streamed(&f);
    same_when_streamed(&f[..f.len() - 3]);
    same_when_streamed(&f[..f.len() - 30]);
}
