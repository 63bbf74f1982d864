#!/bin/bash
# mailharness Postfix entrypoint. Expects /etc/mailharness/ with main.cf,
# master.cf, users (user@domain:password per line), cert.pem, key.pem; for an OAuth
# account also dovecot-auth.conf, oauth2.conf.ext and ca.pem.
# Prints "mailharness: ready" on stdout once every configured port accepts.
set -euo pipefail
MH=/etc/mailharness

for f in main.cf master.cf users cert.pem key.pem; do
    [ -f "$MH/$f" ] || { echo "mailharness: missing $MH/$f" >&2; exit 2; }
done

install -o root -g root -m 0644 "$MH/main.cf" /etc/postfix/main.cf
install -o root -g root -m 0644 "$MH/master.cf" /etc/postfix/master.cf
# Listeners with port 0 are not wanted.
postconf -MX '127.0.0.1:0/inet' 2>/dev/null || true

# SASL users (sasldb). "user@domain" -> saslpasswd2 -u domain user, so the
# client logs in as user@domain; a login without "@" gets realm "localhost".
rm -f /etc/sasldb2
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in ''|'#'*) continue ;; esac
    login=${line%%:*}
    pass=${line#*:}
    if [[ "$login" == *@* ]]; then user=${login%@*}; realm=${login##*@}
    else user=$login; realm=localhost; fi
    printf '%s' "$pass" | saslpasswd2 -p -c -u "$realm" "$user"
done <"$MH/users"
touch /etc/sasldb2
chown root:postfix /etc/sasldb2
chmod 0640 /etc/sasldb2

# An OAuth account (dovecot-auth.conf written): Dovecot's auth service is Postfix's SASL
# server, with the same users in a passwd-file ({PLAIN.b64}: safe for any password bytes).
if [ -f "$MH/dovecot-auth.conf" ]; then
    : >/etc/dovecot/mailharness.passwd
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case "$line" in ''|'#'*) continue ;; esac
        printf '%s:{PLAIN.b64}%s\n' "${line%%:*}" "$(printf '%s' "${line#*:}" | base64 -w0)" \
            >>/etc/dovecot/mailharness.passwd
    done <"$MH/users"
    chown root:dovecot /etc/dovecot/mailharness.passwd
    chmod 0640 /etc/dovecot/mailharness.passwd
    dovecot -c "$MH/dovecot-auth.conf"
    for _ in $(seq 100); do [ -S /var/spool/postfix/private/auth ] && break; sleep 0.1; done
    [ -S /var/spool/postfix/private/auth ] || { echo "mailharness: no Dovecot auth socket" >&2; exit 1; }
fi

# `postfix check` and the start's own integrity checks walk the whole installation for
# owners and modes: ~2 s on a fresh container's cold caches, twice. The image is made fresh
# from Debian's package and the configuration is checked by postconf as it loads, so the
# start skips them (quick-start is Postfix's own switch for that, see postfix-script).
touch /var/spool/postfix/quick-start

# Greylisting (`greylisting = true` in a scenario): postgrey, the usual greylisting policy
# server for Postfix, answers on a socket under the queue directory, which main.cf names in
# smtpd_recipient_restrictions. Its delay (300 s) outlasts a run, so every attempt is deferred.
if postconf -h smtpd_recipient_restrictions | grep -q 'private/postgrey'; then
    postgrey --unix=/var/spool/postfix/private/postgrey --socketmode=0666 \
        --hostname=localhost --daemonize --pidfile=/run/postgrey.pid
    until [ -S /var/spool/postfix/private/postgrey ]; do sleep 0.1; done
fi

ports=$(postconf -M 2>/dev/null | sed -n 's/^127\.0\.0\.1:\([0-9]\+\)[[:space:]].*/\1/p')
(
    for p in $ports; do
        until (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do sleep 0.1; done
    done
    echo "mailharness: ready"
) &

exec postfix start-fg
