//! Redis (RESP2 and RESP3, TCP 6379). A client sends commands as arrays of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or as inline lines (`PING\r\n`); the server answers
//! each command, in order, with one RESP value: `+` simple string, `-` error, `:` integer,
//! `$` bulk string, `*` array, and in RESP3 `_` null, `,` double, `#` boolean, `!` blob
//! error, `=` verbatim string, `(` big number, `%` map, `~` set, `|` attribute (a prefix
//! decorating the next value) and `>` push (out of band, not a reply).
//!
//! Confirmed by an array request whose first element is a command name, or by an inline
//! command that opens the flow answered by a well-formed RESP reply. Once confirmed, both
//! directions are read as streams of RESP values without buffering: large bulk strings are
//! skipped by count, so only the first few arguments of a command are ever held. Replies are
//! paired with the commands in order (pipelining), minding `CLIENT REPLY OFF|SKIP|ON` and
//! the push messages of a subscribed connection.

use std::collections::VecDeque;

use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;
use crate::risks::CLEAR_TEXT_CREDENTIALS;

attrs! {
    pub COMMANDS = "redis.commands", StrList, Usage, "Distinct command names, upper case, in the order first sent (at most 16)";
    pub KEY = "redis.key", Str, Content, "Key named by the first keyed command (GET, SET, HSET, XADD, ...)";
    pub AUTH_USER = "redis.auth_user", Str, Identifier, "User name given by AUTH <user> <password> or HELLO ... AUTH";
    pub AUTH = "redis.auth", Str, Security, "Outcome of the first authentication (AUTH, HELLO ... AUTH): ok or error";
    pub ERROR = "redis.error", Str, Service, "Error code of the first error reply (ERR, NOAUTH, WRONGTYPE, ...)";
    pub COMMAND = "redis.command", Str, Usage, "Name of the command an event is about, upper case";
    pub REPLY_TYPE = "redis.reply_type", Str, Content, "RESP type of a reply: simple, error, integer, bulk, null, array, map, set, double, boolean, big_number, verbatim";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[
    &COMMANDS,
    &KEY,
    &AUTH_USER,
    &AUTH,
    &ERROR,
    &COMMAND,
    &REPLY_TYPE,
];

crate::events! {
    pub COMMAND_EVENT = "redis.command", "Each command a client sends", ["redis.command", "redis.key"];
    pub REPLY_EVENT = "redis.reply", "Each reply, with the command it answers (in order) when known", ["redis.command", "redis.reply_type", "redis.error"];
}

pub static EVENTS: &[&crate::metadata::EventSpec] = &[&COMMAND_EVENT, &REPLY_EVENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::REDIS,
    transports: Transports::TCP,
    tcp_ports: &[6379],
    udp_ports: &[],
    inspect,
};

/// Longest header line (`*3`, `$5`, `+OK`, ...) or inline command read.
const MAX_LINE: usize = 64 * 1024;
/// Longest command name (module commands such as `JSON.ARRAPPEND` included).
const MAX_NAME: usize = 32;
/// Arguments longer than this are skipped, not read (the key is one of the first).
const MAX_ARG: usize = 1024;
/// Elements of an array, map or set; bulk string length (Redis' default limit is 512 MiB).
const MAX_COUNT: i64 = 1 << 24;
const MAX_BULK: i64 = 512 * 1024 * 1024;
/// Commands awaiting a reply that are remembered by name; later ones are only counted.
const MAX_PENDING: usize = 64;
const MAX_COMMANDS: usize = 16;
/// Arguments read per command: name, key, and two more (`CLIENT REPLY OFF`, `HELLO 3 AUTH u`).
const ARGS_READ: usize = 5;

/// Commands whose first argument is a key.
const KEYED: &[&str] = &[
    "APPEND",
    "BITCOUNT",
    "BITPOS",
    "DECR",
    "DECRBY",
    "DEL",
    "DUMP",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "GEOADD",
    "GEODIST",
    "GEOPOS",
    "GEOSEARCH",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HEXISTS",
    "HGET",
    "HGETALL",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HSCAN",
    "HSET",
    "HSETNX",
    "HSTRLEN",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MGET",
    "MSET",
    "MSETNX",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PFADD",
    "PFCOUNT",
    "PSETEX",
    "PTTL",
    "RENAME",
    "RENAMENX",
    "RESTORE",
    "RPOP",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SCARD",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SISMEMBER",
    "SMEMBERS",
    "SMISMEMBER",
    "SPOP",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "STRLEN",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "WATCH",
    "XACK",
    "XADD",
    "XDEL",
    "XLEN",
    "XRANGE",
    "XREVRANGE",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZINCRBY",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZRANK",
    "ZREM",
    "ZREVRANGE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
];

/// Commands answered by push messages rather than a reply (RESP2 and RESP3 alike).
const SUBSCRIBING: &[&str] = &[
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "SSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "SUNSUBSCRIBE",
];

/// First element of a RESP2 push message on a subscribed connection.
const PUSH_KINDS: &[&[u8]] = &[
    b"message",
    b"pmessage",
    b"smessage",
    b"subscribe",
    b"psubscribe",
    b"ssubscribe",
    b"unsubscribe",
    b"punsubscribe",
    b"sunsubscribe",
];

/// One parse step over the bytes at hand.
#[derive(Debug, PartialEq)]
enum Step<T> {
    Ok(T),
    /// More bytes are needed.
    Need,
    /// Not RESP.
    Bad,
}

/// The header of one RESP value.
#[derive(Debug, PartialEq, Clone, Copy)]
struct Header<'a> {
    kind: u8,
    /// Bytes of the header line, CRLF included.
    len: usize,
    /// The line after the type byte, without CRLF.
    line: &'a [u8],
    /// Bytes of body that follow (length-prefixed kinds: the string and its CRLF).
    body: u64,
    /// Nested values that follow (aggregates; an attribute also counts the value it decorates).
    children: u64,
    /// A RESP2 null (`$-1`, `*-1`) or RESP3 `_`.
    null: bool,
}

fn line(d: &[u8]) -> Step<(&[u8], usize)> {
    match d.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(end) => match d.get(..end).and_then(|l| l.strip_suffix(b"\r")) {
            Some(l) => Step::Ok((l, end + 1)),
            None => Step::Bad,
        },
        None if d.len() >= MAX_LINE => Step::Bad,
        None => Step::Need,
    }
}

fn number(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn printable(s: &[u8]) -> bool {
    s.iter()
        .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic() || b >= 0x80)
}

/// Reads the header of the RESP value at the start of `d`.
fn header(d: &[u8]) -> Step<Header<'_>> {
    let Some(&kind) = d.first() else {
        return Step::Need;
    };
    if !b"+-:$*_,#!=(%~>|".contains(&kind) {
        return Step::Bad;
    }
    let (l, len) = match line(d.get(1..).unwrap_or_default()) {
        Step::Ok((l, n)) => (l, n + 1),
        Step::Need => return Step::Need,
        Step::Bad => return Step::Bad,
    };
    let mut h = Header {
        kind,
        len,
        line: l,
        body: 0,
        children: 0,
        null: false,
    };
    let ok = match kind {
        b'+' | b'-' => printable(l),
        b':' => number(l).is_some(),
        b'(' => {
            let digits = l.strip_prefix(b"-").unwrap_or(l);
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
        b',' => {
            !l.is_empty()
                && l.iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        }
        b'#' => l == b"t" || l == b"f",
        b'_' => {
            h.null = true;
            l.is_empty()
        }
        b'$' | b'!' | b'=' => match number(l) {
            Some(-1) if kind == b'$' => {
                h.null = true;
                true
            }
            Some(n) if (0..=MAX_BULK).contains(&n) => {
                h.body = n as u64 + 2;
                true
            }
            _ => false,
        },
        _ => match number(l) {
            Some(-1) if kind == b'*' => {
                h.null = true;
                true
            }
            Some(n) if (0..=MAX_COUNT).contains(&n) => {
                let n = n as u64;
                h.children = match kind {
                    b'%' => 2 * n,
                    b'|' => 2 * n + 1,
                    _ => n,
                };
                true
            }
            _ => false,
        },
    };
    if ok {
        Step::Ok(h)
    } else {
        Step::Bad
    }
}

/// A bulk string read whole: its bytes and the bytes it takes (header, body, CRLF).
fn bulk(d: &[u8]) -> Step<(&[u8], usize)> {
    match header(d) {
        Step::Ok(h) if h.kind == b'$' && !h.null => {
            let n = h.body as usize - 2;
            let Some(body) = d.get(h.len..h.len + n) else {
                return Step::Need;
            };
            match d.get(h.len + n..h.len + n + 2) {
                Some(b"\r\n") => Step::Ok((body, h.len + n + 2)),
                Some(_) => Step::Bad,
                None => Step::Need,
            }
        }
        Step::Need => Step::Need,
        _ => Step::Bad,
    }
}

/// A command name: a letter, then letters, digits, `.`, `_` or `-`.
fn is_name(s: &[u8]) -> bool {
    matches!(s.first(), Some(b) if b.is_ascii_alphabetic())
        && s.len() <= MAX_NAME
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
}

/// A command read at the start of a client stream.
#[derive(Debug, PartialEq)]
struct Command {
    /// The first arguments (at most [`ARGS_READ`], each at most [`MAX_ARG`] bytes).
    args: Vec<String>,
    /// Bytes read.
    len: usize,
    /// Elements of the array not read (skipped as values afterwards).
    rest: u64,
}

/// An array request: `*<n>` then bulk strings, the first a command name. The first
/// [`ARGS_READ`] short arguments are read; the rest is left to be skipped.
fn array_command(d: &[u8]) -> Step<Command> {
    let h = match header(d) {
        Step::Ok(h) if h.kind == b'*' && !h.null && h.children >= 1 => h,
        Step::Need => return Step::Need,
        _ => return Step::Bad,
    };
    let mut at = h.len;
    let mut args = Vec::new();
    while (args.len() as u64) < h.children && args.len() < ARGS_READ {
        let rest = d.get(at..).unwrap_or_default();
        // A long argument is not waited for: it is skipped with the rest.
        if let Step::Ok(eh) = header(rest) {
            if args.is_empty() && eh.body > MAX_NAME as u64 + 2 {
                return Step::Bad;
            }
            if eh.kind == b'$' && eh.body > MAX_ARG as u64 + 2 {
                break;
            }
        }
        match bulk(rest) {
            Step::Ok((arg, n)) => {
                if args.is_empty() && !is_name(arg) {
                    return Step::Bad;
                }
                args.push(String::from_utf8_lossy(arg).into_owned());
                at += n;
            }
            Step::Need => return Step::Need,
            Step::Bad => return Step::Bad,
        }
    }
    Step::Ok(Command {
        rest: h.children - args.len() as u64,
        args,
        len: at,
    })
}

/// An inline command: a line of printable text whose first word is a command name.
fn inline_command(d: &[u8]) -> Step<Command> {
    // The first word first, so that binary data and long text are turned down at once.
    let word_len = d
        .iter()
        .take(MAX_NAME + 1)
        .take_while(|b| !b.is_ascii_whitespace())
        .count();
    let word = d.get(..word_len).unwrap_or_default();
    if word.is_empty() || !is_name(word) {
        return Step::Bad;
    }
    let (l, len) = match line_lf(d) {
        Step::Ok(x) => x,
        // While it arrives, what there is must be text.
        Step::Need if printable(d.strip_suffix(b"\r").unwrap_or(d)) => return Step::Need,
        _ => return Step::Bad,
    };
    let mut words = l
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let Some(name) = words.next() else {
        return Step::Bad;
    };
    if !is_name(name) || !printable(l) {
        return Step::Bad;
    }
    let mut args = vec![String::from_utf8_lossy(name).into_owned()];
    args.extend(
        words
            .take(ARGS_READ - 1)
            .map(|w| String::from_utf8_lossy(w.get(..MAX_ARG).unwrap_or(w)).into_owned()),
    );
    Step::Ok(Command { args, len, rest: 0 })
}

/// A line ending in LF (Redis accepts inline commands ending in a bare LF).
fn line_lf(d: &[u8]) -> Step<(&[u8], usize)> {
    match d.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(end) => {
            let l = d.get(..end).unwrap_or_default();
            Step::Ok((l.strip_suffix(b"\r").unwrap_or(l), end + 1))
        }
        None if d.len() >= MAX_LINE => Step::Bad,
        None => Step::Need,
    }
}

/// Whether a whole, well-formed RESP value opens `d`, as a reply to an inline command must
/// for the flow to be Redis: simple strings without spaces (`+OK`, `+PONG`: a text
/// protocol's `+OK ready` is not taken), errors opening with an upper-case code, and
/// aggregates read to their end. Followed by nothing or by the next value.
fn whole_reply(d: &[u8]) -> Step<()> {
    let mut at = 0usize;
    let mut left = 1u64;
    let mut first = true;
    while left > 0 {
        let rest = d.get(at..).unwrap_or_default();
        let h = match header(rest) {
            Step::Ok(h) => h,
            Step::Need => return Step::Need,
            Step::Bad => return Step::Bad,
        };
        if first {
            first = false;
            let fine = match h.kind {
                b'+' => !h.line.is_empty() && !h.line.contains(&b' '),
                b'-' => {
                    let code = h.line.split(|&b| b == b' ').next().unwrap_or_default();
                    code.len() >= 2 && code.iter().all(u8::is_ascii_uppercase)
                }
                _ => true,
            };
            if !fine {
                return Step::Bad;
            }
        }
        at += h.len;
        if h.body > 0 {
            let end = at as u64 + h.body;
            if (d.len() as u64) < end {
                return Step::Need;
            }
            at = end as usize;
            if d.get(at - 2..at) != Some(b"\r\n") {
                return Step::Bad;
            }
        }
        left = left - 1 + h.children;
        // A reply to one inline command is small; a huge count is not worth waiting for.
        if left > 4096 {
            return Step::Bad;
        }
    }
    match d.get(at) {
        None => Step::Ok(()),
        // Stray line ends after a value are tolerated (a sloppy server's "\r\n\n").
        Some(b) if b"+-:$*_,#!=(%~>|\r\n".contains(b) => Step::Ok(()),
        Some(_) => Step::Bad,
    }
}

/// Reading position in one direction's stream.
#[derive(Default, Debug)]
struct Side {
    /// Body bytes still to skip (a bulk string's rest).
    skip: u64,
    /// RESP values still to skip before the next message.
    values: u64,
    /// The stream stopped being RESP: it is no longer read.
    broken: bool,
}

/// A command awaiting its reply.
#[derive(Debug)]
struct Pending {
    name: String,
    /// It authenticates (AUTH, HELLO ... AUTH): its reply is the login's outcome.
    auth: bool,
}

/// Per-flow state once the flow is Redis.
#[derive(Default, Debug)]
pub struct State {
    sides: [Side; 2],
    /// Names of the commands awaiting a reply, oldest first.
    pending: VecDeque<Pending>,
    /// Commands awaiting a reply beyond [`MAX_PENDING`] (after those in `pending`).
    untracked: u64,
    /// `CLIENT REPLY OFF` is in force; `skip_next`: `CLIENT REPLY SKIP` was sent.
    reply_off: bool,
    skip_next: bool,
    /// A subscribing command was sent: RESP2 arrays may be push messages.
    subscribed: bool,
    /// The flow was confirmed by a reply: the client's stream may hold commands not read
    /// yet (beyond its first payload), so replies wait for them rather than go unpaired.
    client_behind: bool,
    commands: Vec<String>,
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if matches!(st.state, ProtoState::Redis(_)) {
        return read(ins, st);
    }
    let d = ins.data;
    if ins.to_server() {
        return match d.first() {
            Some(b'*') => match array_command(d) {
                Step::Ok(_) => {
                    ins.detect(id::REDIS);
                    *st.state = ProtoState::Redis(Box::default());
                    read(ins, st)
                }
                Step::Need => Verdict::Continue,
                Step::Bad => Verdict::Exclude,
            },
            // An inline command waits for the server's reply.
            Some(_) => match inline_command(d) {
                Step::Ok(_) | Step::Need => Verdict::Continue,
                Step::Bad => Verdict::Exclude,
            },
            None => Verdict::Continue,
        };
    }
    // The server's reply to an inline command that opened the flow (a server that spoke
    // first, as a POP3 greeting does, excludes the flow at once).
    let opener = ins.first_payload[0];
    let early = ins.dir_packets[1] <= 4;
    match opener.first() {
        None => return Verdict::Exclude,
        Some(b'*') => {
            return if early {
                Verdict::Continue
            } else {
                Verdict::Exclude
            }
        }
        Some(_) => {}
    }
    if !matches!(inline_command(opener), Step::Ok(_)) {
        return Verdict::Exclude;
    }
    match whole_reply(d) {
        Step::Ok(()) => {}
        Step::Need if early => return Verdict::Continue,
        _ => return Verdict::Exclude,
    }
    ins.detect(id::REDIS);
    let mut state = Box::<State>::default();
    // The client's commands so far were read before the flow was known: take them from its
    // first payload, and skip them when its stream is shown again.
    let mut at = 0;
    while let Step::Ok(cmd) = inline_command(opener.get(at..).unwrap_or_default()) {
        at += cmd.len;
        command(st, &mut state, &cmd.args);
    }
    state.sides[0].skip = at as u64;
    state.client_behind = true;
    *st.state = ProtoState::Redis(state);
    read(ins, st)
}

/// Reads the messages at hand in this direction (after confirmation).
fn read(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let mut state = match std::mem::take(st.state) {
        ProtoState::Redis(s) => s,
        other => {
            *st.state = other;
            return Verdict::Done;
        }
    };
    let d = ins.data;
    let side = ins.dir as usize;
    let to_server = ins.to_server();
    if to_server {
        state.client_behind = false;
    }
    let mut pos = 0usize;
    loop {
        let rest = d.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        let Some(sd) = state.sides.get_mut(side) else {
            break;
        };
        if sd.broken {
            pos = d.len();
            break;
        }
        if sd.skip > 0 {
            let n = sd.skip.min(rest.len() as u64);
            sd.skip -= n;
            pos += n as usize;
            continue;
        }
        if sd.values > 0 {
            match header(rest) {
                Step::Ok(h) => {
                    pos += h.len;
                    sd.values = sd.values - 1 + h.children;
                    sd.skip = h.body;
                }
                Step::Need => break,
                Step::Bad => sd.broken = true,
            }
            continue;
        }
        let step = if to_server {
            client_message(st, &mut state, rest)
        } else {
            server_message(st, &mut state, rest)
        };
        match step {
            Step::Ok(n) => pos += n,
            Step::Need => break,
            Step::Bad => {
                if let Some(sd) = state.sides.get_mut(side) {
                    sd.broken = true;
                }
            }
        }
    }
    ins.consume(pos);
    let done = state.sides.iter().all(|s| s.broken);
    *st.state = ProtoState::Redis(state);
    if done {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

/// One client message at the start of `d`: returns the bytes read.
fn client_message(st: &mut DissectorState<'_>, state: &mut State, d: &[u8]) -> Step<usize> {
    let cmd = match d.first() {
        Some(b'*') => array_command(d),
        // Blank lines between inline commands are ignored, as Redis does.
        Some(b'\r' | b'\n') => {
            let n = d.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            return Step::Ok(n);
        }
        Some(_) => inline_command(d),
        None => Step::Need,
    };
    match cmd {
        Step::Ok(cmd) => {
            command(st, state, &cmd.args);
            if let Some(sd) = state.sides.get_mut(0) {
                sd.values = cmd.rest;
            }
            Step::Ok(cmd.len)
        }
        Step::Need => Step::Need,
        Step::Bad => Step::Bad,
    }
}

fn arg_is(args: &[String], i: usize, word: &str) -> bool {
    args.get(i).is_some_and(|a| a.eq_ignore_ascii_case(word))
}

/// Records one command: attributes, the event, and whether a reply will answer it.
fn command(st: &mut DissectorState<'_>, state: &mut State, args: &[String]) {
    let Some(name) = args.first().map(|n| n.to_ascii_uppercase()) else {
        return;
    };
    let key = KEYED
        .contains(&name.as_str())
        .then(|| args.get(1))
        .flatten();
    if let Some(key) = key {
        st.set_str(&KEY, key.clone());
    }
    if !state.commands.contains(&name) && state.commands.len() < MAX_COMMANDS {
        state.commands.push(name.clone());
        st.meta
            .replace(&COMMANDS, MetaValue::List(state.commands.clone()));
    }
    let auth_user = match name.as_str() {
        "AUTH" => (args.len() >= 3).then(|| args.get(1)).flatten(),
        "HELLO" => args
            .iter()
            .position(|a| a.eq_ignore_ascii_case("AUTH"))
            .and_then(|i| args.get(i + 1)),
        _ => None,
    };
    let authenticates = name == "AUTH" || (name == "HELLO" && arg_is(args, 2, "AUTH"));
    if authenticates {
        st.risk(CLEAR_TEXT_CREDENTIALS);
        if let Some(user) = auth_user {
            st.set_str(&AUTH_USER, user.clone());
        }
    }
    if st.events.wants(&COMMAND_EVENT) {
        let mut attrs = vec![(COMMAND.name, MetaValue::Str(name.clone()))];
        if let Some(key) = key {
            attrs.push((KEY.name, MetaValue::Str(key.clone())));
        }
        st.events.emit(&COMMAND_EVENT, attrs);
    }
    // Which commands a reply will answer.
    let answered = if name == "CLIENT" && arg_is(args, 1, "REPLY") {
        let on = arg_is(args, 2, "ON");
        state.reply_off = arg_is(args, 2, "OFF");
        state.skip_next = arg_is(args, 2, "SKIP");
        on
    } else if state.reply_off {
        false
    } else if state.skip_next {
        state.skip_next = false;
        false
    } else if SUBSCRIBING.contains(&name.as_str()) {
        state.subscribed = true;
        false
    } else {
        true
    };
    if answered {
        if state.untracked == 0 && state.pending.len() < MAX_PENDING {
            state.pending.push_back(Pending {
                name,
                auth: authenticates,
            });
        } else {
            state.untracked += 1;
        }
    }
}

/// Undoes the skip counts set for a server message that is left for later.
fn side_reset(state: &mut State) {
    state.sides[1].values = 0;
    state.sides[1].skip = 0;
}

/// The RESP type of a reply, by name.
fn kind_name(h: &Header<'_>) -> &'static str {
    if h.null {
        return "null";
    }
    match h.kind {
        b'+' => "simple",
        b'-' | b'!' => "error",
        b':' => "integer",
        b'$' => "bulk",
        b'*' => "array",
        b',' => "double",
        b'#' => "boolean",
        b'=' => "verbatim",
        b'(' => "big_number",
        b'%' => "map",
        b'~' => "set",
        _ => "other",
    }
}

/// One server message at the start of `d`: returns the bytes of its header read (the rest
/// of the value is skipped by count).
fn server_message(st: &mut DissectorState<'_>, state: &mut State, d: &[u8]) -> Step<usize> {
    let blank = d.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    if blank > 0 {
        return Step::Ok(blank);
    }
    let h = match header(d) {
        Step::Ok(h) => h,
        Step::Need => return Step::Need,
        Step::Bad => return Step::Bad,
    };
    let side = &mut state.sides[1];
    side.values = h.children;
    side.skip = h.body;
    match h.kind {
        // An attribute decorates the reply that follows; a push answers nothing.
        b'|' => {
            side.values = h.children - 1;
            return Step::Ok(h.len);
        }
        b'>' => return Step::Ok(h.len),
        b'*' if state.subscribed && !h.null && h.children > 0 => {
            match bulk(d.get(h.len..).unwrap_or_default()) {
                Step::Ok((first, _)) if PUSH_KINDS.contains(&first) => return Step::Ok(h.len),
                Step::Need => {
                    side_reset(state);
                    return Step::Need;
                }
                _ => {}
            }
        }
        _ => {}
    }
    if state.pending.is_empty() && state.untracked == 0 && state.client_behind {
        side_reset(state);
        return Step::Need;
    }
    let answered = match state.pending.pop_front() {
        Some(p) => Some(p),
        None => {
            state.untracked = state.untracked.saturating_sub(1);
            None
        }
    };
    let is_error = matches!(h.kind, b'-' | b'!');
    let error = is_error.then(|| {
        let text = if h.kind == b'-' {
            h.line
        } else {
            d.get(h.len..).unwrap_or_default()
        };
        let code = text
            .split(|&b| b == b' ' || b == b'\r')
            .next()
            .unwrap_or_default();
        String::from_utf8_lossy(code.get(..32).unwrap_or(code)).into_owned()
    });
    if let Some(code) = &error {
        st.set_str(&ERROR, code.clone());
    }
    if let Some(p) = &answered {
        if p.auth {
            st.set_str(&AUTH, if is_error { "error" } else { "ok" });
        }
        if p.name == "RESET" && !is_error {
            state.subscribed = false;
        }
    }
    if st.events.wants(&REPLY_EVENT) {
        let mut attrs = Vec::with_capacity(3);
        if let Some(p) = answered {
            attrs.push((COMMAND.name, MetaValue::Str(p.name)));
        }
        attrs.push((REPLY_TYPE.name, MetaValue::Str(kind_name(&h).to_string())));
        if let Some(code) = error {
            attrs.push((ERROR.name, MetaValue::Str(code)));
        }
        st.events.emit(&REPLY_EVENT, attrs);
    }
    Step::Ok(h.len)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are read by index
mod tests {
    use super::super::harness::Conv;
    use super::*;
    use crate::classify::{candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
    use crate::metadata::{Event, EventSink};

    #[test]
    fn headers_and_bulk_strings() {
        let h = header(b"$5\r\nhello\r\n");
        assert!(matches!(
            h,
            Step::Ok(Header {
                kind: b'$',
                len: 4,
                body: 7,
                ..
            })
        ));
        assert_eq!(bulk(b"$5\r\nhello\r\n"), Step::Ok((&b"hello"[..], 11)));
        assert_eq!(bulk(b"$5\r\nhel"), Step::Need);
        assert_eq!(bulk(b"$5\r\nhelloXY"), Step::Bad);
        assert!(matches!(
            header(b"%2\r\n"),
            Step::Ok(Header { children: 4, .. })
        ));
        assert!(matches!(
            header(b"|1\r\n"),
            Step::Ok(Header { children: 3, .. })
        ));
        assert!(matches!(
            header(b"*-1\r\n"),
            Step::Ok(Header { null: true, .. })
        ));
        assert_eq!(header(b"$-2\r\n"), Step::Bad);
        assert_eq!(header(b":12a\r\n"), Step::Bad);
        assert_eq!(header(b"#x\r\n"), Step::Bad);
        assert_eq!(header(b"*3"), Step::Need);
        assert_eq!(header(b"*3\n"), Step::Bad);
        assert_eq!(header(b"GET / HTTP/1.1\r\n"), Step::Bad);
    }

    #[test]
    fn array_commands() {
        let set = b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n";
        let Step::Ok(cmd) = array_command(set) else {
            panic!("a command");
        };
        assert_eq!(cmd.args, ["SET", "foo", "bar"]);
        assert_eq!((cmd.len, cmd.rest), (set.len(), 0));
        assert_eq!(array_command(&set[..20]), Step::Need);
        // A large value is not waited for: it is skipped afterwards.
        let big = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nxxxx";
        let Step::Ok(cmd) = array_command(big) else {
            panic!("a command");
        };
        assert_eq!((cmd.args.len(), cmd.rest), (2, 1));
        // The first element must be a command name.
        assert_eq!(array_command(b"*1\r\n$3\r\n1ab\r\n"), Step::Bad);
        assert_eq!(array_command(b"*1\r\n:3\r\n"), Step::Bad);
        assert_eq!(array_command(b"*0\r\n"), Step::Bad);
    }

    #[test]
    fn inline_commands_and_replies() {
        let Step::Ok(cmd) = inline_command(b"CLIENT REPLY OFF\r\nPING\r\n") else {
            panic!("a command");
        };
        assert_eq!(cmd.args, ["CLIENT", "REPLY", "OFF"]);
        assert_eq!(cmd.len, 18);
        assert_eq!(inline_command(b"PIN"), Step::Need);
        assert_eq!(inline_command(b"GET k\r"), Step::Need);
        assert_eq!(inline_command(b" PING\r\n"), Step::Bad);
        assert_eq!(
            inline_command(b"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ x\r\n"),
            Step::Bad
        );
        assert_eq!(inline_command(b"\x16\x03\x01"), Step::Bad);
        assert_eq!(whole_reply(b"+PONG\r\n"), Step::Ok(()));
        assert_eq!(whole_reply(b"+OK\r\n+OK\r\nnotRESP\r\n"), Step::Ok(()));
        assert_eq!(
            whole_reply(b"*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n"),
            Step::Ok(())
        );
        assert_eq!(whole_reply(b"*2\r\n:1\r\n"), Step::Need);
        assert_eq!(
            whole_reply(b"|1\r\n+a\r\n:1\r\n*1\r\n:2\r\n\n"),
            Step::Ok(())
        );
        assert_eq!(whole_reply(b"*1\r\n:2\r\nx"), Step::Bad);
        assert_eq!(whole_reply(b"-ERR unknown command 'FOO'\r\n"), Step::Ok(()));
        // Text protocols' replies are not taken for RESP.
        assert_eq!(whole_reply(b"+OK POP3 server ready\r\n"), Step::Bad);
        assert_eq!(whole_reply(b"-bad\r\n"), Step::Bad);
        assert_eq!(whole_reply(b"HTTP/1.1 200 OK\r\n"), Step::Bad);
        assert_eq!(whole_reply(b"+OK\r\nUSER x\r\n"), Step::Bad);
    }

    #[test]
    fn array_request_confirms_and_is_read() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$1\r\n");
        assert_eq!(c.name(), "Redis");
        c.client(b"v\r\n*2\r\n$3\r\nget\r\n$4\r\nkey2\r\n");
        c.server(b"+OK\r\n+OK\r\n$1\r\nv\r\n");
        assert_eq!(c.meta(&COMMANDS).as_deref(), Some("AUTH,SET,GET"));
        assert_eq!(c.meta(&KEY).as_deref(), Some("key"));
        assert_eq!(c.meta(&AUTH).as_deref(), Some("ok"));
        assert_eq!(c.meta(&AUTH_USER), None);
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
        assert!(c.open);
    }

    #[test]
    fn inline_command_needs_a_resp_reply() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"PING\r\n");
        assert_eq!(c.name(), "Unknown");
        c.server(b"+PONG\r\n");
        assert_eq!(c.name(), "Redis");
        assert_eq!(c.meta(&COMMANDS).as_deref(), Some("PING"));
        // A line answered by a text reply is something else.
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"HELO example.org\r\n");
        c.server(b"250 mail.example.org\r\n");
        assert_eq!(c.name(), "Unknown");
        assert!(!c.open);
    }

    #[test]
    fn other_protocols_are_not_redis() {
        let cases: [(&[u8], &[u8]); 5] = [
            (
                b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n\r\n",
            ),
            (b"EHLO client\r\n", b"250-mail.example.org\r\n250 OK\r\n"),
            (b"USER alice\r\n", b"+OK send PASS\r\n"),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                b"\x16\x03\x03\x00\x5d",
            ),
            (b"*** hello there\r\n", b"+OK\r\n"),
        ];
        for (client, server) in cases {
            let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
            c.client(client);
            c.server(server);
            assert_eq!(c.name(), "Unknown", "{client:?}");
        }
        // The server spoke first (a POP3 greeting): a later line is not an inline command.
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.server(b"+OK\r\n");
        c.client(b"CAPA\r\n");
        c.server(b"+OK\r\n");
        assert_eq!(c.name(), "Unknown");
        // Random text.
        let mut x: u32 = 12345;
        for _ in 0..200 {
            let p: Vec<u8> = (0..40)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
            c.client(&p);
            c.server(&p);
            assert_eq!(c.name(), "Unknown");
        }
    }

    /// Runs a conversation through the dispatcher with the Redis events subscribed.
    fn events(conv: &[(Dir, &[u8])]) -> Vec<Event> {
        let sigs = SignatureSet::builtin();
        let dissectors = [&DISSECTOR];
        let mut dpi = Dpi::new(candidate_order(&dissectors, 6, [50000, 6379]));
        let facts = FlowFacts {
            l4: 6,
            client_port: 50000,
            server_port: 6379,
            ip_version: 4,
            client_ip: [0; 16],
            server_ip: [0; 16],
        };
        let mut out = Vec::new();
        let mut seq = [1u32, 1u32];
        let subscribed = ["redis.command", "redis.reply"];
        for (dir, payload) in conv {
            let d = *dir as usize;
            let s = seq[d];
            seq[d] = s.wrapping_add(payload.len() as u32);
            let mut sink = EventSink {
                subscribed: &subscribed,
                flow_id: 1,
                ts_ns: 0,
                out: &mut out,
            };
            dpi.inspect(
                payload,
                *dir,
                facts,
                Some((s, 0x18)),
                0,
                &sigs,
                &dissectors,
                &mut sink,
            );
        }
        out
    }

    fn text(e: &Event, attr: &str) -> Option<String> {
        e.attrs
            .iter()
            .find(|(n, _)| *n == attr)
            .map(|(_, v)| match v {
                MetaValue::Str(s) => s.clone(),
                other => format!("{other:?}"),
            })
    }

    #[test]
    fn replies_answer_commands_in_order() {
        let ev = events(&[
            (
                Dir::ToServer,
                b"PING\r\nCLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\nPING\r\n",
            ),
            (Dir::ToServer, b"CLIENT REPLY SKIP\r\nPING\r\nGET k\r\n"),
            (Dir::ToClient, b"+PONG\r\n+OK\r\n+PONG\r\n"),
            (Dir::ToClient, b"|1\r\n+ttl\r\n:3600\r\n$3\r\nabc\r\n"),
            (Dir::ToServer, b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n"),
            (Dir::ToClient, b"-WRONGTYPE Operation against a key\r\n"),
        ]);
        let cmds: Vec<_> = ev
            .iter()
            .filter(|e| e.name == "redis.command")
            .map(|e| {
                (
                    text(e, "redis.command").unwrap_or_default(),
                    text(e, "redis.key"),
                )
            })
            .collect();
        let names: Vec<&str> = cmds.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["PING", "CLIENT", "PING", "CLIENT", "PING", "CLIENT", "PING", "GET", "GET"]
        );
        assert_eq!(cmds[7].1.as_deref(), Some("k"));
        assert_eq!(cmds[8].1.as_deref(), Some("x"));
        let replies: Vec<_> = ev
            .iter()
            .filter(|e| e.name == "redis.reply")
            .map(|e| {
                (
                    text(e, "redis.command").unwrap_or_default(),
                    text(e, "redis.reply_type").unwrap_or_default(),
                )
            })
            .collect();
        let want = [
            ("PING", "simple"),
            ("CLIENT", "simple"),
            ("PING", "simple"),
            ("GET", "bulk"),
            ("GET", "error"),
        ];
        let got: Vec<(&str, &str)> = replies
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn large_values_are_skipped_and_pushes_answer_nothing() {
        let mut set = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$3000\r\n".to_vec();
        set.extend(std::iter::repeat(b'x').take(1500));
        let mut tail = vec![b'x'; 1500];
        tail.extend_from_slice(b"\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n*1\r\n$4\r\nPING\r\n");
        let ev = events(&[
            (Dir::ToServer, &set),
            (Dir::ToServer, &tail),
            (
                Dir::ToClient,
                b"+OK\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
            ),
        ]);
        let names: Vec<String> = ev
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e.name,
                    text(e, "redis.command").unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "redis.command SET",
                "redis.command SUBSCRIBE",
                "redis.command PING",
                "redis.reply SET",
                "redis.reply PING"
            ]
        );
    }

    #[test]
    fn auth_with_a_user_and_its_failure() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$2\r\npw\r\n");
        c.server(b"-WRONGPASS invalid username-password pair\r\n");
        assert_eq!(c.meta(&AUTH_USER).as_deref(), Some("alice"));
        assert_eq!(c.meta(&AUTH).as_deref(), Some("error"));
        assert_eq!(c.meta(&ERROR).as_deref(), Some("WRONGPASS"));
    }

    #[test]
    fn hello_authenticates_only_with_auth() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
        c.server(b"%1\r\n+proto\r\n:3\r\n");
        assert_eq!(c.meta(&AUTH), None);
        assert!(!c.has_risk(CLEAR_TEXT_CREDENTIALS));
        c.client(b"*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$2\r\npw\r\n");
        c.server(b"-WRONGPASS invalid\r\n");
        assert_eq!(c.meta(&AUTH_USER).as_deref(), Some("bob"));
        assert_eq!(c.meta(&AUTH).as_deref(), Some("error"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn garbage_after_replies_stops_reading_that_side() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 6379);
        c.client(b"AUTH noone password\r\nPING\r\n");
        c.server(b"+OK\r\n+OK\r\nnotRESP\r\nStill notRESP\r\n");
        assert_eq!(c.name(), "Redis");
        assert_eq!(c.meta(&COMMANDS).as_deref(), Some("AUTH,PING"));
        assert!(c.open);
        c.client(b"\x00\x01binary\r\n");
        assert!(!c.open, "both sides broken: done");
    }
}
