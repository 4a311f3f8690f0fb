//! Numbers and bytes written as text without the formatting machinery: records write dozens
//! of numbers per flow and fingerprints hash hex strings, where `write!` costs several times
//! the digits themselves (a fifth of a TLS handshake's fingerprinting went to it).

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn digit(table: &[u8; 16], nibble: u8) -> char {
    char::from(
        table
            .get(usize::from(nibble & 0x0f))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// Appends a number in decimal.
pub fn push_decimal(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends bytes as lower-case hex, two digits each.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(digit(HEX_LOWER, b >> 4));
        out.push(digit(HEX_LOWER, b));
    }
}

/// Bytes as lower-case hex, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    push_hex(&mut s, bytes);
    s
}

/// Bytes as upper-case hex pairs joined by colons (`AB:CD:…`), as certificate
/// fingerprints are shown.
pub fn colon_hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, &b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(digit(HEX_UPPER, b >> 4));
        s.push(digit(HEX_UPPER, b));
    }
    s
}

/// Appends a 16-bit value as four lower-case hex digits.
pub fn push_hex4(out: &mut String, v: u16) {
    push_hex(out, &v.to_be_bytes());
}

/// Appends a 16-bit value in lower-case hex without leading zeros (`0` for zero), as IPv6
/// groups are written.
pub fn push_hex_short(out: &mut String, v: u16) {
    let mut started = false;
    for shift in [12u16, 8, 4, 0] {
        let nibble = ((v >> shift) & 0x0f) as u8;
        if nibble != 0 || started || shift == 0 {
            started = true;
            out.push(digit(HEX_LOWER, nibble));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_writer_agrees_with_the_formatting_machinery() {
        let mut cases: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 65535, u64::from(u32::MAX), u64::MAX];
        cases.extend((0..64).map(|i| 1u64 << i));
        for n in cases {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), want);
        let want: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(colon_hex_upper(&bytes), want.join(":"));
        assert_eq!(colon_hex_upper(&[]), "");
        for v in [
            0u16,
            1,
            0x0f,
            0x10,
            0xab,
            0x100,
            0x0a0b,
            0x1000,
            0xfffe,
            u16::MAX,
        ] {
            let (mut four, mut short) = (String::new(), String::new());
            push_hex4(&mut four, v);
            push_hex_short(&mut short, v);
            assert_eq!((four, short), (format!("{v:04x}"), format!("{v:x}")));
        }
    }
}
