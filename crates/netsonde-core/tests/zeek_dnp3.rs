//! DNP3 against Zeek: the DNP3 traces of Zeek's test suite (`../shared/corpus/zeek`,
//! `pcap/dnp3__*.pcap`) with the `dnp3.log` (and `conn.log`, where logged) that Zeek's
//! baselines expect. Checks that
//! - every connection Zeek logs DNP3 for (in `dnp3.log`, or `service` "dnp3" in `conn.log`)
//!   is classified "DNP3";
//! - the `dnp3.request` / `dnp3.response` events netsonde emits for it give Zeek's
//!   `dnp3.log` records: function code names of request and reply, and the IIN. Zeek writes
//!   one record per response, with the last request before it (a request answered by none
//!   overwritten by the next), and one for a request left unanswered at the end; the events
//!   are folded the same way here and the record lists compared, in order.
//!
//! Differences accepted: none. The function code names are Zeek's (which are the
//! standard's), and IIN is IIN1 × 256 + IIN2 as Zeek logs it.
//!
//! Skipped when the corpus is absent. It is looked for beside the repository
//! (`CARGO_MANIFEST_DIR/../../../shared/corpus/zeek`), or where `NETSONDE_ZEEK_CORPUS` says
//! (a worktree kept elsewhere than beside `shared`).

mod common;

use std::collections::BTreeMap;

use common::{expected, run, traces, zeek_corpus};
use netsonde_core::metadata::Event;
use netsonde_core::record::{FlowRecord, MetaValue};
use serde_json::Value;

/// A connection as Zeek names it: originator and responder address and port.
type Conn = (String, u16, String, u16);

/// One dnp3.log record: request and reply function code names and IIN.
type Dnp3Record = (Option<String>, Option<String>, Option<u64>);

fn conn_of(r: &Value) -> Conn {
    let s = |k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let p = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or_default() as u16;
    (
        s("id.orig_h"),
        p("id.orig_p"),
        s("id.resp_h"),
        p("id.resp_p"),
    )
}

/// Zeek's dnp3.log records per connection, and the connections conn.log says are DNP3.
fn zeek_records(doc: &Value) -> (BTreeMap<Conn, Vec<Dnp3Record>>, Vec<Conn>) {
    let mut records: BTreeMap<Conn, Vec<Dnp3Record>> = BTreeMap::new();
    let mut services = Vec::new();
    // The traces each come with one test; should one have several, the first decides.
    let logs = doc
        .get("tests")
        .and_then(|t| t.get(0))
        .and_then(|t| t.get("logs"));
    let list = |log: &str| {
        logs.and_then(|l| l.get(log)?.get("records")?.as_array().cloned())
            .unwrap_or_default()
    };
    for r in list("dnp3") {
        let text = |k: &str| r.get(k)?.as_str().map(str::to_string);
        records.entry(conn_of(&r)).or_default().push((
            text("fc_request"),
            text("fc_reply"),
            r.get("iin").and_then(Value::as_u64),
        ));
    }
    for r in list("conn") {
        let service = r.get("service").and_then(Value::as_str).unwrap_or_default();
        if service.split(',').any(|s| s == "dnp3") {
            services.push(conn_of(&r));
        }
    }
    (records, services)
}

fn ip_text(version: u8, ip: &[u8; 16]) -> String {
    if version == 4 {
        let [a, b, c, d, ..] = *ip;
        std::net::Ipv4Addr::new(a, b, c, d).to_string()
    } else {
        std::net::Ipv6Addr::from(*ip).to_string()
    }
}

/// The record of the flow between Zeek's two endpoints, whichever side netsonde calls the
/// client.
fn find<'a>(records: &'a [FlowRecord], c: &Conn) -> Option<&'a FlowRecord> {
    records.iter().find(|r| {
        let src = (ip_text(r.ip_version, &r.src_ip), r.src_port);
        let dst = (ip_text(r.ip_version, &r.dst_ip), r.dst_port);
        let (orig, resp) = ((c.0.clone(), c.1), (c.2.clone(), c.3));
        (src == orig && dst == resp) || (src == resp && dst == orig)
    })
}

/// The flow's events folded into dnp3.log records as Zeek writes them.
fn fold(events: &[Event], flow: u64) -> Vec<Dnp3Record> {
    let attr = |e: &Event, name: &str| e.attrs.iter().find(|(k, _)| *k == name).cloned();
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for e in events.iter().filter(|e| e.flow_id == flow) {
        let function = match attr(e, "dnp3.function") {
            Some((_, MetaValue::Str(s))) => s,
            other => panic!("event without a function code: {other:?}"),
        };
        match e.name {
            "dnp3.request" => pending = Some(function),
            "dnp3.response" => {
                let iin = match attr(e, "dnp3.iin") {
                    Some((_, MetaValue::Int(i))) => Some(i as u64),
                    _ => None,
                };
                out.push((pending.take(), Some(function), iin));
            }
            _ => {}
        }
    }
    if let Some(request) = pending {
        out.push((Some(request), None, None));
    }
    out
}

#[test]
fn dnp3_traces_agree_with_zeek() {
    let Some(dir) = zeek_corpus() else {
        eprintln!("Zeek corpus absent: skipped");
        return;
    };
    let names = traces(&dir, "dnp3__");
    assert!(!names.is_empty(), "no DNP3 traces in {}", dir.display());
    let (mut conns, mut classified) = (0, 0);
    let (mut codes, mut codes_matched) = (0, 0);
    let mut failures = Vec::new();
    for name in &names {
        let Some(doc) = expected(&dir, name) else {
            continue;
        };
        let (zeek, services) = zeek_records(&doc);
        let pcap = dir.join("pcap").join(name);
        let (records, events) = run(&pcap, &["dnp3.request", "dnp3.response"]);
        let mut all: Vec<&Conn> = zeek.keys().collect();
        all.extend(services.iter().filter(|c| !zeek.contains_key(*c)));
        for c in all {
            conns += 1;
            let Some(rec) = find(&records, c) else {
                failures.push(format!("{name} {c:?}: no flow"));
                continue;
            };
            if rec.application_name == "DNP3" {
                classified += 1;
            } else {
                failures.push(format!("{name} {c:?}: {}", rec.application_name));
            }
            let want = zeek.get(c).cloned().unwrap_or_default();
            let got = fold(&events, rec.id);
            // Two names per record (request and reply), counted where Zeek has them.
            let names_of = |r: &[Dnp3Record]| -> Vec<(usize, u8, String)> {
                r.iter()
                    .enumerate()
                    .flat_map(|(i, (q, a, _))| {
                        [(i, 0, q.clone()), (i, 1, a.clone())]
                            .into_iter()
                            .filter_map(|(i, k, n)| n.map(|n| (i, k, n)))
                    })
                    .collect()
            };
            let (w, g) = (names_of(&want), names_of(&got));
            codes += w.len();
            codes_matched += w.iter().filter(|x| g.contains(x)).count();
            if want != got {
                failures.push(format!(
                    "{name} {c:?}: records differ\n  zeek:     {want:?}\n  netsonde: {got:?}"
                ));
            }
        }
    }
    eprintln!(
        "DNP3 vs Zeek: {classified}/{conns} connections classified DNP3, \
         {codes_matched}/{codes} function codes matched"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(conns > 0 && codes > 0);
}
