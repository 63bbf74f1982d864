#!/usr/bin/env bash
# Whether the catalogue's outcomes are stable: runs it N times through the release CLI and
# reports every scenario whose outcome (class, step, detail, or "did not run") differs
# between runs. See bench/README.md. Everything listens and connects on 127.0.0.0/8 only.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

usage() {
    cat <<EOF
Usage: bench/flake.sh N [-- RUN-ARGS…]

Runs \`mailharness run --format json RUN-ARGS…\` N times from the repository's top (default
RUN-ARGS: the whole catalogue with the reference connector; real-server scenarios need
Docker and are reported skipped without it) and compares the outcome of every scenario and
connector across the runs. Prints each scenario whose outcome differed, with how often each
outcome came, then the count of differences.

Exit codes: 0 no difference, 1 a difference, 2 usage error or a run that failed to report.

Environment:
  MAILHARNESS  the binary [default: target/release/mailharness, built with
               \`cargo build --release --locked -p mailharness\` when missing]
EOF
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    ''|*[!0-9]*|0) echo "bench/flake.sh: N must be a positive number (see --help)" >&2; exit 2 ;;
esac
RUNS=$1
shift
[ "${1:-}" = "--" ] && shift

cd "$REPO_DIR"
MAILHARNESS=${MAILHARNESS:-$REPO_DIR/target/release/mailharness}
if [ ! -x "$MAILHARNESS" ]; then
    cargo build --release --locked -p mailharness >&2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for i in $(seq 1 "$RUNS"); do
    started=$(date +%s%N)
    status=0
    "$MAILHARNESS" run --format json "$@" >"$WORK/run-$i.json" 2>"$WORK/run-$i.err" || status=$?
    if [ "$status" -gt 1 ]; then
        echo "run $i exited $status:" >&2
        tail -20 "$WORK/run-$i.err" >&2
        exit 2
    fi
    echo "run $i of $RUNS: exit $status, $(( ($(date +%s%N) - started) / 1000000 )) ms"
done

python3 - "$WORK" "$RUNS" <<'EOF'
import collections, json, sys

work, runs = sys.argv[1], int(sys.argv[2])
seen = collections.defaultdict(collections.Counter)
for i in range(1, runs + 1):
    with open(f"{work}/run-{i}.json") as f:
        report = json.load(f)
    for one in report if isinstance(report, list) else [report]:
        for s in one["scenarios"]:
            o = s.get("outcome")
            if o is None:
                shown = "did not run" if s.get("skipped") is None else "skipped"
            else:
                shown = o["class"] + (f" at {o['step']}" if o.get("step") else "") + (
                    f" ({o['detail']})" if o.get("detail") else ""
                )
            seen[(one["connector"], s["id"])][shown] += 1
differing = {key: counts for key, counts in seen.items() if len(counts) > 1}
for (connector, scenario), counts in sorted(differing.items()):
    print(f"{scenario} ({connector}):")
    for shown, n in counts.most_common():
        print(f"  {n:>3} x {shown}")
print(f"{len(seen)} scenario outcomes over {runs} runs, {len(differing)} differing")
sys.exit(1 if differing else 0)
EOF
