#!/usr/bin/env bash
# Mirror's benchmark: h2load (HTTP/1.1, HTTP/2) and h3load (HTTP/3) against Mirror and peer
# servers, on loopback, with the server pinned to one CPU and the load tool to another.
# Headline: server CPU time per unit of work (see bench/README.md for why).
#
# Usage: bench/run.sh            (full run, ~5 minutes on a quiet 2-core machine)
#        BENCH_QUICK=1 bench/run.sh   (smoke run: small request counts, one repetition)
# Environment (all optional):
#   MIRROR_BIN, H3LOAD_BIN        binaries (default build/mirror, build/tools/h3load)
#   BENCH_PROTOCOLS               subset of "h1 h2 h3 h3conns" (default: all four)
#   BENCH_SERVERS                 subset of "mirror nginx nghttpd caddy gtlsserver" (default: all)
#   BENCH_REPS                    repetitions per server and workload (default 3; quick: 1)
#   BENCH_SMALL_N, BENCH_BIG_N, BENCH_CONNS_N, BENCH_CONNS_C   request counts (see below)
#   BENCH_SERVER_CPU, BENCH_CLIENT_CPU   CPUs to pin to (default 0 and 1)
#   BENCH_RUN_TIMEOUT             seconds before one load run is killed (default 300)
#   BENCH_KEEP=1                  keep the temporary directory (configs, server logs)
#   BENCH_PERF=1                  also profile Mirror (perf record -g) in one extra, unrecorded
#                                 run per workload: results/<time>/perf/*.txt
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PY=/usr/bin/python3

MIRROR_BIN=${MIRROR_BIN:-$root/build/mirror}
H3LOAD_BIN=${H3LOAD_BIN:-$root/build/tools/h3load}
protocols=${BENCH_PROTOCOLS:-h1 h2 h3 h3conns}
servers_wanted=${BENCH_SERVERS:-mirror nginx nghttpd caddy gtlsserver}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
run_timeout=${BENCH_RUN_TIMEOUT:-300}

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  reps=${BENCH_REPS:-1}
  small_n=${BENCH_SMALL_N:-5000}
  big_n=${BENCH_BIG_N:-50}
  conns_c=${BENCH_CONNS_C:-200}
  conns_n=${BENCH_CONNS_N:-2000}
  warmup_n=500
else
  reps=${BENCH_REPS:-3}
  small_n=${BENCH_SMALL_N:-100000}
  big_n=${BENCH_BIG_N:-500}
  conns_c=${BENCH_CONNS_C:-1000}
  conns_n=${BENCH_CONNS_N:-20000}
  warmup_n=5000
fi
small_size=13
big_size=$((1024 * 1024))

# Which server speaks which protocol here (nghttpd is h2-only; gtlsserver is h3-only; nginx-light
# 1.22 in Debian has no h3).
declare -A speaks=(
  [mirror]="h1 h2 h3 h3conns" [nginx]="h1 h2" [nghttpd]="h2"
  [caddy]="h1 h2 h3 h3conns" [gtlsserver]="h3 h3conns"
)

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- workspace ------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/mirror-bench.XXXXXX)
stamp=$(date +%Y%m%d-%H%M%S)
results="$here/results/$stamp"
mkdir -p "$results/raw" "$tmp/www/static"
declare -A pid=() port=() status=()

cleanup() {
  local s
  for s in "${!pid[@]}"; do
    kill "${pid[$s]}" 2>/dev/null || true
  done
  for s in "${!pid[@]}"; do
    wait "${pid[$s]}" 2>/dev/null || true
  done
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    log "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf 'Hello, world\n' >"$tmp/www/static/small.txt"  # 13 bytes
head -c "$big_size" /dev/urandom >"$tmp/www/static/big.bin"
docroot=$tmp/www
small_path=/static/small.txt
big_path=/static/big.bin

# One self-signed ECDSA P-256 certificate for every server, so the handshakes cost the same.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
  -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cert=$tmp/cert.pem
key=$tmp/key.pem

# Ports: a random block in 20000-39999, one port per server (TCP and UDP share the number).
base=$((20000 + RANDOM % 19000))
i=0
for s in mirror nginx nghttpd caddy gtlsserver; do
  port[$s]=$((base + i))
  i=$((i + 1))
done
caddy_http_port=$((base + 9))

# --- servers --------------------------------------------------------------------------------
wanted() { [[ " $servers_wanted " == *" $1 "* ]]; }
needed() {  # a server is started only if it is wanted and speaks a selected protocol
  local p
  wanted "$1" || return 1
  for p in $protocols; do
    [[ " ${speaks[$1]} " == *" $p "* ]] && return 0
  done
  return 1
}
pinned() { exec taskset -c "$server_cpu" "$@"; }  # exec: $! must be the server itself

tcp_ready() { curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$1$small_path"; }
udp_ready() { [[ -n $(ss -Hlun "sport = :$1") ]]; }

# wait_ready NAME CHECK... : polls CHECK for up to 10 s while the process lives.
wait_ready() {
  local name=$1 deadline=$((SECONDS + 10))
  shift
  until "$@"; do
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
      status[$name]="not run: exited at start (see $name.log)"
      cp "$tmp/$name.log" "$results/raw/" 2>/dev/null || true
      unset "pid[$name]"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      status[$name]="not run: not ready after 10 s (see $name.log)"
      cp "$tmp/$name.log" "$results/raw/" 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
  # CPU is read from /proc/PID: make sure PID is the server, not a wrapper shell.
  local exe
  exe=$(readlink "/proc/${pid[$name]}/exe")
  if [[ $exe == */bash || $exe == */taskset || $exe == */env ]]; then
    status[$name]="not run: PID ${pid[$name]} is $exe, not the server"
    return 1
  fi
  status[$name]=ok
}

start_mirror() {
  if [[ ! -x $MIRROR_BIN ]]; then
    status[mirror]="not yet run: no binary at $MIRROR_BIN"
    return 1
  fi
  cat >"$tmp/mirror.yaml" <<EOF
server:
  http_port: ${port[mirror]}
  http3_port: ${port[mirror]}
  listen_addresses: ["127.0.0.1"]
  static_dir: $docroot/static
  tls_cert_file: $cert
  tls_key_file: $key
  state_dir: $tmp/mirror-state
  workers: 1
  enable_http3: true
logging:
  level: warn
EOF
  pinned "$MIRROR_BIN" --config "$tmp/mirror.yaml" >"$tmp/mirror.log" 2>&1 &
  pid[mirror]=$!
  wait_ready mirror tcp_ready "${port[mirror]}" || return 1
  if ! curl -sk --max-time 2 -o /dev/null "https://127.0.0.1:${port[mirror]}/live"; then
    status[mirror]="not run: /live does not answer"
    return 1
  fi
  if [[ " $protocols " == *" h3"* ]] && ! udp_ready "${port[mirror]}"; then
    log "mirror: no UDP listener on ${port[mirror]}; h3 runs will fail"
  fi
}

start_nginx() {
  local d=$tmp/nginx
  mkdir -p "$d"
  # Debian's nginx-light 1.22: `http2` is a flag of `listen`. One process, no master, like the
  # other servers here; keepalive_requests raised so h2load's long connections are not cut.
  cat >"$d/nginx.conf" <<EOF
user root;
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  open_file_cache max=1000;
  keepalive_requests 10000000;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  types { text/plain txt; application/octet-stream bin; }
  server {
    listen 127.0.0.1:${port[nginx]} ssl http2;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.3;
    root $docroot;
  }
}
EOF
  pinned nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$tmp/nginx.log" 2>&1 &
  pid[nginx]=$!
  wait_ready nginx tcp_ready "${port[nginx]}"
}

start_nghttpd() {
  # HTTP/2 only (ALPN h2); one worker (the default).
  pinned nghttpd -a 127.0.0.1 -d "$docroot" "${port[nghttpd]}" "$key" "$cert" \
    >"$tmp/nghttpd.log" 2>&1 &
  pid[nghttpd]=$!
  wait_ready nghttpd tcp_ready "${port[nghttpd]}"
}

start_caddy() {
  local d=$tmp/caddy
  mkdir -p "$d/home" "$d/data" "$d/config"
  cat >"$d/Caddyfile" <<EOF
{
  admin off
  auto_https off
  http_port $caddy_http_port
  default_sni 127.0.0.1
  storage file_system $d/data
  log {
    output stderr
    level WARN
  }
  servers {
    protocols h1 h2 h3
  }
}
https://127.0.0.1:${port[caddy]} {
  bind 127.0.0.1
  tls $cert $key
  root * $docroot
  file_server
}
EOF
  # Pinned to one CPU, Go's runtime sets GOMAXPROCS=1 by itself.
  pinned env HOME="$d/home" XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/config" \
    caddy run --config "$d/Caddyfile" --adapter caddyfile >"$tmp/caddy.log" 2>&1 &
  pid[caddy]=$!
  wait_ready caddy tcp_ready "${port[caddy]}" || return 1
  wait_ready caddy udp_ready "${port[caddy]}"
}

start_gtlsserver() {
  # ngtcp2's example server (GnuTLS). Limits raised so that it is not the artificial bottleneck:
  # 10000 concurrent bidi streams, 16 MiB connection / 6 MiB stream windows for request bodies.
  pinned gtlsserver -q --no-quic-dump --no-http-dump -d "$docroot" \
    --max-streams-bidi=10000 --max-data=16M --max-stream-data-bidi-remote=6M \
    127.0.0.1 "${port[gtlsserver]}" "$key" "$cert" >"$tmp/gtlsserver.log" 2>&1 &
  pid[gtlsserver]=$!
  wait_ready gtlsserver udp_ready "${port[gtlsserver]}"
}

active=()
for s in mirror nginx nghttpd caddy gtlsserver; do
  needed "$s" || continue
  if [[ $s != mirror ]] && ! command -v "$s" >/dev/null; then
    status[$s]="not run: $s not installed (scripts/bootstrap bench)"
    continue
  fi
  log "starting $s on port ${port[$s]}"
  if "start_$s"; then
    active+=("$s")
  else
    log "$s: ${status[$s]}"
  fi
done

if [[ " $protocols " == *" h3"* && ! -x $H3LOAD_BIN ]]; then
  log "no h3load at $H3LOAD_BIN: HTTP/3 runs skipped"
  h3_missing="not run: no h3load at $H3LOAD_BIN"
fi

# --- runs -----------------------------------------------------------------------------------
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
if awk '{exit !($1 > 0.5)}' /proc/loadavg; then
  log "warning: load average $loadavg_start; other work on these CPUs will distort the numbers"
fi
runs=$results/runs.jsonl
: >"$runs"

# measure SERVER PROTOCOL WORKLOAD REP: one run, appended to runs.jsonl unless REP is "warmup"
# (shorter, unrecorded) or "profile" (unrecorded).
measure() {
  local s=$1 proto=$2 workload=$3 rep=$4 path size n c m tool cmd=() extra=()
  case $workload in
    small) path=$small_path size=$small_size n=$small_n c=10 m=10 ;;
    big) path=$big_path size=$big_size n=$big_n c=5 m=1 ;;
    conns) path=$small_path size=$small_size n=$conns_n c=$conns_c m=1 ;;
  esac
  [[ $proto == h1 && $workload == small ]] && c=50 m=1
  [[ $rep == warmup ]] && n=$((warmup_n < n ? warmup_n : n)) && ((n < c)) && n=$c
  local url="https://127.0.0.1:${port[$s]}$path" logf=$tmp/h2load-requests.log
  case $proto in
    h1) tool=h2load cmd=(h2load --h1 -t 1 -c "$c" -m "$m" -n "$n" --log-file="$logf" "$url")
        extra=(--log-file "$logf" --expect-proto http/1.1) ;;
    h2) tool=h2load cmd=(h2load -t 1 -c "$c" -m "$m" -n "$n" --log-file="$logf" "$url")
        extra=(--log-file "$logf" --expect-proto h2) ;;
    h3*) tool=h3load cmd=("$H3LOAD_BIN" --json -t 1 -c "$c" -m "$m" -n "$n" --check-size "$size"
           "$url")
         extra=(--udp-port "${port[$s]}") ;;
  esac
  local out=/dev/null
  [[ $rep != warmup && $rep != profile ]] && out=$runs
  $PY "$here/lib/measure.py" --server-pid "${pid[$s]}" --server-cpu "$server_cpu" \
    --tool "$tool" --expect-size "$size" "${extra[@]}" \
    --raw-output "$results/raw/$proto-$workload-$s-$rep.txt" \
    --meta "server=$s" --meta "protocol=$proto" --meta "workload=$workload" --meta "rep=$rep" \
    --meta "n=$n" --meta "c=$c" --meta "m=$m" --meta "size=$size" \
    -- timeout -k 5 "$run_timeout" taskset -c "$client_cpu" "${cmd[@]}" >>"$out" || true
  [[ $rep == warmup || $rep == profile ]] && rm -f "$results/raw/$proto-$workload-$s-$rep.txt"
  return 0
}

# check_alive SERVER: a server that exited is reported (with its exit status) and not restarted;
# its remaining runs are recorded as failed.
check_alive() {
  local s=$1 rc=0
  [[ ${status[$s]} == ok ]] || return 0
  kill -0 "${pid[$s]}" 2>/dev/null && return 0
  wait "${pid[$s]}" 2>/dev/null || rc=$?
  status[$s]="exited with status $rc during $proto $w (see raw/$s.log)"
  log "$s ${status[$s]}"
  cp "$tmp/$s.log" "$results/raw/" 2>/dev/null || true
  return 0
}

# profile_mirror PROTOCOL WORKLOAD: one extra, unrecorded run of Mirror under `perf record -g`;
# the hottest symbols go to perf/PROTOCOL-WORKLOAD.txt. Profiled runs never enter the tables.
profile_mirror() {
  local data=$tmp/perf-$1-$2.data perf_pid
  mkdir -p "$results/perf"
  perf record -q -F 999 -g -p "${pid[mirror]}" -o "$data" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.5
  measure mirror "$1" "$2" profile
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  perf report -i "$data" --stdio --no-children --percent-limit 0.5 --sort dso,symbol \
    -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[[:space:]-]*$//' | head -60 \
    >"$results/perf/$1-$2.txt" || true
  log "perf profile: $results/perf/$1-$2.txt"
}

for proto in $protocols; do
  if [[ $proto == h3* && -n ${h3_missing:-} ]]; then continue; fi
  case $proto in
    h3conns) workloads=conns ;;
    *) workloads="small big" ;;
  esac
  targets=()
  for s in "${active[@]}"; do
    [[ " ${speaks[$s]} " == *" $proto "* ]] && targets+=("$s")
  done
  ((${#targets[@]})) || continue
  for w in $workloads; do
    log "$proto $w: warm-up (${targets[*]})"
    for s in "${targets[@]}"; do
      measure "$s" "$proto" "$w" warmup
      check_alive "$s"
    done
    if [[ ${BENCH_PERF:-0} == 1 && " ${targets[*]} " == *" mirror "* ]]; then
      profile_mirror "$proto" "$w"
    fi
    for ((r = 1; r <= reps; r++)); do
      for s in "${targets[@]}"; do  # alternate servers so drift hits them all alike
        log "$proto $w: $s, repetition $r/$reps"
        measure "$s" "$proto" "$w" "$r"
        check_alive "$s"
      done
    done
  done
done

# --- report ---------------------------------------------------------------------------------
{
  for s in mirror nginx nghttpd caddy gtlsserver; do
    needed "$s" || continue
    printf '%s\t%s\t%s\n' "$s" "${status[$s]:-not run}" "${port[$s]}"
  done
  if [[ -n ${h3_missing:-} ]]; then printf 'h3load\t%s\t-\n' "$h3_missing"; fi
} >"$results/status.tsv"

{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "loadavg_start=$loadavg_start"
  echo "rmem=net.core.rmem_default $(</proc/sys/net/core/rmem_default)," \
    "rmem_max $(</proc/sys/net/core/rmem_max)"
  echo "mirror=$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?') ($MIRROR_BIN)"
  for p in nginx-light caddy nghttp2-server ngtcp2-server nghttp2-client; do
    echo "pkg_$p=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
  done
  echo "params=reps $reps; small: $small_size B, n $small_n (h1: -c 50 -m 1;" \
    "h2/h3: -c 10 -m 10); big: 1 MiB, n $big_n, -c 5 -m 1; conns: h3 -c $conns_c -m 1" \
    "-n $conns_n; server on CPU $server_cpu, load tool on CPU $client_cpu"
  if [[ ${BENCH_QUICK:-0} == 1 ]]; then echo "quick=1"; fi
} >"$results/env.txt"

$PY "$here/lib/report.py" "$results" >"$results/report.md"
cp "$results/report.md" "$here/results/latest.md"
cat "$results/report.md"
log "results: $results (also bench/results/latest.md)"
