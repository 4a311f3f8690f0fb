//! Helpers for line-oriented text protocols (SMTP, POP3, IMAP, FTP, IRC, RTSP, …): complete
//! lines off the front of a stream, command words, printable values.

use super::{DissectorState, Inspect, ProtoState, Verdict};
use crate::classify::ProtoId;

/// Longest line waited for; a longer run of bytes without an end of line is not a text
/// protocol line.
pub const MAX_LINE: usize = 2048;

/// The first complete line of `data`: the line without its `\r\n` or `\n`, and the number
/// of bytes it takes including the end of line. `None` while the line is incomplete.
pub fn next_line(data: &[u8]) -> Option<(&[u8], usize)> {
    let end = data.iter().position(|&b| b == b'\n')?;
    let line = data.get(..end)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, end + 1))
}

/// Complete lines of `data`, each with the offset just after it.
pub fn lines(data: &[u8]) -> impl Iterator<Item = (&[u8], usize)> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let rest = data.get(at..)?;
        let (line, used) = next_line(rest)?;
        at += used;
        Some((line, at))
    })
}

/// Whether `data` could still become a line: no end of line yet and not too long.
pub fn incomplete_line(data: &[u8]) -> bool {
    data.len() < MAX_LINE && !data.contains(&b'\n')
}

/// The first line of one direction's bytes, as far as it has arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstLine<'a> {
    /// Nothing has arrived in this direction.
    Empty,
    /// Bytes without an end of line yet.
    Partial,
    /// A complete line (without its end of line).
    Line(&'a [u8]),
    /// Too many bytes without an end of line, or not text: not a line protocol.
    NotText,
}

impl<'a> FirstLine<'a> {
    pub fn of(data: &'a [u8]) -> FirstLine<'a> {
        if data.is_empty() {
            return FirstLine::Empty;
        }
        match next_line(data) {
            Some((line, _)) if is_printable(line) => FirstLine::Line(line),
            Some(_) => FirstLine::NotText,
            None if data.len() < MAX_LINE && is_printable(data) => FirstLine::Partial,
            None => FirstLine::NotText,
        }
    }

    pub fn line(self) -> Option<&'a [u8]> {
        match self {
            FirstLine::Line(l) => Some(l),
            _ => None,
        }
    }
}

/// The first line the client sent and the first line the server sent, as far as known:
/// the stream so far for this packet's direction, the first payload for the other.
pub fn first_lines<'a>(ins: &Inspect<'a>) -> (FirstLine<'a>, FirstLine<'a>) {
    let [to_server, to_client] = ins.first_payload;
    if ins.to_server() {
        (FirstLine::of(ins.data), FirstLine::of(to_client))
    } else {
        (FirstLine::of(to_server), FirstLine::of(ins.data))
    }
}

/// Case-insensitive prefix test.
pub fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The first space-separated word of `line` and the rest after the separating spaces.
pub fn split_word(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(i) => {
            let rest = line.get(i + 1..).unwrap_or_default();
            let skip = rest.iter().take_while(|&&b| b == b' ').count();
            (
                line.get(..i).unwrap_or_default(),
                rest.get(skip..).unwrap_or_default(),
            )
        }
        None => (line, &[]),
    }
}

/// Whether `word` equals one of `words`, ignoring case.
pub fn is_one_of(word: &[u8], words: &[&[u8]]) -> bool {
    words.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// A printable value: control bytes dropped, trimmed, at most `max` bytes.
pub fn text(bytes: &[u8], max: usize) -> String {
    let s: String = String::from_utf8_lossy(bytes.get(..max).unwrap_or(bytes))
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    s.trim().to_string()
}

/// Whether `line` has no control bytes but tabs (UTF-8 bytes are allowed).
pub fn is_printable(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A three-digit reply code followed by a space, a dash or the end of the line (SMTP, FTP).
pub fn reply_code(line: &[u8]) -> Option<u16> {
    let d = line.get(..3)?;
    if !d.iter().all(u8::is_ascii_digit) || !matches!(line.get(3), None | Some(b' ' | b'-')) {
        return None;
    }
    let code = d
        .iter()
        .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
    (100..600).contains(&code).then_some(code)
}

/// Decodes standard base64 (padding optional, whitespace not allowed).
pub fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let trimmed = input
        .iter()
        .rposition(|&b| b != b'=')
        .map_or(&[][..], |i| input.get(..=i).unwrap_or_default());
    if input.len() - trimmed.len() > 2 || trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for chunk in trimmed.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        let n = chunk.len() - 1;
        out.extend_from_slice(bytes.get(1..1 + n).unwrap_or_default());
    }
    Some(out)
}

/// Client lines looked at when the server has not spoken.
const MAX_LINES_ALONE: usize = 6;

/// Whether the client's lines alone show its protocol: the server has sent nothing (a
/// capture of one direction: asymmetric routing, a one-way tap), and the client sent at
/// least two complete lines first, each one of the protocol's commands (`is_command`) and
/// one of them its own (`is_own`: a command no other line protocol sends). The servers of these
/// protocols speak first, so a client with two commands and no answer in the capture is
/// one whose other direction is missing.
pub fn commands_alone(
    ins: &Inspect<'_>,
    is_command: impl Fn(&[u8]) -> bool,
    is_own: impl Fn(&[u8]) -> bool,
) -> bool {
    let [_, to_client] = ins.first_payload;
    if !ins.to_server() || !to_client.is_empty() {
        return false;
    }
    let mut count = 0;
    let mut own = false;
    // The leading run of commands: a message body may follow SMTP's DATA.
    for (line, _) in lines(ins.data).take(MAX_LINES_ALONE) {
        if !is_printable(line) || !is_command(line) {
            break;
        }
        count += 1;
        own |= is_own(line);
    }
    count >= 2 && own
}

/// A stateful line protocol (SMTP, POP3, IMAP, FTP): how it is confirmed, where its state
/// lives in [`ProtoState`], and how its lines are parsed once confirmed.
pub struct LineProtocol<S> {
    pub proto: ProtoId,
    /// `Some(true)`: confirmed; `Some(false)`: not this protocol; `None`: wait.
    pub probe: fn(&Inspect<'_>) -> Option<bool>,
    /// The state at confirmation (it may read what the first packets said).
    pub init: fn(&mut Inspect<'_>, &mut DissectorState<'_>) -> S,
    pub wrap: fn(S) -> ProtoState,
    pub state: fn(&mut ProtoState) -> Option<&mut S>,
    pub parse: fn(&mut Inspect<'_>, &mut DissectorState<'_>, &mut S) -> Verdict,
}

/// The dissector of a [`LineProtocol`]: probe until confirmed, then parse with its state.
pub fn inspect_lines<S: Default>(
    p: &LineProtocol<S>,
    ins: &mut Inspect<'_>,
    st: &mut DissectorState<'_>,
) -> Verdict {
    if (p.state)(st.state).is_none() {
        match (p.probe)(ins) {
            Some(true) => {}
            Some(false) => return Verdict::Exclude,
            None => return Verdict::Continue,
        }
        ins.detect(p.proto);
        let state = (p.init)(ins, st);
        *st.state = (p.wrap)(state);
    }
    // The state is taken out while parsing, which also needs the rest of `st`.
    let Some(slot) = (p.state)(st.state) else {
        return Verdict::Done;
    };
    let mut state = std::mem::take(slot);
    let verdict = (p.parse)(ins, st, &mut state);
    if let Some(slot) = (p.state)(st.state) {
        *slot = state;
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_words() {
        let data = b"220 mail ESMTP\r\nEHLO x\npartial";
        let got: Vec<_> = lines(data).collect();
        assert_eq!(
            got,
            vec![(&b"220 mail ESMTP"[..], 16), (&b"EHLO x"[..], 23)]
        );
        assert_eq!(
            split_word(b"LOGIN  bob pw"),
            (&b"LOGIN"[..], &b"bob pw"[..])
        );
        assert_eq!(split_word(b"QUIT"), (&b"QUIT"[..], &b""[..]));
        assert!(incomplete_line(b"partial"));
        assert!(!incomplete_line(b"done\n"));
    }

    #[test]
    fn reply_codes() {
        assert_eq!(reply_code(b"220 ready"), Some(220));
        assert_eq!(reply_code(b"250-SIZE"), Some(250));
        assert_eq!(reply_code(b"250"), Some(250));
        assert_eq!(reply_code(b"2500"), None);
        assert_eq!(reply_code(b"099 x"), None);
        assert_eq!(reply_code(b"ab1 x"), None);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode(b"cmF1bA==").as_deref(), Some(&b"raul"[..]));
        assert_eq!(
            base64_decode(b"AGJvYgBzZWNyZXQ=").as_deref(),
            Some(&b"\0bob\0secret"[..])
        );
        assert_eq!(base64_decode(b"YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode(b"YWJ").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode(b"Y"), None);
        assert_eq!(base64_decode(b"a b="), None);
        assert_eq!(base64_decode(b"YQ===="), None);
    }

    #[test]
    fn text_is_printable_and_bounded() {
        assert_eq!(text(b" bob\x01 ", 64), "bob");
        assert_eq!(text(b"abcdef", 3), "abc");
    }
}
