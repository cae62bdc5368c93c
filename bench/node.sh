# Sourced by the benchmark scripts (bench/run_all.sh, bench/http/ab_start_incident.sh), from the
# repository root. Nodes, one at a time: start_node NAME [BINARY] starts BINARY (default
# build/klaxon) as `serve` (us-east-1) on an ephemeral loopback port with a fresh data directory
# /tmp/klaxon-bench-NAME-XXXXXX and sets NODE_PORT, NODE_PID and NODE_DATA; stop_node stops it
# (SIGTERM; fails if it is no longer running) and removes its data. A node still running when the
# script exits (a failed step included) is stopped and its data removed. Nodes are stopped by
# their own PID only.
NODE_PID=
NODE_DATA=
NODE_PORT=
cleanup_node() {
  if [ -n "$NODE_PID" ]; then
    kill "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [ -n "$NODE_DATA" ]; then rm -rf "$NODE_DATA"; fi
  NODE_PID=
  NODE_DATA=
}
trap cleanup_node EXIT
start_node() {
  NODE_DATA=$(mktemp -d "/tmp/klaxon-bench-$1-XXXXXX")
  "${2:-build/klaxon}" serve --listen 127.0.0.1:0 --data "$NODE_DATA" --port-file "$NODE_DATA/port" \
    --region us-east-1 >"$NODE_DATA/klaxon.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 300); do [ -s "$NODE_DATA/port" ] && break; sleep 0.05; done
  if [ ! -s "$NODE_DATA/port" ]; then
    echo "klaxon did not start within 15 s; log:" >&2
    cat "$NODE_DATA/klaxon.log" >&2
    return 1
  fi
  NODE_PORT=$(cat "$NODE_DATA/port")
}
stop_node() {
  kill "$NODE_PID"
  wait "$NODE_PID" || true
  cleanup_node
}
