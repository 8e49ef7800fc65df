"""Integration-test harness: starts the real `mirror` binary and talks to it with real clients.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/integration
"""
import json
import re
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIRROR_BIN = os.environ.get("MIRROR_BIN", str(ROOT / "build" / "mirror"))
TOOLS_DIR = os.environ.get("MIRROR_TOOLS_DIR", str(ROOT / "build" / "tools"))
UNDER_ASAN = os.environ.get("MIRROR_ASAN") == "1"
# Timing-sensitive numbers (timeouts, load sizes) are scaled under ASan, never assertions.
SLOW = 3 if UNDER_ASAN else 1


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 (HTTP/3 uses the same number)."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", port))
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def to_yaml(value, indent=0):
    pad = "  " * indent
    out = []
    for k, v in value.items():
        if isinstance(v, dict):
            out.append(f"{pad}{k}:")
            out.append(to_yaml(v, indent + 1))
        elif isinstance(v, list):
            out.append(f"{pad}{k}: {json.dumps(v)}")
        elif isinstance(v, bool):
            out.append(f"{pad}{k}: {'true' if v else 'false'}")
        else:
            out.append(f"{pad}{k}: {json.dumps(v) if isinstance(v, str) else v}")
    return "\n".join(out)


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


class Mirror:
    """One running mirror process with its own ports, state dir and static dir."""

    def __init__(self, workdir: Path, config: dict, env=None, args=()):
        self.workdir = workdir
        self.port = free_port()
        self.static_dir = workdir / "static"
        self.static_dir.mkdir(exist_ok=True)
        self.state_dir = workdir / "state"
        base = {
            "server": {
                "http_port": self.port,
                "http3_port": self.port,
                "listen_addresses": ["127.0.0.1"],
                "state_dir": str(self.state_dir),
                "static_dir": str(self.static_dir),
                "workers": 2,
            },
            "logging": {"level": "info", "format": "json"},
        }
        self.config = merge(base, config)
        self.config_path = workdir / "mirror.yaml"
        self.config_path.write_text(to_yaml(self.config) + "\n")
        self.log_path = workdir / "mirror.log"
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.expected_exit = (0, None)  # a test that kills the server on purpose widens this

    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def start(self, wait=True):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [MIRROR_BIN, "--config", str(self.config_path), *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20 * SLOW):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"mirror exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mirror did not start listening:\n" + self.read_log())

    def read_log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        out = []
        for line in self.read_log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        log = self.read_log()
        assert "AddressSanitizer" not in log, log[-5000:]
        assert "runtime error:" not in log, log[-5000:]
        return self.proc.returncode if self.proc else None


@pytest.fixture
def mirror_factory(tmp_path):
    started = []

    def make(config=None, env=None, args=(), start=True):
        d = tmp_path / f"m{len(started)}"
        d.mkdir()
        m = Mirror(d, config or {}, env=env, args=args)
        started.append(m)
        if start:
            m.start()
        return m

    yield make
    for m in started:
        code = m.stop()
        # A clean SIGTERM shutdown exits 0; anything else (a crash) fails the test.
        assert code in m.expected_exit, f"mirror exited {code}:\n{m.read_log()[-4000:]}"


@pytest.fixture
def mirror(mirror_factory):
    return mirror_factory()


class CurlResult:
    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stderr = proc.stderr.decode(errors="replace")
        raw = proc.stdout
        self.status = None
        self.headers = {}
        self.header_list = []
        # -D - puts every response head (incl. 1xx) before the body; keep the last head.
        while raw.startswith(b"HTTP/"):
            head, _, rest = raw.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            self.http_version = lines[0].split()[0]
            self.headers = {}
            self.header_list = []
            for line in lines[1:]:
                k, _, v = line.partition(":")
                self.headers[k.strip().lower()] = v.strip()
                self.header_list.append((k.strip().lower(), v.strip()))
            raw = rest
            if not (100 <= self.status < 200):
                break
        self.body = raw

    def json(self):
        return json.loads(self.body)


def curl(url, *args, http="1.1", timeout=20):
    """Runs curl (h1 or h2 over TLS, no cert check) and returns status, headers and body."""
    flag = {"1.1": "--http1.1", "2": "--http2", "h2c": "--http2-prior-knowledge"}[http]
    cmd = ["curl", "-sS", "-k", flag, "-D", "-", "--max-time", str(timeout * SLOW), *args, url]
    proc = subprocess.run(cmd, capture_output=True)
    return CurlResult(proc)


def raw_request(port, data: bytes, tls=True, timeout=5.0, read_all=True):
    """Sends raw bytes over TLS (or cleartext) and returns everything the server sent back."""
    import ssl
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOW)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
    sock.sendall(data)
    chunks = []
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                break
            chunks.append(b)
            if not read_all:
                break
    except (socket.timeout, ConnectionResetError):
        pass
    except Exception as e:  # ssl EOF without close_notify
        if "EOF" not in str(e) and "closed" not in str(e).lower():
            raise
    finally:
        sock.close()
    return b"".join(chunks)


def tool(name):
    path = Path(TOOLS_DIR) / name
    return str(path)


def have(cmd):
    return shutil.which(cmd) is not None


class H3Result:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def gtlsclient(port, paths, *args, download_dir, timeout=60, host="127.0.0.1", quiet=False):
    """Fetches paths over HTTP/3 with Debian's gtlsclient (ngtcp2's example client).

    gtlsclient exits 0 even when it fails, so callers must look at what was downloaded: this returns
    one H3Result per path (status/headers parsed from its HTTP dump, body from --download), with
    status None when no response arrived. quiet=True skips the HTTP dump (which hex-dumps every
    body byte and makes multi-megabyte transfers take seconds): only bodies are returned then."""
    download_dir = Path(download_dir)
    shutil.rmtree(download_dir, ignore_errors=True)
    download_dir.mkdir(parents=True)
    uris = [f"https://{host}:{port}{p}" for p in paths]
    dump = ["-q"] if quiet else ["--no-quic-dump"]
    cmd = ["gtlsclient", *dump, "--exit-on-all-streams-close", "--download",
           str(download_dir), *args, host, str(port), *uris]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout * SLOW)
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    by_stream = {}
    for m in re.finditer(r"http: stream (0x[0-9a-f]+) \[([^:\]]*|:status): ([^\]]*)\]", out):
        sid, k, v = m.group(1), m.group(2), m.group(3)
        by_stream.setdefault(int(sid, 16), []).append((k, v))
    results = []
    for i, p in enumerate(paths):
        fields = by_stream.get(i * 4, [])
        status = None
        headers = {}
        for k, v in fields:
            if k == ":status":
                status = int(v)
            else:
                headers[k] = v
        name = p.split("?")[0].rstrip("/").split("/")[-1] or "index.html"
        f = download_dir / name
        body = f.read_bytes() if f.exists() else b""
        results.append(H3Result(status, headers, body))
    return results, out
