//! pcap and pcapng readers: any bytes must give packets then Ok(None) or an error, never a
//! panic, and every packet must lie within the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::CaptureReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_vec(data.to_vec()) else { return };
    let mut total = 0usize;
    while let Ok(Some(pkt)) = reader.next_packet() {
        total += pkt.data.len();
        assert!(pkt.wire_len as usize >= pkt.data.len());
    }
    assert!(total <= data.len());
});
