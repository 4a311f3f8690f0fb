//! Automatic tank gauges (Veeder-Root TLS-300/350 and compatibles) answering the serial
//! command set over TCP (commonly port 10001): a command is SOH (0x01), a function letter
//! (`I` inquiry or `S` set in display format, `i`/`s` in computer format), a three-digit
//! function code and a two-digit tank or station number (`I20100`: in-tank inventory of all
//! tanks), then optional CR LF. The display-format reply repeats the command after SOH and
//! ends with ETX (0x03).

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static DISSECTOR: Dissector = Dissector {
    proto: id::ATG,
    transports: Transports::TCP,
    tcp_ports: &[10001],
    udp_ports: &[],
    inspect,
};

/// Whether a payload is one tank gauge command: SOH, function letter, five digits, then
/// nothing, CR LF, or (computer format) up to 32 more printable parameter bytes.
pub fn is_command(d: &[u8]) -> bool {
    let (Some(0x01), Some(f), Some(code)) = (d.first(), d.get(1), d.get(2..7)) else {
        return false;
    };
    if !matches!(f, b'I' | b'S' | b'i' | b's') || !code.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let rest = d.get(7..).unwrap_or_default();
    let rest = rest
        .strip_suffix(b"\r\n")
        .or_else(|| rest.strip_suffix(b"\n"))
        .unwrap_or(rest);
    rest.len() <= 32 && rest.iter().all(|&b| (0x20..0x7f).contains(&b))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.to_server() {
        if is_command(ins.data) {
            ins.detect(id::ATG);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    // The gauge answers; the command decides.
    if ins.dir_packets[0] == 0 {
        Verdict::Continue
    } else {
        Verdict::Exclude
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn inventory_command() {
        let mut c = Conv::tcp(&DISSECTOR, 3134, 10001);
        c.client(b"\x01I20100\r\n");
        assert_eq!(c.name(), "ATG");
        assert!(is_command(b"\x01i20100"));
        assert!(is_command(b"\x01S60200"));
        assert!(!is_command(b"\x01I201"));
        assert!(!is_command(b"\x01X20100\r\n"));
        assert!(!is_command(b"\x02I20100\r\n"));
        assert!(!is_command(b"\x01I2A100\r\n"));
        assert!(!is_command(b"\x01I20100\x00\xff"));
        let mut c = Conv::tcp(&DISSECTOR, 3134, 10001);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.name(), "Unknown");
    }
}
