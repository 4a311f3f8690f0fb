//! The protocol parsers' pure entry points, on arbitrary bytes: the first byte picks one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::protocols::{
    ber, bitcoin, bittorrent, ethereum, fix, ike, kerberos, ldap, lines, mqtt, smb, telnet,
    wireguard, zabbix,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, d)) = data.split_first() else { return };
    match selector % 18 {
        0 => drop(ethereum::discovery_v4(d)),
        1 => drop(ethereum::rlpx_handshake(d, selector & 0x80 != 0)),
        2 => drop(kerberos::parse(d)),
        3 => drop(ldap::message(d)),
        4 => drop(bittorrent::dht(d)),
        5 => drop(bittorrent::utp(d)),
        6 => drop(bittorrent::handshake(d)),
        7 => drop(fix::probe(d)),
        8 => drop(mqtt::parse_connect(d)),
        9 => drop(ike::header(d)),
        10 => drop(zabbix::header(d)),
        11 => drop(bitcoin::header(d)),
        12 => drop(wireguard::message_type(d)),
        13 => drop(smb::smb_version(d)),
        14 => drop(telnet::opens_with_negotiation(d)),
        15 => drop(lines::base64_decode(d)),
        16 => drop(ber::children(d).count()),
        _ => drop(lines::lines(d).count()),
    }
});
