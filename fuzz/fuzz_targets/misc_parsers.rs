//! The pure entry points of the small dissectors (OICQ … VNC), on arbitrary bytes: the
//! first byte picks one. None may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netsonde_core::protocols::{
    alicloud, amqp, lustre, nomachine, radmin, raft, rsh, thrift, avast, avast_securedns, collectd, crynet, dropbox, hislip, mining, monero,
    nat_pmp, nats, netflow, oicq, postgres, ripe_atlas, roughtime, sd_rtn, softether, syncthing,
    teamviewer, uftp, usenet, vnc, xiaomi, zug,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, d)) = data.split_first() else {
        return;
    };
    match selector % 37 {
        0 => drop(oicq::command(d)),
        1 => drop(sd_rtn::hello(d)),
        2 => drop(dropbox::is_discovery(d)),
        3 => drop(dropbox::is_bus_command(d)),
        4 => drop(avast_securedns::is_cert_exchange(d)),
        5 => drop(alicloud::header(d)),
        6 => drop(avast::message(d)),
        7 => drop(zug::is_zug(d)),
        8 => drop(crynet::is_request(d) || crynet::is_answer(d)),
        9 => drop(xiaomi::message(d)),
        10 => drop(ripe_atlas::is_probe(d)),
        11 => drop(syncthing::is_announcement(d)),
        12 => drop(roughtime::is_roughtime(d)),
        13 => drop(roughtime::map(d)),
        14 => drop(collectd::leading_parts(d)),
        15 => drop(nat_pmp::opcode(d)),
        16 => drop(monero::header(d)),
        17 => drop(mining::is_pool_request(d)),
        18 => drop(hislip::message(d)),
        19 => drop(uftp::function(d)),
        20 => drop(amqp::frame(d)),
        21 => drop(amqp::is_protocol_header(d)),
        22 => drop(teamviewer::is_tcp_command(d) || teamviewer::is_udp_packet(d)),
        23 => drop(softether::pack(d)),
        24 => drop(softether::is_address_answer(d)),
        25 => drop(usenet::greeting(d)),
        26 => drop(usenet::is_command(d)),
        27 => drop(nats::is_opening(d)),
        28 => drop(postgres::is_opening(d)),
        29 => drop(netflow::version(d)),
        30 => drop(thrift::message(d)),
        31 => drop(lustre::is_connect_request(d)),
        32 => drop(rsh::opening(d)),
        33 => drop(radmin::is_message(d)),
        34 => drop(nomachine::is_banner(d)),
        35 => drop(raft::handshake(d)),
        _ => drop(vnc::is_version(d)),
    }
});
