"""Raw IMAP probe of the RFC extensions Dovecot advertises: prints every line both ways."""
import socket, ssl, sys
host, port, ca, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
def connect():
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=15))
    return s, s.makefile("rb")
seen = []
s, f = connect()
def line(f=None, who="S:"):
    l = (f or globals()["f"]).readline()
    print(who, l.decode("utf-8", "replace").rstrip("\r\n"))
    seen.append(l.decode("utf-8", "replace"))
    return l
def until(tag, f0=None):
    while True:
        l = line(f0)
        if l.startswith(tag.encode() + b" ") or not l or l.startswith(b"+"):
            return l
line()
n = 0
def cmd(text, *literals, sock=None, fh=None, after=""):
    """text may hold {L} placeholders, one per literal."""
    global n
    n += 1
    tag = "t%d" % n
    sock = sock or s
    parts = text.split("{L}")
    print("C:", tag, text)
    out = ("%s %s" % (tag, parts[0])).encode()
    for i, lit in enumerate(literals):
        sock.sendall(out + ("{%d}\r\n" % len(lit)).encode())
        l = until(tag, fh)
        if not l.startswith(b"+"):
            return l
        print("C: <literal %d bytes>" % len(lit))
        out = lit + parts[i + 1].encode()
    sock.sendall(out + b"\r\n")
    return until(tag, fh)
cmd('LOGIN "%s" "%s"' % (user, pw))
msg1 = (b"Date: Mon, 02 Nov 2026 09:15:00 +0100\r\nFrom: Carol Example <carol@example.org>\r\nTo: a@b.c\r\nSubject: Welcome\r\nMessage-ID: <seed-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello there, this is the first part of a longer text that goes on for a while so that a preview is cut somewhere; it keeps going and going beyond two hundred characters to see where the server cuts the preview text and whether it adds an ellipsis or not at the end\r\n--XX\r\nContent-Type: text/csv; name=\"r.csv\"\r\nContent-Disposition: attachment; filename=\"r.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\nYSxi\r\n--XX--\r\n")
msg2 = b"Subject: two\r\n\r\nbody two\r\n"
msg3 = b"Subject: three\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>html</b>  world</p>\r\n"
cmd("APPEND INBOX (\\Seen) {L} {L}", msg1, msg2)
cmd("APPEND INBOX {L}", msg3)
cmd("CREATE Archive")
cmd("CREATE Archive/2026")
cmd("SUBSCRIBE Archive/2026")
cmd("SELECT INBOX")
cmd("SEARCH RETURN (MIN MAX COUNT ALL) ALL")
cmd("UID SEARCH RETURN () UNSEEN")
cmd("SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT nothing")
cmd("SEARCH RETURN (COUNT) ALL")
cmd("SEARCH RETURN (SAVE) SUBJECT two")
cmd("FETCH $ (UID)")
cmd("UID SEARCH RETURN (SAVE MIN) ALL")
cmd("FETCH $ (UID)")
cmd("SEARCH RETURN (SAVE ALL) UNSEEN")
cmd("SEARCH $")
cmd("SEARCH RETURN (PARTIAL 1:2) ALL")
cmd("UID SEARCH RETURN (PARTIAL -1:-2) ALL")
cmd("SEARCH RETURN (PARTIAL 5:9) ALL")
cmd("SEARCH RETURN (BOGUS) ALL")
cmd("SEARCH RETURN (UPDATE) ALL")
s2, f2 = connect(); line(f2, "S2:")
cmd('LOGIN "%s" "%s"' % (user, pw), sock=s2, fh=f2)
cmd("APPEND INBOX {L}", b"Subject: four\r\n\r\nfour\r\n", sock=s2, fh=f2)
cmd("NOOP")
cmd('CANCELUPDATE "t21"')
cmd("SORT RETURN (ALL COUNT MIN MAX) (SUBJECT) UTF-8 ALL")
cmd("UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL")
cmd('LIST (SUBSCRIBED) "" "*"')
cmd('LIST "" "*" RETURN (CHILDREN SUBSCRIBED)')
cmd('LIST "" ("INBOX" "Sent")')
cmd('LIST (SPECIAL-USE) "" "*"')
cmd('LIST "" "%" RETURN (SPECIAL-USE)')
cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
cmd('LIST (REMOTE) "" "%"')
cmd('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))')
cmd('LIST (BOGUS) "" "*"')
cmd("FETCH 1:* (PREVIEW)")
cmd("FETCH 1 (PREVIEW (LAZY))")
cmd("FETCH 1 (SNIPPET (FUZZY))")
cmd("FETCH 1 (SNIPPET)")
cmd("FETCH 1:2 (SAVEDATE)")
cmd("SEARCH SAVEDSINCE 1-Jan-2020")
cmd("SEARCH SAVEDBEFORE 1-Jan-2020")
cmd("SEARCH SAVEDON 1-Jan-2020")
cmd("SEARCH SAVEDATESUPPORTED")
cmd("EXAMINE INBOX")
cmd("STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)")
cmd("SELECT INBOX")
cmd("FETCH 1 (UID)")
cmd("APPEND Sent CATENATE (URL \"/INBOX/;UID=1/;SECTION=1\" TEXT {L})", b"\r\n-- appended text\r\n")
cmd("APPEND Sent CATENATE (TEXT {L} URL \"/INBOX/;UID=2/;SECTION=TEXT;PARTIAL=0.4\")", b"Subject: cat\r\n\r\n")
cmd("APPEND Sent CATENATE (URL \"/INBOX/;UID=99\")")
cmd("APPEND Sent CATENATE (URL \"imap://alice@localhost/INBOX/;UID=1/;SECTION=HEADER\")")
cmd("APPEND Sent (\\Seen) CATENATE (TEXT {L}) {L}", b"Subject: a\r\n\r\nx\r\n", b"Subject: b\r\n\r\ny\r\n")
cmd("SELECT Sent")
cmd("FETCH 1:* (RFC822.SIZE BODY.PEEK[])")
cmd("ENABLE QRESYNC")
cmd("SELECT INBOX")
cmd("STORE 2 +FLAGS (\\Deleted)")
cmd("EXPUNGE")
cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
import re
st = [l for l in seen if l.startswith("* STATUS INBOX (UIDVALIDITY")][-1]
uv, hm = re.findall(r"\d+", st)[:2]
cmd("SELECT INBOX (QRESYNC (%s %s 1:10))" % (uv, hm))
cmd("SELECT INBOX (QRESYNC (%s 1 1:10 (1:3 1:3)))" % uv)
cmd("NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (personal (MessageNew MailboxName SubscriptionChange))")
cmd("APPEND Sent {L}", b"Subject: five\r\n\r\nfive\r\n", sock=s2, fh=f2)
cmd("APPEND INBOX {L}", b"Subject: six\r\n\r\nsix\r\n", sock=s2, fh=f2)
cmd("NOOP")
cmd("NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")
cmd("NOTIFY NONE")
cmd("NOTIFY SET (inboxes (MessageNew))")
cmd("NOTIFY BOGUS")
cmd("DELETE Archive/2026")
cmd("DELETE Archive")
cmd("LOGOUT")
