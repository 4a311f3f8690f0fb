//! Live capture on the loopback interface, with real sockets talking over it: an HTTP
//! exchange between a `TcpListener` and a client, and UDP datagrams to a bound socket.
//!
//! Needs root or CAP_NET_RAW; without them the tests say so and pass without checking.
#![cfg(target_os = "linux")]
#![allow(clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use netsonde_core::capture::live::{LiveCapture, LiveOptions};
use netsonde_core::flow::Expiration;
use netsonde_core::{Engine, EngineOptions, FlowRecord, LinkType};

/// The tests take turns: each counts the frames of the loopback, which the others' sockets
/// would add to.
static LOOPBACK: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    LOOPBACK.lock().unwrap_or_else(|e| e.into_inner())
}

fn open(interface: &str) -> Option<LiveCapture> {
    match LiveCapture::open(interface, &LiveOptions::default()) {
        Ok(c) => Some(c),
        Err(e) if e.permission => {
            eprintln!("skipped: {e}");
            None
        }
        Err(e) => panic!("cannot capture on {interface}: {e}"),
    }
}

/// Reads the capture into the engine until `done` says so or `limit` passes.
fn read_until(
    engine: &mut Engine,
    capture: &mut LiveCapture,
    limit: Duration,
    done: &mut dyn FnMut(&[FlowRecord]) -> bool,
) -> Vec<FlowRecord> {
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < limit && !done(&out) {
        engine
            .read_live(
                capture,
                256,
                Duration::from_millis(50),
                &mut || true,
                &mut out,
            )
            .expect("the capture reads");
    }
    out
}

/// Sends five 8-byte UDP datagrams over the loopback; returns their (source, destination)
/// ports.
fn send_five_datagrams() -> (u16, u16) {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..5u8 {
        sender
            .send_to(
                &[b'n', b's', i, 0, 0, 0, 0, 0],
                receiver.local_addr().unwrap(),
            )
            .unwrap();
    }
    (
        sender.local_addr().unwrap().port(),
        receiver.local_addr().unwrap().port(),
    )
}

fn port_pair(r: &FlowRecord) -> (u16, u16) {
    (r.src_port, r.dst_port)
}

#[test]
fn an_http_exchange_over_the_loopback_is_one_classified_flow_with_its_metadata() {
    let _turn = take_turn();
    let Some(mut capture) = open("lo") else {
        return;
    };
    assert_eq!(capture.link_type(), LinkType::ETHERNET);
    let mut engine = Engine::new(EngineOptions::default());
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = server.local_addr().unwrap().port();
    let serving = std::thread::spawn(move || {
        let (mut conn, _) = server.accept().unwrap();
        let mut request = [0u8; 1024];
        let mut got = 0;
        while !request[..got].windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut request[got..]).unwrap();
            assert!(n > 0, "the client closed before its request ended");
            got += n;
        }
        conn.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
        )
        .unwrap();
    });
    let mut client = TcpStream::connect(("127.0.0.1", server_port)).unwrap();
    let client_port = client.local_addr().unwrap().port();
    client
        .write_all(
            b"GET /live HTTP/1.1\r\nHost: live.netsonde.test\r\nUser-Agent: netsonde-live-test\r\n\r\n",
        )
        .unwrap();
    let mut response = Vec::new();
    client.read_to_end(&mut response).unwrap();
    serving.join().unwrap();
    drop(client);
    assert!(response.ends_with(b"ok"));

    // The connection is over; what the kernel captured is in the ring (or will be within
    // its block timeout). Read until its packets stop coming, then end the flows.
    let mut records = read_until(
        &mut engine,
        &mut capture,
        Duration::from_millis(500),
        &mut |_| false,
    );
    engine.flush(&mut records);
    let ours: Vec<&FlowRecord> = records
        .iter()
        .filter(|r| port_pair(r) == (client_port, server_port))
        .collect();
    assert_eq!(ours.len(), 1, "one flow for the connection: {ours:?}");
    let flow = ours[0];
    assert_eq!(flow.application_name, "HTTP");
    assert_eq!(
        flow.requested_server_name.as_deref(),
        Some("live.netsonde.test")
    );
    assert_eq!(flow.user_agent.as_deref(), Some("netsonde-live-test"));
    assert_eq!(flow.content_type.as_deref(), Some("text/plain"));
    // SYN, the request, FIN at least from the client; SYN-ACK, the response, FIN back.
    assert!(
        flow.src2dst_packets >= 3 && flow.dst2src_packets >= 3,
        "{flow:?}"
    );
    assert!(
        flow.first_seen_ns > 1_600_000_000_000_000_000,
        "timestamps are the kernel's clock"
    );
    let (received, dropped) = capture.counts();
    assert!(received >= flow.src2dst_packets + flow.dst2src_packets);
    assert_eq!(dropped, 0);
    assert_eq!(
        received,
        engine.stats().frames,
        "every frame received was read, once"
    );
}

#[test]
fn loopback_frames_count_once_and_a_quiet_link_still_times_flows_out() {
    let _turn = take_turn();
    let Some(capture) = open("lo") else {
        return;
    };
    datagrams_count_once_and_time_out(capture, 14);
}

#[test]
fn the_any_interface_gives_cooked_frames_of_every_interface() {
    let _turn = take_turn();
    let Some(capture) = open("any") else {
        return;
    };
    assert_eq!(capture.link_type(), LinkType::LINUX_SLL);
    datagrams_count_once_and_time_out(capture, 16);
}

/// Five datagrams over the loopback, read on `capture`, whose frames have a link header of
/// `link_header` bytes.
fn datagrams_count_once_and_time_out(mut capture: LiveCapture, link_header: u64) {
    let mut engine = Engine::new(EngineOptions {
        idle_timeout_ms: 600,
        ..EngineOptions::default()
    });
    let pair = send_five_datagrams();
    // No flush: the flow must end by itself once the link has been quiet for its timeout,
    // though no later packet comes to move the engine's clock.
    let records = read_until(
        &mut engine,
        &mut capture,
        Duration::from_secs(5),
        &mut |out| out.iter().any(|r| port_pair(r) == pair),
    );
    let ours: Vec<&FlowRecord> = records.iter().filter(|r| port_pair(r) == pair).collect();
    assert_eq!(ours.len(), 1, "the flow timed out: {records:?}");
    let flow = ours[0];
    assert_eq!(flow.expiration, Expiration::Idle);
    // Each datagram once: the loopback shows every frame as sent and as received.
    assert_eq!((flow.src2dst_packets, flow.dst2src_packets), (5, 0));
    assert_eq!(flow.src2dst_bytes, 5 * (link_header + 20 + 8 + 8));
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    let Err(e) = LiveCapture::open("netsonde-no-such0", &LiveOptions::default()) else {
        panic!("opened an interface that does not exist");
    };
    assert!(e.no_such_interface, "{e:?}");
    assert_eq!(
        e.to_string(),
        "netsonde-no-such0: no such network interface"
    );
}

#[test]
fn two_captures_on_several_workers_each_see_every_frame() {
    use netsonde_core::live::LiveWorkers;
    let _turn = take_turn();
    let engine = Engine::new(EngineOptions::default());
    let start = |workers| LiveWorkers::start("lo", &LiveOptions::default(), &engine, workers, None);
    let (mut first, mut second) = match (start(2), start(3)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) if e.permission => {
            eprintln!("skipped: {e}");
            return;
        }
        (Err(e), _) | (_, Err(e)) => panic!("cannot capture on lo: {e}"),
    };
    let pair = send_five_datagrams();
    std::thread::sleep(Duration::from_millis(300));
    // Each capture's groups are its own: neither shares the other's frames.
    for workers in [&mut first, &mut second] {
        let mut records: Vec<FlowRecord> = Vec::new();
        while let Some(batch) = workers.next(Duration::from_millis(10)) {
            records.extend(batch.records);
        }
        for batch in workers.stop() {
            assert!(batch.error.is_none());
            records.extend(batch.records);
        }
        let ours: Vec<&FlowRecord> = records.iter().filter(|r| port_pair(r) == pair).collect();
        assert_eq!(ours.len(), 1, "{records:?}");
        assert_eq!(ours[0].src2dst_packets, 5);
        let ids: std::collections::HashSet<u64> = records.iter().map(|r| r.id).collect();
        assert_eq!(
            ids.len(),
            records.len(),
            "flow ids are unique across the workers"
        );
    }
}
