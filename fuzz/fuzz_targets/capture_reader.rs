//! pcap and pcapng readers: any bytes must give packets then Ok(None) or an error, never a
//! panic, and every packet must lie within the input. Read in small chunks (the streaming
//! path files take), the same bytes must give the same packets and the same error, also when
//! read in chunks (the path of sharded analyses).
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::capture::Chunk;
use netsonde_core::{CaptureError, CaptureReader};

type Packets = Vec<(i64, u32, Vec<u8>, u32)>;

fn read_all(reader: &mut CaptureReader) -> (Packets, Option<CaptureError>) {
    let mut out = Vec::new();
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => out.push((p.ts_ns, p.link_type.0, p.data.to_vec(), p.wire_len)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn read_chunks(reader: &mut CaptureReader, max_frames: usize) -> (Packets, Option<CaptureError>) {
    let mut out = Vec::new();
    let mut chunk = Chunk::default();
    loop {
        match reader.next_chunk(&mut chunk, max_frames) {
            Ok(true) => out.extend(chunk.frames.iter().map(|f| {
                let p = chunk.packet(f);
                (p.ts_ns, p.link_type.0, p.data.to_vec(), p.wire_len)
            })),
            Ok(false) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_vec(data.to_vec()) else { return };
    let whole = read_all(&mut reader);
    let total: usize = whole.0.iter().map(|p| p.2.len()).sum();
    assert!(whole.0.iter().all(|p| p.3 as usize >= p.2.len()));
    assert!(total <= data.len());
    let chunk = 1 + data.first().copied().unwrap_or(0) as usize % 97;
    let cursor = std::io::Cursor::new(data.to_vec());
    let Ok(mut streamed) = CaptureReader::from_read(Box::new(cursor), None, chunk) else {
        panic!("recognised whole but not streamed");
    };
    assert_eq!(read_all(&mut streamed), whole);
    let cursor = std::io::Cursor::new(data.to_vec());
    let Ok(mut chunked) = CaptureReader::from_read(Box::new(cursor), None, chunk) else {
        panic!("recognised whole but not chunked");
    };
    assert_eq!(read_chunks(&mut chunked, 1 + chunk % 5), whole);
});
