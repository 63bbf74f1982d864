#!/bin/bash
# make-test-certs.sh [DIR]: a CA and a leaf for "localhost"/127.0.0.1 (ECDSA P-256, 30 days)
# for manual tests, without cargo. Writes ca.pem, cert.pem (leaf then CA), key.pem
# (PKCS#8), combined.pem (key then chain) into DIR (default ./certs).
set -euo pipefail
d=${1:-certs}; mkdir -p "$d"; cd "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 30 -subj "/CN=mailharness test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
openssl req -new -key key.pem -subj "/CN=localhost" -out leaf.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile ext.cnf -out leaf.pem 2>/dev/null
cat leaf.pem ca.pem >cert.pem
cat key.pem cert.pem >combined.pem
chmod 600 key.pem combined.pem ca.key
rm -f leaf.csr ext.cnf ca.srl
