//! Stand-in ClientHello reader until the TLS dissector's parser lands (then this file goes):
//! only the fields QUIC reports (server name, ALPN, raw extensions).

pub struct Extension<'a> {
    pub ext_type: u16,
    pub data: &'a [u8],
}

pub struct ClientHello<'a> {
    pub extensions: Vec<Extension<'a>>,
    pub sni: Option<&'a [u8]>,
    pub alpn: Vec<&'a [u8]>,
}

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(*d.get(at)?) << 8 | usize::from(*d.get(at + 1)?))
}

pub fn parse_client_hello(msg: &[u8]) -> Option<ClientHello<'_>> {
    if *msg.first()? != 1 {
        return None;
    }
    let len = msg
        .get(1..4)?
        .iter()
        .fold(0usize, |a, &b| (a << 8) | usize::from(b));
    let body = msg.get(4..4 + len)?;
    let mut at = 2 + 32;
    at += 1 + usize::from(*body.get(at)?);
    at += 2 + be16(body, at)?;
    at += 1 + usize::from(*body.get(at)?);
    let ext_len = be16(body, at)?;
    let mut exts = body.get(at + 2..at + 2 + ext_len)?;
    let mut hello = ClientHello {
        extensions: Vec::new(),
        sni: None,
        alpn: Vec::new(),
    };
    while !exts.is_empty() {
        let ext_type = u16::try_from(be16(exts, 0)?).ok()?;
        let n = be16(exts, 2)?;
        let data = exts.get(4..4 + n)?;
        match ext_type {
            0 => hello.sni = data.get(5..5 + be16(data, 3)?),
            16 => {
                let mut list = data.get(2..2 + be16(data, 0)?)?;
                while let Some((&l, rest)) = list.split_first() {
                    hello.alpn.push(rest.get(..usize::from(l))?);
                    list = rest.get(usize::from(l)..)?;
                }
            }
            _ => {}
        }
        hello.extensions.push(Extension { ext_type, data });
        exts = exts.get(4 + n..)?;
    }
    Some(hello)
}
