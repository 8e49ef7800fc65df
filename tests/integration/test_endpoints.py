"""Every endpoint over HTTP/1.1 and HTTP/2 with curl: status, headers and JSON shapes."""
import re

import pytest

from conftest import curl

PROTOCOLS = ["1.1", "2"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.mark.parametrize("http", PROTOCOLS)
def test_health(mirror, http):
    r = curl(mirror.url("/health"), http=http)
    assert r.status == 200, r.body
    assert r.http_version == ("HTTP/2" if http == "2" else "HTTP/1.1")
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    body = r.json()
    assert body["status"] == "ok"
    assert RFC3339.match(body["timestamp"])
    assert set(body["checks"]) >= {"disk", "memory"}
    for name, check in body["checks"].items():
        assert check["name"] == name
        assert check["status"] == "ok"
        assert RFC3339.match(check["last_checked"])
        assert isinstance(check["duration_ms"], (int, float))
    assert re.match(r"^\d+ seconds?$|^\d+ minutes?", body["uptime"])
    assert r.headers["x-request-id"]


@pytest.mark.parametrize("http", PROTOCOLS)
def test_ready_and_live(mirror, http):
    r = curl(mirror.url("/ready"), http=http)
    assert r.status == 200, r.body
    assert r.json()["status"] == "ok"
    assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    r = curl(mirror.url("/live"), http=http)
    assert r.status == 200
    assert r.json()["status"] == "alive"
    assert RFC3339.match(r.json()["timestamp"])


def test_health_down_when_memory_limit_exceeded(mirror_factory):
    # A memory limit far below the process RSS makes the memory checker report down.
    m = mirror_factory({"health": {"memory_limit": "1MiB"}})
    r = curl(m.url("/health"))
    assert r.status == 503, r.body
    body = r.json()
    assert body["status"] == "down"
    assert body["checks"]["memory"]["status"] == "down"
    assert "memory" in body["checks"]["memory"]["message"]
    assert curl(m.url("/ready")).status == 503
    assert curl(m.url("/live")).status == 200


@pytest.mark.parametrize("http", PROTOCOLS)
def test_version(mirror, http):
    r = curl(mirror.url("/version"), http=http)
    assert r.status == 200
    assert r.headers["cache-control"] == "public, max-age=3600"
    v = r.json()
    for key in ("version", "git_commit", "build_time", "compiler", "os", "arch"):
        assert v[key], key
    assert v["os"] == "linux"
    libs = v["libraries"]
    assert libs["nghttp2"].startswith("1.52")
    assert libs["ngtcp2"].startswith("0.12")
    assert libs["nghttp3"].startswith("0.8")
    assert libs["gnutls"].startswith("3.7")


@pytest.mark.parametrize("http", PROTOCOLS)
def test_not_found_has_request_id_and_error_shape(mirror, http):
    r = curl(mirror.url("/nope"), "-H", "X-Request-ID: abc-123", http=http)
    assert r.status == 404
    assert r.headers["x-request-id"] == "abc-123"
    assert r.json() == {"error": {"type": "NOT_FOUND", "message": "endpoint not found"},
                        "trace_id": "abc-123"}


@pytest.mark.parametrize("http", PROTOCOLS)
def test_generated_request_id(mirror, http):
    r1 = curl(mirror.url("/live"), http=http)
    r2 = curl(mirror.url("/live"), http=http)
    assert r1.headers["x-request-id"] != r2.headers["x-request-id"]
    assert len(r1.headers["x-request-id"]) >= 16


@pytest.mark.parametrize("http", PROTOCOLS)
def test_method_not_allowed_and_options(mirror, http):
    r = curl(mirror.url("/health"), "-X", "POST", "-d", "x", http=http)
    assert r.status == 405
    assert "GET" in r.headers["allow"] and "HEAD" in r.headers["allow"]
    assert r.json()["error"]["type"] == "VALIDATION_ERROR"
    assert r.headers["x-request-id"]
    r = curl(mirror.url("/health"), "-X", "OPTIONS", http=http)
    assert r.status == 204
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize("http", PROTOCOLS)
def test_head_is_served_from_get(mirror, http):
    r = curl(mirror.url("/version"), "-I", http=http)
    assert r.status == 200
    assert r.body.strip() == b""  # (curl -I echoes the head once more; raw h1 HEAD: test_http1.py)
    get = curl(mirror.url("/version"), http=http)
    assert int(r.headers["content-length"]) == len(get.body)


@pytest.mark.parametrize("http", PROTOCOLS)
def test_alt_svc_advertises_h3(mirror, http):
    r = curl(mirror.url("/live"), http=http)
    assert r.headers["alt-svc"] == f'h3=":{mirror.port}"; ma=86400'


def test_alt_svc_absent_when_http3_disabled(mirror_factory):
    m = mirror_factory({"server": {"enable_http3": False}})
    r = curl(m.url("/live"))
    assert "alt-svc" not in r.headers


def test_debug_info_only_when_enabled(mirror_factory):
    m = mirror_factory()
    assert curl(m.url("/debug/info")).status == 404
    m2 = mirror_factory({"server": {"debug_endpoints": True}})
    r = curl(m2.url("/debug/info"))
    assert r.status == 200
    body = r.json()
    assert body["debug_enabled"] is True
    assert body["ports"] == {"http": m2.port, "http3": m2.port}
    assert body["protocols"] == {"http11": True, "http2": True, "http3": True}


def test_access_log_line(mirror):
    curl(mirror.url("/live"), "-H", "X-Request-ID: log-me-1", http="2")
    import time
    for _ in range(40):
        lines = [l for l in mirror.log_lines() if l.get("request_id") == "log-me-1"]
        if lines:
            break
        time.sleep(0.05)
    assert lines, mirror.read_log()[-2000:]
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/live" and line["status"] == 200
    assert line["protocol"] == "HTTP/2"
    assert line["bytes"] > 0
    assert "duration_ms" in line and "peer" in line
