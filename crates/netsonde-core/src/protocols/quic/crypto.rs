//! Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): each side's Initial keys derived
//! from the client's Destination Connection ID with HKDF-SHA256 and a per-version salt, header
//! protection removed with an AES-128-ECB mask, the payload opened with AES-128-GCM.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

use super::header::{draft_number, is_forcing_negotiation, is_ietf, version, LongPacket};

/// Initial salts (HKDF-Extract salt over the client's Destination Connection ID).
const SALT_DRAFT_22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];
const SALT_DRAFT_23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
/// RFC 9001 §5.2 (drafts 33 and 34 use it too).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 §3.3.1.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
/// Google QUIC versions with the IETF header (Chromium's version table).
const SALT_Q050: [u8; 20] = [
    0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0,
    0xd3, 0xb5, 0x6b, 0x45,
];
const SALT_T050: [u8; 20] = [
    0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c,
    0x60, 0x48, 0x83, 0x10,
];
const SALT_T051: [u8; 20] = [
    0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc,
    0xda, 0x6e, 0x03, 0x3d,
];

/// Length of the AEAD tag and of the header protection sample.
const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;

/// The HKDF-Expand-Label labels a version derives its packet protection keys with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Labels {
    pub key: &'static [u8],
    pub iv: &'static [u8],
    pub hp: &'static [u8],
}

const LABELS_V1: Labels = Labels {
    key: b"quic key",
    iv: b"quic iv",
    hp: b"quic hp",
};
/// RFC 9369 §3.3.2.
const LABELS_V2: Labels = Labels {
    key: b"quicv2 key",
    iv: b"quicv2 iv",
    hp: b"quicv2 hp",
};

/// The salt and labels of a version whose Initial packets can be opened, if any.
pub fn initial_params(v: u32) -> Option<(&'static [u8; 20], Labels)> {
    match v {
        version::V2 => return Some((&SALT_V2, LABELS_V2)),
        version::Q050 => return Some((&SALT_Q050, LABELS_V1)),
        version::T050 => return Some((&SALT_T050, LABELS_V1)),
        version::T051 => return Some((&SALT_T051, LABELS_V1)),
        _ => {}
    }
    // Greased versions only force version negotiation: they carry nothing readable.
    if !is_ietf(v) || is_forcing_negotiation(v) {
        return None;
    }
    let salt = match draft_number(v)? {
        0..=21 => return None,
        22 => &SALT_DRAFT_22,
        23..=28 => &SALT_DRAFT_23,
        29..=32 => &SALT_DRAFT_29,
        _ => &SALT_V1,
    };
    Some((salt, LABELS_V1))
}

/// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context.
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    let len = u16::try_from(out.len()).ok()?;
    let label_len = u8::try_from(label.len() + 6).ok()?;
    let len_bytes = len.to_be_bytes();
    let info: [&[u8]; 5] = [&len_bytes, &[label_len], b"tls13 ", label, &[0]];
    prk.expand_multi_info(&info, out).ok()
}

/// An endpoint's Initial packet protection keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialKeys {
    pub key: [u8; 16],
    pub iv: [u8; 12],
    pub hp: [u8; 16],
}

/// Which endpoint sent an Initial packet: each protects its own with keys of its own, both
/// derived from the Destination Connection ID of the client's Initial (RFC 9001 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// The Initial secret of `side` for the client's Destination Connection ID `dcid`.
pub fn initial_secret(salt: &[u8; 20], dcid: &[u8], side: Side) -> Option<[u8; 32]> {
    let initial = Hkdf::<Sha256>::new(Some(salt), dcid);
    let label: &[u8] = match side {
        Side::Client => b"client in",
        Side::Server => b"server in",
    };
    let mut secret = [0u8; 32];
    expand_label(&initial, label, &mut secret)?;
    Some(secret)
}

/// The packet protection keys derived from a traffic secret.
pub fn keys_from_secret(secret: &[u8; 32], labels: Labels) -> Option<InitialKeys> {
    let prk = Hkdf::<Sha256>::from_prk(secret).ok()?;
    let mut keys = InitialKeys {
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&prk, labels.key, &mut keys.key)?;
    expand_label(&prk, labels.iv, &mut keys.iv)?;
    expand_label(&prk, labels.hp, &mut keys.hp)?;
    Some(keys)
}

/// The Initial keys of `side` in `version` for the client's Destination Connection ID.
pub fn initial_keys(v: u32, dcid: &[u8], side: Side) -> Option<InitialKeys> {
    let (salt, labels) = initial_params(v)?;
    keys_from_secret(&initial_secret(salt, dcid, side)?, labels)
}

/// The header protection mask: AES-128-ECB of the 16-byte sample (RFC 9001 §5.4.3).
pub fn header_mask(hp: &[u8; 16], sample: &[u8; SAMPLE_LEN]) -> [u8; 5] {
    let cipher = Aes128::new(GenericArray::from_slice(hp));
    let mut block = GenericArray::clone_from_slice(sample);
    cipher.encrypt_block(&mut block);
    let mut mask = [0u8; 5];
    for (m, b) in mask.iter_mut().zip(block.iter()) {
        *m = *b;
    }
    mask
}

/// Removes header and payload protection from a long header packet (`pkt.end` bytes of
/// `datagram`), returning its plaintext frames; `None` when the packet is too short or does not
/// authenticate with these keys.
pub fn open_long(datagram: &[u8], pkt: &LongPacket<'_>, keys: &InitialKeys) -> Option<Vec<u8>> {
    let packet = datagram.get(..pkt.end)?;
    let pn_offset = pkt.pn_offset;
    // The sample starts 4 bytes after the packet number's start (RFC 9001 §5.4.2).
    let sample_at = pn_offset.checked_add(4)?;
    let sample: &[u8; SAMPLE_LEN] = packet
        .get(sample_at..sample_at.checked_add(SAMPLE_LEN)?)?
        .try_into()
        .ok()?;
    let mask = header_mask(&keys.hp, sample);
    let [m0, pn_mask @ ..] = mask;
    let first = packet.first()? ^ (m0 & 0x0f);
    let pn_len = usize::from(first & 0x03) + 1;
    let header_len = pn_offset + pn_len;
    let mut header = packet.get(..header_len)?.to_vec();
    if let Some(b) = header.first_mut() {
        *b = first;
    }
    let mut pn: u64 = 0;
    for (b, m) in header.get_mut(pn_offset..)?.iter_mut().zip(pn_mask) {
        *b ^= m;
        pn = (pn << 8) | u64::from(*b);
    }
    let body = packet.get(header_len..)?;
    let ct_len = body.len().checked_sub(TAG_LEN)?;
    if ct_len == 0 {
        return None;
    }
    let (ciphertext, tag) = body.split_at(ct_len);
    // The nonce is the IV with the (reconstructed) packet number XORed into its low bytes.
    // Initial packet numbers are small, so the truncated number is the full one.
    let mut nonce = keys.iv;
    for (n, p) in nonce.iter_mut().rev().zip(pn.to_be_bytes().iter().rev()) {
        *n ^= p;
    }
    let mut plain = ciphertext.to_vec();
    let aead = Aes128Gcm::new(GenericArray::from_slice(&keys.key));
    aead.decrypt_in_place_detached(
        GenericArray::from_slice(&nonce),
        &header,
        &mut plain,
        GenericArray::from_slice(tag),
    )
    .ok()?;
    Some(plain)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocols::quic::header::parse_long_packet;

    /// Hex text (whitespace ignored) as bytes.
    pub(crate) fn unhex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|c| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c - b'A' + 10,
            })
            .collect();
        digits
            .chunks(2)
            .map(|p| p.iter().fold(0, |a, d| (a << 4) | d))
            .collect()
    }

    const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    /// RFC 9001 §A.2 (and RFC 9369 §A.2): the CRYPTO frame carried by the client Initial.
    pub(crate) const CLIENT_CRYPTO_FRAME: &str = "
        060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
        04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
        616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
        04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
        baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
        0d0010000e0403050306030203080408 050806002d00020101001c0002400100
        3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
        75300901100f088394c8f03e51570806 048000ffff";

    /// RFC 9001 §A.2: the protected client Initial (1200 bytes).
    pub(crate) const V1_CLIENT_INITIAL: &str = "
        c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
        d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
        1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
        8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
        30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
        457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
        4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
        4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
        485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
        059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
        7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
        9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
        be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
        68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
        c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
        f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
        291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
        25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
        14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
        ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
        e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
        c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
        203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
        cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
        fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
        a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
        90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
        162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
        40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
        6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
        8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
        be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
        54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
        760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
        f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
        056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
        7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
        e221af44860018ab0856972e194cd934";

    /// RFC 9369 §A.2: the protected v2 client Initial (1200 bytes).
    pub(crate) const V2_CLIENT_INITIAL: &str = "
        d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485
        dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04
        9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d
        250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a
        12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500
        cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68
        18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33
        12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3
        d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd
        6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520
        bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045
        636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f
        ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12
        16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5
        4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4
        fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b
        8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7
        14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9
        9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91
        abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd
        80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db
        848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18
        d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15
        c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc
        7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61
        f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710
        10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b
        3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e
        06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce
        8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1
        34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1
        e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd
        5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3
        8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89
        d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53
        6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19
        9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b
        a18b2faa745b6fe189cf772a9f84cbfc";

    /// Derives `side`'s Initial keys for [`DCID`] in version `v`, checking each step against
    /// a specification's values (hex): the secret, then the key, IV and header protection key.
    fn assert_initial_keys(
        v: u32,
        side: Side,
        [secret_hex, key, iv, hp]: [&str; 4],
    ) -> InitialKeys {
        let (salt, labels) = initial_params(v).expect("known version");
        let secret = initial_secret(salt, &DCID, side).expect("secret");
        assert_eq!(secret.to_vec(), unhex(secret_hex));
        let keys = keys_from_secret(&secret, labels).expect("keys");
        assert_eq!(keys.key.to_vec(), unhex(key));
        assert_eq!(keys.iv.to_vec(), unhex(iv));
        assert_eq!(keys.hp.to_vec(), unhex(hp));
        keys
    }

    #[test]
    fn rfc9001_a1_client_keys() {
        let keys = assert_initial_keys(
            version::V1,
            Side::Client,
            [
                "c00cf151ca5be075ed0ebfb5c80323c4 2d6b7db67881289af4008f1f6c357aea",
                "1f369613dd76d5467730efcbe3b1a22d",
                "fa044b2f42a3fd3b46fb255c",
                "9f50449e04a0e810283a1e9933adedd2",
            ],
        );
        // The header protection mask of the §A.2 sample.
        let sample: [u8; 16] = unhex("d1b1c98dd7689fb8ec11d242b123dc9b")
            .try_into()
            .expect("16 bytes");
        assert_eq!(header_mask(&keys.hp, &sample).to_vec(), unhex("437b9aec36"));
    }

    #[test]
    fn rfc9001_a1_server_keys() {
        assert_initial_keys(
            version::V1,
            Side::Server,
            [
                "3c199828fd139efd216c155ad844cc81 fb82fa8d7446fa7d78be803acdda951b",
                "cf3a5331653c364c88f0f379b6067e37",
                "0ac1493ca1905853b0bba03e",
                "c206b8d9b9f0f37644430b490eeaa314",
            ],
        );
    }

    #[test]
    fn rfc9369_a1_client_keys() {
        let keys = assert_initial_keys(
            version::V2,
            Side::Client,
            [
                "14ec9d6eb9fd7af83bf5a668bc17a7e2 83766aade7ecd0891f70f9ff7f4bf47b",
                "8b1a0bc121284290a29e0971b5cd045d",
                "91f73e2351d8fa91660e909f",
                "45b95e15235d6f45a6b19cbcb0294ba9",
            ],
        );
        let sample: [u8; 16] = unhex("ffe67b6abcdb4298b485dd04de806071")
            .try_into()
            .expect("16 bytes");
        assert_eq!(header_mask(&keys.hp, &sample).to_vec(), unhex("94a0c95e80"));
    }

    fn open(packet_hex: &str, v: u32) -> Option<Vec<u8>> {
        let packet = unhex(packet_hex);
        let pkt = parse_long_packet(&packet)?;
        assert_eq!(pkt.header.version, v);
        let keys = initial_keys(v, pkt.header.dcid, Side::Client)?;
        open_long(&packet, &pkt, &keys)
    }

    #[test]
    fn rfc9001_a2_client_initial_opens() {
        let plain = open(V1_CLIENT_INITIAL, version::V1).expect("decrypts");
        // 1162 bytes of frames: the CRYPTO frame, then PADDING.
        assert_eq!(plain.len(), 1162);
        let frame = unhex(CLIENT_CRYPTO_FRAME);
        assert_eq!(plain.get(..frame.len()), Some(frame.as_slice()));
        assert!(plain
            .get(frame.len()..)
            .is_some_and(|p| p.iter().all(|&b| b == 0)));
    }

    #[test]
    fn rfc9369_a2_client_initial_opens() {
        let plain = open(V2_CLIENT_INITIAL, version::V2).expect("decrypts");
        assert_eq!(plain.len(), 1162);
        let frame = unhex(CLIENT_CRYPTO_FRAME);
        assert_eq!(plain.get(..frame.len()), Some(frame.as_slice()));
    }

    #[test]
    fn tampered_or_misversioned_packets_do_not_open() {
        let mut packet = unhex(V1_CLIENT_INITIAL);
        if let Some(b) = packet.get_mut(600) {
            *b ^= 1;
        }
        let pkt = parse_long_packet(&packet).expect("header still parses");
        let keys = initial_keys(version::V1, pkt.header.dcid, Side::Client).expect("keys");
        assert!(open_long(&packet, &pkt, &keys).is_none());
        // The v1 packet with draft-29 keys fails authentication.
        let packet = unhex(V1_CLIENT_INITIAL);
        let pkt = parse_long_packet(&packet).expect("header");
        let keys = initial_keys(0xff00_001d, pkt.header.dcid, Side::Client).expect("keys");
        assert!(open_long(&packet, &pkt, &keys).is_none());
    }

    #[test]
    fn salts_by_version() {
        let salt = |v| initial_params(v).map(|(s, _)| s);
        assert_eq!(salt(0xff00_0017), Some(&SALT_DRAFT_23));
        assert_eq!(salt(0xff00_001c), Some(&SALT_DRAFT_23));
        assert_eq!(salt(0xff00_001d), Some(&SALT_DRAFT_29));
        assert_eq!(salt(0xff00_0022), Some(&SALT_V1));
        assert_eq!(salt(version::MVFST_22), Some(&SALT_DRAFT_22));
        assert_eq!(salt(version::MVFST_EXP), Some(&SALT_DRAFT_23));
        assert_eq!(salt(version::T051), Some(&SALT_T051));
        assert_eq!(salt(0x5130_3433), None);
        assert_eq!(initial_params(version::V2).map(|(_, l)| l), Some(LABELS_V2));
    }
}
