//! Every protocol parser entry point on arbitrary bytes: the first byte picks the parser,
//! the rest is its input. None may panic; what they return must stay within the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::protocols::{
    dhcp, dhcpv6, gnutella, netbios, nfs, ntp, radius, rtp, sip, slp, snmp, ssdp, ssh, stun,
    syslog,
};

fuzz_target!(|data: &[u8]| {
    let Some((&which, d)) = data.split_first() else { return };
    match which % 24 {
        0 => {
            if let Some(h) = slp::parse_header(d) {
                assert!(h.length <= d.len() && h.body <= h.length);
                let _ = slp::urls_v2(&d[..h.length], &h);
            }
        }
        1 => {
            let _ = gnutella::probe_tcp(d);
            let _ = gnutella::is_g2_udp(d);
            let _ = gnutella::is_udp_descriptor(d);
        }
        2 => {
            if let Some(m) = stun::parse(d) {
                assert!(m.len() <= d.len());
            }
        }
        3 => {
            let _ = stun::address(d, true, &[0u8; 12]);
            let _ = stun::address(d, false, &[]);
        }
        4 => {
            let _ = ssdp::parse(d);
        }
        5 => {
            let _ = netbios::parse_name_service(d);
        }
        6 => {
            let _ = netbios::parse_datagram(d);
        }
        7 => {
            if let Some((_, n)) = netbios::parse_session(d) {
                assert!(n >= 4);
            }
        }
        8 => {
            let _ = netbios::read_name(d, 0);
        }
        9 => {
            let _ = dhcp::parse(d);
        }
        10 => {
            let _ = dhcpv6::parse(d);
        }
        11 => {
            let _ = sip::start_line(d);
        }
        12 => {
            let _ = rtp::rtp_header(d);
            let _ = rtp::is_rtcp(d);
        }
        13 => {
            let _ = snmp::parse(d);
        }
        14 => {
            let _ = radius::parse(d);
        }
        15 => {
            let _ = syslog::priority(d);
        }
        16 => {
            let _ = ntp::parse(d);
        }
        17 => {
            if let Ok(Some((_, n))) = ssh::banner(d) {
                assert!(n <= d.len());
            }
        }
        18 => {
            if let Ok(Some((hash, n))) = ssh::kexinit_hassh(d, which & 0x80 != 0) {
                assert!(n <= d.len() && hash.len() == 32);
            }
        }
        19 => {
            let _ = nfs::parse_call(d);
        }
        _ => {}
    }
});
