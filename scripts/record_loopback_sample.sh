#!/usr/bin/env bash
# Records samples/loopback.pcapng: real tools talking over the loopback interface (HTTP with
# curl against Python's http.server over IPv4 and IPv6, TLS with curl against openssl
# s_server, a DNS query/response and a UDP datagram over IPv6). Needs root, dumpcap (tshark),
# openssl and curl. The bundled file was made with this script; rerun it to refresh it.
set -euo pipefail
out=${1:-samples/loopback.pcapng}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 2 \
  -subj "/CN=sample.netsonde.test" 2>/dev/null
dumpcap -i lo -w "$out" -q -f "not port 22" >/dev/null 2>&1 & cap=$!
sleep 2
python3 -m http.server 18080 --bind 127.0.0.1 >/dev/null 2>&1 &
python3 -m http.server 18081 --bind ::1 >/dev/null 2>&1 &
openssl s_server -accept 18443 -cert "$work/c.pem" -key "$work/k.pem" -www -quiet >/dev/null 2>&1 &
sleep 1
curl -s -A "netsonde-sample/1.0" http://127.0.0.1:18080/ >/dev/null
curl -s http://127.0.0.1:18080/missing >/dev/null
curl -sk --resolve sample.netsonde.test:18443:127.0.0.1 https://sample.netsonde.test:18443/ >/dev/null
curl -s -g "http://[::1]:18081/" >/dev/null
python3 - <<'PY'
import socket
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 15353))
query = bytes.fromhex("abcd01000001000000000000") + b"\x07example\x03com\x00\x00\x01\x00\x01"
client.sendto(query, ("127.0.0.1", 15353))
data, addr = server.recvfrom(512)
server.sendto(data[:2] + b"\x81\x80" + data[4:], addr)
client.recvfrom(512)
c6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.bind(("::1", 16000))
c6.sendto(b"hello over ipv6", ("::1", 16000))
s6.recvfrom(100)
PY
sleep 1
kill "$cap"
wait "$cap" 2>/dev/null || true
echo "wrote $out"
