#!/usr/bin/env bash
# Runs every benchmark on the release build and prints the figures (`make bench`).
# Copy the results into docs/benchmarks.md with the date and the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/release
SECONDS_PER_RUN=${BENCH_SECONDS:-10}

echo "# klaxon benchmarks — $(date -u +%Y-%m-%d) — $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# Nodes, one at a time: start_node, stop_node (bench/node.sh).
source bench/node.sh

# --- StartIncident over HTTP with SigV4 and durable commits ---
start_node incidents
port=$NODE_PORT
echo "## StartIncident (new incidents), 32 connections"
$B/bench/http/aws_load --endpoint 127.0.0.1:$port --scenario start-incident-new \
  --connections 32 --seconds "$SECONDS_PER_RUN"
echo "## StartIncident (dedup hits into one incident whose timeline is full: the storm case), 32 connections"
$B/bench/http/aws_load --endpoint 127.0.0.1:$port --scenario start-incident-dedup \
  --connections 32 --seconds "$SECONDS_PER_RUN"
echo "## StartIncident (dedup hits that record their timeline event), 32 connections, 256 open incidents"
$B/bench/http/aws_load --endpoint 127.0.0.1:$port --scenario start-incident-dedup-recorded \
  --connections 32 --seconds "$SECONDS_PER_RUN"
echo "## StartIncident (new incidents), 32 connections, a fresh clientToken per call (as the SDKs send)"
$B/bench/http/aws_load --endpoint 127.0.0.1:$port --scenario start-incident-new --client-token \
  --connections 32 --seconds "$SECONDS_PER_RUN"
echo "## StartIncident (dedup hits), 32 connections, a fresh clientToken per call"
$B/bench/http/aws_load --endpoint 127.0.0.1:$port --scenario start-incident-dedup --client-token \
  --connections 32 --seconds "$SECONDS_PER_RUN"
stop_node

# --- Module benchmarks (Google Benchmark) ---
for b in $B/bench/storage/store_bench; do
  if [ -x "$b" ]; then echo "## $(basename "$b")"; "$b" --benchmark_min_time=1; fi
done
if [ -x $B/bench/storage/incident_bench ]; then
  for scenario in new dedup; do
    echo "## incident_bench: IncidentService::Start on SQLite without HTTP ($scenario)"
    $B/bench/storage/incident_bench --scenario $scenario --threads 32 --seconds "$SECONDS_PER_RUN"
  done
fi
# CityLots: the data comes from the shared generator next to the repository (213,068 events).
CITYLOTS=build/citylots/citylots2.json.gz
if [ -x $B/bench/pattern/pattern_citylots ]; then
  if [ ! -f $CITYLOTS ] && [ -f ../shared/bench/gen_citylots.py ]; then
    python3 ../shared/bench/gen_citylots.py 213068 build/citylots
  fi
  if [ -f $CITYLOTS ]; then
    echo "## pattern_citylots (median and best of 3 runs)"
    python3 bench/pattern/best_of.py 3 -- $CITYLOTS ../shared/bench/citylots-rules.json 3
  else
    echo "## pattern_citylots: skipped (no ../shared/bench/gen_citylots.py to make the data)"
  fi
fi
if [ -x $B/bench/alarms/alarms_bench ]; then
  echo "## alarms_bench (CloudWatch)"
  $B/bench/alarms/alarms_bench --seconds "$SECONDS_PER_RUN"
fi
if [ -x $B/bench/alarms/put_metric_load ]; then
  echo "## PutMetricData over HTTP (CloudWatch), 16 connections"
  start_node cw
  cwport=$NODE_PORT
  $B/bench/alarms/put_metric_load --endpoint 127.0.0.1:$cwport --connections 16 \
    --seconds "$SECONDS_PER_RUN"
  $B/bench/alarms/put_metric_load --endpoint 127.0.0.1:$cwport --connections 16 --values 20 \
    --seconds "$SECONDS_PER_RUN"
  stop_node
fi

# --- EventBridge: PutEvents over HTTP with SigV4, 10 entries/request, 1,000 rules on the bus ---
if [ -x $B/bench/events/events_load ]; then
  start_node events
  eport=$NODE_PORT
  echo "## EventBridge event -> incident latency (idle node)"
  $B/bench/events/events_load --endpoint 127.0.0.1:$eport --scenario latency --samples 200
  echo "## EventBridge PutEvents, 1,000 rules, events match none (accepted + matched)"
  $B/bench/events/events_load --endpoint 127.0.0.1:$eport --scenario accept --rules 1000 \
    --connections 32 --seconds "$SECONDS_PER_RUN"
  echo "## EventBridge PutEvents, 1,000 rules, every event matches one rule (queued + delivered)"
  $B/bench/events/events_load --endpoint 127.0.0.1:$eport --scenario queue --rules 1000 \
    --connections 32 --seconds "$SECONDS_PER_RUN"
  echo "## EventBridge: time for one more event to become an incident behind that backlog"
  $B/bench/events/events_load --endpoint 127.0.0.1:$eport --scenario latency --samples 1
  stop_node
fi
