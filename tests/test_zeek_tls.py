"""TLS and DTLS against Zeek's ssl.log of the same traces (the shared corpus): for every
connection Zeek logs a handshake for, netsonde names the same version, cipher suite and SNI,
whether the handshake opens the connection or follows an upgrade (STARTTLS in SMTP, IMAP,
POP3, IRC and XMPP, FTP's AUTH TLS, MySQL's SSLRequest), shares a WebRTC flow with STUN, or
runs in QUIC's Initial packets.
Skipped cleanly when the corpus is not present."""

from __future__ import annotations

import json

import pytest
from zeekcorpus import ZEEK, flows_by_conn, zeek_conn, zeek_logs


def _traces() -> list[str]:
    if not ZEEK.is_dir():
        return []
    entries = [json.loads(line) for line in (ZEEK / "index.jsonl").read_text().splitlines()]
    # globus-url-copy carries its TLS records base64-encoded in FTP commands (GridFTP).
    return [e["pcap"] for e in entries if "ssl" in e["log_types"] and e["pcap"] != "globus-url-copy.pcap"]


def _version(zeek: str) -> str:
    # Zeek spells TLS 1.2 "TLSv12", netsonde as nDPI does, "TLSv1.2" (and TLS 1.0 "TLSv1").
    prefix = "DTLS" if zeek.startswith("DTLS") else "TLS"
    digits = zeek.removeprefix(prefix + "v")
    if prefix == "TLS" and digits == "10":
        return "TLSv1"
    return f"{prefix}v{digits[0]}.{digits[1:]}"


pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


@pytest.mark.parametrize("trace", _traces())
def test_each_handshake_has_zeeks_version_cipher_and_server_name(trace: str) -> None:
    flows = flows_by_conn(trace)
    records = [r for r in zeek_logs(trace)["ssl"] if "id.orig_h" in r]
    assert records
    for r in records:
        conn = zeek_conn(r)
        flow = flows.get(conn)
        assert flow is not None, conn
        meta = flow.metadata
        version = r.get("version")
        # Drafts and unknown versions are named differently by each tool.
        if version and "draft" not in version and not version.startswith("unknown"):
            assert meta.get("tls.version") == _version(version), conn
        if r.get("cipher"):
            assert meta.get("tls.cipher") == r["cipher"], conn
        if r.get("server_name"):
            # QUIC's handshakes are in ssl.log too: their server name is QUIC's attribute,
            # their version and cipher (from the server's Initial) TLS's.
            sni = "quic.sni" if "quic.version" in meta else "tls.sni"
            assert meta.get(sni) == r["server_name"], conn
