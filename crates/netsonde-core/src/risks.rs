//! The one list of risks a flow record can carry (its `risks` field): each name, once, with
//! what raises it. Modules raise them through these constants; `netsonde protocols --risks`
//! lists them from [`ALL`].

macro_rules! risks {
    ($( $(#[$m:meta])* $id:ident = $name:literal, $doc:literal; )*) => {
        $(
            #[doc = $doc]
            $(#[$m])*
            pub const $id: &str = $name;
        )*
        /// Every risk: (name, what raises it).
        pub static ALL: &[(&str, &str)] = &[$(($name, $doc)),*];
    };
}

risks! {
    CLEAR_TEXT_CREDENTIALS = "clear_text_credentials", "A user name or password crossed the network unencrypted (FTP, POP3, IMAP, SMTP, LDAP, Telnet, IRC, MSSQL)";
    SMB_INSECURE_VERSION = "smb_insecure_version", "SMB version 1 was negotiated";
    SELF_SIGNED_CERTIFICATE = "self_signed_certificate", "The server's certificate is signed by itself";
    EXPIRED_CERTIFICATE = "expired_certificate", "The server's certificate is not valid at the time of the flow";
    OBSOLETE_TLS_VERSION = "obsolete_tls_version", "The server chose SSL 3.0, TLS 1.0 or TLS 1.1";
    NUMERIC_IP_SNI = "numeric_ip_sni", "The TLS server name is an IP address";
    WEAK_TLS_CIPHER = "weak_tls_cipher", "The server chose an insecure or weak cipher suite";
    MISSING_SNI = "missing_sni", "A QUIC client named no server";
    QUIC_CRYPTO_OVERFLOW = "quic_crypto_overflow", "The QUIC client's CRYPTO stream ran past the reassembly bound";
    TCP_OVERLAP_CONFLICT = "tcp_overlap_conflict", "Two copies of the same TCP bytes differed (an overlap evasion attempt)";
    IP_FRAGMENT_OVERLAP = "ip_fragment_overlap", "IP fragments overlapped with different bytes";
    IP_TINY_FRAGMENT = "ip_tiny_fragment", "A datagram came in tiny fragments (a non-last fragment under 256 bytes)";
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = super::ALL.iter().map(|(n, _)| *n).collect();
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())));
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
