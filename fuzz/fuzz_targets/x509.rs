//! The certificate reader fed arbitrary DER: nothing panics, times format.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::protocols::tls::x509;

fuzz_target!(|data: &[u8]| {
    if let Some(info) = x509::parse_certificate(data) {
        let _ = info.self_signed();
        if let Some(t) = info.not_before {
            let _ = x509::format_time(t);
        }
        if let Some(t) = info.not_after {
            let _ = x509::format_time(t);
        }
    }
});
