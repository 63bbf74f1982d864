"""Raw bearer-token probe: against a `mailharness serve` of an OAuth scenario, gets a token
from its token endpoint (the settings in the serve directory's oauth.json), then tries
XOAUTH2 and OAUTHBEARER on IMAP (implicit TLS) and SMTP (STARTTLS) with a good token, a
token of another user, a token without the required scope and a made-up token (answering
the error challenge, then once more cancelling with `*`), printing every line. Tokens and payloads are printed as <token> and <payload>.

    python3 containers/captures/probe_bearer.py SERVE_DIR IMAP_PORT SMTP_PORT
"""
import base64, json, socket, ssl, sys, urllib.parse, urllib.request

directory, imap_port, smtp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
oauth = json.load(open(directory + "/oauth.json"))
ctx = ssl.create_default_context(cafile=directory + "/ca.pem")


def token(scope):
    form = {"grant_type": "refresh_token", "refresh_token": oauth["refresh_token"],
            "client_id": oauth["client_id"], "client_secret": oauth["client_secret"],
            "scope": scope}
    request = urllib.request.Request(oauth["token_url"], data=urllib.parse.urlencode(form).encode())
    return json.load(urllib.request.urlopen(request, context=ctx))["access_token"]


def payload(mechanism, user, bearer, port):
    if mechanism == "XOAUTH2":
        text = "user=%s\x01auth=Bearer %s\x01\x01" % (user, bearer)
    else:
        text = "n,a=%s,\x01host=localhost\x01port=%d\x01auth=Bearer %s\x01\x01" % (user, port, bearer)
    return base64.b64encode(text.encode()).decode()


class Lines:
    def __init__(self, sock):
        self.sock, self.file = sock, sock.makefile("rb")

    def read(self):
        line = self.file.readline().decode("utf-8", "replace").rstrip("\r\n")
        print("S:", line)
        return line

    def send(self, text, shown=None):
        print("C:", shown if shown is not None else text)
        self.sock.sendall((text + "\r\n").encode())


def answer(mechanism, cancel):
    return "*" if cancel else ("" if mechanism == "XOAUTH2" else "AQ==")


def imap(mechanism, user, bearer, cancel=False):
    s = Lines(ctx.wrap_socket(socket.create_connection(("localhost", imap_port), timeout=15),
                              server_hostname="localhost"))
    s.read()
    s.send("a CAPABILITY")
    while not s.read().startswith("a "):
        pass
    s.send("b AUTHENTICATE %s %s" % (mechanism, payload(mechanism, user, bearer, imap_port)),
           "b AUTHENTICATE %s <payload>" % mechanism)
    while True:
        line = s.read()
        if line.startswith("+"):
            print("   (decoded: %s)" % base64.b64decode(line[2:]).decode())
            s.send(answer(mechanism, cancel))
        elif line.startswith("b ") or not line:
            break
    s.send("c LOGOUT")
    s.read()


def smtp(mechanism, user, bearer, cancel=False):
    raw = socket.create_connection(("localhost", smtp_port), timeout=15)
    s = Lines(raw)
    s.read()
    s.send("EHLO probe")
    while not s.read().startswith("250 "):
        pass
    s.send("STARTTLS")
    s.read()
    s = Lines(ctx.wrap_socket(raw, server_hostname="localhost"))
    s.send("EHLO probe")
    while not s.read().startswith("250 "):
        pass
    s.send("AUTH %s %s" % (mechanism, payload(mechanism, user, bearer, smtp_port)),
           "AUTH %s <payload>" % mechanism)
    line = s.read()
    if line.startswith("334 "):
        print("   (decoded: %s)" % base64.b64decode(line[4:]).decode())
        s.send(answer(mechanism, cancel))
        s.read()
    s.send("QUIT")
    s.read()


good = token(oauth["scope"])
without_scope = token("openid")
for name, run in (("IMAP", imap), ("SMTP", smtp)):
    for mechanism in ("XOAUTH2", "OAUTHBEARER"):
        for case, user, bearer in (("good token", "alice@example.com", good),
                                   ("token of another user", "mallory@example.com", good),
                                   ("token without the scope", "alice@example.com", without_scope),
                                   ("made-up token", "alice@example.com", "mh-at-made-up")):
            print("\n## %s %s, %s" % (name, mechanism, case))
            run(mechanism, user, bearer)
        print("\n## %s %s, made-up token, the challenge answered with * (cancel)" % (name, mechanism))
        run(mechanism, "alice@example.com", "mh-at-made-up", cancel=True)
