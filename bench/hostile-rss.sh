#!/usr/bin/env bash
# Peak memory and wall time of a run over the hostile-server catalogue (scenarios/hostile):
# the harness, its mock servers flooding, trickling and falling silent, and the reference
# connector bounded against them, all in one process. See bench/README.md. Everything
# listens and connects on 127.0.0.0/8 only.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

# The documented bound (docs/outcomes.md, bench/README.md): peak RSS of such a run.
BOUND_MIB=256

usage() {
    cat <<EOF
Usage: bench/hostile-rss.sh [N] [-- RUN-ARGS…]

Runs \`mailharness run scenarios/hostile RUN-ARGS…\` N times (default 3) and prints, per
run and then as min / median / max, the peak resident memory of the mailharness process
and its wall time. An external connector (\`-- --connector python-stdlib\`) is a process of
its own and not counted.

Exit codes: 0 every run as expected and under ${BOUND_MIB} MiB, 1 a run over the bound or not
as expected, 2 usage error.

Environment:
  MAILHARNESS  the binary [default: target/release/mailharness, built with
               \`cargo build --release --locked -p mailharness\` when missing]
EOF
}

RUNS=3
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    --|'') ;;
    *[!0-9]*|0) echo "bench/hostile-rss.sh: N must be a positive number (see --help)" >&2; exit 2 ;;
    *) RUNS=$1; shift ;;
esac
[ "${1:-}" = "--" ] && shift

cd "$REPO_DIR"
MAILHARNESS=${MAILHARNESS:-$REPO_DIR/target/release/mailharness}
if [ ! -x "$MAILHARNESS" ]; then
    cargo build --release --locked -p mailharness >&2
fi

# Each run's peak RSS (its own rusage from wait4) and wall time.
python3 - "$RUNS" "$BOUND_MIB" "$MAILHARNESS" run scenarios/hostile --format json "$@" <<'EOF'
import json, os, statistics, subprocess, sys, time

runs, bound = int(sys.argv[1]), int(sys.argv[2])
command = sys.argv[3:]
peaks, walls, bad = [], [], 0
for run in range(1, runs + 1):
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    out = child.stdout.read()
    # wait4 gives this child's own resource use: ru_maxrss in KiB on Linux.
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    peak = usage.ru_maxrss / 1024
    scenarios = json.loads(out)["scenarios"]
    passed = sum(1 for s in scenarios if s["passed"])
    bad += child.returncode != 0
    print(f"run {run}: {len(scenarios)} scenarios, {passed} as expected, "
          f"peak RSS {peak:.1f} MiB, {wall:.1f} s")
    peaks.append(peak)
    walls.append(wall)
top = max(peaks)
print(f"peak RSS MiB: min {min(peaks):.1f} median {statistics.median(peaks):.1f} max {top:.1f}"
      f" (bound {bound})")
print(f"wall s:       min {min(walls):.1f} median {statistics.median(walls):.1f} max {max(walls):.1f}")
if bad:
    print(f"{bad} run(s) not as expected")
if top > bound:
    print(f"over the bound of {bound} MiB")
sys.exit(1 if bad or top > bound else 0)
EOF
