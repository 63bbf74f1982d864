#!/usr/bin/env bash
# How fast the scenario catalogue runs through the release CLI, against the floor that TLS
# handshakes set on this machine (measured in the same run with `openssl speed`).
# See bench/README.md. Everything listens and connects on 127.0.0.0/8 only.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

RUNS=3
SIZES="250 500 1000 2000"
REAL=true
CONNECTOR=true
# Topics whose scenarios never wait on purpose (no silent, stalled or slow servers).
NON_WAITING="tls auth smtp courier allowlist concurrency"

usage() {
    cat <<EOF
Usage: bench/suite-speed.sh [--runs N] [--sizes "250 500 …"] [--skip-real] [--skip-connector]

Times \`mailharness run\` (release build) as a whole process, median of --runs runs:

  1. N scenarios that do not wait on purpose, copied round-robin from the topics
     $NON_WAITING (N = $SIZES):
     scenarios/s, wall and CPU time, peak memory, and the ratio to the floor set by the
     TLS handshakes those scenarios make (openssl speed: ECDSA P-256 sign and verify, four
     X25519 operations per handshake; the handshakes counted in a transcript run).
  2. The mock catalogue (every topic but real/, waiting scenarios included).
  3. The real-server scenarios (scenarios/real; needs Docker and the images, built with
     \`mailharness images build\` when missing); skipped with a note without Docker.
  4. python-stdlib (connectors/python-stdlib) over the non-waiting topics against the
     built-in connector: the cost per scenario of a connector that is a process.

Then the targets of the speed work, each met or not.

Options:
  --runs N          runs per figure (default $RUNS)
  --sizes "A B …"   scenario counts for part 1 (default "$SIZES")
  --skip-real       leave out part 3
  --skip-connector  leave out part 4
  -h, --help        this help

Environment:
  MAILHARNESS  the binary [default: target/release/mailharness, built with
               \`cargo build --release --locked -p mailharness\` when missing]
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --sizes) SIZES=$2; shift 2 ;;
        --skip-real) REAL=false; shift ;;
        --skip-connector) CONNECTOR=false; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "--runs needs a positive number" >&2; exit 2 ;; esac

cd "$REPO_DIR"
BIN=${MAILHARNESS:-target/release/mailharness}
if [ ! -x "$BIN" ]; then
    echo "building $BIN" >&2
    cargo build --release --locked -q -p mailharness
fi
for tool in openssl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/mailharness-speed.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CORES=$(nproc)

# --- the handshake floor -------------------------------------------------------------
# One ECDHE-ECDSA handshake: the server signs once, the client verifies once, and each side
# makes an X25519 key and derives the secret (four scalar multiplications).
speed=$(openssl speed -seconds 1 ecdsap256 ecdhx25519 2>/dev/null)
sign_s=$(awk '/ecdsa \(nistp256\)/ {print $(NF-1)}' <<<"$speed")
verify_s=$(awk '/ecdsa \(nistp256\)/ {print $NF}' <<<"$speed")
x25519_s=$(awk '/ecdh \(X25519\)/ {print $NF}' <<<"$speed")
handshake_us=$(python3 -c "print(1e6*(1/$sign_s + 1/$verify_s + 4/$x25519_s))")

# --- helpers -------------------------------------------------------------------------
# Every connection a scenario closes leaves a TIME_WAIT socket for 60 s, holding its port;
# with tens of thousands of them the kernel's search for a free port costs several times the
# system time (a 2,000-scenario run right after another: 7.3 s of system CPU instead of 3.2).
# So each timed run starts once fewer than TIME_WAIT_MAX are left over from earlier ones.
TIME_WAIT_MAX=3000
WAITED=0
settle() {
    local start=$SECONDS
    while [ "$(ss -Htan state time-wait 2>/dev/null | wc -l)" -gt "$TIME_WAIT_MAX" ] \
        && [ $((SECONDS - start)) -lt 70 ]; do
        sleep 1
    done
    WAITED=$((WAITED + SECONDS - start))
}

# timed NAME ARGS…: runs the binary RUNS times; each run's "wall user sys maxrss_kb"
# goes to $WORK/NAME.times and the last run's JSON report to $WORK/NAME.json. Exit codes
# other than 0 (and 1 when MISMATCHES_EXPECTED=1: a connector with known mismatches) stop.
timed() {
    local name=$1; shift
    : >"$WORK/$name.times"
    for _ in $(seq "$RUNS"); do
        local code=0
        settle
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/$name.time" \
            "$BIN" run "$@" --format json >"$WORK/$name.json" 2>"$WORK/$name.err" || code=$?
        if [ "$code" != 0 ] && ! { [ "$code" = 1 ] && [ "${MISMATCHES_EXPECTED:-0}" = 1 ]; }; then
            echo "mailharness run $* exited $code (stderr in $WORK/$name.err):" >&2
            tail -5 "$WORK/$name.err" >&2
            trap - EXIT
            exit 1
        fi
        tail -1 "$WORK/$name.time" >>"$WORK/$name.times"
    done
}

# median NAME: "wall cpu maxrss_mb" medians of NAME's runs.
median() {
    python3 - "$WORK/$1.times" <<'EOF'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
rss = statistics.median(r[3] for r in rows) / 1024
print(f"{wall:.3f} {cpu:.3f} {rss:.0f}")
EOF
}

# report_field NAME EXPR: a figure from NAME's last JSON report (python expression over d).
report_field() {
    python3 -c "import json,statistics,sys; d=json.load(open(sys.argv[1])); print($2)" "$WORK/$1.json"
}

# --- 1. N non-waiting scenarios --------------------------------------------------------
SOURCES=()
for topic in $NON_WAITING; do
    while IFS= read -r f; do SOURCES+=("$f"); done < <(find "scenarios/$topic" -name '*.toml' | sort)
done
generate() {
    local n=$1 dir="$WORK/n$1"
    mkdir -p "$dir"
    for i in $(seq 0 $((n - 1))); do
        local src=${SOURCES[$((i % ${#SOURCES[@]}))]}
        local dest="$dir/copy$((i / ${#SOURCES[@]}))/${src#scenarios/}"
        mkdir -p "$(dirname "$dest")"
        cp "$src" "$dest"
    done
}

echo "machine: $CORES cores; $BIN; median of $RUNS runs"
echo "openssl speed: ECDSA P-256 ${sign_s} sign/s, ${verify_s} verify/s; X25519 ${x25519_s} op/s"
printf "handshake floor: %.0f µs of CPU per ECDHE-ECDSA handshake\n" "$handshake_us"

# Handshakes per scenario, from the servers' transcripts of one run over the sources. A
# lower bound: a server may record a handshake the client broke off (a refused certificate)
# after the scenario's report is made. Fewer handshakes counted make a higher floor, so the
# floor/speed ratio errs on the side of "farther from the floor".
generate "${#SOURCES[@]}"
"$BIN" run "$WORK/n${#SOURCES[@]}" --format json --verbose >"$WORK/handshakes.json" 2>/dev/null
per_scenario=$(python3 - "$WORK/handshakes.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
events = [e for s in d["scenarios"] for t in s.get("transcripts", []) for e in json.dumps(t).split('"')]
count = sum(1 for e in events if e.startswith("TLS established") or e.startswith("TLS handshake failed"))
print(f"{count / len(d['scenarios']):.2f}")
EOF
)
floor=$(python3 -c "print($CORES / ($per_scenario * $handshake_us / 1e6))")
printf "the non-waiting scenarios make at least %s TLS handshakes each: floor at most %.0f scenarios/s on %s cores\n\n" \
    "$per_scenario" "$floor" "$CORES"

printf "%-8s %8s %8s %12s %14s %10s %12s\n" "N" "wall s" "CPU s" "scenarios/s" "wall ms/scen." "peak MB" "floor/speed"
declare -A RATE WALL
for n in $SIZES; do
    generate "$n"
    timed "n$n" "$WORK/n$n"
    read -r wall cpu rss <<<"$(median "n$n")"
    passed=$(report_field "n$n" "d['summary']['passed']")
    [ "$passed" = "$n" ] || { echo "only $passed of $n passed" >&2; exit 1; }
    rate=$(python3 -c "print(f'{$n / $wall:.0f}')")
    RATE[$n]=$rate
    WALL[$n]=$wall
    printf "%-8s %8.2f %8.2f %12s %14.2f %10s %12.1f\n" "$n" "$wall" "$cpu" "$rate" \
        "$(python3 -c "print(1000 * $wall / $n)")" "$rss" "$(python3 -c "print($floor / $rate)")"
done
last=${SIZES##* }
# A scenario's own time, one at a time (with many in progress, a scenario's time is mostly
# its wait for the CPU).
timed alone "$WORK/n${#SOURCES[@]}" --jobs 1 --in-flight 1
median_ok=$(report_field alone \
    "statistics.median(s['duration_ms'] for s in d['scenarios'] if s['outcome'] and s['outcome']['class'] == 'ok')")
median_all=$(report_field alone "statistics.median(s['duration_ms'] for s in d['scenarios'])")
echo "one scenario at a time: median ${median_ok} ms for a passing scenario, ${median_all} ms for any"

# --- 2. the mock catalogue ------------------------------------------------------------
MOCK_TOPICS=()
for dir in scenarios/*/; do
    [ "$(basename "$dir")" = real ] || MOCK_TOPICS+=("${dir%/}")
done
timed mock "${MOCK_TOPICS[@]}"
read -r mock_wall mock_cpu mock_rss <<<"$(median mock)"
mock_count=$(report_field mock "d['summary']['total']")
echo
echo "mock catalogue: $mock_count scenarios in ${mock_wall} s wall, ${mock_cpu} s CPU, ${mock_rss} MB peak"

# --- 3. the real servers --------------------------------------------------------------
real_wall=""
if $REAL; then
    if docker info >/dev/null 2>&1; then
        "$BIN" images build >"$WORK/images.log" 2>&1
        timed real scenarios/real
        read -r real_wall real_cpu _ <<<"$(median real)"
        real_count=$(report_field real "d['summary']['total']")
        echo "real servers: $real_count scenarios in ${real_wall} s wall (containers started and removed included), ${real_cpu} s CPU of mailharness"
    else
        echo "real servers: skipped, no Docker daemon answers"
    fi
fi

# --- 4. an external connector ---------------------------------------------------------
if $CONNECTOR; then
    dir="$WORK/n${#SOURCES[@]}"
    timed builtin "$dir"
    MISMATCHES_EXPECTED=1 timed python "$dir" --connector python-stdlib
    read -r b_wall b_cpu _ <<<"$(median builtin)"
    read -r p_wall p_cpu _ <<<"$(median python)"
    python3 - "${#SOURCES[@]}" "$b_wall" "$b_cpu" "$p_wall" "$p_cpu" <<'EOF'
import sys
n, bw, bc, pw, pc = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"python-stdlib over {n} scenarios: {pw:.2f} s wall, {pc:.2f} s CPU "
      f"(built-in connector: {bw:.2f} s, {bc:.2f} s CPU): "
      f"{1000 * (pw - bw) / n:.1f} ms wall and {1000 * (pc - bc) / n:.1f} ms CPU more per scenario")
EOF
fi

# --- targets -------------------------------------------------------------------------
echo
echo "(waited ${WAITED} s in all for TIME_WAIT sockets of earlier runs to expire)"
echo "targets:"
target() { # DESCRIPTION CONDITION(python)
    if python3 -c "import sys; sys.exit(0 if ($2) else 1)"; then
        echo "  met      $1"
    else
        echo "  NOT MET  $1"
    fi
}
rate_min=
for n in $SIZES; do
    if [ -z "$rate_min" ] || [ "${RATE[$n]}" -lt "$rate_min" ]; then rate_min=${RATE[$n]}; fi
done
target ">= 500 non-waiting scenarios/s at every N (slowest: $rate_min)" "$rate_min >= 500"
if [ -n "${WALL[1000]:-}" ]; then
    target "1,000 in <= 3 s with start-up and certificates (${WALL[1000]} s)" "${WALL[1000]} <= 3"
fi
first=${SIZES%% *}
if [ "$first" != "$last" ]; then
    target "linear: wall per scenario at N = $last within 1.5x of N = $first" \
        "${WALL[$last]} / $last <= 1.5 * ${WALL[$first]} / $first"
fi
target "a passing mock scenario <= 5 ms median (${median_ok} ms)" "$median_ok <= 5"
target "the mock catalogue <= 2.5 s wall (${mock_wall} s)" "$mock_wall <= 2.5"
if [ -n "$real_wall" ]; then
    target "the real-server scenarios <= 25 s wall (${real_wall} s)" "$real_wall <= 25"
fi
