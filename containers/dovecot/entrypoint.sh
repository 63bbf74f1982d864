#!/bin/bash
# mailharness Dovecot entrypoint. Expects /etc/mailharness/ with dovecot.conf,
# openssl.cnf, users (login:password per line), cert.pem, key.pem.
# Prints "mailharness: ready" on stdout once every configured port accepts.
set -euo pipefail
MH=/etc/mailharness

for f in dovecot.conf openssl.cnf users cert.pem key.pem; do
    [ -f "$MH/$f" ] || { echo "mailharness: missing $MH/$f" >&2; exit 2; }
done

# passwd-file: login:{PLAIN.b64}<base64 password> (safe for any password bytes), and, when
# $MH/nologin holds a reason, the passdb fields "nologin reason=<first word>": fields are
# separated by spaces, so Dovecot would end the reason there and read the rest as fields.
extra=
if [ -s "$MH/nologin" ]; then
    reason=$(head -n1 "$MH/nologin" | tr -d '\r')
    extra="::::::nologin reason=${reason%% *}"
fi
: >/etc/dovecot/mailharness.passwd
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in ''|'#'*) continue ;; esac
    login=${line%%:*}
    pass=${line#*:}
    printf '%s:{PLAIN.b64}%s%s\n' "$login" "$(printf '%s' "$pass" | base64 -w0)" "$extra" \
        >>/etc/dovecot/mailharness.passwd
done <"$MH/users"
chown root:dovecot /etc/dovecot/mailharness.passwd
chmod 0640 /etc/dovecot/mailharness.passwd

export OPENSSL_CONF=$MH/openssl.cnf

# The server runs as a child of this shell (PID 1), which reaps strays and
# forwards TERM/INT.
dovecot -F -c "$MH/dovecot.conf" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT

# Ports to wait for: every non-zero "port = N" in the rendered config.
ports=$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9]\+\).*/\1/p' "$MH/dovecot.conf" | grep -v '^0$' || true)
for p in $ports; do
    until (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit $?; }
        sleep 0.1
    done
done
echo "mailharness: ready"

rc=0
wait "$pid" || rc=$?
exit "$rc"
