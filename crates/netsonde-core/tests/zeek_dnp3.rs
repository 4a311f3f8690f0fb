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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netsonde_core::analysis::process_file;
use netsonde_core::metadata::Event;
use netsonde_core::record::{FlowRecord, MetaValue};
use netsonde_core::{Engine, EngineOptions};

fn corpus() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("NETSONDE_ZEEK_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain([here.join("../../../shared/corpus/zeek")])
        .find(|p| p.join("index.jsonl").is_file())
}

/// Just enough JSON for Zeek's expected logs.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn list(&self) -> &[Json] {
        match self {
            Json::List(l) => l,
            _ => &[],
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn num(&self) -> Option<u64> {
        match self {
            Json::Num(n) => Some(*n as u64),
            _ => None,
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }
    fn peek(&mut self) -> u8 {
        self.skip_ws();
        self.s.get(self.at).copied().unwrap_or(0)
    }
    fn eat(&mut self, b: u8) {
        assert_eq!(
            self.peek(),
            b,
            "JSON: expected {:?} at {}",
            b as char,
            self.at
        );
        self.at += 1;
    }
    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.at).expect("JSON: unterminated string");
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = *self.s.get(self.at).expect("JSON: escape");
                    self.at += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.s.get(self.at..self.at + 4).expect("JSON: \\u escape");
                            let hex = std::str::from_utf8(hex).expect("JSON: hex");
                            self.at += 4;
                            let c =
                                char::from_u32(u32::from_str_radix(hex, 16).expect("JSON: hex"))
                                    .unwrap_or('\u{fffd}');
                            out.extend(c.to_string().bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out).expect("JSON: UTF-8")
    }
    fn value(&mut self) -> Json {
        match self.peek() {
            b'{' => {
                self.eat(b'{');
                let mut o = Vec::new();
                while self.peek() != b'}' {
                    let k = self.string();
                    self.eat(b':');
                    o.push((k, self.value()));
                    if self.peek() == b',' {
                        self.at += 1;
                    }
                }
                self.eat(b'}');
                Json::Obj(o)
            }
            b'[' => {
                self.eat(b'[');
                let mut l = Vec::new();
                while self.peek() != b']' {
                    l.push(self.value());
                    if self.peek() == b',' {
                        self.at += 1;
                    }
                }
                self.eat(b']');
                Json::List(l)
            }
            b'"' => Json::Str(self.string()),
            _ => {
                let start = self.at;
                while self
                    .s
                    .get(self.at)
                    .is_some_and(|b| !b",}] \n\r\t".contains(b))
                {
                    self.at += 1;
                }
                let word = self.s.get(start..self.at).unwrap_or_default();
                match std::str::from_utf8(word).expect("JSON: UTF-8") {
                    "null" => Json::Null,
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    n => Json::Num(n.parse().expect("JSON: number")),
                }
            }
        }
    }
}

fn parse_json(text: &str) -> Json {
    Reader {
        s: text.as_bytes(),
        at: 0,
    }
    .value()
}

/// A connection as Zeek names it: originator and responder address and port.
type Conn = (String, u16, String, u16);

/// One dnp3.log record: request and reply function code names and IIN.
type Dnp3Record = (Option<String>, Option<String>, Option<u64>);

fn conn_of(r: &Json) -> Conn {
    let s = |k: &str| r.get(k).and_then(Json::str).unwrap_or_default().to_string();
    let p = |k: &str| r.get(k).and_then(Json::num).unwrap_or_default() as u16;
    (
        s("id.orig_h"),
        p("id.orig_p"),
        s("id.resp_h"),
        p("id.resp_p"),
    )
}

/// Zeek's dnp3.log records per connection, and the connections conn.log says are DNP3.
fn expected(path: &Path) -> (BTreeMap<Conn, Vec<Dnp3Record>>, Vec<Conn>) {
    let doc = parse_json(&std::fs::read_to_string(path).expect("readable"));
    let mut records: BTreeMap<Conn, Vec<Dnp3Record>> = BTreeMap::new();
    let mut services = Vec::new();
    // The traces each come with one test; should one have several, the first decides.
    let test = doc
        .get("tests")
        .and_then(|t| t.list().first())
        .expect("a test");
    let logs = test.get("logs").expect("logs");
    for r in logs
        .get("dnp3")
        .and_then(|l| l.get("records"))
        .map_or(&[][..], Json::list)
    {
        let text = |k: &str| r.get(k).and_then(Json::str).map(str::to_string);
        records.entry(conn_of(r)).or_default().push((
            text("fc_request"),
            text("fc_reply"),
            r.get("iin").and_then(Json::num),
        ));
    }
    for r in logs
        .get("conn")
        .and_then(|l| l.get("records"))
        .map_or(&[][..], Json::list)
    {
        let service = r.get("service").and_then(Json::str).unwrap_or_default();
        if service.split(',').any(|s| s == "dnp3") {
            services.push(conn_of(r));
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
    let Some(dir) = corpus() else {
        eprintln!("Zeek corpus absent: skipped");
        return;
    };
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("pcap"))
        .expect("pcap folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("dnp3__"))
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no DNP3 traces in {}", dir.display());
    let (mut conns, mut classified) = (0, 0);
    let (mut codes, mut codes_matched) = (0, 0);
    let mut failures = Vec::new();
    for pcap in &names {
        let name = pcap
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let json = dir.join("expected").join(format!("{name}.json"));
        if !json.is_file() {
            continue;
        }
        let (zeek, services) = expected(&json);
        let mut engine = Engine::new(EngineOptions::default());
        engine.subscribe("dnp3.request").expect("declared");
        engine.subscribe("dnp3.response").expect("declared");
        let mut records = Vec::new();
        let warning = process_file(&mut engine, pcap, &mut records).expect("readable capture");
        assert_eq!(warning, None, "{name}");
        engine.flush(&mut records);
        let events = engine.take_events();
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
