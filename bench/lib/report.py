#!/usr/bin/python3
"""Turns one results directory (runs.jsonl, status.tsv, env.txt from bench/run.sh) into markdown.

One table per protocol. Every number is the median over the successful repetitions of that
server and workload; each metric's median is taken on its own.

Usage: report.py RESULTS_DIR
"""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

MIB = 1024 * 1024
SERVER_ORDER = ["mirror", "nginx", "nghttpd", "caddy", "gtlsserver"]
PROTOCOLS = [
    ("h1", "HTTP/1.1 over TLS (h2load --h1)"),
    ("h2", "HTTP/2 over TLS (h2load)"),
    ("h3", "HTTP/3 (h3load)"),
    ("h3conns", "HTTP/3, many connections (h3load -m 1)"),
]
WORKLOADS = {"small": "13 B file", "big": "1 MiB file", "conns": "13 B file"}


def derived(r):
  """Per-run metrics that do not depend on the tool: rates from the tool's own duration."""
  d = {}
  dur = r.get("duration_s") or r.get("wall_s")
  ok = r.get("succeeded") or 0
  data = r.get("bytes_data") or 0
  d["rps"] = ok / dur if dur else None
  d["mib_s"] = data / MIB / dur if dur else None
  cpu = r.get("server_cpu_s")
  d["cpu_per_100k"] = cpu / ok * 1e5 if ok and cpu is not None else None
  d["cpu_ms_per_mib"] = cpu * 1e3 / (data / MIB) if data and cpu is not None else None
  d["p99_ms"] = r["p99_us"] / 1e3 if r.get("p99_us") is not None else None
  d["server_util"] = cpu / r["wall_s"] if r.get("wall_s") and cpu is not None else None
  d["client_util"] = r["client_cpu_s"] / r["wall_s"] if r.get("wall_s") else None
  d["udp_rcvbuf_errors"] = r.get("udp_rcvbuf_errors")
  d["server_socket_drops"] = r.get("server_socket_drops")
  return d


def median(values):
  values = [v for v in values if v is not None]
  return statistics.median(values) if values else None


def fmt(v, digits=2):
  if v is None:
    return "–"
  if abs(v) >= 1000:
    return f"{v:,.0f}"
  if abs(v) >= 100:
    return f"{v:.0f}"
  if abs(v) >= 10:
    return f"{v:.1f}"
  return f"{v:.{digits}f}"


def count(v):
  return "–" if v is None else f"{v:,.0f}"


def pct(v):
  return "–" if v is None else f"{v * 100:.0f}%"


def ratio(a, b):
  return "–" if a is None or not b else f"{a / b:.2f}×"


def load(results):
  runs = []
  path = results / "runs.jsonl"
  if path.exists():
    for line in path.read_text().splitlines():
      line = line.strip()
      if line:
        runs.append(json.loads(line))
  status = {}
  path = results / "status.tsv"
  if path.exists():
    for line in path.read_text().splitlines():
      name, text, *_ = line.split("\t") + [""]
      status[name] = text
  env = {}
  path = results / "env.txt"
  if path.exists():
    for line in path.read_text().splitlines():
      k, _, v = line.partition("=")
      env[k] = v
  return runs, status, env


def main():
  results = Path(sys.argv[1])
  runs, status, env = load(results)
  groups = defaultdict(list)  # (protocol, workload, server) -> runs
  for r in runs:
    groups[(r["protocol"], r["workload"], r["server"])].append(r)

  out = []
  w = out.append
  title = "Mirror benchmark" + (" (BENCH_QUICK smoke run — not for comparison)"
                                if env.get("quick") else "")
  w(f"# {title}\n")
  w(f"- when: {env.get('date', '?')}; machine: {env.get('cpu', '?')}, {env.get('cores', '?')} "
    f"cores, Linux {env.get('kernel', '?')}; {env.get('rmem', '')}")
  w(f"- mirror: {env.get('mirror', '?')}")
  pk = [f"{k[4:]} {v}" for k, v in env.items() if k.startswith("pkg_")]
  if pk:
    w(f"- peers (Debian packages): {', '.join(pk)}")
  w(f"- parameters: {env.get('params', '?')}")
  not_run = {s: t for s, t in status.items() if t != "ok"}
  for s, t in not_run.items():
    w(f"- **{s}**: {t}")
  w("")
  w("Medians over the repetitions. *CPU / work* is the server process's user+system CPU time "
    "(all threads) per 100k requests (13 B file) or per MiB of body (1 MiB file): lower is "
    "better. *Mirror ÷ peer*: CPU ratio (< 1: Mirror spends less) and throughput ratio "
    "(> 1: Mirror is faster). *server/client CPU*: share of one core each used during the run; "
    "a client near 100% means the load tool, not the server, set the pace.\n")

  for proto, proto_title in PROTOCOLS:
    keys = [k for k in groups if k[0] == proto]
    if not keys:
      continue
    w(f"## {proto_title}\n")
    h3 = proto.startswith("h3")
    head = ["workload", "server", "CPU / work", "req/s", "MiB/s", "p99 ms", "server CPU",
            "client CPU"]
    if h3:
      head += ["UDP drops (all / server sock)"]
    head += ["Mirror ÷ peer (CPU, throughput)", "ok runs"]
    w("| " + " | ".join(head) + " |")
    w("|" + "|".join(["---"] * len(head)) + "|")
    for workload in ("small", "big", "conns"):
      servers = sorted({k[2] for k in keys if k[1] == workload}, key=SERVER_ORDER.index)
      if not servers:
        continue
      med = {}
      for s in servers:
        good = [derived(r) for r in groups[(proto, workload, s)] if r.get("ok")]
        med[s] = {m: median([g[m] for g in good]) for m in (good[0] if good else {})}
        med[s]["n_ok"] = len(good)
        med[s]["n_all"] = len(groups[(proto, workload, s)])
      cpu_key = "cpu_ms_per_mib" if workload == "big" else "cpu_per_100k"
      cpu_unit = "ms CPU per MiB" if workload == "big" else "CPU-s per 100k req"
      thr_key = "mib_s" if workload == "big" else "rps"
      rows_servers = servers + [s for s in ("mirror",) if s not in servers and s in not_run]
      rows_servers.sort(key=SERVER_ORDER.index)
      for i, s in enumerate(rows_servers):
        label = f"{WORKLOADS[workload]} ({cpu_unit})" if i == 0 else ""
        if s not in med:
          row = [label, s, not_run.get(s, "not run")] + ["–"] * (len(head) - 3)
          w("| " + " | ".join(row) + " |")
          continue
        m = med[s]
        if not m["n_ok"]:
          row = [label, s, "all runs failed (see raw/)"] + ["–"] * (len(head) - 4)
          row += [f"0/{m['n_all']}"]
          w("| " + " | ".join(row) + " |")
          continue
        row = [label, s, fmt(m.get(cpu_key)), fmt(m.get("rps")),
               fmt(m.get("mib_s")) if workload == "big" else "–",
               fmt(m.get("p99_ms")), pct(m.get("server_util")), pct(m.get("client_util"))]
        if h3:
          drops = (count(m.get("udp_rcvbuf_errors")), count(m.get("server_socket_drops")))
          row.append(f"{drops[0]} / {drops[1]}")
        if s == "mirror" or "mirror" not in med or not med["mirror"]["n_ok"]:
          row.append("")
        else:
          mm = med["mirror"]
          thr_unit = "MiB/s" if workload == "big" else "req/s"
          row.append(f"{ratio(mm.get(cpu_key), m.get(cpu_key))} CPU, "
                     f"{ratio(mm.get(thr_key), m.get(thr_key))} {thr_unit}")
        row.append(f"{m['n_ok']}/{m['n_all']}")
        w("| " + " | ".join(row) + " |")
    w("")

  tls = defaultdict(set)  # server -> negotiated "cipher / key exchange" (h2load runs only)
  for r in runs:
    if r.get("cipher"):
      tls[r["server"]].add(f"{r['cipher']}" + (f" / {r['key_exchange']}"
                                               if r.get("key_exchange") else ""))
  if tls:
    w("TLS negotiated with h2load: " + "; ".join(
        f"{s}: {', '.join(sorted(v))}" for s, v in sorted(
            tls.items(), key=lambda kv: SERVER_ORDER.index(kv[0]))) + ".\n")

  noisy = [r for r in runs if (r.get("other_busy_share") or 0) > 0.05]
  if noisy:
    worst = max(r["other_busy_share"] for r in noisy)
    w(f"**Warning:** in {len(noisy)} of {len(runs)} runs other processes used more than 5% of "
      f"the server's CPU (worst: {worst * 100:.0f}%; load average at start: "
      f"{env.get('loadavg_start', '?')}). Those numbers are distorted; rerun on a quiet "
      "machine.\n")

  failed = [r for r in runs if not r.get("ok")]
  if failed:
    w("## Failed runs\n")
    for r in failed:
      w(f"- {r.get('protocol')} {r.get('workload')} {r.get('server')} rep {r.get('rep')}: "
        f"{'; '.join(r.get('problems', ['?']))}")
    w("")
  print("\n".join(out))


if __name__ == "__main__":
  main()
