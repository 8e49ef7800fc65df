"""Static files: types, validators, ranges, and no escape from the root."""
import os

import pytest

from conftest import curl, raw_request

PROTOCOLS = ["1.1", "2"]


@pytest.fixture
def site(mirror_factory, tmp_path):
    m = mirror_factory(start=False)
    root = m.static_dir
    (root / "hello.txt").write_text("hello, world\n")
    (root / "index.html").write_text("<h1>hi</h1>")
    (root / "sub").mkdir()
    (root / "sub" / "app.js").write_text("console.log(1)")
    big = os.urandom(3 * 1024 * 1024 + 17)
    (root / "big.bin").write_bytes(big)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, root / "escape.txt")
    os.symlink(root / "hello.txt", root / "inside.txt")
    m.start()
    m.big = big
    return m


@pytest.mark.parametrize("http", PROTOCOLS)
def test_file_with_type_length_and_validators(site, http):
    r = curl(site.url("/static/hello.txt"), http=http)
    assert r.status == 200
    assert r.body == b"hello, world\n"
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["content-length"] == "13"
    assert r.headers["etag"].startswith('"')
    assert r.headers["last-modified"].endswith("GMT")
    assert r.headers["accept-ranges"] == "bytes"
    assert curl(site.url("/static/index.html"), http=http).headers["content-type"].startswith("text/html")
    assert curl(site.url("/static/sub/app.js"), http=http).headers["content-type"].startswith(
        ("text/javascript", "application/javascript"))


@pytest.mark.parametrize("http", PROTOCOLS)
def test_etag_304(site, http):
    etag = curl(site.url("/static/hello.txt"), http=http).headers["etag"]
    r = curl(site.url("/static/hello.txt"), "-H", f"If-None-Match: {etag}", http=http)
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == etag
    r = curl(site.url("/static/hello.txt"), "-H", 'If-None-Match: "other"', http=http)
    assert r.status == 200


@pytest.mark.parametrize("http", PROTOCOLS)
def test_ranges(site, http):
    r = curl(site.url("/static/hello.txt"), "-H", "Range: bytes=0-4", http=http)
    assert r.status == 206
    assert r.body == b"hello"
    assert r.headers["content-range"] == "bytes 0-4/13"
    r = curl(site.url("/static/hello.txt"), "-H", "Range: bytes=-6", http=http)
    assert r.status == 206 and r.body == b"world\n"
    r = curl(site.url("/static/hello.txt"), "-H", "Range: bytes=7-", http=http)
    assert r.status == 206 and r.body == b"world\n"
    r = curl(site.url("/static/hello.txt"), "-H", "Range: bytes=100-200", http=http)
    assert r.status == 416
    assert r.headers["content-range"] == "bytes */13"


@pytest.mark.parametrize("http", PROTOCOLS)
def test_large_file_streams_byte_exact(site, http):
    r = curl(site.url("/static/big.bin"), http=http, timeout=60)
    assert r.status == 200
    assert r.body == site.big
    r = curl(site.url("/static/big.bin"), "-H", "Range: bytes=1000000-1999999", http=http)
    assert r.status == 206 and r.body == site.big[1000000:2000000]


@pytest.mark.parametrize("path", [
    "/static/../conftest.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/sub/..%2f..%2fetc/passwd",
    "/static/%2e%2e%2fsecret.txt",
    "/static/escape.txt",
    "/static/sub",
    "/static/",
    "/static/nothere.txt",
    "/static/hello.txt%00.html",
    "/static/..\\..\\etc\\passwd",
])
def test_no_escape_and_no_listing(site, path):
    # --path-as-is keeps curl from normalising the dots away.
    r = curl(site.url(path), "--path-as-is")
    assert r.status == 404, (path, r.status, r.body[:200])
    assert r.json()["error"]["type"] == "NOT_FOUND"


def test_symlink_inside_root_is_served(site):
    r = curl(site.url("/static/inside.txt"))
    assert r.status == 200 and r.body == b"hello, world\n"


def test_raw_dotdot_over_h1(site):
    out = raw_request(site.port, b"GET /static/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 404") or out.startswith(b"HTTP/1.1 400"), out[:200]
    assert b"root:" not in out
