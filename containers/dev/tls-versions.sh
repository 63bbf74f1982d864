#!/bin/bash
# tls-versions.sh PORT [imap|smtp]: which TLS versions a loopback server accepts
# (openssl s_client, client at SECLEVEL 0, CA from $CAFILE, default certs/ca.pem).
port=$1; st=${2:+-starttls $2}
for v in tls1 tls1_1 tls1_2 tls1_3; do
  out=$(echo | timeout 10 openssl s_client -connect 127.0.0.1:$port $st -servername localhost -CAfile "${CAFILE:-certs/ca.pem}" -verify_hostname localhost -$v -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
  new=$(grep -m1 -E '^New, ' <<<"$out")
  pr=$(grep -m1 -E '^ *Protocol *:' <<<"$out" | sed 's/^ *//')
  ver=$(grep -m1 'Verify return code' <<<"$out" | sed 's/^ *//')
  if [ -n "$new" ] && ! grep -q '(NONE)' <<<"$new"; then
    echo "-$v: OK ${pr:-(TLS1.3: no Protocol line)} | $new | $ver"
  else
    echo "-$v: FAIL $(grep -m1 -o "read [0-9]* bytes" <<<"$out") $(grep -m1 -E 'alert|error|errno|didn.t' <<<"$out" | sed 's/^[0-9A-F]*:error://')"
  fi
done
