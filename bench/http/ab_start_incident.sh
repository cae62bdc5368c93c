#!/usr/bin/env bash
# Compares two klaxon binaries on StartIncident over HTTP (aws_load): alternating runs, each on a
# fresh node, so that the host's changing speed (±30 % within minutes on the shared VMs) weighs on
# both alike. Per run it prints calls/s and latency (aws_load's line), then the node's CPU time per
# HTTP request it served: in all, and for each thread that used at least 0.5 µs per request
# (busiest first: the store's writer, the I/O threads, the checkpointer).
#
#   bench/http/ab_start_incident.sh OLD NEW [ROUNDS [SECONDS]] -- AWS_LOAD_ARGS...
#   bench/http/ab_start_incident.sh /tmp/klaxon.before build/klaxon 3 5 -- \
#       --scenario start-incident-new --client-token
#
# Needs the release build's aws_load (make build). Nodes: bench/node.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
OLD=$1
NEW=$2
shift 2
ROUNDS=3
SECS=5
if [ "$1" != "--" ]; then ROUNDS=$1; shift; fi
if [ "$1" != "--" ]; then SECS=$1; shift; fi
[ "$1" = "--" ] || { echo "expected -- before the aws_load arguments" >&2; exit 2; }
shift
LOAD=build/release/bench/http/aws_load
[ -x "$LOAD" ] || { echo "$LOAD not built (make build)" >&2; exit 2; }

source bench/node.sh

run_one() {  # run_one LABEL BINARY AWS_LOAD_ARGS...
  local label=$1 binary=$2
  shift 2
  start_node ab "$binary"
  local port=$NODE_PORT
  local line
  line=$("$LOAD" --endpoint "127.0.0.1:$port" --seconds "$SECS" --warmup 1 "$@" | grep rate=)
  local requests
  requests=$(curl -s "127.0.0.1:$port/metrics" |
    awk '/^klaxon_http_requests_total/ {s += $2} END {print s + 0}')
  /usr/bin/python3 - "$label" "$NODE_PID" "$requests" "$line" "$(getconf CLK_TCK)" <<'PY'
import glob, sys
label, pid, requests, line, hz = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
us = []
for stat in glob.glob(f"/proc/{pid}/task/*/stat"):
    fields = open(stat).read().rsplit(")", 1)[1].split()
    us.append((int(fields[11]) + int(fields[12])) / hz * 1e6 / max(requests, 1))
us.sort(reverse=True)
print(f"{label}: {line}")
print(f"{label}:   server CPU {sum(us):.1f} µs/request over {int(requests)} requests; "
      f"threads {[round(u, 1) for u in us if u >= 0.5]}")
PY
  stop_node
}

for round in $(seq "$ROUNDS"); do
  echo "# round $round"
  run_one old "$OLD" "$@"
  run_one new "$NEW" "$@"
done
