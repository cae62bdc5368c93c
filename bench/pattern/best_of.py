#!/usr/bin/env python3
"""Runs pattern_citylots several times and summarises the runs per rule type.

On a shared machine one run can fall into a busy period (the 2 vCPUs may be hyperthreads of
one core, so a neighbour's build slows even the thread-CPU-time rates). This prints, per type,
the median and the best of the per-run means (thread CPU time), the median wall-clock rate, and
the load averages seen. Usage (from the repository root):

    python3 bench/pattern/best_of.py [RUNS] [-- pattern_citylots args...]

Environment variables (KLAXON_BENCH_TYPES, ...) are passed through.
"""
import re
import statistics
import subprocess
import sys

args = sys.argv[1:]
runs = 3
if args and args[0] != "--":
    runs = int(args.pop(0))
if args and args[0] == "--":
    args = args[1:]
binary = "build/release/bench/pattern/pattern_citylots"
rates, walls, extra, loads = {}, {}, {}, []
checks = {}
for r in range(runs):
    out = subprocess.run([binary] + args, capture_output=True, text=True)
    if out.returncode not in (0, 2):
        sys.exit(out.stderr)
    for line in out.stdout.splitlines():
        m = re.match(r"(\S+)\s+rules\s+(\d+)\s+events/s mean\s+(\d+) min\s+(\d+) max\s+(\d+) wall\s+(\d+)(.*)",
                     line)
        if m:
            t = m.group(1)
            rates.setdefault(t, []).append(int(m.group(3)))
            walls.setdefault(t, []).append(int(m.group(6)))
            if "add" in m.group(7):
                extra.setdefault(t, []).append(m.group(7).strip())
            continue
        m = re.search(r"load average (?:at the end: )?(\d+\.\d+ \d+\.\d+ \d+\.\d+)", line)
        if m:
            loads.append(m.group(1))
        if line.startswith("baseline"):
            extra.setdefault(line.split(":")[0], []).append(line.split(":", 1)[1].strip())
        if line.startswith("self-check"):
            checks[line[:-4].strip()] = checks.get(line[:-4].strip(), True) and line.endswith("PASS")
print(f"{runs} runs; load averages seen (1/5/15 min): {', '.join(loads)}")
for k, v in extra.items():
    if k.startswith("baseline"):
        print(f"{k}: {' | '.join(v)}")
print(f"{'type':26} {'median':>10} {'best':>10} {'wall med':>10}")
for t, v in rates.items():
    print(f"{t:26} {statistics.median(v):10.0f} {max(v):10.0f} {statistics.median(walls[t]):10.0f}")
    for e in extra.get(t, [])[:1]:
        print(f"{'':26} {e}")
for c, ok in checks.items():
    print(f"{c:70} {'PASS' if ok else 'FAIL'}")
