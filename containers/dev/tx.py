#!/usr/bin/env python3
"""Manual-test transcript tool (loopback only; CA from $CAFILE, default certs/ca.pem). tx.py imap|smtp MODE PORT [CMD...]
MODE: plain | starttls | tls. CMDs are sent in order; 'STARTTLS' upgrades.
IMAP commands get tags a1, a2...; each reply read until the tagged line (IMAP)
or the final 'NNN ' line (SMTP). 'DATA' in smtp mode sends a small message."""
import os, socket, ssl, sys, time
proto, mode, port, cmds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
ctx = ssl.create_default_context(cafile=os.environ.get('CAFILE', 'certs/ca.pem'))
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
s = socket.create_connection(('127.0.0.1', port), timeout=10)
if mode == 'tls':
    s = ctx.wrap_socket(s, server_hostname='localhost'); print(f'-- TLS {s.version()}')
f = s.makefile('rb')
def line():
    l = f.readline()
    if not l: print('S: <EOF>'); sys.exit(0)
    l = l.decode(errors='replace').rstrip('\r\n'); print('S: ' + l); return l
def send(t):
    print('C: ' + t); s.sendall((t + '\r\n').encode())
def smtp_reply():
    while True:
        l = line()
        if len(l) < 4 or l[3] != '-': return l
line()  # greeting
n = 0
for c in cmds:
    if c.startswith('SLEEP'): time.sleep(float(c[5:])); continue
    if proto == 'imap':
        n += 1; tag = f'a{n}'; send(f'{tag} {c}')
        while True:
            l = line()
            if l.startswith(tag + ' '): break
        if c.upper() == 'STARTTLS' and ' OK' in l:
            s = ctx.wrap_socket(s, server_hostname='localhost'); f = s.makefile('rb'); print(f'-- TLS {s.version()}')
    else:
        send(c)
        if c.upper() == 'DATA':
            l = smtp_reply()
            if l.startswith('354'):
                for b in ['From: alice@example.com', 'To: bcc@elsewhere.example', 'Subject: mailharness test', '', 'test', '.']:
                    print('C: ' + b); s.sendall((b + '\r\n').encode())
                smtp_reply()
            continue
        l = smtp_reply()
        if c.upper() == 'STARTTLS' and l.startswith('220'):
            s = ctx.wrap_socket(s, server_hostname='localhost'); f = s.makefile('rb'); print(f'-- TLS {s.version()}')
