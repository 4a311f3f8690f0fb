//! The X.509 certificate fields DPI reports (RFC 5280), read with a minimal DER walker over
//! borrowed bytes: issuer and subject names, validity, subject alternative DNS names.
//!
//! Names are rendered the way nDPI prints them: the attributes C, ST, L, O, OU and CN in
//! certificate order, `label=value` joined by `, `; values that are not printable ASCII are
//! left out and long values are cut to 63 bytes.

/// Longest attribute value kept (nDPI's buffer keeps 63 bytes).
const MAX_VALUE_LEN: usize = 63;
/// Subject alternative names kept.
const MAX_SAN: usize = 64;
/// Longest rendered name kept.
const MAX_NAME_LEN: usize = 2047;

/// A DER element: tag and content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads one DER element at the start of `d`; returns it and the rest.
fn tlv(d: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = d.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers never occur in the fields read here
    }
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 & 0x80 == 0 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b));
        (len, rest.get(n..)?)
    };
    let content = rest.get(..len)?;
    Some((Tlv { tag, content }, rest.get(len..)?))
}

/// The elements of a constructed value, in order (stops at the first malformed one).
fn children(d: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut rest = d;
    std::iter::from_fn(move || {
        let (t, r) = tlv(rest)?;
        rest = r;
        Some(t)
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;

/// The fields of a certificate that DPI reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub issuer: String,
    pub subject: String,
    /// Seconds since the Unix epoch (UTC).
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// DNS names of the subject alternative name extension, lower case, in order.
    pub san: Vec<String>,
    /// The subject's common names and organization names (printable ones), in order.
    pub subject_cn: Vec<String>,
    pub subject_org: Vec<String>,
}

impl CertInfo {
    /// Issuer and subject are the same name (nDPI's test for a self-signed certificate).
    pub fn self_signed(&self) -> bool {
        !self.issuer.is_empty() && self.issuer == self.subject
    }
}

fn label(oid: &[u8]) -> Option<&'static str> {
    match oid {
        [0x55, 0x04, 0x03] => Some("CN"),
        [0x55, 0x04, 0x06] => Some("C"),
        [0x55, 0x04, 0x07] => Some("L"),
        [0x55, 0x04, 0x08] => Some("ST"),
        [0x55, 0x04, 0x0a] => Some("O"),
        [0x55, 0x04, 0x0b] => Some("OU"),
        _ => None,
    }
}

/// Renders a Name (the content of its SEQUENCE).
fn render_name(name: &[u8]) -> String {
    let mut out = String::new();
    for rdn in children(name).filter(|t| t.tag == SET) {
        for atv in children(rdn.content).filter(|t| t.tag == SEQUENCE) {
            let mut parts = children(atv.content);
            let (Some(oid), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(label) = (oid.tag == OID).then(|| label(oid.content)).flatten() else {
                continue;
            };
            let v = value.content.get(..MAX_VALUE_LEN).unwrap_or(value.content);
            if !v.iter().all(|&b| (0x20..=0x7e).contains(&b)) {
                continue;
            }
            if out.len() + label.len() + v.len() + 3 > MAX_NAME_LEN {
                return out;
            }
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(label);
            out.push('=');
            out.extend(v.iter().map(|&b| char::from(b)));
        }
    }
    out
}

/// The printable values of one attribute (`[0x55, 0x04, 0x03]`: CN) of a Name.
fn name_values(name: &[u8], oid_wanted: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for rdn in children(name).filter(|t| t.tag == SET) {
        for atv in children(rdn.content).filter(|t| t.tag == SEQUENCE) {
            let mut parts = children(atv.content);
            let (Some(oid), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            let v = value.content;
            if oid.tag == OID
                && oid.content == oid_wanted
                && !v.is_empty()
                && v.len() <= MAX_VALUE_LEN
                && v.iter().all(|&b| (0x20..=0x7e).contains(&b))
                && out.len() < 4
            {
                out.push(v.iter().map(|&b| char::from(b)).collect());
            }
        }
    }
    out
}

fn digits(d: &[u8]) -> Option<i64> {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0i64, |a, &b| a * 10 + i64::from(b - b'0')))
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a UTCTime (`YYMMDDHHMM[SS]Z`) or GeneralizedTime (`YYYYMMDDHHMM[SS]Z`) to seconds
/// since the epoch.
fn parse_time(t: Tlv<'_>) -> Option<i64> {
    let s = t.content;
    let (year, rest) = match t.tag {
        UTC_TIME => {
            let yy = digits(s.get(..2)?)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, s.get(2..)?)
        }
        GENERALIZED_TIME => (digits(s.get(..4)?)?, s.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2).and_then(digits);
    let (mon, day, hour, min) = (field(0)?, field(2)?, field(4)?, field(6)?);
    let sec = field(8).unwrap_or(0);
    if !(1..=12).contains(&mon) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, mon, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Formats seconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_time(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days (inverse of days_from_civil).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// DNS names of a subjectAltName extension value (the OCTET STRING's content).
fn san_names(value: &[u8], out: &mut Vec<String>) {
    let Some((names, _)) = tlv(value) else { return };
    if names.tag != SEQUENCE {
        return;
    }
    for gn in children(names.content) {
        if gn.tag == 0x82 && out.len() < MAX_SAN && !gn.content.is_empty() {
            out.push(
                gn.content
                    .iter()
                    .map(|&b| char::from(b.to_ascii_lowercase()))
                    .collect(),
            );
        }
    }
}

/// Reads the reported fields of a DER certificate; `None` when it is not one.
pub fn parse_certificate(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = tlv(der)?;
    if cert.tag != SEQUENCE {
        return None;
    }
    let (tbs, _) = tlv(cert.content)?;
    if tbs.tag != SEQUENCE {
        return None;
    }
    let mut fields = children(tbs.content).peekable();
    if fields.peek().is_some_and(|t| t.tag == 0xa0) {
        fields.next(); // version
    }
    let _serial = fields.next()?;
    let _sig_alg = fields.next().filter(|t| t.tag == SEQUENCE)?;
    let issuer = fields.next().filter(|t| t.tag == SEQUENCE)?;
    let validity = fields.next().filter(|t| t.tag == SEQUENCE)?;
    let subject = fields.next().filter(|t| t.tag == SEQUENCE)?;
    let mut info = CertInfo {
        issuer: render_name(issuer.content),
        subject: render_name(subject.content),
        subject_cn: name_values(subject.content, &[0x55, 0x04, 0x03]),
        subject_org: name_values(subject.content, &[0x55, 0x04, 0x0a]),
        ..CertInfo::default()
    };
    let mut times = children(validity.content);
    info.not_before = times.next().and_then(parse_time);
    info.not_after = times.next().and_then(parse_time);
    let _spki = fields.next();
    for f in fields {
        if f.tag != 0xa3 {
            continue;
        }
        let Some((exts, _)) = tlv(f.content) else {
            continue;
        };
        for ext in children(exts.content).filter(|t| t.tag == SEQUENCE) {
            let mut parts = children(ext.content);
            let Some(oid) = parts.next() else { continue };
            if oid.tag != OID || oid.content != [0x55, 0x1d, 0x11] {
                continue;
            }
            let mut value = parts.next();
            if value.is_some_and(|v| v.tag == BOOLEAN) {
                value = parts.next();
            }
            if let Some(v) = value.filter(|v| v.tag == OCTET_STRING) {
                san_names(v.content, &mut info.san);
            }
        }
    }
    Some(info)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend_from_slice(&[0x81, n as u8]);
        } else {
            v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn atv(oid_last: u8, tag: u8, value: &[u8]) -> Vec<u8> {
        let mut seq = der(OID, &[0x55, 0x04, oid_last]);
        seq.extend(der(tag, value));
        der(SET, &der(SEQUENCE, &seq))
    }

    /// A small certificate: issuer C=US, O=Let's Encrypt, CN=R3; subject CN=example.com with
    /// an e-mail attribute (not rendered); validity 2023-05-29 13:13:28 to 2023-08-27
    /// 13:13:27; SAN example.com and *.Example.com.
    pub fn sample_certificate() -> Vec<u8> {
        let mut issuer = atv(0x06, 0x13, b"US");
        issuer.extend(atv(0x0a, 0x13, b"Let's Encrypt"));
        issuer.extend(atv(0x03, 0x13, b"R3"));
        let mut subject = atv(0x03, 0x0c, b"example.com");
        let mut email = der(OID, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]);
        email.extend(der(0x16, b"a@example.com"));
        subject.extend(der(SET, &der(SEQUENCE, &email)));
        let mut validity = der(UTC_TIME, b"230529131328Z");
        validity.extend(der(GENERALIZED_TIME, b"20230827131327Z"));
        let mut names = der(0x82, b"example.com");
        names.extend(der(0x82, b"*.Example.com"));
        names.extend(der(0x87, &[127, 0, 0, 1]));
        let mut san = der(OID, &[0x55, 0x1d, 0x11]);
        san.extend(der(OCTET_STRING, &der(SEQUENCE, &names)));
        let mut bc = der(OID, &[0x55, 0x1d, 0x13]);
        bc.extend(der(BOOLEAN, &[0xff]));
        bc.extend(der(OCTET_STRING, &der(SEQUENCE, &[])));
        let mut exts = der(SEQUENCE, &bc);
        exts.extend(der(SEQUENCE, &san));
        let mut tbs = der(0xa0, &der(0x02, &[2]));
        tbs.extend(der(0x02, &[0x12, 0x34]));
        tbs.extend(der(SEQUENCE, &der(OID, &[0x2a, 0x86, 0x48])));
        tbs.extend(der(SEQUENCE, &issuer));
        tbs.extend(der(SEQUENCE, &validity));
        tbs.extend(der(SEQUENCE, &subject));
        tbs.extend(der(SEQUENCE, &[0x05, 0x00]));
        tbs.extend(der(0xa3, &der(SEQUENCE, &exts)));
        let mut cert = der(SEQUENCE, &tbs);
        cert.extend(der(SEQUENCE, &der(OID, &[0x2a, 0x86, 0x48])));
        cert.extend(der(0x03, &[0, 1, 2, 3]));
        der(SEQUENCE, &cert)
    }

    #[test]
    fn reads_names_validity_and_san() {
        let info = parse_certificate(&sample_certificate()).expect("certificate");
        assert_eq!(info.issuer, "C=US, O=Let's Encrypt, CN=R3");
        assert_eq!(info.subject, "CN=example.com");
        assert_eq!(
            info.not_before.map(format_time).as_deref(),
            Some("2023-05-29 13:13:28")
        );
        assert_eq!(
            info.not_after.map(format_time).as_deref(),
            Some("2023-08-27 13:13:27")
        );
        assert_eq!(info.not_before, Some(1_685_366_008));
        assert_eq!(info.san, vec!["example.com", "*.example.com"]);
        assert_eq!(info.subject_cn, vec!["example.com"]);
        assert!(info.subject_org.is_empty());
        assert!(!info.self_signed());
    }

    #[test]
    fn truncated_certificates_are_rejected_without_panic() {
        let cert = sample_certificate();
        for n in 0..cert.len() {
            assert!(parse_certificate(&cert[..n]).is_none(), "cut at {n}");
        }
    }

    #[test]
    fn non_printable_values_are_skipped_and_long_ones_cut() {
        let mut name = atv(0x06, 0x13, b"DE");
        name.extend(atv(0x0a, 0x0c, "Bücher GmbH".as_bytes()));
        name.extend(atv(0x03, 0x0c, &[b'a'; 80]));
        let s = render_name(&name);
        assert_eq!(s, format!("C=DE, CN={}", "a".repeat(63)));
        // Values are only taken whole and printable.
        assert!(name_values(&name, &[0x55, 0x04, 0x0a]).is_empty());
        assert!(name_values(&name, &[0x55, 0x04, 0x03]).is_empty());
        let mut name = atv(0x0a, 0x0c, b"Sonos, Inc");
        name.extend(atv(0x03, 0x0c, b"embed.example.io"));
        assert_eq!(name_values(&name, &[0x55, 0x04, 0x0a]), vec!["Sonos, Inc"]);
        assert_eq!(
            name_values(&name, &[0x55, 0x04, 0x03]),
            vec!["embed.example.io"]
        );
    }

    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00");
        let t = Tlv {
            tag: UTC_TIME,
            content: b"491231235959Z",
        };
        assert_eq!(
            parse_time(t).map(format_time).as_deref(),
            Some("2049-12-31 23:59:59")
        );
        let t = Tlv {
            tag: UTC_TIME,
            content: b"500101000000Z",
        };
        assert_eq!(
            parse_time(t).map(format_time).as_deref(),
            Some("1950-01-01 00:00:00")
        );
        let bad = Tlv {
            tag: UTC_TIME,
            content: b"231399000000Z",
        };
        assert_eq!(parse_time(bad), None);
    }
}
