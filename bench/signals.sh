#!/usr/bin/env bash
# Whether `mailharness run` leaves anything behind when a signal stops it at a random
# moment: containers, temporary directories, processes. See bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

usage() {
    cat <<EOF
Usage: bench/signals.sh N [SIGNAL…] [-- RUN-ARGS…]

For each SIGNAL (default: TERM INT), N times: starts \`mailharness run RUN-ARGS…\` (default:
scenarios/real scenarios/network with the python-stdlib connector beside the reference one,
so that containers start and connector processes run) as the leader of a session of its
own with a TMPDIR of its own, sends it SIGNAL after a random 0.5 to 15 s, waits for it, and
counts what is left: containers labelled with its pid, entries in its TMPDIR, live
processes of its session. Prints one line per trial and the totals.

Exit codes: 0 nothing left in any trial, 1 something left, 2 usage error.

Environment:
  MAILHARNESS  the binary [default: target/release/mailharness, built with
               \`cargo build --release --locked -p mailharness\` when missing]
EOF
}

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    ''|*[!0-9]*|0) echo "bench/signals.sh: N must be a positive number (see --help)" >&2; exit 2 ;;
esac
TRIALS=$1
shift
SIGNALS=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    SIGNALS+=("$1")
    shift
done
[ ${#SIGNALS[@]} -eq 0 ] && SIGNALS=(TERM INT)
[ "${1:-}" = "--" ] && shift
RUN_ARGS=("$@")
[ ${#RUN_ARGS[@]} -eq 0 ] && RUN_ARGS=(scenarios/real scenarios/network --connector reference --connector python-stdlib)

cd "$REPO_DIR"
MAILHARNESS=${MAILHARNESS:-$REPO_DIR/target/release/mailharness}
if [ ! -x "$MAILHARNESS" ]; then
    cargo build --release --locked -p mailharness >&2
fi

left_total=0
for signal in "${SIGNALS[@]}"; do
    for trial in $(seq 1 "$TRIALS"); do
        tmp=$(mktemp -d /tmp/mailharness-signals.XXXXXX)
        # setsid: the run leads a session of its own, so its processes can be found after.
        TMPDIR=$tmp setsid "$MAILHARNESS" run "${RUN_ARGS[@]}" >/dev/null 2>&1 &
        pid=$!
        delay=$(python3 -c 'import random; print(f"{random.uniform(0.5, 15):.1f}")')
        sleep "$delay"
        kill -s "$signal" "$pid" 2>/dev/null || true
        status=0
        wait "$pid" || status=$?
        # The session id is the leader's pid.
        sleep 1
        containers=$(docker ps -a -q --filter "label=mailharness.pid=$pid" | wc -l)
        temp=$(find "$tmp" -mindepth 1 -maxdepth 1 | wc -l)
        processes=$(ps -e -o sid=,stat= | awk -v s="$pid" '$1 == s && $2 !~ /^Z/' | wc -l)
        left=$((containers + temp + processes))
        left_total=$((left_total + left))
        echo "SIG$signal trial $trial: after ${delay} s, exit $status; left: $containers containers, $temp temp entries, $processes processes"
        rm -rf "$tmp"
    done
done
echo "trials: ${#SIGNALS[@]} signals x $TRIALS; left in all: $left_total"
[ "$left_total" -eq 0 ]
