#!/usr/bin/env python3
# render.py SRC_DIR OUT_DIR KEY=VALUE...  Manual-test stand-in for the harness: renders every
# SRC_DIR/NAME.tmpl to OUT_DIR/NAME by plain replacement of {{KEY}}, refuses leftovers,
# and copies cert.pem, key.pem, combined.pem from $MH_CERTS (default ./certs).
import sys, os, glob, re, shutil
src, out = sys.argv[1], sys.argv[2]
vals = dict(a.split('=', 1) for a in sys.argv[3:])
os.makedirs(out, exist_ok=True)
for t in glob.glob(os.path.join(src, '*.tmpl')):
    s = open(t).read()
    for k, v in vals.items():
        s = s.replace('{{' + k + '}}', v)
    left = set(re.findall(r'\{\{([A-Z_]+)\}\}', s))
    if left: sys.exit(f'{t}: unfilled {left}')
    open(os.path.join(out, os.path.basename(t)[:-5]), 'w').write(s)
for f in ('cert.pem', 'key.pem', 'combined.pem'):
    shutil.copy(os.path.join(os.environ.get('MH_CERTS', 'certs'), f), out)
