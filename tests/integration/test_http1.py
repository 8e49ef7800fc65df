"""HTTP/1.1 over TLS on the wire: keep-alive, pipelining, chunked bodies, 100-continue, strict
parsing (request smuggling), limits and timeouts."""
import json
import re
import socket
import ssl
import threading
import time

import pytest

from conftest import SLOW, curl, raw_request


@pytest.fixture
def srv(mirror_factory):
    return mirror_factory({
        "server": {"debug_endpoints": True, "header_timeout": "2s", "idle_timeout": "3s",
                   "limits": {"max_body_size": 65536, "max_header_count": 20,
                              "max_request_line": 1024, "max_header_bytes": 4096}},
    })


def responses(data: bytes):
    """Splits a byte stream of HTTP/1.1 responses (Content-Length or chunked bodies)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, data[:300]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        if headers.get("transfer-encoding") == "chunked":
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    _, _, rest = rest.partition(b"\r\n")  # (no trailers) final CRLF
                    break
                body += rest[:size]
                rest = rest[size + 2:]
        elif "content-length" in headers and not (100 <= status < 200 or status in (204, 304)):
            n = int(headers["content-length"])
            body, rest = rest[:n], rest[n:]
        out.append((status, headers, body))
        data = rest
    return out


def test_pipelined_requests_answered_in_order(srv):
    reqs = b"".join(
        f"GET /nope{i} HTTP/1.1\r\nHost: x\r\nX-Request-ID: p{i}\r\n\r\n".encode() for i in range(10))
    reqs += b"GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    rs = responses(raw_request(srv.port, reqs))
    assert [s for s, _, _ in rs] == [404] * 10 + [200]
    assert [h["x-request-id"] for _, h, _ in rs[:10]] == [f"p{i}" for i in range(10)]
    assert rs[-1][1].get("connection") == "close"


def test_chunked_request_body_echo(srv):
    body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"
    out = raw_request(srv.port, b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n" + body)
    (status, headers, got), = responses(out)
    assert status == 200 and got == b"Wikipedia"


def test_content_length_body_echo_and_keepalive(srv):
    payload = b"x" * 50000
    req = (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(payload)) + payload
    req += b"GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    rs = responses(raw_request(srv.port, req))
    assert rs[0][0] == 200 and rs[0][2] == payload
    assert rs[1][0] == 200


def test_expect_100_continue(srv):
    r = curl(srv.url("/debug/echo"), "-H", "Expect: 100-continue", "--data-binary", "a" * 3000)
    assert r.status == 200 and r.body == b"a" * 3000
    out = raw_request(srv.port, b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                      b"Expect: 100-continue\r\n\r\n", read_all=False)
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), out


def test_expect_100_continue_over_limit_gets_413_without_reading(srv):
    out = raw_request(srv.port, b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
                      b"Expect: 100-continue\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 413"), out[:100]
    assert b"100 Continue" not in out


def test_chunked_response_when_length_unknown(srv):
    out = raw_request(srv.port, b"GET /debug/stream?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    (status, headers, body), = responses(out)
    assert status == 200
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"chunk 0\nchunk 1\nchunk 2\n"


def test_head_has_no_body(srv):
    out = raw_request(srv.port, b"HEAD /version HTTP/1.1\r\nHost: x\r\n\r\nGET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200"), rest[:100]  # next response follows at once: no body


def test_http10_closes_by_default(srv):
    out = raw_request(srv.port, b"GET /live HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200") or out.startswith(b"HTTP/1.0 200")


SMUGGLING = [
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
    (b"GET /live HTTP/1.1\nHost: x\n\n", 400),
    (b"GET /live HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400),
    (b"GET /live HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", 400),
    (b"GET /live HTTP/1.1\r\n\r\n", 400),
    (b"GET /live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET /live HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400),
    (b"GET live HTTP/1.1\r\nHost: x\r\n\r\n", 400),
]


@pytest.mark.parametrize("req,status", SMUGGLING, ids=[str(i) for i in range(len(SMUGGLING))])
def test_request_smuggling_rejected_and_connection_closed(srv, req, status):
    # A follow-up request on the same connection must never be processed.
    out = raw_request(srv.port, req + b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 %d" % status), out[:200]
    assert out.count(b"HTTP/1.1 ") == 1, out
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["type"]


def test_limits(srv):
    out = raw_request(srv.port, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 414"), out[:100]
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(30))
    out = raw_request(srv.port, b"GET /live HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert out.startswith(b"HTTP/1.1 431"), out[:100]
    out = raw_request(srv.port, b"GET /live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 5000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431"), out[:100]
    out = raw_request(srv.port, b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + b"x" * 70000)
    assert out.startswith(b"HTTP/1.1 413"), out[:100]
    r = curl(srv.url("/debug/echo"), "-H", "Transfer-Encoding: chunked", "--data-binary", "y" * 70000)
    assert r.status == 413


def tls_socket(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
    return ctx.wrap_socket(s, server_hostname="localhost")


def test_slow_client_times_out_while_others_are_served(srv):
    s = tls_socket(srv.port)
    start = time.time()
    result = {}

    def trickle():
        data = b"GET /live HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
        try:
            for b in data:
                s.send(bytes([b]))
                time.sleep(0.1)
            result["sent_all"] = True
        except OSError:
            pass
        try:
            result["reply"] = s.recv(4096)
        except OSError as e:
            result["reply"] = b""

    t = threading.Thread(target=trickle)
    t.start()
    time.sleep(0.5)
    # Meanwhile, a normal client is served promptly.
    for _ in range(5):
        assert curl(srv.url("/live")).status == 200
    t.join(timeout=30)
    elapsed = time.time() - start
    # header_timeout is 2s from the first byte: the trickle (13s of bytes) is cut early.
    assert elapsed < 8 * SLOW, elapsed
    assert not result.get("sent_all") or result.get("reply", b"").startswith(b"HTTP/1.1 408") \
        or result.get("reply") == b""


def test_idle_keepalive_connection_closed(srv):
    s = tls_socket(srv.port)
    s.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b"\r\n\r\n" not in first:
        first += s.recv(4096)
    assert first.startswith(b"HTTP/1.1 200")
    head, _, body = first.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
    while len(body) < length:
        body += s.recv(4096)
    s.settimeout(10 * SLOW)
    start = time.time()
    try:
        rest = s.recv(4096)
    except (ConnectionResetError, ssl.SSLError):
        rest = b""
    assert rest == b""  # server closed the idle connection
    assert time.time() - start < 8 * SLOW
