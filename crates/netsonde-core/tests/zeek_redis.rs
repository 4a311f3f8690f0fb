//! Redis against Zeek's logs: the Zeek test-suite traces of Redis (`redis__*.pcap`, and
//! `pop3__redis-50-pings.pcap`, Redis traffic that Zeek's POP3 test feeds to the POP3
//! analyser) run through the engine. Every connection Zeek's `redis.log` has commands for
//! must be classified "Redis"; netsonde's `redis.command` events must name Zeek's commands,
//! in order, with Zeek's keys; and its `redis.reply` events, in order, must answer the
//! commands Zeek logs a `success` for, with an error exactly where Zeek's is false.
//!
//! Differences accepted, each for a stated reason:
//! - Zeek logs a command without a name (`cmd.name` unset) once more than five commands
//!   await a reply (its pipelining limit, `Redis_excessive_pipelining` in weird.log):
//!   there any name of ours is accepted, but the number of commands must still agree.
//! - Zeek fills `cmd.key` for the commands its analyser knows (GET, SET, ...); netsonde names
//!   the key of more commands (XADD, ...): keys are compared where Zeek has one.
//! - Tests whose baseline is not `redis.log` (`redis-smaller.log`) log values cut to a few
//!   characters: there Zeek's key must be the start of ours.
//!
//! Skipped when the shared corpus is absent (`NETSONDE_ZEEK_CORPUS` may point to it).

mod common;

use std::collections::HashMap;

use common::{expected, run, traces, zeek_corpus};
use netsonde_core::metadata::Event;
use netsonde_core::record::{FlowRecord, MetaValue};
use serde_json::Value;

const EVENTS: &[&str] = &["redis.command", "redis.reply"];

/// A connection's ports, client first (the traces are on the loopback: addresses alike).
type Conn = (u16, u16);

/// One command as Zeek logged it: name and key when set.
#[derive(Debug)]
struct ZeekCmd {
    name: Option<String>,
    key: Option<String>,
    /// Whether the reply was not an error; unset when no reply answered the command.
    success: Option<bool>,
    /// The baseline cuts values (see the module comment).
    cut: bool,
}

fn text(e: &Event, attr: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(n, _)| *n == attr)
        .and_then(|(_, v)| match v {
            MetaValue::Str(s) => Some(s.clone()),
            _ => None,
        })
}

/// Zeek's Redis commands per connection, in log order.
fn zeek_commands(expected: &Value) -> HashMap<Conn, Vec<ZeekCmd>> {
    let mut by_conn: HashMap<Conn, Vec<ZeekCmd>> = HashMap::new();
    let tests = expected["tests"].as_array().expect("tests");
    // The first test that logs Redis (the traces have one each).
    let Some(log) = tests.iter().find_map(|t| t["logs"].get("redis")) else {
        return by_conn;
    };
    let cut = log["baseline_file"].as_str() != Some("redis.log");
    for r in log["records"].as_array().expect("records") {
        let port = |f: &str| r[f].as_u64().expect("port") as u16;
        let s = |f: &str| r[f].as_str().map(str::to_string);
        by_conn
            .entry((port("id.orig_p"), port("id.resp_p")))
            .or_default()
            .push(ZeekCmd {
                name: s("cmd.name"),
                key: s("cmd.key"),
                success: r["success"].as_bool(),
                cut,
            });
    }
    by_conn
}

#[test]
fn redis_commands_agree_with_zeek() {
    let Some(dir) = zeek_corpus() else {
        eprintln!("shared corpus absent: skipped");
        return;
    };
    let names = traces(&dir, "redis__");
    assert!(names.len() >= 9, "the Redis traces: {names:?}");
    let (mut conns, mut classified, mut commands, mut matched) = (0, 0, 0, 0);
    let (mut replies, mut replies_matched) = (0, 0);
    let mut problems = Vec::new();
    for name in &names {
        let zeek = zeek_commands(&expected(&dir, name).expect("expected log"));
        let (records, events) = run(&dir.join("pcap").join(name), EVENTS);
        let mut zeek: Vec<_> = zeek.into_iter().collect();
        zeek.sort_by_key(|(conn, _)| *conn);
        for (conn, want) in &zeek {
            conns += 1;
            commands += want.len();
            let Some(rec) = records.iter().find(|r| (r.src_port, r.dst_port) == *conn) else {
                problems.push(format!("{name} {conn:?}: no flow"));
                continue;
            };
            if rec.application_name == "Redis" {
                classified += 1;
            } else {
                problems.push(format!("{name} {conn:?}: {}", rec.application_name));
            }
            let got: Vec<(String, Option<String>)> = events
                .iter()
                .filter(|e| e.flow_id == rec.id && e.name == "redis.command")
                .map(|e| {
                    (
                        text(e, "redis.command").unwrap_or_default(),
                        text(e, "redis.key"),
                    )
                })
                .collect();
            if got.len() != want.len() {
                problems.push(format!(
                    "{name} {conn:?}: {} commands, Zeek {}: {got:?} vs {want:?}",
                    got.len(),
                    want.len()
                ));
            }
            for ((got_name, got_key), z) in got.iter().zip(want) {
                let name_ok = z
                    .name
                    .as_ref()
                    .is_none_or(|n| n.eq_ignore_ascii_case(got_name));
                let ours = got_key.as_deref().unwrap_or_default();
                let key_ok = z
                    .key
                    .as_ref()
                    .is_none_or(|k| ours == k.as_str() || (z.cut && ours.starts_with(k.as_str())));
                if name_ok && key_ok {
                    matched += 1;
                } else {
                    problems.push(format!(
                        "{name} {conn:?}: ({got_name}, {got_key:?}) vs Zeek's {z:?}"
                    ));
                }
            }
            // Replies, in order: the commands Zeek saw answered, and whether with an error.
            let answered: Vec<&ZeekCmd> = want.iter().filter(|z| z.success.is_some()).collect();
            let ours: Vec<(Option<String>, bool)> = events
                .iter()
                .filter(|e| e.flow_id == rec.id && e.name == "redis.reply")
                .map(|e| {
                    let ok = text(e, "redis.reply_type").as_deref() != Some("error");
                    (text(e, "redis.command"), ok)
                })
                .collect();
            replies += answered.len();
            if ours.len() != answered.len() {
                problems.push(format!(
                    "{name} {conn:?}: {} replies, Zeek {}: {ours:?} vs {answered:?}",
                    ours.len(),
                    answered.len()
                ));
            }
            for ((cmd, ok), z) in ours.iter().zip(&answered) {
                let name_ok = z
                    .name
                    .as_ref()
                    .is_none_or(|n| cmd.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(n)));
                if name_ok && z.success == Some(*ok) {
                    replies_matched += 1;
                } else {
                    problems.push(format!("{name} {conn:?}: reply ({cmd:?}, {ok}) vs {z:?}"));
                }
            }
        }
    }
    eprintln!(
        "Zeek redis.log: {classified}/{conns} connections classified Redis, \
         {matched}/{commands} commands matched, {replies_matched}/{replies} replies matched"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Zeek's POP3 test over Redis traffic (AUTH, two CLIENT SETINFO, 50 PINGs and QUIT, each
/// answered): its conn.log has no service (only the POP3 analyser was loaded, and it gave
/// up on the flow); netsonde names it Redis and pairs every reply with its command.
#[test]
fn fifty_pings_are_redis_not_pop3() {
    let Some(dir) = zeek_corpus() else {
        eprintln!("shared corpus absent: skipped");
        return;
    };
    let (records, events) = run(&dir.join("pcap").join("pop3__redis-50-pings.pcap"), EVENTS);
    let tcp: Vec<&FlowRecord> = records.iter().filter(|r| r.protocol == 6).collect();
    let [rec] = tcp.as_slice() else {
        panic!("one TCP connection: {}", tcp.len());
    };
    assert_eq!(rec.application_name, "Redis");
    assert!(rec.risks.contains(&"clear_text_credentials"));
    let meta = |name: &str| {
        rec.metadata
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| format!("{v:?}"))
    };
    assert_eq!(meta("redis.auth").as_deref(), Some("Str(\"ok\")"));
    let commands: Vec<String> = events
        .iter()
        .filter(|e| e.name == "redis.command")
        .filter_map(|e| text(e, "redis.command"))
        .collect();
    let replies: Vec<String> = events
        .iter()
        .filter(|e| e.name == "redis.reply")
        .filter_map(|e| text(e, "redis.command"))
        .collect();
    eprintln!(
        "pop3__redis-50-pings: {} commands, {} replies paired",
        commands.len(),
        replies.len()
    );
    assert_eq!(commands.len(), 54);
    assert_eq!(commands.iter().filter(|c| *c == "PING").count(), 50);
    assert_eq!(
        replies, commands,
        "each reply answers its command, in order"
    );
}
