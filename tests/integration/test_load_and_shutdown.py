"""h2load (h1 and h2) with 20,000 requests and no errors; SIGTERM under load loses nothing."""
import re
import signal
import subprocess
import time

import pytest

from conftest import SLOW, curl


def h2load(url, *args, timeout=300):
    p = subprocess.run(["h2load", *args, url], capture_output=True, text=True, timeout=timeout)
    return p


def parse_requests(out):
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    assert m, out
    keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
    return dict(zip(keys, map(int, m.groups())))


def status_codes(out):
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    return tuple(map(int, m.groups()))


@pytest.fixture
def loaded(mirror_factory):
    m = mirror_factory(start=False)
    (m.static_dir / "small.txt").write_bytes(b"hello mirror\n")
    m.start()
    return m


@pytest.mark.parametrize("mode", [["--h1"], []], ids=["h1", "h2"])
def test_h2load_20000_requests_no_errors(loaded, mode):
    n = 20000 if not SLOW > 1 else 5000
    p = h2load(loaded.url("/static/small.txt"), "-n", str(n), "-c", "10", "-m", "10", *mode)
    assert p.returncode == 0, p.stdout + p.stderr
    r = parse_requests(p.stdout)
    assert r["succeeded"] == n and r["errored"] == 0 and r["failed"] == 0, p.stdout
    assert status_codes(p.stdout) == (n, 0, 0, 0)
    # The server is still fine afterwards.
    assert curl(loaded.url("/live")).status == 200


@pytest.mark.parametrize("mode", [["--h1"], []], ids=["h1", "h2"])
def test_sigterm_under_load_loses_nothing(mirror_factory, mode):
    m = mirror_factory({"server": {"shutdown_timeout": "10s"}}, start=False)
    (m.static_dir / "small.txt").write_bytes(b"hello mirror\n")
    m.start()
    n = 200000
    load = subprocess.Popen(["h2load", "-n", str(n), "-c", "8", "-m", "8", *mode,
                             m.url("/static/small.txt")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5 * SLOW)
    m.signal(signal.SIGTERM)
    t0 = time.time()
    code = m.wait(timeout=15 * SLOW)
    elapsed = time.time() - t0
    out, _ = load.communicate(timeout=60)
    assert code == 0, m.read_log()[-3000:]
    assert elapsed < 10 * SLOW + 1
    r = parse_requests(out)
    two, three, four, five = status_codes(out)
    # Every request that got a response got a 2xx: nothing was half-processed or answered with an
    # error. Requests that h2load did not complete were refused before processing (GOAWAY /
    # connection close), which h2load counts as failed/errored, never as a non-2xx status.
    assert four == 0 and five == 0, out
    assert two == r["succeeded"], out
    assert r["succeeded"] > 0, out
    # Nothing the server logged as completed was lost at the client: the access log counts match.
    served = sum(1 for l in m.log_lines() if l.get("path") == "/static/small.txt" and l.get("status") == 200)
    assert served == r["succeeded"], (served, out)


def test_second_signal_exits_at_once(mirror_factory):
    import socket
    import ssl
    m = mirror_factory({"server": {"shutdown_timeout": "30s", "header_timeout": "30s"}})
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", m.port)), server_hostname="x")
    s.sendall(b"GET /live HTTP/1.1\r\nHost: x\r\n")  # a request in flight: its head is not complete
    time.sleep(0.3)
    m.signal(signal.SIGTERM)
    time.sleep(1.0)
    assert m.proc.poll() is None  # draining: waits for the in-flight request
    m.signal(signal.SIGTERM)
    t0 = time.time()
    code = m.wait(timeout=5 * SLOW)
    assert time.time() - t0 < 3 * SLOW
    assert code == 1
    m.expected_exit = (1,)
    s.close()
