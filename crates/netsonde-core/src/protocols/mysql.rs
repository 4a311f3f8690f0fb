//! MySQL and MariaDB client/server protocol (TCP 3306). Every message is a packet: a 3-byte
//! little-endian length, a sequence number, then the payload. The server speaks first with
//! its greeting (protocol version 10: the server version, a connection id, the first part of
//! the scramble, then capabilities), or with an error packet when it refuses the client. The
//! client answers with its login (capabilities with PROTOCOL_41, 23 zero bytes, the user) or
//! asks for TLS first (the same head alone, with the SSL capability). After the login each
//! command is a packet numbered 0 (`COM_QUERY` and the query text, …); the server answers
//! with OK, an error, or a result set (a column count, column definitions, rows, an end).
//!
//! Confirmed by a greeting, an error packet opening the flow or a login. The server version,
//! user, schema, authentication plugin and login outcome are extracted; each command with
//! its answer is a `mysql.command` event (transactional DPI), as Zeek's mysql.log has them.

use std::collections::VecDeque;

use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::wire::{le16, le32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub SERVER_VERSION = "mysql.server_version", Str, Service, "Server version from the greeting";
    pub USER = "mysql.user", Str, Identifier, "User name of the login (or of the last COM_CHANGE_USER)";
    pub DATABASE = "mysql.database", Str, Usage, "Schema named at login or by COM_INIT_DB";
    pub AUTH_PLUGIN = "mysql.auth_plugin", Str, Security, "Authentication method the login used (the last one the server asked for)";
    pub LOGIN = "mysql.login", Str, Security, "Outcome of the login: success or failure";
    pub TLS = "mysql.tls", Int, Security, "1 when the client asked for TLS (SSLRequest)";
    pub COMMANDS = "mysql.commands", StrList, Usage, "Distinct commands the client sent, in order (login first)";
    pub ERROR = "mysql.error", Str, Security, "First error the server returned: its code and message";
    pub COMMAND = "mysql.command", Str, Usage, "A command's name as the protocol calls it (query, init_db, …; login), in mysql.command events";
    pub ARGUMENT = "mysql.argument", Str, Content, "A command's argument: the query text, schema, table or user (at most 1 KiB), in mysql.command events";
    pub SUCCESS = "mysql.success", Int, Performance, "1 when the server answered OK or with a result set, 0 for an error, in mysql.command events";
    pub ROWS = "mysql.rows", Int, Volume, "Rows of a result set, or rows an OK says were affected, in mysql.command events";
    pub RESPONSE = "mysql.response", Str, Content, "The server's error message, in mysql.command events";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[
    &SERVER_VERSION,
    &USER,
    &DATABASE,
    &AUTH_PLUGIN,
    &LOGIN,
    &TLS,
    &COMMANDS,
    &ERROR,
    &COMMAND,
    &ARGUMENT,
    &SUCCESS,
    &ROWS,
    &RESPONSE,
];

crate::events! {
    pub COMMAND_EVENT = "mysql.command", "Each command (the login first) with the server's answer", ["mysql.command", "mysql.argument", "mysql.success", "mysql.rows", "mysql.response"];
}

pub static EVENTS: &[&crate::metadata::EventSpec] = &[&COMMAND_EVENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MYSQL,
    transports: Transports::TCP,
    tcp_ports: &[3306],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 4;
const PROTOCOL_10: u8 = 0x0a;
const OK: u8 = 0x00;
const EOF: u8 = 0xfe;
const ERR: u8 = 0xff;
/// An EOF packet is shorter than this; an OK packet may begin with the same 0xfe byte.
const EOF_MAX_LEN: usize = 9;

const CLIENT_CONNECT_WITH_DB: u32 = 0x0000_0008;
const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
const CLIENT_SSL: u32 = 0x0000_0800;
const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;
const CLIENT_PLUGIN_AUTH_LENENC_DATA: u32 = 0x0020_0000;
const CLIENT_DEPRECATE_EOF: u32 = 0x0100_0000;
const CLIENT_QUERY_ATTRIBUTES: u32 = 0x0800_0000;

/// The head of a login or SSLRequest: capabilities, maximum packet size, character set, then
/// 23 reserved zero bytes.
const LOGIN_HEAD: usize = 32;
/// Text kept of an argument (query text, names).
const MAX_ARGUMENT: usize = 1024;
/// A packet longer than this is read for its head and skipped (the stream holds 64 KiB).
const MAX_WHOLE_PACKET: usize = 16 * 1024;
const MAX_COMMANDS: usize = 32;
/// Commands waiting for their answer (the protocol has one at a time; a client that
/// pipelines anyway is followed this far).
const MAX_PENDING: usize = 8;

/// The commands, numbered as the protocol numbers them, named as its `COM_` constants.
const COMMAND_NAMES: &[&str] = &[
    "sleep",
    "quit",
    "init_db",
    "query",
    "field_list",
    "create_db",
    "drop_db",
    "refresh",
    "shutdown",
    "statistics",
    "process_info",
    "connect",
    "process_kill",
    "debug",
    "ping",
    "time",
    "delayed_insert",
    "change_user",
    "binlog_dump",
    "table_dump",
    "connect_out",
    "register_slave",
    "stmt_prepare",
    "stmt_execute",
    "stmt_send_long_data",
    "stmt_close",
    "stmt_reset",
    "set_option",
    "stmt_fetch",
    "daemon",
    "binlog_dump_gtid",
    "reset_connection",
];

/// Where the conversation is.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the client's login.
    #[default]
    Greeting,
    /// The login (or a change of user) was sent: the server's answers go to it until OK or
    /// an error (it may ask for another method or more data on the way).
    Authenticating,
    Commands,
}

/// How far the answer to the oldest pending command has been read.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    #[default]
    First,
    /// A result set: column definitions left to read, then rows.
    Columns(u64),
    Rows,
}

#[derive(Debug)]
struct Pending {
    command: &'static str,
    argument: String,
}

#[derive(Default, Debug)]
pub struct State {
    phase: Phase,
    /// The client's capabilities, from its login.
    caps: u32,
    pending: VecDeque<Pending>,
    answer: Answer,
    rows: u64,
    commands: Vec<&'static str>,
    /// Bytes still to skip of a packet too long to hold, per direction.
    skip: [usize; 2],
}

/// One packet at the start of `d`: its sequence number, its payload (whole, or the part
/// there is of a packet longer than [`MAX_WHOLE_PACKET`]), its length and whether it is whole.
struct Packet<'a> {
    seq: u8,
    payload: &'a [u8],
    len: usize,
    whole: bool,
}

fn packet(d: &[u8]) -> Option<Packet<'_>> {
    let len = usize::from(u8_at(d, 0)?)
        | usize::from(u8_at(d, 1)?) << 8
        | usize::from(u8_at(d, 2)?) << 16;
    let seq = u8_at(d, 3)?;
    let body = d.get(HEADER..)?;
    if body.len() >= len {
        return Some(Packet {
            seq,
            payload: body.get(..len)?,
            len,
            whole: true,
        });
    }
    (len > MAX_WHOLE_PACKET && body.len() >= 64).then_some(Packet {
        seq,
        payload: body,
        len,
        whole: false,
    })
}

/// A NUL-terminated string at `at` and the offset after its NUL.
fn c_string(d: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = d.get(at..)?;
    let n = rest.iter().position(|&b| b == 0)?;
    Some((rest.get(..n)?, at + n + 1))
}

/// A length-encoded integer at `at` and the offset after it.
fn lenenc(d: &[u8], at: usize) -> Option<(u64, usize)> {
    let first = u8_at(d, at)?;
    let width = match first {
        0..=0xfa => return Some((u64::from(first), at + 1)),
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        _ => return None,
    };
    let bytes = d.get(at + 1..at + 1 + width)?;
    let n = bytes
        .iter()
        .rev()
        .fold(0u64, |n, &b| (n << 8) | u64::from(b));
    Some((n, at + 1 + width))
}

fn is_text(s: &[u8]) -> bool {
    s.iter().all(|&b| (0x20..0x7f).contains(&b))
}

fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s.get(..MAX_ARGUMENT).unwrap_or(s)).into_owned()
}

/// A protocol 10 greeting: what it tells (server version, authentication plugin).
struct Greeting<'a> {
    version: &'a [u8],
    plugin: Option<&'a [u8]>,
}

fn greeting(p: &[u8]) -> Option<Greeting<'_>> {
    if u8_at(p, 0)? != PROTOCOL_10 {
        return None;
    }
    let (version, after) = c_string(p, 1)?;
    let looks_right = (1..=64).contains(&version.len())
        && version.first().is_some_and(u8::is_ascii_digit)
        && is_text(version);
    // Connection id (4), scramble part 1 (8), a zero filler, capabilities (2).
    if !looks_right || u8_at(p, after + 12)? != 0 {
        return None;
    }
    let caps_low = u32::from(le16(p, after + 13)?);
    // Character set (1), status (2), capabilities high (2), scramble length (1), 10 zeros,
    // scramble part 2, plugin name.
    let caps = caps_low | le16(p, after + 18).map_or(0, |h| u32::from(h) << 16);
    let plugin = (caps & CLIENT_PLUGIN_AUTH != 0)
        .then(|| {
            let scramble_len = usize::from(u8_at(p, after + 20)?);
            let at = after + 31 + scramble_len.saturating_sub(8).max(13);
            let (name, _) = c_string(p, at).or_else(|| Some((p.get(at..)?, p.len())))?;
            (!name.is_empty() && is_text(name)).then_some(name)
        })
        .flatten();
    Some(Greeting { version, plugin })
}

/// An error packet's code and message (after the SQL state when there is one).
fn error(p: &[u8]) -> Option<(u16, &[u8])> {
    if u8_at(p, 0)? != ERR {
        return None;
    }
    let code = le16(p, 1)?;
    let at = if u8_at(p, 3) == Some(b'#') { 9 } else { 3 };
    Some((code, p.get(at..).unwrap_or_default()))
}

/// An error packet a server may open with instead of its greeting ("Host … is not allowed
/// to connect", "Too many connections").
fn is_refusal(p: &[u8]) -> bool {
    error(p).is_some_and(|(code, message)| {
        (1000..5000).contains(&code) && message.len() >= 8 && is_text(message)
    })
}

/// What a client's login says.
struct Login<'a> {
    caps: u32,
    user: &'a [u8],
    database: Option<&'a [u8]>,
    plugin: Option<&'a [u8]>,
}

/// The head shared by a login and an SSLRequest: the capabilities, when it is one.
fn login_head(p: &[u8]) -> Option<u32> {
    let caps = le32(p, 0)?;
    let reserved = p.get(9..LOGIN_HEAD)?;
    (caps & CLIENT_PROTOCOL_41 != 0 && reserved.iter().all(|&b| b == 0)).then_some(caps)
}

fn login(p: &[u8]) -> Option<Login<'_>> {
    let caps = login_head(p)?;
    let (user, mut at) = c_string(p, LOGIN_HEAD)?;
    if !is_text(user) {
        return None;
    }
    // The authentication response: length-encoded, one length byte, or NUL-terminated.
    if caps & CLIENT_PLUGIN_AUTH_LENENC_DATA != 0 {
        let (n, after) = lenenc(p, at)?;
        at = after.checked_add(usize::try_from(n).ok()?)?;
    } else if caps & CLIENT_SECURE_CONNECTION != 0 {
        at += 1 + usize::from(u8_at(p, at)?);
    } else {
        at = c_string(p, at)?.1;
    }
    let mut database = None;
    if caps & CLIENT_CONNECT_WITH_DB != 0 {
        if let Some((db, after)) = c_string(p, at) {
            database = (!db.is_empty()).then_some(db);
            at = after;
        }
    }
    let plugin = if caps & CLIENT_PLUGIN_AUTH != 0 {
        c_string(p, at)
            .map(|(name, _)| name)
            .filter(|n| !n.is_empty())
    } else {
        None
    };
    Some(Login {
        caps,
        user,
        database,
        plugin,
    })
}

/// The one whole packet `d` holds, if it is that.
fn only_packet(d: &[u8]) -> Option<Packet<'_>> {
    packet(d).filter(|p| p.whole && p.len == d.len().saturating_sub(HEADER))
}

fn probe(ins: &Inspect<'_>) -> bool {
    let [client, server] = ins.first_payload;
    if let Some(p) = only_packet(server).filter(|p| p.seq == 0) {
        return greeting(p.payload).is_some() || is_refusal(p.payload);
    }
    // Caught without the greeting: the client's login (or its TLS request).
    server.is_empty()
        && only_packet(client).is_some_and(|p| {
            p.seq == 1
                && (login(p.payload).is_some()
                    || (p.len == LOGIN_HEAD && login_head(p.payload).is_some()))
        })
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Mysql(_)) {
        // The server speaks first, so the first payload of either side decides.
        if !probe(ins) {
            return Verdict::Exclude;
        }
        ins.detect(id::MYSQL);
        *st.state = ProtoState::Mysql(Box::default());
    }
    let ProtoState::Mysql(mut state) = std::mem::take(st.state) else {
        return Verdict::Done;
    };
    let verdict = parse(ins, st, &mut state);
    *st.state = ProtoState::Mysql(state);
    verdict
}

/// What follows a client's packet.
enum Next {
    Read,
    /// The client asked for TLS: the rest is TLS.
    Tls,
    /// The client quit.
    End,
}

fn parse(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, state: &mut State) -> Verdict {
    let data = ins.data;
    let d = ins.dir as usize;
    let mut at = 0;
    if let Some(skip) = state.skip.get_mut(d) {
        // The rest of a packet too long to hold.
        at = (*skip).min(data.len());
        *skip -= at;
    }
    while let Some(p) = data.get(at..).and_then(packet) {
        if p.whole {
            at += HEADER + p.len;
        } else {
            let held = data.len() - at;
            if let Some(skip) = state.skip.get_mut(d) {
                *skip = (HEADER + p.len).saturating_sub(held);
            }
            at = data.len();
        }
        let next = if ins.to_server() {
            client_packet(&p, st, state)
        } else {
            server_packet(&p, st, state);
            Next::Read
        };
        match next {
            Next::Read => {}
            Next::Tls => {
                ins.consume(at);
                ins.handover(id::TLS);
                return Verdict::Done;
            }
            Next::End => {
                ins.consume(at);
                return Verdict::Done;
            }
        }
    }
    ins.consume(at);
    Verdict::Continue
}

fn note_command(st: &mut DissectorState<'_>, state: &mut State, command: &'static str) {
    if state.commands.len() < MAX_COMMANDS && !state.commands.contains(&command) {
        state.commands.push(command);
        let list = state.commands.iter().map(|c| (*c).to_string()).collect();
        st.meta.replace(&COMMANDS, MetaValue::List(list));
    }
}

fn expect_answer(
    st: &mut DissectorState<'_>,
    state: &mut State,
    command: &'static str,
    argument: String,
) {
    note_command(st, state, command);
    if state.pending.len() < MAX_PENDING {
        state.pending.push_back(Pending { command, argument });
    }
}

/// What the server answered to a command.
#[derive(Default)]
struct Outcome {
    success: Option<bool>,
    rows: Option<u64>,
    response: Option<String>,
}

/// The answer to the oldest pending command is complete.
fn answered(st: &mut DissectorState<'_>, state: &mut State, outcome: Outcome) {
    state.answer = Answer::First;
    state.rows = 0;
    if let Some(done) = state.pending.pop_front() {
        command_event(st, done, outcome);
    }
}

/// A command and what answered it, as a `mysql.command` event.
fn command_event(st: &mut DissectorState<'_>, done: Pending, outcome: Outcome) {
    if !st.events.wants(&COMMAND_EVENT) {
        return;
    }
    let mut attrs = vec![
        (COMMAND.name, MetaValue::Str(done.command.into())),
        (ARGUMENT.name, MetaValue::Str(done.argument)),
    ];
    if let Some(ok) = outcome.success {
        attrs.push((SUCCESS.name, MetaValue::Int(i64::from(ok))));
    }
    if let Some(n) = outcome.rows {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        attrs.push((ROWS.name, MetaValue::Int(n)));
    }
    if let Some(message) = outcome.response {
        attrs.push((RESPONSE.name, MetaValue::Str(message)));
    }
    st.events.emit(&COMMAND_EVENT, attrs);
}

fn succeeded(rows: Option<u64>) -> Outcome {
    Outcome {
        success: Some(true),
        rows,
        response: None,
    }
}

fn client_packet(p: &Packet<'_>, st: &mut DissectorState<'_>, state: &mut State) -> Next {
    let body = p.payload;
    if state.phase != Phase::Commands && p.seq >= 1 {
        if p.len == LOGIN_HEAD && login_head(body).is_some_and(|caps| caps & CLIENT_SSL != 0) {
            st.set(&TLS, MetaValue::Int(1));
            return Next::Tls;
        }
        if state.phase == Phase::Greeting {
            if let Some(l) = login(body) {
                state.caps = l.caps;
                let user = text(l.user);
                st.meta.replace(&USER, MetaValue::Str(user.clone()));
                if let Some(db) = l.database {
                    st.meta.replace(&DATABASE, MetaValue::Str(text(db)));
                }
                if let Some(plugin) = l.plugin {
                    auth_plugin(st, plugin);
                }
                state.phase = Phase::Authenticating;
                expect_answer(st, state, "login", user);
            }
        }
        // Otherwise more authentication data (after a switch of method).
        return Next::Read;
    }
    if p.seq != 0 {
        // The rest of a command's data (a file sent for LOAD DATA LOCAL, …).
        return Next::Read;
    }
    state.phase = Phase::Commands;
    let Some((&code, arg)) = body.split_first() else {
        return Next::Read;
    };
    let Some(&command) = COMMAND_NAMES.get(usize::from(code)) else {
        return Next::Read;
    };
    let first_string = || arg.split(|&b| b == 0).next().unwrap_or_default();
    let argument = match command {
        "query" => query_text(arg, state.caps),
        "init_db" => {
            st.meta.replace(&DATABASE, MetaValue::Str(text(arg)));
            text(arg)
        }
        "field_list" | "create_db" | "drop_db" => text(first_string()),
        "change_user" => {
            let user = text(first_string());
            st.meta.replace(&USER, MetaValue::Str(user.clone()));
            state.phase = Phase::Authenticating;
            user
        }
        _ => String::new(),
    };
    if matches!(command, "quit" | "stmt_close" | "stmt_send_long_data") {
        // No answer comes: the event goes now, behind no pending answer.
        note_command(st, state, command);
        command_event(st, Pending { command, argument }, Outcome::default());
        return if command == "quit" {
            Next::End
        } else {
            Next::Read
        };
    }
    expect_answer(st, state, command, argument);
    Next::Read
}

/// The text of a `COM_QUERY`. With query attributes, a parameter count and a parameter set
/// count come first, then (when there are parameters) a null bitmap, a flag, each
/// parameter's type and name, and the values of those not null.
fn query_text(arg: &[u8], caps: u32) -> String {
    if caps & CLIENT_QUERY_ATTRIBUTES == 0 {
        return text(arg);
    }
    query_text_after_attributes(arg).map_or_else(String::new, text)
}

fn query_text_after_attributes(arg: &[u8]) -> Option<&[u8]> {
    let (count, at) = lenenc(arg, 0)?;
    let (_, mut at) = lenenc(arg, at)?;
    if count == 0 {
        return arg.get(at..);
    }
    let count = usize::try_from(count).ok().filter(|&n| n <= 4096)?;
    let bitmap = arg.get(at..at + count.div_ceil(8))?;
    at += bitmap.len() + 1;
    let mut types = Vec::with_capacity(count);
    for _ in 0..count {
        types.push(u8_at(arg, at)?);
        let (name_len, after) = lenenc(arg, at + 2)?;
        at = after.checked_add(usize::try_from(name_len).ok()?)?;
    }
    for (i, ty) in types.into_iter().enumerate() {
        let is_null = bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
        if is_null {
            continue;
        }
        let len = match ty {
            0x06 => 0,
            0x01 => 1,
            0x02 | 0x0d => 2,
            0x03 | 0x04 | 0x09 => 4,
            0x05 | 0x08 => 8,
            // Dates and times: a length byte, then that many bytes.
            0x07 | 0x0a | 0x0b | 0x0c => 1 + usize::from(u8_at(arg, at)?),
            // Strings, decimals, blobs, JSON, …: a length-encoded string.
            _ => {
                let (n, after) = lenenc(arg, at)?;
                after - at + usize::try_from(n).ok()?
            }
        };
        at = at.checked_add(len)?;
    }
    arg.get(at..)
}

fn auth_plugin(st: &mut DissectorState<'_>, plugin: &[u8]) {
    st.meta.replace(&AUTH_PLUGIN, MetaValue::Str(text(plugin)));
    if plugin == b"mysql_clear_password" {
        st.risk(CLEAR_TEXT_CREDENTIALS);
    }
}

fn server_packet(p: &Packet<'_>, st: &mut DissectorState<'_>, state: &mut State) {
    let body = p.payload;
    let first = u8_at(body, 0);
    if first == Some(ERR) {
        let (code, message) = error(body).unwrap_or_default();
        let message = text(message);
        st.set(&ERROR, MetaValue::Str(format!("{code} {message}")));
        if state.phase == Phase::Authenticating {
            let login = state.pending.front().is_some_and(|c| c.command == "login");
            if login {
                st.meta.replace(&LOGIN, MetaValue::Str("failure".into()));
            }
            state.phase = if login {
                Phase::Greeting
            } else {
                Phase::Commands
            };
        }
        let outcome = Outcome {
            success: Some(false),
            rows: None,
            response: Some(message),
        };
        answered(st, state, outcome);
        return;
    }
    match state.phase {
        Phase::Greeting => {
            if let Some(g) = greeting(body) {
                st.set_str(&SERVER_VERSION, text(g.version));
                if let Some(plugin) = g.plugin.filter(|_| !st.meta.has(&AUTH_PLUGIN)) {
                    auth_plugin(st, plugin);
                }
            }
        }
        Phase::Authenticating => match first {
            Some(OK) => {
                if state.pending.front().is_some_and(|c| c.command == "login") {
                    st.meta.replace(&LOGIN, MetaValue::Str("success".into()));
                }
                state.phase = Phase::Commands;
                answered(st, state, succeeded(Some(affected_rows(body))));
            }
            // A switch to another method: its name follows.
            Some(EOF) => {
                if let Some((plugin, _)) = c_string(body, 1) {
                    if !plugin.is_empty() && is_text(plugin) {
                        auth_plugin(st, plugin);
                    }
                }
            }
            // More data for the method (a fast-path result, a public key, …).
            _ => {}
        },
        Phase::Commands => command_answer(body, st, state),
    }
}

/// The rows an OK packet says were affected.
fn affected_rows(ok: &[u8]) -> u64 {
    lenenc(ok, 1).map_or(0, |(n, _)| n)
}

fn command_answer(body: &[u8], st: &mut DissectorState<'_>, state: &mut State) {
    let Some(command) = state.pending.front().map(|c| c.command) else {
        return;
    };
    let first = u8_at(body, 0);
    match state.answer {
        Answer::First => match first {
            Some(OK) => answered(st, state, succeeded(Some(affected_rows(body)))),
            _ if command == "field_list" => state.answer = Answer::Columns(u64::MAX),
            _ if matches!(command, "query" | "stmt_execute" | "stmt_fetch") => {
                match lenenc(body, 0) {
                    Some((columns, _)) if columns > 0 => state.answer = Answer::Columns(columns),
                    _ => answered(st, state, succeeded(None)),
                }
            }
            // Statistics, a prepared statement's description, …: the first packet says
            // enough.
            _ => answered(st, state, succeeded(None)),
        },
        Answer::Columns(left) => {
            let eof = first == Some(EOF) && body.len() < EOF_MAX_LEN;
            if eof || (command == "field_list" && first == Some(EOF)) {
                if command == "field_list" {
                    answered(st, state, succeeded(None));
                } else {
                    state.answer = Answer::Rows;
                }
            } else if left <= 1 && state.caps & CLIENT_DEPRECATE_EOF != 0 {
                // No EOF after the columns: the rows come next.
                state.answer = Answer::Rows;
            } else {
                state.answer = Answer::Columns(left.saturating_sub(1));
            }
        }
        Answer::Rows => {
            // A row cannot begin with 0xfe unless it is 16 MiB long: this ends the rows.
            if first == Some(EOF) && body.len() < 0xff_ffff {
                let rows = state.rows;
                answered(st, state, succeeded(Some(rows)));
            } else {
                state.rows += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn pkt(seq: u8, payload: &[u8]) -> Vec<u8> {
        let n = payload.len() as u32;
        let mut v = n.to_le_bytes()[..3].to_vec();
        v.push(seq);
        v.extend_from_slice(payload);
        v
    }

    fn greeting_packet(version: &str) -> Vec<u8> {
        let mut p = vec![PROTOCOL_10];
        p.extend(version.bytes());
        p.push(0);
        p.extend([1, 0, 0, 0]); // connection id
        p.extend(*b"abcdefgh"); // scramble part 1
        p.push(0);
        p.extend([0xff, 0xf7]); // capabilities, low
        p.push(0x21); // character set
        p.extend([2, 0]); // status
        p.extend([0xff, 0x81]); // capabilities, high (plugin auth)
        p.push(21); // scramble length
        p.extend([0; 10]);
        p.extend(*b"ijklmnopqrst\0");
        p.extend(*b"mysql_native_password\0");
        p
    }

    fn login_packet(user: &str, db: Option<&str>) -> Vec<u8> {
        let mut caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
        if db.is_some() {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        let mut p = caps.to_le_bytes().to_vec();
        p.extend([0, 0, 0, 1, 0x21]);
        p.extend([0; 23]);
        p.extend(user.bytes());
        p.push(0);
        p.push(20);
        p.extend([7; 20]);
        if let Some(db) = db {
            p.extend(db.bytes());
            p.push(0);
        }
        p.extend(*b"mysql_native_password\0");
        p
    }

    fn ok() -> Vec<u8> {
        vec![OK, 0, 0, 2, 0, 0, 0]
    }

    #[test]
    fn greeting_login_and_a_query() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 3306);
        c.server(&pkt(0, &greeting_packet("8.0.36")));
        assert_eq!(c.name(), "MySQL");
        c.client(&pkt(1, &login_packet("alice", Some("shop"))));
        c.server(&pkt(2, &ok()));
        let mut q = vec![3];
        q.extend(*b"select 1");
        c.client(&pkt(0, &q));
        // A result set: one column, its definition, an EOF, one row, an EOF.
        let mut answer = pkt(1, &[1]);
        answer.extend(pkt(
            2,
            b"\x03def\x00\x00\x00\x011\x00\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00",
        ));
        answer.extend(pkt(3, &[EOF, 0, 0, 2, 0]));
        answer.extend(pkt(4, b"\x011"));
        answer.extend(pkt(5, &[EOF, 0, 0, 2, 0]));
        c.server(&answer);
        assert_eq!(c.meta(&SERVER_VERSION).as_deref(), Some("8.0.36"));
        assert_eq!(c.meta(&USER).as_deref(), Some("alice"));
        assert_eq!(c.meta(&DATABASE).as_deref(), Some("shop"));
        assert_eq!(
            c.meta(&AUTH_PLUGIN).as_deref(),
            Some("mysql_native_password")
        );
        assert_eq!(c.meta(&LOGIN).as_deref(), Some("success"));
        assert_eq!(c.meta(&COMMANDS).as_deref(), Some("login,query"));
    }

    #[test]
    fn a_refused_login_and_a_refusal_instead_of_a_greeting() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 3306);
        c.server(&pkt(0, &greeting_packet("5.7.44-log")));
        c.client(&pkt(1, &login_packet("root", None)));
        c.server(&pkt(
            2,
            b"\xff\x15\x04#28000Access denied for user 'root'@'10.0.0.2'",
        ));
        assert_eq!(c.meta(&LOGIN).as_deref(), Some("failure"));
        assert_eq!(
            c.meta(&ERROR).as_deref(),
            Some("1045 Access denied for user 'root'@'10.0.0.2'")
        );

        let mut refused = Conv::tcp(&DISSECTOR, 50000, 3306);
        refused.server(&pkt(
            0,
            b"\xffj\x04Host '10.0.0.9' is not allowed to connect to this MySQL server",
        ));
        assert_eq!(refused.name(), "MySQL");
    }

    #[test]
    fn a_login_caught_without_the_greeting_and_tls() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 3306);
        c.client(&pkt(1, &login_packet("bob", None)));
        assert_eq!(c.name(), "MySQL");
        assert_eq!(c.meta(&USER).as_deref(), Some("bob"));

        let mut tls = Conv::tcp(&DISSECTOR, 50000, 3306);
        tls.server(&pkt(0, &greeting_packet("8.0.36")));
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION;
        let mut head = caps.to_le_bytes().to_vec();
        head.extend([0, 0, 0, 1, 0x21]);
        head.extend([0; 23]);
        tls.client(&pkt(1, &head));
        assert_eq!(tls.meta(&TLS).as_deref(), Some("1"));
        assert!(!tls.open, "nothing more to read in clear");
    }

    #[test]
    fn other_protocols_are_not_mysql() {
        for (client, server) in [
            (
                &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
                &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            ),
            (b"", b"220 mail.example.org ESMTP ready\r\n"),
            (b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", b""),
            // A greeting whose version is not text.
            (b"", b"\x0a\x00\x00\x00\x0a\x01\x02\x00"),
        ] {
            let mut c = Conv::all(6, 50000, 3306);
            if !server.is_empty() {
                c.server(server);
            }
            if !client.is_empty() {
                c.client(client);
            }
            assert_ne!(c.name(), "MySQL", "{client:?} {server:?}");
        }
        assert!(greeting(b"\x0a5.7\x00").is_none());
        assert!(!is_refusal(b"\xff\x01\x00x"));
    }

    #[test]
    fn lengths_and_strings_stop_at_the_end() {
        assert_eq!(lenenc(&[0xfc, 0x10, 0x27], 0), Some((10_000, 3)));
        assert_eq!(lenenc(&[0xfc, 0x10], 0), None);
        assert_eq!(lenenc(&[0xff], 0), None);
        assert_eq!(c_string(b"ab\0c", 0), Some((&b"ab"[..], 3)));
        assert_eq!(c_string(b"abc", 0), None);
        assert!(packet(&[5, 0, 0, 0, 1]).is_none());
        assert!(login(&pkt(1, &login_packet("x", None))[HEADER..HEADER + 20]).is_none());
    }
}
