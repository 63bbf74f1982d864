#!/usr/bin/env bash
# Wall-clock benchmark: `mailharness check` against two TLS scanners (testssl.sh, sslyze)
# on the same local real Dovecot (IMAP, STARTTLS) + Postfix (submission, STARTTLS).
# See bench/README.md. Every connection goes to 127.0.0.1; see --help.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
SCENARIO="$BENCH_DIR/dovecot-postfix.toml"
VENV="$BENCH_DIR/.venv"
SSLYZE_VERSION="6.3.1" # pinned: the version this script was tested with (Python 3.11)

RUNS=3
SKIP_CHECK=false
RUN_TIMEOUT=600   # seconds, per tool run
SERVE_TIMEOUT=300 # seconds for `serve` to print "Press Ctrl-C"

usage() {
    cat <<EOF
Usage: bench/check-vs-tls-scanners.sh [--runs N] [--skip-check] [--timeout SECS]

Starts a real Dovecot (IMAP, STARTTLS) and a real Postfix (submission, STARTTLS) with
\`mailharness serve bench/dovecot-postfix.toml\`, then times, one run at a time and
round-robin, against the same IMAP port:

  mailharness check  IMAP + SMTP: TLS, login, Courier detection, sessions, SMTP submission
  testssl.sh         IMAP TLS only: protocols (-p) and server defaults / certificate (-S)
  sslyze             IMAP TLS only: its default scans (ciphers, certificate, TLS flaws)

and prints min / median / max wall-clock seconds per tool. Each run's output goes to a
log file under a new temporary directory (its path is printed), not to the terminal.

Options:
  --runs N         runs per tool (default $RUNS)
  --skip-check     do not time \`mailharness check\` (e.g. a binary without it)
  --timeout SECS   give up on a single tool run after SECS seconds (default $RUN_TIMEOUT)
  -h, --help       this help

Installs what is missing: testssl.sh from Debian (apt-get; root, or sudo), sslyze
$SSLYZE_VERSION from PyPI into bench/.venv. Needs a Docker daemon; the real servers'
images are built (or reused) with \`mailharness images build\`.

Environment:
  MAILHARNESS      the mailharness binary [default: target/release/mailharness, built
                   with \`cargo build --release -p mailharness\` when missing]

Network: the scanners only talk to 127.0.0.1. testssl.sh runs with --nodns none (no
DNS at all, localhost from /etc/hosts; no rDNS/CAA lookups), NXCONNECT=127.0.0.1:0 (its
openssl capability probes connect to "invalid." otherwise: DNS queries) and without
--phone-out (no CRL/OCSP fetches); sslyze only connects to the target (its trust stores
are bundled). Installs reach Debian's mirror (apt, debootstrap) and PyPI (pip) only.

Exit status: 0 all tools ran every time, 1 a tool failed (its log is named),
2 a setup or usage problem (missing tool that cannot be installed, no Docker, ...).
EOF
}

die() {
    echo "bench: $*" >&2
    exit 2
}
note() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
    --runs)
        [ $# -ge 2 ] || die "--runs needs a number"
        RUNS=$2
        shift 2
        ;;
    --runs=*)
        RUNS=${1#--runs=}
        shift
        ;;
    --timeout)
        [ $# -ge 2 ] || die "--timeout needs a number of seconds"
        RUN_TIMEOUT=$2
        shift 2
        ;;
    --timeout=*)
        RUN_TIMEOUT=${1#--timeout=}
        shift
        ;;
    --skip-check)
        SKIP_CHECK=true
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown argument: $1"
        ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
[[ "$RUN_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer, not '$RUN_TIMEOUT'"

# --- privileges and installs ---------------------------------------------------------

# Runs a command as root: directly, through sudo, or not at all (exit 2 with what to do).
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*
       (not root and no sudo; install it yourself, then run this again)"
    fi
}

APT_UPDATED=false
apt_install() {
    if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
        die "missing: $*; install it with: apt-get update && apt-get install -y $*  (as root)"
    fi
    if ! "$APT_UPDATED"; then
        note "apt-get update"
        as_root apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=true
    fi
    note "apt-get install -y $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
        die "apt-get install -y $* failed"
}

# Debian's package installs the script as `testssl`; upstream calls it `testssl.sh`.
find_testssl() { command -v testssl.sh || command -v testssl || true; }
TESTSSL=$(find_testssl)
if [ -z "$TESTSSL" ]; then
    apt_install testssl.sh
    TESTSSL=$(find_testssl)
    [ -n "$TESTSSL" ] || die "testssl.sh was installed but neither testssl.sh nor testssl is on PATH"
fi

SSLYZE="$VENV/bin/sslyze"
sslyze_version() { "$VENV/bin/python" -c 'from importlib.metadata import version; print(version("sslyze"))' 2>/dev/null || true; }
if [ ! -x "$VENV/bin/python" ]; then
    command -v python3 >/dev/null 2>&1 || apt_install python3
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    note "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
fi
if [ "$(sslyze_version)" != "$SSLYZE_VERSION" ]; then
    note "installing sslyze==$SSLYZE_VERSION into $VENV (from PyPI)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "sslyze==$SSLYZE_VERSION" ||
        die "pip install sslyze==$SSLYZE_VERSION failed"
fi
[ -x "$SSLYZE" ] || die "$SSLYZE is missing after installing sslyze"

# --- mailharness -----------------------------------------------------------------------

if [ -n "${MAILHARNESS:-}" ]; then
    MH=$MAILHARNESS
    [ -x "$MH" ] || MH=$(command -v "$MH" || true)
    if [ -z "$MH" ] || [ ! -x "$MH" ]; then
        die "MAILHARNESS=$MAILHARNESS is not an executable"
    fi
elif [ -x "$REPO_DIR/target/release/mailharness" ]; then
    MH="$REPO_DIR/target/release/mailharness"
else
    note "no target/release/mailharness: cargo build --release -p mailharness"
    (cd "$REPO_DIR" && cargo build --release -p mailharness) || die "cargo build failed"
    MH="$REPO_DIR/target/release/mailharness"
fi

if ! "$SKIP_CHECK" && ! "$MH" check --help >/dev/null 2>&1; then
    die "$MH has no \`check\` subcommand (\`mailharness check --help\` fails).
       Rebuild once it exists (cargo build --release -p mailharness), or pass --skip-check
       to time only testssl.sh and sslyze."
fi

docker info >/dev/null 2>&1 || die "no Docker daemon (docker info fails); the real servers run in containers"

# --- logs ----------------------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mailharness-bench.XXXXXX")
SERVE_DIR="$WORK/serve"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
note "logs in $WORK"

# --- images ----------------------------------------------------------------------------

# Without debian:bookworm-slim, `images build` makes it with debootstrap from apt's mirror
# when it runs as root with debootstrap installed, and pulls it from a registry otherwise.
# So that no registry is contacted: as root, install debootstrap first; otherwise make the
# base image through sudo with the script the harness would run (it installs debootstrap).
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    elif command -v sudo >/dev/null 2>&1; then
        note "making debian:bookworm-slim with debootstrap (sudo containers/make-base-image.sh)"
        # shellcheck disable=SC2024 # the log is ours, written as this user on purpose
        sudo "$REPO_DIR/containers/make-base-image.sh" >"$LOGS/make-base-image.log" 2>&1 ||
            die "containers/make-base-image.sh failed; see $LOGS/make-base-image.log"
    else
        note "debian:bookworm-slim is missing, and neither root nor sudo: \`images build\` will pull it"
    fi
fi
note "mailharness images build (reuses built images; first time a few minutes; log: $LOGS/images-build.log)"
"$MH" images build >"$LOGS/images-build.log" 2>&1 ||
    die "mailharness images build failed; see $LOGS/images-build.log"

# --- serve -----------------------------------------------------------------------------

SERVE_PID=""
SERVE_LOG="$LOGS/serve.log"

stop_serve() {
    [ -n "$SERVE_PID" ] || return 0
    local pid=$SERVE_PID i
    SERVE_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        kill -INT "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            note "serve (pid $pid) did not stop on SIGINT within 30 s: SIGTERM; its containers may be left (docker ps)"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    if [ -n "${TOOL_PID:-}" ] && kill -0 "$TOOL_PID" 2>/dev/null; then
        kill -TERM "$TOOL_PID" 2>/dev/null || true # timeout passes it on to the tool
        wait "$TOOL_PID" 2>/dev/null || true
    fi
    stop_serve
    # The password is useless once the servers are gone; do not leave it lying around.
    rm -f "$SERVE_DIR/password"
    exit "$status"
}
trap cleanup EXIT
trap 'echo >&2; note "interrupted"; exit 130' INT
trap 'exit 143' TERM

note "mailharness serve $(basename "$SCENARIO") (log: $SERVE_LOG)"
"$MH" serve "$SCENARIO" --dir "$SERVE_DIR" </dev/null >"$SERVE_LOG" 2>&1 &
SERVE_PID=$!

deadline=$((SECONDS + SERVE_TIMEOUT))
until grep -q '^Press Ctrl-C' "$SERVE_LOG" 2>/dev/null; do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        SERVE_PID=""
        sed 's/^/  serve: /' "$SERVE_LOG" >&2
        die "mailharness serve exited before its servers were up (log: $SERVE_LOG)"
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
        die "mailharness serve did not print \"Press Ctrl-C\" within ${SERVE_TIMEOUT}s (log: $SERVE_LOG)"
    sleep 0.2
done

# "  IMAP  localhost:PORT  (STARTTLS, real dovecot)" and the like.
serve_field() { sed -n "s/^  $1  *//p" "$SERVE_LOG" | head -n 1; }
IMAP_ADDR=$(serve_field IMAP | awk '{ print $1 }')
SMTP_ADDR=$(serve_field SMTP | awk '{ print $1 }')
LOGIN=$(serve_field login)
PASSWORD_FILE=$(serve_field password | sed 's/^in //')
CA_FILE=$(serve_field trust)
IMAP_HOST=${IMAP_ADDR%:*}
IMAP_PORT=${IMAP_ADDR##*:}
SMTP_HOST=${SMTP_ADDR%:*}
SMTP_PORT=${SMTP_ADDR##*:}
[[ "$IMAP_PORT" =~ ^[0-9]+$ ]] || die "no IMAP port in serve's output (log: $SERVE_LOG)"
[[ "$SMTP_PORT" =~ ^[0-9]+$ ]] || die "no SMTP port in serve's output (log: $SERVE_LOG)"
[ -n "$LOGIN" ] || die "no login in serve's output (log: $SERVE_LOG)"
[ -r "$PASSWORD_FILE" ] || die "password file '$PASSWORD_FILE' from serve's output is not readable"
[ -r "$CA_FILE" ] || die "CA file '$CA_FILE' from serve's output is not readable"
note "IMAP $IMAP_ADDR, SMTP $SMTP_ADDR, login $LOGIN, CA $CA_FILE"

# --- the tools -------------------------------------------------------------------------

# Sets CMD to tool $1's command line, writing its files next to log $2.
#
# check: `mailharness check`; the password is passed in its environment only (see below),
#   never on a command line.
# testssl.sh, offline and non-interactive:
#   --nodns none     no DNS queries at all: localhost comes from /etc/hosts (without it,
#                    testssl asks the resolver for localhost's AAAA record, and with
#                    "--nodns min" still; the default also does rDNS and CAA lookups)
#   NXCONNECT=127.0.0.1:0 (environment, see the run loop) where it probes which curves
#                    openssl supports with `openssl s_client -connect invalid.`: ~30 DNS
#                    queries for "invalid." to the resolver otherwise, even with --nodns none
#   --warnings off   never stop at a prompt
#   --add-ca         trust the scenario's CA, as the other two tools do
#   (no --phone-out: no CRL, OCSP or pwnedkeys.com fetches)
# sslyze: its default scans, trusting the scenario's CA, JSON next to the log (read by
#   judge below).
tool_cmd() {
    case "$1" in
    check)
        CMD=("$MH" check
            --imap "$IMAP_HOST:$IMAP_PORT" --smtp "$SMTP_HOST:$SMTP_PORT"
            --email "$LOGIN" --ca-file "$CA_FILE"
            --imap-security starttls --smtp-security starttls
            --password-env MAILHARNESS_CHECK_PASSWORD)
        ;;
    testssl.sh)
        CMD=("$TESTSSL" --quiet --color 0 --warnings off --nodns none
            --add-ca "$CA_FILE" -p -S --starttls imap "$IMAP_HOST:$IMAP_PORT")
        ;;
    sslyze)
        CMD=("$SSLYZE" --starttls imap --certinfo_ca_file "$CA_FILE"
            --json_out "${2%.log}.json" "$IMAP_HOST:$IMAP_PORT")
        ;;
    esac
}

# Did a run succeed? $1 tool, $2 exit status, $3 log file.
judge() {
    local tool=$1 status=$2 log=$3
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        echo "timed out after ${RUN_TIMEOUT}s"
        return 1
    fi
    case "$tool" in
    check)
        [ "$status" = 0 ] || {
            echo "exit status $status"
            return 1
        }
        ;;
    testssl.sh)
        # testssl.sh's status adds up its checks' results (1 for a check it could not
        # finish, e.g. session resumption on this Dovecot); 242 and above is a fatal error.
        [ "$status" -lt 242 ] || {
            echo "exit status $status (fatal)"
            return 1
        }
        grep -q '^ Done ' "$log" || {
            echo "no \"Done\" line: the scan did not finish"
            return 1
        }
        ;;
    sslyze)
        [ "$status" = 0 ] || [ "$status" = 1 ] || {
            echo "exit status $status"
            return 1
        }
        "$VENV/bin/python" - "${log%.log}.json" <<'PY' || return 1
import json, sys
try:
    with open(sys.argv[1]) as f:
        doc = json.load(f)
except (OSError, ValueError) as e:
    print(f"no JSON results ({e})")
    sys.exit(1)
results = doc.get("server_scan_results") or []
if not results or any(r.get("connectivity_status") != "COMPLETED" for r in results):
    # The last line of each error trace, e.g. "...ConnectionToServerFailed: ...".
    errors = [((r.get("connectivity_error_trace") or "").strip().splitlines() or [str(r.get("connectivity_status"))])[-1] for r in results]
    print(f"could not connect or scan: {'; '.join(errors) or doc.get('invalid_server_strings')}")
    sys.exit(1)
PY
        ;;
    esac
}

TOOLS=()
"$SKIP_CHECK" || TOOLS+=(check)
TOOLS+=(testssl.sh sslyze)

declare -A TIMES=()
FAILED=()
TOOL_PID=""

# Round-robin (check, testssl.sh, sslyze, check, ...), one run at a time.
for ((run = 1; run <= RUNS; run++)); do
    for tool in "${TOOLS[@]}"; do
        log="$LOGS/${tool%.sh}-$run.log"
        tool_cmd "$tool" "$log"
        printf 'bench: run %d/%d  %-11s ' "$run" "$RUNS" "$tool" >&2
        status=0
        start=$(date +%s.%N)
        # In the background and waited for, so that Ctrl-C reaches the trap at once.
        (
            case "$tool" in
            check)
                MAILHARNESS_CHECK_PASSWORD=$(<"$PASSWORD_FILE")
                export MAILHARNESS_CHECK_PASSWORD
                ;;
            testssl.sh) export NXCONNECT=127.0.0.1:0 ;;
            esac
            exec timeout --kill-after=10 "$RUN_TIMEOUT" "${CMD[@]}"
        ) </dev/null >"$log" 2>&1 &
        TOOL_PID=$!
        wait "$TOOL_PID" || status=$?
        TOOL_PID=""
        end=$(date +%s.%N)
        elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
        if why=$(judge "$tool" "$status" "$log"); then
            TIMES[$tool]+="$elapsed "
            printf '%7s s  exit %-3s %s\n' "$elapsed" "$status" "$log" >&2
        else
            printf '%7s s  FAILED (%s): %s\n' "$elapsed" "$why" "$log" >&2
            FAILED+=("$tool run $run: $why (log: $log)")
        fi
    done
done

# --- report ----------------------------------------------------------------------------

covers() {
    case "$1" in
    check) echo "IMAP+SMTP: TLS, login, Courier, sessions, SMTP submission" ;;
    testssl.sh) echo "IMAP TLS only (-p protocols, -S certificate/defaults)" ;;
    sslyze) echo "IMAP TLS only (default scans: ciphers, cert, TLS flaws)" ;;
    esac
}

# min, median, max of the numbers on stdin (one per line).
stats() {
    sort -g | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "-", "-", "-"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.2f %.2f %.2f\n", v[1], m, v[NR]
        }'
}

echo
echo "Wall-clock seconds against real Dovecot $IMAP_ADDR (STARTTLS) and Postfix $SMTP_ADDR (STARTTLS)"
printf '%-17s %4s  %7s %7s %7s  %s\n' tool runs min median max covers
for tool in "${TOOLS[@]}"; do
    times=${TIMES[$tool]:-}
    read -r min median max < <(tr ' ' '\n' <<<"$times" | sed '/^$/d' | stats)
    ok=$(wc -w <<<"$times")
    printf '%-17s %4s  %7s %7s %7s  %s\n' "$tool" "$ok/$RUNS" "$min" "$median" "$max" "$(covers "$tool")"
done
"$SKIP_CHECK" && echo "(mailharness check skipped: --skip-check)"
echo
echo "Logs: $LOGS"
echo "Tools: $("$MH" --version 2>/dev/null || echo mailharness), $("$TESTSSL" --version 2>/dev/null |
    sed -n 's/^ *testssl *\([0-9][^ ]*\).*/testssl.sh \1/p' | head -n 1), sslyze $(sslyze_version)"

if [ ${#FAILED[@]} -gt 0 ]; then
    echo
    echo "Failed runs:" >&2
    printf '  %s\n' "${FAILED[@]}" >&2
    exit 1
fi
