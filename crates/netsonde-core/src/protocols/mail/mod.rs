//! E-mail protocols: SMTP, POP3 and IMAP. Each is confirmed by its server greeting and the
//! client's first command, parsed line by line after that, and handed over to TLS when the
//! client upgrades the connection (STARTTLS / STLS): the flow is then named as nDPI names
//! the secured protocol (`SMTPS`, `POPS`, `IMAPS`).

pub mod imap;
pub mod pop3;
pub mod smtp;

use super::lines::{base64_decode, text};
use super::DissectorState;
use crate::attrs;

attrs! {
    pub USER = "mail.user", Str, Identifier, "User name sent in clear text (SMTP AUTH, POP3 USER, IMAP LOGIN)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&USER];

pub use crate::risks::CLEAR_TEXT_CREDENTIALS;

/// Longest user name kept.
const MAX_USER: usize = 128;

/// Records a clear-text user name and raises the credentials risk.
pub(crate) fn clear_text_user(st: &mut DissectorState<'_>, user: &[u8]) {
    let user = text(user, MAX_USER);
    if !user.is_empty() {
        st.set_str(&USER, user);
    }
    st.risk(CLEAR_TEXT_CREDENTIALS);
}

/// The arguments of AUTH / AUTHENTICATE: with the PLAIN mechanism and an initial response,
/// records its user; returns whether the client's next line carries the response instead.
pub(crate) fn sasl_plain_start(st: &mut DissectorState<'_>, args: &[u8]) -> bool {
    let (mech, initial) = super::lines::split_word(args);
    if !mech.eq_ignore_ascii_case(b"PLAIN") {
        return false;
    }
    match sasl_plain_user(initial) {
        Some(user) => {
            clear_text_user(st, &user);
            false
        }
        None => initial.is_empty(),
    }
}

/// The client's line answering an AUTH PLAIN without initial response.
pub(crate) fn sasl_plain_continuation(st: &mut DissectorState<'_>, line: &[u8]) {
    if let Some(user) = sasl_plain_user(line) {
        clear_text_user(st, &user);
    }
}

/// The user name of a SASL PLAIN message (`authzid NUL authcid NUL password`), base64.
pub(crate) fn sasl_plain_user(b64: &[u8]) -> Option<Vec<u8>> {
    let raw = base64_decode(b64)?;
    let mut parts = raw.split(|&b| b == 0);
    let authzid = parts.next()?;
    let authcid = parts.next()?;
    parts.next()?;
    let user = if authcid.is_empty() { authzid } else { authcid };
    Some(user.to_vec())
}

/// A value as sent in a command: surrounding double quotes removed.
pub(crate) fn unquote(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"\"")
        .and_then(|v| v.strip_suffix(b"\""))
        .unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_plain() {
        // "\0bob\0secret" and "admin\0bob\0secret"
        assert_eq!(
            sasl_plain_user(b"AGJvYgBzZWNyZXQ=").as_deref(),
            Some(&b"bob"[..])
        );
        assert_eq!(
            sasl_plain_user(b"YWRtaW4AYm9iAHNlY3JldA==").as_deref(),
            Some(&b"bob"[..])
        );
        assert_eq!(sasl_plain_user(b"Ym9i"), None);
        assert_eq!(unquote(b"\"samir\""), b"samir");
        assert_eq!(unquote(b"samir"), b"samir");
    }
}
