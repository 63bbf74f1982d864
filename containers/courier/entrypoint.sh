#!/bin/bash
# mailharness Courier-IMAP entrypoint. Expects /etc/mailharness/ with imapd,
# imapd-ssl, users (login:password per line), combined.pem (key then chain).
# Each login becomes a system user (authpam) with ~/Maildir.
# Prints "mailharness: ready" on stdout once every configured port accepts.
set -euo pipefail
MH=/etc/mailharness

for f in imapd imapd-ssl users combined.pem; do
    [ -f "$MH/$f" ] || { echo "mailharness: missing $MH/$f" >&2; exit 2; }
done

install -o root -g root -m 0644 "$MH/imapd" /etc/courier/imapd
install -o root -g root -m 0644 "$MH/imapd-ssl" /etc/courier/imapd-ssl
# The unprivileged TLS process (-user=courier) must read the PEM.
install -o courier -g courier -m 0600 "$MH/combined.pem" /etc/courier/mailharness.pem

while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in ''|'#'*) continue ;; esac
    login=${line%%:*}
    pass=${line#*:}
    if ! getent passwd "$login" >/dev/null; then
        useradd -m -s /usr/sbin/nologin "$login"
    fi
    printf '%s:%s\n' "$login" "$pass" | chpasswd
    home=$(getent passwd "$login" | cut -d: -f6)
    [ -d "$home/Maildir" ] || runuser -u "$login" -- maildirmake "$home/Maildir"
done <"$MH/users"

# Settings, read the way Courier's own start scripts do.
set -a
. /etc/courier/imapd
. /etc/courier/imapd-ssl
set +a

rm -f "$TLS_CACHEFILE"; touch "$TLS_CACHEFILE"
chown courier:courier "$TLS_CACHEFILE"; chmod 0600 "$TLS_CACHEFILE"
mkdir -p /run/courier/authdaemon

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; exit 0' TERM INT

# authdaemond (authpam) in the foreground of a background job; logs to stderr.
/usr/lib/courier/courier-authlib/authdaemond &
pids+=($!)
until [ -S /run/courier/authdaemon/socket ]; do sleep 0.1; done

umask "$IMAP_UMASK"
ulimit -v "$IMAP_ULIMITD"
ports=()
if [ "$PORT" != 0 ]; then
    env IMAP_STARTTLS="$IMAPDSTARTTLS" \
        /usr/sbin/couriertcpd -address="$ADDRESS" -maxprocs="$MAXDAEMONS" \
        -maxperip="$MAXPERIP" -access="$IMAPACCESSFILE.dat" $TCPDOPTS \
        "$PORT" /usr/lib/courier/courier/imaplogin /usr/bin/imapd "$MAILDIRPATH" &
    pids+=($!); ports+=("$PORT")
fi
if [ "$SSLPORT" != 0 ]; then
    env IMAP_TLS=1 \
        /usr/sbin/couriertcpd -address="$SSLADDRESS" -maxprocs="$MAXDAEMONS" \
        -maxperip="$MAXPERIP" -access="$IMAPACCESSFILE.dat" $TCPDOPTS \
        "$SSLPORT" "$COURIERTLS" -server -tcpd -user=courier \
        /usr/lib/courier/courier/imaplogin /usr/bin/imapd "$MAILDIRPATH" &
    pids+=($!); ports+=("$SSLPORT")
fi

for p in "${ports[@]}"; do
    until (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do sleep 0.1; done
done
echo "mailharness: ready"

# Stop when any server process ends.
rc=0
wait -n "${pids[@]}" || rc=$?
kill "${pids[@]}" 2>/dev/null || true
exit "$rc"
