"""SMTP against Zeek's smtp.log of the same traces (the shared corpus): every connection Zeek
logs a mail transaction for is SMTP here, with the HELO domain, the envelope sender and a
recipient of its first transaction, whether both directions were captured or only the
client's (`smtp-one-side-only.pcap`, `smtp-attachment-msg.pcap`: the server's side is
missing, and the client's commands alone show SMTP), and through an HTTP proxy's tunnel.
Skipped cleanly when the corpus is not
present."""

from __future__ import annotations

from typing import Any

import pytest
from zeekcorpus import ZEEK, Conn, flows_by_conn, zeek_conn, zeek_logs

TRACES = [
    "smtp.pcap",
    "smtp-one-side-only.pcap",
    "smtp-attachment-msg.pcap",
    "smtp-mail-transactions-invalid.pcap",
    "smtp__rfc3030-bdat-0-last.pcap",
    "smtp__rfc3030-bdat-multipart.pcap",
    "smtp__smtp-bdat-pipeline-8bitmime.pcap",
    "smtp__smtp-bdat-gap.pcap",
    # Through an HTTP proxy's tunnel, after a (damaged) CONNECT.
    "http__connect-with-smtp.pcap",
]

pytestmark = pytest.mark.skipif(not ZEEK.is_dir(), reason=f"no Zeek corpus at {ZEEK}")


def _first_transactions(trace: str) -> dict[Conn, dict[str, Any]]:
    first: dict[Conn, dict[str, Any]] = {}
    for r in zeek_logs(trace)["smtp"]:
        first.setdefault(zeek_conn(r), r)
    return first


@pytest.mark.parametrize("trace", TRACES)
def test_each_mail_connection_is_smtp_with_zeeks_envelope(trace: str) -> None:
    flows = flows_by_conn(trace)
    zeek = _first_transactions(trace)
    assert zeek
    for conn, r in zeek.items():
        flow = flows.get(conn)
        assert flow is not None, conn
        # The tunnel's flow is the proxy's; SMTP shows in its metadata.
        tunnelled = "http.method" in flow.metadata
        assert flow.application_name == ("HTTP_Connect" if tunnelled else "SMTP"), conn
        meta = flow.metadata
        if r.get("helo"):
            assert meta.get("smtp.helo") == r["helo"], conn
        if r.get("mailfrom"):
            assert meta.get("smtp.mail_from") == r["mailfrom"], conn
        if r.get("rcptto"):
            # Zeek logs the recipients as a set, in no particular order.
            assert meta.get("smtp.rcpt_to") in r["rcptto"], conn
