#!/usr/bin/env bash
# Self-test for h3load against Debian's reference HTTP/3 server (gtlsserver, package ngtcp2-server)
# and client (gtlsclient, ngtcp2-client), so a bug in h3load cannot hide a bug in Mirror.
#
#   tools/h3load/selftest.sh [path/to/h3load]      (default: build/tools/h3load)
#
# Needs: gtlsserver, gtlsclient, openssl (or certtool from gnutls-bin), /usr/bin/python3.
# Exits 0 when every check passes; prints one line per check.
set -euo pipefail

H3LOAD=${1:-build/tools/h3load}
H3LOAD=$(readlink -f "$H3LOAD")
PY=/usr/bin/python3
for tool in gtlsserver gtlsclient "$PY"; do
  command -v "$tool" > /dev/null || { echo "selftest: missing $tool" >&2; exit 2; }
done
[ -x "$H3LOAD" ] || { echo "selftest: no h3load at $H3LOAD" >&2; exit 2; }

WORK=$(mktemp -d /tmp/h3load-selftest.XXXXXX)
SERVER_PIDS=()
cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A throwaway self-signed P-256 certificate.
if command -v openssl > /dev/null; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2> /dev/null
elif command -v certtool > /dev/null; then
  certtool --generate-privkey --key-type=ecdsa --outfile "$WORK/key.pem" 2> /dev/null
  printf 'cn = localhost\nexpiration_days = 2\n' > "$WORK/cert.tmpl"
  certtool --generate-self-signed --load-privkey "$WORK/key.pem" --template "$WORK/cert.tmpl" \
    --outfile "$WORK/cert.pem" 2> /dev/null
else
  echo "selftest: need openssl or certtool (gnutls-bin) for a test certificate" >&2
  exit 2
fi

mkdir -p "$WORK/htdocs" "$WORK/download"
printf 'hello world!\n' > "$WORK/htdocs/small.txt"  # 13 bytes
head -c 1048576 /dev/urandom > "$WORK/htdocs/big.bin"
SMALL=13
BIG=1048576

# Starts gtlsserver on a free port in 20000-40000 with extra options; sets PORT.
start_server() {
  for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 20000))
    gtlsserver -q -d "$WORK/htdocs" "$@" 127.0.0.1 "$PORT" "$WORK/key.pem" "$WORK/cert.pem" \
      > "$WORK/server-$PORT.log" 2>&1 &
    local pid=$!
    sleep 0.3
    if kill -0 "$pid" 2> /dev/null; then
      SERVER_PIDS+=("$pid")
      return 0
    fi
  done
  echo "selftest: gtlsserver did not start" >&2
  exit 2
}

FAILED=0
# check NAME EXPECTED_EXIT PYTHON_CONDITION -- h3load args...   (j = the --json object)
check() {
  local name=$1 want_rc=$2 cond=$3
  shift 4
  local rc=0
  "$H3LOAD" --json "$@" > "$WORK/out.json" 2> "$WORK/err.txt" || rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    echo "FAIL $name: exit $rc, want $want_rc: $(cat "$WORK/out.json" "$WORK/err.txt" | head -5)"
    FAILED=1
    return
  fi
  if "$PY" -c "import json,sys; j=json.load(open('$WORK/out.json')); sys.exit(0 if ($cond) else 1)"
  then
    echo "ok   $name"
  else
    echo "FAIL $name: ($cond) is false for $(cat "$WORK/out.json")"
    FAILED=1
  fi
}

start_server
U=https://127.0.0.1:$PORT

check "13-byte file, -n 20000 -c 10 -m 10" 0 \
  "j['succeeded']==20000 and j['errored']==0 and j['bytes_data']==20000*$SMALL \
   and j['status']['2xx']==20000 and j['done']==20000" \
  -- -n 20000 -c 10 -m 10 --check-size $SMALL "$U/small.txt"
check "1 MiB file, -n 200 -c 10 -m 10" 0 \
  "j['succeeded']==200 and j['bytes_data']==200*$BIG and j['size_mismatch']==0" \
  -- -n 200 -c 10 -m 10 --check-size $BIG "$U/big.bin"
check "two threads, two URIs round-robin" 0 \
  "j['succeeded']==400 and j['bytes_data']==200*$SMALL+200*$BIG" \
  -- -n 400 -c 4 -t 2 -m 5 "$U/small.txt" "$U/big.bin"
check "POST body (-d)" 0 \
  "j['succeeded']==50 and j['bytes_data']==50*$SMALL" \
  -- -n 50 -c 2 -m 5 -d "$WORK/htdocs/big.bin" --check-size $SMALL "$U/small.txt"
check "HEAD has no body" 0 "j['succeeded']==10 and j['bytes_data']==0" \
  -- -n 10 --method HEAD --check-size 0 "$U/small.txt"
check "duration mode -D 2s with warm-up" 0 \
  "j['succeeded']>0 and j['failed']==0 and j['duration_s']==2 and j['requests']==j['started']" \
  -- -D 2s --warm-up-time 500ms -c 2 -m 4 "$U/small.txt"
check "404 counts as failed, exit 1" 1 \
  "j['status']['4xx']==20 and j['failed']==20 and j['errored']==0 and j['succeeded']==0" \
  -- -n 20 -c 2 -m 2 "$U/missing.txt"
check "--check-size mismatch fails" 1 "j['size_mismatch']==10 and j['succeeded']==0" \
  -- -n 10 --check-size 12 "$U/small.txt"
check "extra headers accepted" 0 "j['succeeded']==5" \
  -- -n 5 -H "x-test: 1" -H "user-agent: selftest" "$U/small.txt"

# Stream credit: the server allows 5 concurrent streams, we want 20 in flight.
start_server --max-streams-bidi 5
check "waits for MAX_STREAMS credit (server limit 5, -m 20)" 0 \
  "j['succeeded']==300 and j['errored']==0" \
  -- -n 300 -c 1 -m 20 --check-size $SMALL "https://127.0.0.1:$PORT/small.txt"

# Nobody listening: every request errors, quickly (ICMP port unreachable -> ECONNREFUSED).
DEAD=$((PORT + 1))
check "no server: all errored, exit 1" 1 \
  "j['errored']==8 and j['failed']==8 and j['succeeded']==0 and j['connections']['connect_failures']==2" \
  -- -n 8 -c 2 --connect-timeout 2s "https://127.0.0.1:$DEAD/small.txt"

# Cross-check byte counts with the reference client on the same files.
for f in small.txt big.bin; do
  rm -f "$WORK/download/$f"
  gtlsclient -q --exit-on-all-streams-close --download "$WORK/download" 127.0.0.1 "$PORT" \
    "https://127.0.0.1:$PORT/$f" > /dev/null 2>&1 || true
  ref=$(stat -c %s "$WORK/download/$f" 2> /dev/null || echo missing)
  "$H3LOAD" --json -n 1 "https://127.0.0.1:$PORT/$f" > "$WORK/one.json" || true
  ours=$("$PY" -c "import json; print(json.load(open('$WORK/one.json'))['bytes_data'])")
  if [ "$ref" = "$ours" ] && cmp -s "$WORK/download/$f" "$WORK/htdocs/$f"; then
    echo "ok   gtlsclient agrees on $f ($ours bytes)"
  else
    echo "FAIL gtlsclient got $ref bytes for $f, h3load $ours"
    FAILED=1
  fi
done

exit $FAILED
