"""Classification through the public API: protocols by payload on any port, applications
from signature packs (built-in and loaded while the engine runs), events per transaction."""

from __future__ import annotations

import json
from pathlib import Path

import netsonde
import pcapgen as pg
import pytest


def http_packets(client: str, cport: int, sport: int, host: str, t0_ns: int) -> list[tuple[float, bytes]]:
    request = f"GET /index.html HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test/1.0\r\n\r\n".encode()
    response = b"HTTP/1.1 200 OK\r\nServer: test\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
    conv = pg.tcp_conversation(
        client, "192.0.2.80", cport, sport, t0_ns=t0_ns, request=request, response=response
    )
    return [(ts / 1e9, pg.ether_for(pkt)) for ts, _from_client, pkt in conv]


@pytest.mark.parametrize("port", [80, 8080, 5555])
def test_http_is_recognised_with_metadata_on_any_port(port: int) -> None:
    flows = list(netsonde.analyze(http_packets("10.1.0.1", 40000, port, "www.example.org", 10**9)))
    assert len(flows) == 1
    flow = flows[0]
    assert flow.application_name == "HTTP"
    assert flow.application_confidence == "DPI"
    assert flow.requested_server_name == "www.example.org"
    assert flow.user_agent == "test/1.0"
    assert flow.content_type == "text/plain"
    assert flow.metadata["http.uri"] == "/index.html"
    assert flow.metadata["http.status_code"] == 200


def test_builtin_pack_names_the_application() -> None:
    flows = list(netsonde.analyze(http_packets("10.1.0.1", 40000, 80, "www.youtube.com", 10**9)))
    assert [f.application_name for f in flows] == ["HTTP.YouTube"]


def test_signature_pack_loaded_while_running_keeps_earlier_flows(tmp_path: Path) -> None:
    pack = tmp_path / "corp.toml"
    pack.write_text(
        '[[app]]\nid = 60000\nname = "CorpPortal"\ncategory = "Collaborative"\nhosts = ["corp.example"]\n'
    )
    engine = netsonde.Engine()
    before = engine.process(http_packets("10.1.0.1", 40000, 80, "portal.corp.example", 10**9))
    before += engine.flush()
    assert engine.load_signatures(str(pack)) == 1
    after = engine.process(http_packets("10.1.0.2", 40001, 80, "portal.corp.example", 2 * 10**9))
    after += engine.flush()
    assert [f.application_name for f in before] == ["HTTP"]
    assert [f.application_name for f in after] == ["HTTP.CorpPortal"]
    assert after[0].application_category_name == "Collaborative"


def test_bad_signature_packs_are_refused_clearly(tmp_path: Path) -> None:
    engine = netsonde.Engine()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[app]]\nid = 1\nname = "a.b"\ncategory = "Web"\n')
    with pytest.raises(ValueError, match="without dots"):
        engine.load_signatures(str(bad))
    with pytest.raises(FileNotFoundError, match="no such signature pack"):
        engine.load_signatures(str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match=r"bad\.toml"):
        netsonde.Engine(signatures=(str(bad),))


def test_cli_loads_signature_packs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "corp.toml"
    pack.write_text('[[app]]\nid = 60001\nname = "Intranet"\ncategory = "Web"\nhosts = ["intra.example"]\n')
    frames = [
        pg.Frame(round(ts * 1e9), data)
        for ts, data in http_packets("10.1.0.3", 40002, 80, "intra.example", 10**9)
    ]
    capture = pg.write_pcap(tmp_path / "http.pcap", frames)
    from netsonde import cli

    assert cli.main(["analyze", str(capture), "-f", "jsonl", "--signatures", str(pack)]) == 0
    # The records are written by the compiled engine to file descriptor 1.
    assert '"application_name":"HTTP.Intranet"' in capfd.readouterr().out


def test_transaction_events_are_delivered() -> None:
    engine = netsonde.Engine()
    requests: list[netsonde.Event] = []
    classified: list[netsonde.Event] = []
    engine.on("http.request", requests.append)
    engine.on("flow.classified", classified.append)
    engine.process(http_packets("10.1.0.4", 40003, 8000, "events.example", 10**9))
    flows = engine.flush()
    assert [e.attributes["http.host"] for e in requests] == ["events.example"]
    assert requests[0].flow_id == flows[0].id
    assert [e.attributes["protocol"] for e in classified] == ["HTTP"]
    with pytest.raises(ValueError, match="unknown event"):
        engine.on("http.nonsense", print)


def keep_alive_packets(transactions: int) -> list[tuple[float, bytes]]:
    """One TCP connection carrying ``transactions`` requests, each answered, one after another."""
    client, server, cport, sport = "10.1.0.5", "192.0.2.80", 40004, 80
    c_seq, s_seq = 1001, 5001
    segments = [
        (True, pg.tcp(cport, sport, flags="S", seq=c_seq - 1)),
        (False, pg.tcp(sport, cport, flags="SA", seq=s_seq - 1, ack=c_seq)),
    ]
    for i in range(transactions):
        request = f"GET /item/{i} HTTP/1.1\r\nHost: shop.example\r\n\r\n".encode()
        response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        segments.append((True, pg.tcp(cport, sport, flags="PA", seq=c_seq, ack=s_seq, payload=request)))
        c_seq += len(request)
        segments.append((False, pg.tcp(sport, cport, flags="PA", seq=s_seq, ack=c_seq, payload=response)))
        s_seq += len(response)
    return [
        (
            1.0 + i / 1000,
            pg.ether_for(pg.ip_packet(*((client, server) if up else (server, client)), pg.PROTO_TCP, seg)),
        )
        for i, (up, seg) in enumerate(segments)
    ]


def test_every_transaction_of_a_long_connection_is_an_event() -> None:
    """Inspection normally ends once the metadata is known (here after the first exchange, and
    at the latest after 32 payload packets); a subscriber to the transactions gets them all."""
    engine = netsonde.Engine()
    requests: list[netsonde.Event] = []
    responses: list[netsonde.Event] = []
    engine.on("http.request", requests.append)
    engine.on("http.response", responses.append)
    flows = engine.process(keep_alive_packets(40)) + engine.flush()
    assert [f.application_name for f in flows] == ["HTTP"]
    assert [e.attributes["http.uri"] for e in requests] == [f"/item/{i}" for i in range(40)]
    assert len(responses) == 40


def test_protocols_listing_comes_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from netsonde import cli

    assert cli.main(["protocols", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"HTTP", "TLS", "DNS", "QUIC", "SSH"} <= {r["name"] for r in rows}
    ports = {r["name"]: r["ports"] for r in rows}
    assert ports["DNS"] == "tcp/53 udp/53" and ports["QUIC"] == "udp/443" and ports["STUN"]
    assert cli.main(["protocols", "--attributes"]) == 0
    listing = capsys.readouterr().out
    for attr in ("http.host", "tls.sni", "tls.ja4", "dns.query", "ssh.hassh", "dhcp.fingerprint"):
        assert attr in listing
