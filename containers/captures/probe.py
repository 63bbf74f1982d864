"""Raw IMAP probe: sends commands one by one, prints every line the server sends."""
import socket, ssl, sys, time
host, port, ca, user, pw, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
sent_folder = sys.argv[7] if len(sys.argv) > 7 else "Sent"
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
raw = socket.create_connection((host, port), timeout=15)
s = ctx.wrap_socket(raw) if mode == "imaps" else raw
f = s.makefile("rb")
def line():
    l = f.readline()
    print("S:", l.decode("utf-8", "replace").rstrip("\r\n"))
    return l
def until(tag):
    while True:
        l = line()
        if l.startswith(tag.encode() + b" ") or not l:
            return l
        if l.startswith(b"+"):
            return l
line()
n = 0
def cmd(text, literal=None):
    global n
    n += 1
    tag = "t%d" % n
    print("C:", tag, text)
    if literal is not None:
        s.sendall(("%s %s {%d}\r\n" % (tag, text, len(literal))).encode())
        l = until(tag)
        if l.startswith(b"+"):
            s.sendall(literal + b"\r\n")
            until(tag)
        return
    s.sendall(("%s %s\r\n" % (tag, text)).encode())
    l = until(tag)
    return l
if mode == "starttls":
    cmd("STARTTLS"); s = ctx.wrap_socket(raw); f = s.makefile("rb")
cmd("FETCH 1 FLAGS")
cmd('LOGIN "%s" "%s"' % (user, pw))
cmd("CAPABILITY")
cmd("NAMESPACE")
cmd("ID NIL")
cmd('LIST "" "*"')
cmd('LSUB "" "*"')
cmd('XLIST "" "*"')
cmd("FETCH 1 FLAGS")
cmd("CHECK")
msg = (b"Date: Mon, 02 Nov 2026 09:15:00 +0100\r\nFrom: Carol Example <carol@example.org>\r\nTo: a@b.c\r\nSubject: Welcome\r\nMessage-ID: <seed-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--XX\r\nContent-Type: text/csv; name=\"r.csv\"\r\nContent-Disposition: attachment; filename=\"r.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\nYSxi\r\n--XX--\r\n")
cmd('APPEND INBOX (\\Seen) "02-Nov-2026 09:15:03 +0100"', msg)
cmd('APPEND INBOX', b"Subject: two\r\n\r\nbody two\r\n")
cmd("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
cmd("SELECT nonexistent")
cmd("EXAMINE INBOX")
cmd("STORE 1 +FLAGS (\\Flagged)")
cmd("SELECT INBOX")
cmd("FETCH 1 (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY)")
cmd("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] BODY.PEEK[1]<0.3>)")
cmd("FETCH 2 (BODY[TEXT])")
cmd("FETCH 9 FLAGS")
cmd("FETCH")
cmd("FETCH x FLAGS")
cmd("SEARCH ALL")
cmd("UID SEARCH UNSEEN")
cmd("SEARCH FROM carol")
cmd("STORE 1 +FLAGS (\\Flagged)")
cmd("STORE 1 -FLAGS.SILENT (\\Flagged)")
cmd("COPY 1 %s" % sent_folder)
cmd("COPY 1 nowhere")
cmd("UID COPY 1 %s" % sent_folder)
cmd("MOVE 2 %s" % sent_folder)
cmd("CREATE Foo")
cmd("CREATE Foo")
cmd("RENAME Foo Bar")
cmd("SUBSCRIBE Bar")
cmd("UNSUBSCRIBE Bar")
cmd("DELETE Bar")
cmd("DELETE nowhere")
cmd("NOOP")
cmd("CHECK")
cmd("ENABLE CONDSTORE")
cmd("STORE 1 +FLAGS (\\Deleted)")
cmd("EXPUNGE")
cmd("IDLE")
time.sleep(0.5)
print("C: DONE"); s.sendall(b"DONE\r\n"); until("t%d" % n)
cmd("UNSELECT")
cmd("EXAMINE INBOX")
cmd("CLOSE")
cmd("CLOSE")
cmd("FROB")
cmd("LOGOUT")
