#!/usr/bin/python3
"""Runs one load-generator command against one server and prints one JSON line.

Measures around the command, not inside it:
  - the server's CPU time (utime + stime of /proc/PID/stat: the whole process, every thread),
  - the load tool's own CPU time (os.wait4 rusage), to tell a client-bound run from a server-bound
    one,
  - UDP receive-buffer drops: the system-wide /proc/net/snmp Udp RcvbufErrors (client and server
    sockets together) and the `drops` column of the server's own sockets in /proc/net/udp{,6}.

Then parses the tool's output (h2load text + its --log-file, or h3load --json) into common fields.

Usage: measure.py --server-pid PID [--udp-port N] --tool h2load|h3load [--log-file F]
                  [--expect-size BYTES] [--expect-proto h2|http/1.1] [--meta k=v ...] -- CMD...
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid):
  """utime + stime of the whole process (all threads, including exited ones) in seconds."""
  with open(f"/proc/{pid}/stat") as f:
    stat = f.read()
  # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  fields = stat[stat.rindex(")") + 2:].split()
  utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
  return (utime + stime) / CLK_TCK


def cpu_task_seconds(cpu):
  """user + nice + system time spent on one CPU by any task (no irq/softirq/idle), in seconds."""
  with open("/proc/stat") as f:
    for line in f:
      if line.startswith(f"cpu{cpu} "):
        v = [int(x) for x in line.split()[1:]]
        return (v[0] + v[1] + v[2]) / CLK_TCK
  return 0.0


def udp_rcvbuf_errors():
  with open("/proc/net/snmp") as f:
    rows = [line.split() for line in f if line.startswith("Udp:")]
  header, values = rows[0], rows[1]
  return int(values[header.index("RcvbufErrors")])


def udp_socket_drops(port):
  """Sum of the `drops` column of every UDP socket bound to local `port` (v4 and v6)."""
  total = 0
  for path in ("/proc/net/udp", "/proc/net/udp6"):
    try:
      with open(path) as f:
        next(f)
        for line in f:
          cols = line.split()
          local_port = int(cols[1].rsplit(":", 1)[1], 16)
          if local_port == port:
            total += int(cols[-1])
    except FileNotFoundError:
      pass
  return total


def percentile(sorted_values, p):
  if not sorted_values:
    return None
  # Nearest-rank percentile: the smallest value with at least p% of the samples at or below it.
  rank = max(1, -(-len(sorted_values) * p // 100))
  return sorted_values[int(rank) - 1]


def parse_h2load(text, log_file):
  out = {}
  m = re.search(r"finished in ([\d.]+)(us|ms|s),", text)
  if m:
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    out["duration_s"] = float(m.group(1)) * scale
  m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
  if m:
    keys = ("requests", "started", "done", "succeeded", "failed", "errored", "timeout")
    out.update({k: int(v) for k, v in zip(keys, m.groups())})
  m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
  if m:
    out["status_2xx"] = int(m.group(1))
  m = re.search(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers.*?\((\d+)\) data", text)
  if m:
    out["bytes_total"], out["bytes_headers"], out["bytes_data"] = map(int, m.groups())
  m = re.search(r"Application protocol: (\S+)", text)
  if m:
    out["alpn"] = m.group(1)
  m = re.search(r"Cipher: (\S+)", text)
  if m:
    out["cipher"] = m.group(1)
  m = re.search(r"Server Temp Key: (?:ECDH )?(\S+)", text)
  if m:
    out["key_exchange"] = m.group(1)
  latencies = []
  if log_file and os.path.exists(log_file):
    with open(log_file) as f:
      for line in f:
        cols = line.split("\t")
        if len(cols) >= 3 and cols[1].startswith("2"):
          latencies.append(int(cols[2]))
  latencies.sort()
  if latencies:
    out["p50_us"] = percentile(latencies, 50)
    out["p99_us"] = percentile(latencies, 99)
    out["max_us"] = latencies[-1]
  return out


def parse_h3load(text):
  start = text.find("{")
  if start < 0:
    return {}
  j = json.loads(text[start:text.rindex("}") + 1])
  out = {k: j.get(k) for k in ("requests", "succeeded", "failed", "errored", "timeout",
                               "duration_s", "bytes_total", "bytes_data", "size_mismatch")}
  out["status_2xx"] = j.get("status", {}).get("2xx")
  out["alpn"] = "h3"
  lat = j.get("latency_us", {})
  out["p50_us"], out["p99_us"], out["max_us"] = lat.get("p50"), lat.get("p99"), lat.get("max")
  conns = j.get("connections", {})
  out["connect_failures"] = conns.get("connect_failures")
  out["connections_lost"] = conns.get("lost")
  return out


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--server-pid", type=int, required=True)
  ap.add_argument("--udp-port", type=int)
  ap.add_argument("--server-cpu", type=int, help="the CPU the server is pinned to")
  ap.add_argument("--settle", type=float, default=0.3,
                  help="seconds to wait after the tool exits before the final CPU reading, so "
                       "the server's work on closing connections is counted")
  ap.add_argument("--tool", choices=("h2load", "h3load"), required=True)
  ap.add_argument("--log-file")
  ap.add_argument("--expect-size", type=int)
  ap.add_argument("--expect-proto")
  ap.add_argument("--raw-output", help="also save the tool's stdout+stderr here")
  ap.add_argument("--meta", action="append", default=[], help="key=value copied into the record")
  ap.add_argument("cmd", nargs=argparse.REMAINDER)
  a = ap.parse_args()
  cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
  if not cmd:
    ap.error("no command given")

  record = dict(kv.split("=", 1) for kv in a.meta)
  if not os.path.exists(f"/proc/{a.server_pid}"):
    record.update(ok=False, problems=["the server was not running"])
    print(json.dumps(record), flush=True)
    return
  if a.log_file and os.path.exists(a.log_file):
    os.unlink(a.log_file)

  cpu0 = process_cpu_seconds(a.server_pid)
  busy0 = cpu_task_seconds(a.server_cpu) if a.server_cpu is not None else None
  snmp0 = udp_rcvbuf_errors()
  drops0 = udp_socket_drops(a.udp_port) if a.udp_port else None
  t0 = time.monotonic()
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
  # Read before waiting so a chatty tool cannot fill the pipe and stall.
  output = proc.stdout.read()
  _, status, rusage = os.wait4(proc.pid, 0)
  wall = time.monotonic() - t0
  time.sleep(a.settle)
  try:
    cpu1 = process_cpu_seconds(a.server_pid)
  except FileNotFoundError:  # the server exited during the run
    cpu1 = None
  busy1 = cpu_task_seconds(a.server_cpu) if a.server_cpu is not None else None
  snmp1 = udp_rcvbuf_errors()
  drops1 = udp_socket_drops(a.udp_port) if a.udp_port else None

  text = output.decode(errors="replace")
  if a.raw_output:
    with open(a.raw_output, "w") as f:
      f.write(text)
  parsed = parse_h2load(text, a.log_file) if a.tool == "h2load" else parse_h3load(text)
  record.update(parsed)
  record["exit_status"] = os.waitstatus_to_exitcode(status)
  record["wall_s"] = wall
  record["server_cpu_s"] = cpu1 - cpu0 if cpu1 is not None else None
  record["client_cpu_s"] = rusage.ru_utime + rusage.ru_stime
  if busy0 is not None and cpu1 is not None:
    # Task time on the server's CPU that was not the server's: other processes competing for
    # it (a compile in the background). Should be ~0 in a clean run.
    record["other_busy_s"] = max(0.0, (busy1 - busy0) - record["server_cpu_s"])
    record["other_busy_share"] = record["other_busy_s"] / (wall + a.settle)
  record["udp_rcvbuf_errors"] = snmp1 - snmp0
  if drops0 is not None:
    record["server_socket_drops"] = drops1 - drops0

  problems = []
  if cpu1 is None:
    problems.append("the server exited during the run")
  if record.get("succeeded") is None:
    problems.append("could not parse the tool's output")
  else:
    if record.get("failed") or record.get("errored"):
      problems.append(f"{record.get('failed')} failed / {record.get('errored')} errored")
    if record["succeeded"] != record.get("requests"):
      problems.append(f"{record['succeeded']} of {record.get('requests')} succeeded")
    if record.get("status_2xx") is not None and record["status_2xx"] != record["succeeded"]:
      problems.append(f"only {record['status_2xx']} responses were 2xx")
  if a.expect_size is not None and record.get("bytes_data") is not None and record.get("succeeded"):
    if record["bytes_data"] != a.expect_size * record["succeeded"]:
      problems.append(f"body bytes {record['bytes_data']} != {record['succeeded']} x "
                      f"{a.expect_size}")
  if record.get("size_mismatch"):
    problems.append(f"{record['size_mismatch']} responses of the wrong size")
  if a.expect_proto and record.get("alpn") and record["alpn"] != a.expect_proto:
    problems.append(f"negotiated {record['alpn']}, expected {a.expect_proto}")
  if record["exit_status"] != 0 and not problems:
    problems.append(f"tool exited with status {record['exit_status']}")
  record["ok"] = not problems
  if problems:
    record["problems"] = problems
    tail = "\n".join(text.strip().splitlines()[-8:])
    print(f"measure: {record.get('server')} {record.get('workload')}: {'; '.join(problems)}\n"
          f"{tail}", file=sys.stderr)
  print(json.dumps(record), flush=True)


if __name__ == "__main__":
  main()
