"""A real browser: headless Chromium loads a page from Mirror over HTTP/3."""
import re
import shutil
import subprocess

import pytest

from conftest import SLOW

PAGE = """<!doctype html><html><body><p id="p">pending</p><script>
document.getElementById('p').textContent =
  'proto=' + performance.getEntriesByType('navigation')[0].nextHopProtocol;
</script></body></html>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_chromium_loads_page_over_h3(mirror_factory, tmp_path):
    # localhost resolves to both 127.0.0.1 and ::1: listen on both.
    m = mirror_factory({"server": {"listen_addresses": ["127.0.0.1", "::1"]}}, start=False)
    (m.static_dir / "h3.html").write_text(PAGE)
    m.start()
    spki = re.search(r"spki=([A-Za-z0-9+/=]+)", m.read_log()).group(1)
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}",
           f"--origin-to-force-quic-on=localhost:{m.port}",
           f"--ignore-certificate-errors-spki-list={spki}",
           "--dump-dom", f"https://localhost:{m.port}/static/h3.html"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90 * SLOW)
    assert "proto=h3" in p.stdout, (p.stdout[-1000:], p.stderr[-2000:])
    # The request really reached Mirror over HTTP/3.
    assert any(l.get("path") == "/static/h3.html" and l.get("protocol") == "HTTP/3"
               for l in m.log_lines()), m.read_log()[-2000:]
