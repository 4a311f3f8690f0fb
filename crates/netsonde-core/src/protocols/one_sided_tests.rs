//! Captures of one direction only (asymmetric routing, a one-way tap): the line protocols
//! whose server speaks first are recognised from their client's commands alone, with the
//! metadata those carry, and the commands two of them share decide nothing.

use super::harness::Conv;
use super::{ftp, mail};

#[test]
fn smtp_client_alone() {
    let mut c = Conv::all(6, 57722, 25);
    c.client(b"ehlo enzo.icir.org\r\n");
    assert_eq!(c.name(), "Unknown");
    c.client(b"mail FROM:<robin@icir.org> size=9030\r\n")
        .client(b"rcpt TO:<robin@icir.org>\r\n")
        .client(b"data\r\n")
        .client(b"From: robin@icir.org\r\nSubject: Hello\r\n\r\nhi\r\n.\r\n");
    assert_eq!(c.name(), "SMTP");
    assert_eq!(c.meta(&mail::smtp::HELO).as_deref(), Some("enzo.icir.org"));
    assert_eq!(
        c.meta(&mail::smtp::MAIL_FROM).as_deref(),
        Some("robin@icir.org")
    );
    assert_eq!(
        c.meta(&mail::smtp::RCPT_TO).as_deref(),
        Some("robin@icir.org")
    );
}

#[test]
fn smtp_commands_and_a_message_in_one_segment() {
    let mut c = Conv::all(6, 40000, 2525);
    c.client(b"EHLO a.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
    assert_eq!(c.name(), "SMTP");
}

#[test]
fn pop3_imap_and_ftp_clients_alone() {
    let mut c = Conv::all(6, 40000, 110);
    c.client(b"CAPA\r\n").client(b"USER bob\r\n");
    assert_eq!(c.name(), "POP3");
    let mut c = Conv::all(6, 40000, 143);
    c.client(b"a001 CAPABILITY\r\n")
        .client(b"a002 LOGIN bob secret\r\n");
    assert_eq!(c.name(), "IMAP");
    assert_eq!(c.meta(&mail::USER).as_deref(), Some("bob"));
    let mut c = Conv::all(6, 40000, 21);
    c.client(b"USER anonymous\r\n").client(b"PASS guest@\r\n");
    // USER and PASS are POP3's commands as well.
    assert_eq!(c.name(), "Unknown");
    c.client(b"SYST\r\n");
    assert_eq!(c.name(), "FTP_CONTROL");
    assert_eq!(c.meta(&ftp::USER).as_deref(), Some("anonymous"));
}

#[test]
fn a_server_that_answers_is_needed_for_one_command() {
    // One command and nothing else proves nothing.
    let mut c = Conv::all(6, 40000, 25);
    c.client(b"EHLO a.example\r\n");
    assert_eq!(c.name(), "Unknown");
    // Once the server has spoken, its answer decides, as before.
    let mut c = Conv::all(6, 40000, 25);
    c.client(b"EHLO a.example\r\n")
        .server(b"SSH-2.0-OpenSSH_9.7\r\n")
        .client(b"MAIL FROM:<a@a.example>\r\n");
    assert_ne!(c.name(), "SMTP");
}
