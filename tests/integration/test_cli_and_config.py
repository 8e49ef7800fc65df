"""The binary's command line and configuration: exit codes, messages, overrides, cleartext port,
qlog output."""
import os
import subprocess

import pytest

from conftest import MIRROR_BIN, curl, free_port, gtlsclient


def run(*args, env=None, cwd=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([MIRROR_BIN, *args], capture_output=True, text=True, env=e, cwd=cwd,
                          timeout=30)


def test_version_flag():
    p = run("--version")
    assert p.returncode == 0
    assert p.stdout.startswith("mirror ")


@pytest.mark.parametrize("yaml,needle", [
    ("server:\n  http_port: 70000\n", "server.http_port"),
    ("server:\n  htp_port: 1\n", "server.htp_port"),
    ("server:\n  read_timeout: 30 seconds\n", "server.read_timeout"),
    ("server:\n  enable_http: maybe\n", "server.enable_http"),
    ("server:\n  tls_cert_file: /nonexistent/cert.pem\n  tls_key_file: /nonexistent/key.pem\n",
     "server.tls_cert_file"),
    ("server:\n  congestion_control: vegas\n", "server.congestion_control"),
])
def test_invalid_config_exits_2_with_clear_message(tmp_path, yaml, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml)
    for args in (["--check-config", "--config", str(f)], ["--config", str(f)]):
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert needle in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_env_override_is_checked_too():
    p = run("--check-config", env={"MIRROR_SERVER_HTTP_PORT": "99999"})
    assert p.returncode == 2 and "MIRROR_SERVER_HTTP_PORT" in p.stderr


def test_shipped_config_is_valid():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = run("--check-config", "--config", os.path.join(root, "config", "mirror.yaml"))
    assert p.returncode == 0, p.stderr


def test_cleartext_port_h1_and_h2_prior_knowledge(mirror_factory):
    plain = free_port()
    m = mirror_factory({"server": {"plain_port": plain}})
    r = curl(f"http://127.0.0.1:{plain}/live", http="1.1")
    assert r.status == 200 and r.json()["status"] == "alive"
    assert "alt-svc" not in r.headers  # h3 is advertised on the TLS origin only
    r = curl(f"http://127.0.0.1:{plain}/live", http="h2c")
    assert r.status == 200 and r.http_version == "HTTP/2"
    assert curl(m.url("/live"), http="2").status == 200


def test_qlog_written_per_connection(mirror_factory, tmp_path):
    qdir = tmp_path / "qlog"
    qdir.mkdir()
    m = mirror_factory({"server": {"qlog_dir": str(qdir)}})
    (r,), out = gtlsclient(m.port, ["/live"], download_dir=tmp_path / "dl")
    assert r.status == 200, out[-2000:]
    files = list(qdir.iterdir())
    assert files, "no qlog file"
    text = files[0].read_text(errors="replace")
    assert "qlog_version" in text
