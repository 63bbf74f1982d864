//! The mailbox after login, with byte literals: every capability each personality advertises
//! is exercised here; the test fails when a personality advertises one that is not.

use super::*;

const PERSONALITIES: [ImapPersonality; 12] = ImapPersonality::ALL;

/// A session of `personality` logged in as the default user, with its store.
fn logged_in(personality: ImapPersonality) -> (Harness, Mailstore) {
    logged_in_with(ImapConfig {
        personality,
        ..ImapConfig::default()
    })
}

/// A session with `config` logged in as the default user (AUTHENTICATE PLAIN), with its
/// store.
fn logged_in_with(config: ImapConfig) -> (Harness, Mailstore) {
    let personality = config.personality;
    let store = Mailstore::new();
    config.provision(&store);
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let transcript = TranscriptHandle::new(peer);
    let mut session = ImapSession::new(
        Arc::new(config),
        peer,
        true,
        SessionCounts::default(),
        transcript.clone(),
        store.clone(),
    );
    session.start();
    let mut h = Harness {
        session,
        transcript,
    };
    h.say("");
    // Without SASL-IR, which not every personality advertises.
    let ir = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    assert_eq!(
        h.say("l AUTHENTICATE PLAIN\r\n"),
        "+ \r\n",
        "{personality:?}"
    );
    let login = h.say(&format!("{ir}\r\n"));
    assert!(login.contains("l OK"), "{personality:?}: {login}");
    (h, store)
}

fn texts(personality: ImapPersonality) -> &'static ImapTexts {
    personality.texts()
}

fn sent(personality: ImapPersonality) -> String {
    let name = texts(personality).sent_folder;
    if name.contains(' ') || name.contains('[') {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

/// Checks one capability on a fresh session; `false` when the mock has no check for it.
fn exercise(personality: ImapPersonality, capability: &str) -> bool {
    exercise_with(
        ImapConfig {
            personality,
            ..ImapConfig::default()
        },
        capability,
    )
}

/// As [`exercise`], on a server with `config`.
fn exercise_with(config: ImapConfig, capability: &str) -> bool {
    let personality = config.personality;
    let advertised = |name: &str| {
        config
            .capabilities
            .as_deref()
            .unwrap_or(texts(personality).post_login_capabilities)
            .split(' ')
            .any(|c| c == name)
    };
    let (mut h, store) = logged_in_with(config.clone());
    let t = texts(personality);
    let sent = sent(personality);
    match capability {
        // The base protocol: the folders, a selection, every FETCH item a sync uses, a
        // search, flags, copying, appending, expunging and the folder commands.
        "IMAP4rev1" | "IMAP4" => {
            let list = h.say("a LIST \"\" \"*\"\r\n");
            assert!(
                list.contains("INBOX") && list.contains(t.sent_folder),
                "{list}"
            );
            let select = h.say("b SELECT INBOX\r\n");
            assert!(select.contains("* 3 EXISTS"), "{select}");
            assert!(select.ends_with(&format!(
                "b {}\r\n",
                t.select_ok.replace("{mailbox}", "INBOX")
            )));
            let fetch = h.say("c FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n");
            assert_eq!(fetch.matches(" FETCH (").count(), 3, "{fetch}");
            assert!(
                fetch.contains("UID 2") && fetch.contains("\"mixed\""),
                "{fetch}"
            );
            assert!(
                fetch.contains("Subject: Quarterly report attached\r\n"),
                "{fetch}"
            );
            assert!(
                fetch.contains("INTERNALDATE \"03-Nov-2026 14:02:15 +0000\""),
                "{fetch}"
            );
            let body = h.say("d FETCH 2 BODY[2]\r\n");
            assert!(body.contains("cXVhcnRlcixyZXZlbnVl"), "{body}");
            assert!(
                body.contains("FLAGS (\\Seen)"),
                "a BODY[] fetch sets \\Seen: {body}"
            );
            let search = h.say("e UID SEARCH UNSEEN\r\n");
            assert!(search.starts_with("* SEARCH 3\r\n"), "{search}");
            let search = h.say("f SEARCH FROM dave SINCE 1-Nov-2026\r\n");
            assert!(search.starts_with("* SEARCH 2\r\n"), "{search}");
            let store_reply = h.say("g STORE 1 +FLAGS (\\Deleted)\r\n");
            assert!(store_reply.contains("\\Deleted"), "{store_reply}");
            let copy = h.say(&format!("h COPY 2 {sent}\r\n"));
            assert!(copy.contains("h OK"), "{copy}");
            assert_eq!(store.count(USER, t.sent_folder), Some(2));
            let append = h.say(&format!("i APPEND {sent} (\\Seen) {{21}}\r\n"));
            assert!(append.starts_with('+'), "{append}");
            assert!(h.say("Subject: x\r\n\r\nhello\r\n\r\n").contains("i OK"));
            assert_eq!(store.count(USER, t.sent_folder), Some(3));
            let expunge = h.say("j EXPUNGE\r\n");
            assert!(expunge.starts_with("* 1 EXPUNGE\r\n"), "{expunge}");
            assert_eq!(store.count(USER, "INBOX"), Some(2));
            let folder = format!("{}Projects", t.personal_prefix);
            assert!(h.say(&format!("k CREATE {folder}\r\n")).contains("k OK"));
            assert!(h.say(&format!("k CREATE {folder}\r\n")).contains(&format!(
                "k {}",
                t.already_exists.replace("{mailbox}", &folder)
            )));
            let renamed = format!("{folder}2");
            assert!(
                h.say(&format!("m RENAME {folder} {renamed}\r\n"))
                    .contains("m OK")
            );
            assert!(
                h.say(&format!("n SUBSCRIBE {renamed}\r\n"))
                    .contains("n OK")
            );
            assert!(h.say("o LSUB \"\" \"*\"\r\n").contains(&renamed));
            let status = h.say("p STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n");
            assert!(
                status.contains("MESSAGES 2 UIDNEXT 4 UIDVALIDITY 1700000000 UNSEEN 1"),
                "{status}"
            );
            assert!(h.say(&format!("q DELETE {renamed}\r\n")).contains("q OK"));
            assert!(h.say("r SELECT Nope\r\n").contains(&format!(
                "r {}",
                t.no_such_mailbox.replace("{mailbox}", "Nope")
            )));
            assert!(
                h.say("s FETCH 1 FLAGS\r\n")
                    .contains(&format!("s {}", t.not_selected.replace("{name}", "FETCH")))
            );
            assert!(
                h.say("t EXAMINE INBOX\r\n")
                    .contains(&format!("t {}", t.examine_ok.replace("{mailbox}", "INBOX")))
            );
            assert!(h.say("u CHECK\r\n").contains("u OK"));
            assert!(h.say("v CLOSE\r\n").contains("v OK"));
            true
        }
        "IDLE" => {
            h.say("a SELECT INBOX\r\n");
            assert_eq!(h.say("b IDLE\r\n"), format!("{}\r\n", t.idle_continuation));
            // A message the SMTP mock accepts for the user: the driver calls refresh.
            store.deliver(&[USER.to_owned()], b"Subject: new\r\n\r\nnew mail\r\n");
            h.session.refresh();
            assert_eq!(h.say(""), "* 4 EXISTS\r\n");
            assert_eq!(
                h.say("DONE\r\n"),
                format!("b {}\r\n", t.completed("IDLE", None))
            );
            true
        }
        "NAMESPACE" => {
            let reply = h.say("a NAMESPACE\r\n");
            assert!(
                reply.starts_with(&format!("{}\r\n", t.namespace)),
                "{reply}"
            );
            true
        }
        "UNSELECT" => {
            h.say("a SELECT INBOX\r\n");
            h.say("b STORE 1 +FLAGS (\\Deleted)\r\n");
            assert!(h.say("c UNSELECT\r\n").contains("c OK"));
            assert_eq!(
                store.count(USER, "INBOX"),
                Some(3),
                "UNSELECT expunges nothing"
            );
            true
        }
        "MOVE" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say(&format!("b UID MOVE 1 {sent}\r\n"));
            assert!(
                reply.contains("* 1 EXPUNGE\r\n") && reply.contains("b OK"),
                "{reply}"
            );
            assert_eq!(store.count(USER, "INBOX"), Some(2));
            assert_eq!(store.count(USER, t.sent_folder), Some(2));
            true
        }
        "UIDPLUS" => {
            let reply = h.say(&format!("a APPEND {sent} {{14}}\r\n"));
            assert!(reply.starts_with('+'));
            let reply = h.say("Subject: x\r\n\r\n\r\n");
            assert!(reply.contains("[APPENDUID 1700000000 2]"), "{reply}");
            h.say("b SELECT INBOX\r\n");
            h.say("c STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n");
            let reply = h.say("d UID EXPUNGE 2\r\n");
            assert!(reply.starts_with("* 2 EXPUNGE\r\n"), "{reply}");
            assert_eq!(store.count(USER, "INBOX"), Some(2));
            true
        }
        "ENABLE" | "UTF8=ACCEPT" => {
            let reply = h.say("a ENABLE UTF8=ACCEPT\r\n");
            let expected = if advertised("UTF8=ACCEPT") {
                "* ENABLED UTF8=ACCEPT\r\n"
            } else {
                "* ENABLED\r\n"
            };
            assert!(reply.starts_with(expected), "{reply}");
            true
        }
        "ID" => {
            let reply = h.say("a ID NIL\r\n");
            assert!(reply.starts_with("* ID ("), "{reply}");
            true
        }
        "CHILDREN" => {
            h.say(&format!(
                "a CREATE {}Parent{}Child\r\n",
                t.personal_prefix, t.delimiter
            ));
            let list = h.say("b LIST \"\" \"*\"\r\n");
            assert!(list.contains("(\\Noselect \\HasChildren)"), "{list}");
            assert!(list.contains("\\HasNoChildren"), "{list}");
            true
        }
        "SPECIAL-USE" => {
            let list = h.say("a LIST \"\" \"*\"\r\n");
            assert!(list.contains("\\Sent)"), "{list}");
            true
        }
        "XLIST" => {
            let list = h.say("a XLIST \"\" \"*\"\r\n");
            let delimiter = t.delimiter;
            assert!(
                list.contains(&format!("\\Inbox) \"{delimiter}\" Inbox")),
                "{list}"
            );
            assert!(
                list.contains(&format!("\\Sent) \"{delimiter}\" {sent}")),
                "{list}"
            );
            true
        }
        // LOGIN is refused and AUTHENTICATE (which `logged_in_with` uses) works.
        "LOGINDISABLED" => {
            let mut h = open(config, true, SessionCounts::default());
            h.say("");
            let reply = h.say(&format!("a LOGIN {USER} \"{PASSWORD}\"\r\n"));
            assert!(reply.contains("a NO"), "{reply}");
            true
        }
        "LITERAL+" | "LITERAL-" => {
            let reply = h.say(&format!(
                "a APPEND {sent} {{14+}}\r\nSubject: x\r\n\r\n\r\n"
            ));
            assert!(!reply.starts_with('+') && reply.contains("a OK"), "{reply}");
            true
        }
        "WITHIN" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SEARCH OLDER 60\r\n");
            assert!(reply.starts_with("* SEARCH 1 2 3\r\n"), "{reply}");
            let reply = h.say("c SEARCH YOUNGER 60\r\n");
            assert!(reply.starts_with("* SEARCH\r\n"), "{reply}");
            true
        }
        capability if capability.starts_with("APPENDLIMIT=") => {
            let limit: usize = capability["APPENDLIMIT=".len()..].parse().unwrap();
            assert!(limit <= MAX_LITERAL_AUTHENTICATED);
            let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(100 * 1024));
            let reply = h.say(&format!("a APPEND {sent} {{{}}}\r\n", big.len()));
            assert!(reply.starts_with('+'), "{reply}");
            assert!(h.say(&format!("{big}\r\n")).contains("a OK"));
            true
        }
        "SORT" | "I18NLEVEL=1" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SORT (SUBJECT) UTF-8 ALL\r\n");
            assert!(reply.starts_with("* SORT 3 2 1\r\n"), "{reply}");
            assert!(reply.ends_with(&format!("b {}\r\n", t.completed("SORT", None))));
            let reply = h.say("c UID SORT (REVERSE DATE) US-ASCII UNSEEN\r\n");
            assert!(reply.starts_with("* SORT 3 2\r\n"), "{reply}");
            true
        }
        "SORT=DISPLAY" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SORT (DISPLAYFROM) UTF-8 ALL\r\n");
            assert!(reply.starts_with("* SORT 3 1 2\r\n"), "{reply}");
            true
        }
        capability if capability.starts_with("THREAD=") => {
            h.say("a SELECT INBOX\r\n");
            let algorithm = &capability["THREAD=".len()..];
            let reply = h.say(&format!("b THREAD {algorithm} UTF-8 ALL\r\n"));
            // The second seeded message answers the first (In-Reply-To).
            let expected = if algorithm == "ORDEREDSUBJECT" {
                "* THREAD (1)(2)(3)\r\n"
            } else {
                "* THREAD (1 2)(3)\r\n"
            };
            assert!(reply.starts_with(expected), "{algorithm}: {reply}");
            true
        }
        "STATUS=SIZE" => {
            let reply = h.say("a STATUS INBOX (MESSAGES SIZE)\r\n");
            assert!(
                reply.starts_with("* STATUS INBOX (MESSAGES 3 SIZE "),
                "{reply}"
            );
            true
        }
        "QUOTA" => {
            let reply = h.say("a GETQUOTAROOT INBOX\r\n");
            let root = t.quota_root;
            assert!(
                reply.starts_with(&format!(
                    "* QUOTAROOT INBOX \"{root}\"\r\n* QUOTA \"{root}\""
                )),
                "{reply}"
            );
            let reply = h.say("b SETQUOTA \"\" (STORAGE 10)\r\n");
            assert_eq!(reply, format!("b {}\r\n", t.setquota_refused));
            true
        }
        "ACL" => {
            let reply = h.say("a MYRIGHTS INBOX\r\n");
            assert!(
                reply.starts_with("* MYRIGHTS \"INBOX\" \"acdilrsw\"\r\n"),
                "{reply}"
            );
            let reply = h.say("b GETACL INBOX\r\n");
            assert!(
                reply.starts_with("* ACL \"INBOX\" \"owner\" \"acdilrsw\""),
                "{reply}"
            );
            true
        }
        "ACL2=UNION" => {
            h.say("a SETACL INBOX bob lr\r\n");
            h.say("b SETACL INBOX bob +w\r\n");
            h.say("c SETACL INBOX bob -l\r\n");
            let reply = h.say("d GETACL INBOX\r\n");
            assert!(reply.contains(" \"bob\" \"rw\""), "{reply}");
            true
        }
        "BINARY" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2])\r\n");
            assert!(
                reply.contains("BINARY[2] {34}\r\nquarter,revenue\n1,100\n"),
                "{reply}"
            );
            assert!(reply.contains("BINARY.SIZE[2] 34"), "{reply}");
            let reply = h.say("c FETCH 3 BINARY[1]\r\n");
            assert!(reply.contains("Smörgåsbord på fredag"), "{reply}");
            assert!(
                reply.contains("\\Seen"),
                "BINARY without PEEK sets \\Seen: {reply}"
            );
            true
        }
        // Seeded INBOX: three messages added at modification sequences 2, 3 and 4.
        "CONDSTORE" => {
            let select = h.say("a SELECT INBOX (CONDSTORE)\r\n");
            let highest = t.highest_modseq.replace("{modseq}", "4");
            assert!(select.contains(&format!("{highest}\r\n")), "{select}");
            let fetch = h.say("b FETCH 1:* (UID MODSEQ)\r\n");
            assert!(
                fetch.contains("MODSEQ (2)") && fetch.contains("MODSEQ (4)"),
                "{fetch}"
            );
            let store = h.say("c STORE 1 +FLAGS (\\Flagged)\r\n");
            assert!(
                store.starts_with("* 1 FETCH (MODSEQ (5) FLAGS ("),
                "{store}"
            );
            let store = h.say("d STORE 1 (UNCHANGEDSINCE 2) +FLAGS (\\Answered)\r\n");
            assert!(store.contains("d OK [MODIFIED 1]"), "{store}");
            let changed = h.say("e FETCH 1:* (FLAGS) (CHANGEDSINCE 4)\r\n");
            assert_eq!(changed.matches(" FETCH (").count(), 1, "{changed}");
            assert!(changed.contains("MODSEQ (5)"), "{changed}");
            let search = h.say("f SEARCH MODSEQ 5\r\n");
            assert!(search.starts_with("* SEARCH 1 (MODSEQ 5)\r\n"), "{search}");
            let status = h.say(&format!("g STATUS {sent} (HIGHESTMODSEQ)\r\n"));
            assert!(status.contains("(HIGHESTMODSEQ 2)"), "{status}");
            true
        }
        // The mock never refers a client elsewhere: a refused login carries no REFERRAL.
        "LOGIN-REFERRALS" => {
            let mut h = open(config, true, SessionCounts::default());
            h.say("");
            let reply = h.say(&format!("a LOGIN {USER} wrong\r\n"));
            assert!(
                reply.starts_with("a NO") && !reply.contains("REFERRAL"),
                "{reply}"
            );
            true
        }
        // Seeded INBOX: UIDs 1 to 3, the last two unseen; subjects "Welcome to the team",
        // "Quarterly report attached", "Smörgåsbord".
        "ESEARCH" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SEARCH RETURN (MIN MAX COUNT ALL) ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"b\") MIN 1 MAX 3 ALL 1:3 COUNT 3\r\n"),
                "{reply}"
            );
            assert!(reply.ends_with(&format!("b {}\r\n", t.completed("SEARCH", None))));
            let reply = h.say("c UID SEARCH RETURN () UNSEEN\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"c\") UID ALL 2:3\r\n"),
                "{reply}"
            );
            let reply = h.say("d SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT nothing\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"d\") COUNT 0\r\n"),
                "{reply}"
            );
            let reply = h.say("e SEARCH RETURN (BOGUS) ALL\r\n");
            assert!(reply.starts_with("e BAD"), "{reply}");
            true
        }
        "ESORT" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SORT RETURN (ALL COUNT MIN MAX) (SUBJECT) UTF-8 ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"b\") MIN 3 MAX 1 ALL 3,2,1 COUNT 3\r\n"),
                "{reply}"
            );
            let reply = h.say("c UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"c\") UID ALL 3,2,1\r\n"),
                "{reply}"
            );
            true
        }
        "SEARCHRES" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SEARCH RETURN (SAVE) FROM dave\r\n");
            assert_eq!(reply, format!("b {}\r\n", t.completed("SEARCH", None)));
            let reply = h.say("c FETCH $ (UID)\r\n");
            assert!(reply.starts_with("* 2 FETCH (UID 2)\r\nc OK"), "{reply}");
            let reply = h.say("d UID SEARCH RETURN (SAVE MIN) ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"d\") UID MIN 1\r\n"),
                "{reply}"
            );
            let reply = h.say("e SEARCH $ OR $ UNSEEN\r\n");
            assert!(reply.starts_with("* SEARCH 1\r\n"), "{reply}");
            let reply = h.say("f SEARCH RETURN (SAVE) SUBJECT nothing\r\n");
            assert!(reply.starts_with("f OK"), "{reply}");
            let reply = h.say("g STORE $ +FLAGS (\\Flagged)\r\n");
            assert_eq!(reply, format!("g {}\r\n", t.completed("STORE", None)));
            true
        }
        "CONTEXT=SEARCH" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b SEARCH RETURN (PARTIAL 1:2) ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"b\") PARTIAL (1:2 1:2)\r\n"),
                "{reply}"
            );
            let reply = h.say("c SEARCH RETURN (PARTIAL 5:9) ALL\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"c\") PARTIAL (5:9 NIL)\r\n"),
                "{reply}"
            );
            let reply = h.say("d UID SEARCH RETURN (PARTIAL -1:-2) ALL\r\n");
            assert!(reply.starts_with("d BAD"), "{reply}");
            let reply = h.say("e SEARCH RETURN (UPDATE) UNSEEN\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"e\")\r\ne OK"),
                "{reply}"
            );
            store.deliver(&[USER.to_owned()], b"Subject: new\r\n\r\nnew mail\r\n");
            let reply = h.say("f NOOP\r\n");
            assert!(
                reply.starts_with("* 4 EXISTS\r\n* ESEARCH (TAG \"e\") ADDTO (0 4)\r\n"),
                "{reply}"
            );
            let reply = h.say("g STORE 3 +FLAGS.SILENT (\\Seen)\r\n");
            assert!(
                reply.starts_with("* ESEARCH (TAG \"e\") REMOVEFROM (0 3)\r\n"),
                "{reply}"
            );
            assert!(h.say("h CANCELUPDATE \"e\"\r\n").starts_with("h OK"));
            let reply = h.say("i CANCELUPDATE \"e\"\r\n");
            assert!(reply.starts_with("i NO"), "{reply}");
            true
        }
        // Every folder starts subscribed; the one created here is not.
        "LIST-EXTENDED" => {
            let d = t.delimiter;
            let parent = format!("{}Archive", t.personal_prefix);
            h.say(&format!("a CREATE {parent}{d}2026\r\n"));
            h.say(&format!("b SUBSCRIBE {parent}{d}2026\r\n"));
            let reply = h.say("c LIST \"\" (\"INBOX\" \"Nope\")\r\n");
            assert!(
                reply.starts_with(&format!("* LIST () \"{d}\" INBOX\r\nc OK")),
                "an extended LIST shows no attribute unasked: {reply}"
            );
            let reply = h.say("e LIST \"\" \"*\" RETURN (CHILDREN SUBSCRIBED)\r\n");
            assert!(
                reply.contains(&format!(
                    "* LIST (\\Subscribed \\HasNoChildren) \"{d}\" INBOX\r\n"
                )),
                "{reply}"
            );
            assert!(
                reply.contains(&format!(
                    "* LIST (\\Noselect \\HasChildren) \"{d}\" {parent}\r\n"
                )),
                "{reply}"
            );
            let reply = h.say("f LIST (SPECIAL-USE) \"\" \"*\"\r\n");
            if advertised("SPECIAL-USE") {
                assert!(
                    reply.starts_with(&format!("* LIST (\\Sent) \"{d}\" {sent}\r\n")),
                    "{reply}"
                );
            } else {
                assert!(reply.starts_with("f BAD"), "{reply}");
            }
            let reply = h.say("g LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"\r\n");
            assert!(
                reply.contains(&format!(
                    "* LIST (\\Noselect) \"{d}\" {parent} (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
                )),
                "{reply}"
            );
            let reply = h.say("h LIST (REMOTE) \"\" \"INBOX\"\r\n");
            assert!(
                reply.starts_with(&format!("* LIST () \"{d}\" INBOX\r\n")),
                "{reply}"
            );
            let reply = h.say("i LIST (BOGUS) \"\" \"*\"\r\n");
            assert!(
                reply.starts_with("i BAD") || reply.starts_with("i NO"),
                "{reply}"
            );
            true
        }
        "LIST-STATUS" => {
            let d = t.delimiter;
            let reply = h.say("a LIST \"\" \"*\" RETURN (STATUS (UNSEEN MESSAGES UIDNEXT))\r\n");
            // Dovecot writes STATUS items in its own order, the others as asked.
            let (inbox, sent_status) = if personality == ImapPersonality::Dovecot {
                (
                    "MESSAGES 3 UIDNEXT 4 UNSEEN 2",
                    "MESSAGES 1 UIDNEXT 2 UNSEEN 0",
                )
            } else {
                (
                    "UNSEEN 2 MESSAGES 3 UIDNEXT 4",
                    "UNSEEN 0 MESSAGES 1 UIDNEXT 2",
                )
            };
            assert!(
                reply.contains(&format!(
                    "* LIST () \"{d}\" INBOX\r\n* STATUS INBOX ({inbox})\r\n"
                )),
                "{reply}"
            );
            assert!(
                reply.contains(&format!("* STATUS {sent} ({sent_status})\r\n")),
                "{reply}"
            );
            true
        }
        "PREVIEW" | "PREVIEW=FUZZY" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b FETCH 1:2 (PREVIEW)\r\n");
            assert!(
                reply.starts_with("* 1 FETCH (PREVIEW \"Hello, this mailbox belongs to a mailharness mock server. It holds three messages in INBOX and one in the Sent folder. Carol\")\r\n* 2 FETCH (PREVIEW \"The report is attached.\")\r\n"),
                "{reply}"
            );
            let reply = h.say("c UID FETCH 2 (FLAGS PREVIEW (LAZY))\r\n");
            assert!(
                reply.starts_with(
                    "* 2 FETCH (UID 2 FLAGS () PREVIEW \"The report is attached.\")\r\n"
                ),
                "{reply}"
            );
            let reply = h.say("d FETCH 3 PREVIEW\r\n");
            assert!(
                reply.starts_with(
                    "* 3 FETCH (PREVIEW {37}\r\nHej! Smörgåsbord på fredag kl. 12.)\r\n"
                ),
                "8-bit text comes as a literal: {reply}"
            );
            true
        }
        "SNIPPET=FUZZY" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b FETCH 2 (SNIPPET (FUZZY))\r\n");
            assert!(
                reply.starts_with("* 2 FETCH (SNIPPET (FUZZY \"The report is attached.\"))\r\n"),
                "{reply}"
            );
            true
        }
        // The seeded messages were saved when the session started.
        "SAVEDATE" => {
            h.say("a SELECT INBOX\r\n");
            let today = chrono::Utc::now().format("%d-%b-%Y").to_string();
            let reply = h.say("b FETCH 1 (UID SAVEDATE)\r\n");
            assert!(
                reply.starts_with(&format!("* 1 FETCH (UID 1 SAVEDATE \"{today} ")),
                "{reply}"
            );
            let reply = h.say("c SEARCH SAVEDSINCE 1-Jan-2020\r\n");
            assert!(reply.starts_with("* SEARCH 1 2 3\r\n"), "{reply}");
            let reply = h.say("d SEARCH SAVEDBEFORE 1-Jan-2020\r\n");
            assert!(reply.starts_with("* SEARCH\r\n"), "{reply}");
            let reply = h.say("e UID SEARCH NOT SAVEDON 1-Jan-2020 SAVEDATESUPPORTED UNSEEN\r\n");
            assert!(reply.starts_with("* SEARCH 2 3\r\n"), "{reply}");
            true
        }
        // Message 2 answers message 1: one thread.
        "X-GM-EXT-1" => {
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b FETCH 1:2 (X-GM-MSGID X-GM-THRID)\r\n");
            let numbers: Vec<u64> = reply
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| w.len() > 6)
                .map(|w| w.parse().unwrap())
                .collect();
            let [msgid1, thrid1, msgid2, thrid2] = numbers[..] else {
                panic!("{reply}");
            };
            assert_eq!((thrid1, thrid2), (msgid1, msgid1), "{reply}");
            assert_ne!(msgid1, msgid2);
            let reply = h.say(&format!("c SEARCH X-GM-THRID {msgid1}\r\n"));
            assert!(reply.starts_with("* SEARCH 1 2\r\n"), "{reply}");
            let reply = h.say(&format!("d SEARCH X-GM-MSGID {msgid2}\r\n"));
            assert!(reply.starts_with("* SEARCH 2\r\n"), "{reply}");
            let reply = h.say("e STORE 1 +X-GM-LABELS (Work \"Muy Importante\")\r\n");
            assert!(
                reply.starts_with("* 1 FETCH (X-GM-LABELS (Work \"Muy Importante\"))\r\ne OK"),
                "{reply}"
            );
            let reply = h.say("f UID FETCH 1 (X-GM-LABELS)\r\n");
            assert!(
                reply.starts_with("* 1 FETCH (UID 1 X-GM-LABELS (Work \"Muy Importante\"))\r\n"),
                "{reply}"
            );
            let reply = h.say("g SEARCH X-GM-LABELS Work\r\n");
            assert!(reply.starts_with("* SEARCH 1\r\n"), "{reply}");
            let reply = h.say("h SEARCH X-GM-RAW \"has:attachment from:dave\"\r\n");
            assert!(reply.starts_with("* SEARCH 2\r\n"), "{reply}");
            let reply = h.say("i STORE 1 -X-GM-LABELS.SILENT (Work)\r\n");
            assert!(reply.starts_with("i OK"), "{reply}");
            let reply = h.say("j FETCH 1 X-GM-LABELS\r\n");
            assert!(
                reply.starts_with("* 1 FETCH (X-GM-LABELS (\"Muy Importante\"))\r\n"),
                "{reply}"
            );
            true
        }
        // Sent holds one message (UID 1); the store is checked, not only the reply.
        "MULTIAPPEND" => {
            let first = "Subject: a\r\n\r\nx\r\n";
            let second = "Subject: b\r\n\r\ny\r\n";
            let reply = h.say(&format!("a APPEND {sent} (\\Seen) {{{}}}\r\n", first.len()));
            assert!(reply.starts_with('+'), "{reply}");
            let reply = h.say(&format!(
                "{first} \"02-Nov-2026 09:15:03 +0100\" {{{}}}\r\n",
                second.len()
            ));
            assert!(reply.starts_with('+'), "{reply}");
            let reply = h.say(&format!("{second}\r\n"));
            let code = if advertised("UIDPLUS") {
                Some("APPENDUID 1700000000 2:3".to_owned())
            } else {
                None
            };
            assert_eq!(
                reply,
                format!("a {}\r\n", t.completed("APPEND", code.as_deref()))
            );
            assert_eq!(store.count(USER, t.sent_folder), Some(3));
            // All or none: a missing folder stores neither.
            let reply = h.say("b APPEND Nope {1+}\r\nx {1+}\r\ny\r\n");
            assert!(reply.starts_with("b NO [TRYCREATE]"), "{reply}");
            true
        }
        "CATENATE" => {
            let text = "\r\n-- appended\r\n";
            let reply = h.say(&format!(
                "a APPEND {sent} CATENATE (URL \"/INBOX/;UID=2/;SECTION=1\" TEXT {{{}}}\r\n",
                text.len()
            ));
            assert!(reply.starts_with('+'), "{reply}");
            let reply = h.say(&format!("{text})\r\n"));
            assert!(reply.starts_with("a OK"), "{reply}");
            h.say(&format!("b SELECT {sent}\r\n"));
            let reply = h.say("c FETCH 2 BODY.PEEK[]\r\n");
            assert!(
                reply.contains("{40}\r\nThe report is attached.\r\n\r\n-- appended\r\n)"),
                "{reply}"
            );
            let reply = h.say(&format!(
                "d APPEND {sent} CATENATE (URL \"/INBOX/;UID=99\")\r\n"
            ));
            assert!(
                reply.starts_with("d NO [BADURL /INBOX/;UID=99] Message not found"),
                "{reply}"
            );
            let reply = h.say(&format!(
                "e APPEND {sent} CATENATE (URL \"imap://{USER}@localhost/INBOX/;UID=1\")\r\n"
            ));
            assert!(reply.contains("Relative URL required"), "{reply}");
            true
        }
        // As Dovecot: advertised for URLFETCH, refused in CATENATE's URLs.
        "URL-PARTIAL" => {
            let reply = h.say(&format!(
                "a APPEND {sent} CATENATE (URL \"/INBOX/;UID=2/;SECTION=TEXT;PARTIAL=0.4\")\r\n"
            ));
            assert!(
                reply.starts_with("a NO [BADURL /INBOX/;UID=2/;SECTION=TEXT;PARTIAL=0.4] Invalid IMAP URL: Unrecognized IMAP URL extension: ;PARTIAL=0.4"),
                "{reply}"
            );
            true
        }
        // Seeded INBOX: UIDs 1 to 3 at modification sequences 2 to 4.
        "QRESYNC" => {
            let reply = h.say("a ENABLE QRESYNC\r\n");
            assert!(reply.starts_with("* ENABLED QRESYNC\r\n"), "{reply}");
            h.say("b SELECT INBOX\r\n");
            let reply = h.say("c STORE 2 +FLAGS (\\Deleted)\r\n");
            assert!(
                reply.starts_with("* 2 FETCH (UID 2 MODSEQ (5) FLAGS (\\Deleted))\r\n"),
                "{reply}"
            );
            let reply = h.say("d EXPUNGE\r\n");
            assert_eq!(
                reply,
                format!(
                    "* VANISHED 2\r\nd {}\r\n",
                    t.completed("EXPUNGE", Some("HIGHESTMODSEQ 6"))
                )
            );
            let reply = h.say("e UID FETCH 1:* (FLAGS) (CHANGEDSINCE 3 VANISHED)\r\n");
            // The third message is \\Flagged.
            assert!(
                reply.starts_with("* VANISHED (EARLIER) 2\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (4))\r\ne OK"),
                "{reply}"
            );
            let reply = h.say("f SELECT INBOX (QRESYNC (1700000000 3 1:10))\r\n");
            assert!(
                reply.contains("* VANISHED (EARLIER) 2\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (4))\r\nf OK"),
                "{reply}"
            );
            let reply = h.say("g SELECT INBOX (QRESYNC (1 3))\r\n");
            assert!(
                !reply.contains("VANISHED") && !reply.contains("FETCH"),
                "another UIDVALIDITY: nothing to resynchronise: {reply}"
            );
            true
        }
        // What other sessions change arrives unasked; what this one changes does not.
        "NOTIFY" => {
            let d = t.delimiter;
            h.say("a SELECT INBOX\r\n");
            let reply = h.say("b NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (personal (MessageNew MailboxName SubscriptionChange))\r\n");
            assert_eq!(reply, format!("b {}\r\n", t.completed("NOTIFY", None)));
            let sent_folder = t.sent_folder;
            let projects = format!("{}Projects", t.personal_prefix);
            store.deliver(&[USER.to_owned()], b"Subject: new\r\n\r\nnew\r\n");
            store.with_account(USER, |folders| {
                let sent = folders.iter_mut().find(|f| f.name == sent_folder).unwrap();
                sent.add(
                    b"Subject: s\r\n\r\nx\r\n".to_vec().into(),
                    Vec::new(),
                    chrono::Utc::now().fixed_offset(),
                );
                let folder = crate::imap::mailstore::Folder::new(projects.clone(), None);
                folders.push(folder);
                ((), true)
            });
            h.session.refresh();
            let reply = h.say("");
            assert!(
                reply.contains(&format!("* LIST () \"{d}\" {projects}\r\n")),
                "{reply}"
            );
            assert!(
                reply.contains(&format!(
                    "* STATUS {sent} (MESSAGES 2 UIDNEXT 3 UNSEEN 1)\r\n"
                )),
                "{reply}"
            );
            assert!(
                reply.ends_with("* 4 EXISTS\r\n* 4 FETCH (UID 4 FLAGS ())\r\n"),
                "{reply}"
            );
            let reply = h.say(&format!("c APPEND {sent} {{11+}}\r\nSubject: y\r\n"));
            assert!(reply.starts_with("c OK"), "not told back: {reply}");
            let reply = h.say("d NOTIFY SET STATUS (personal (MessageNew MessageExpunge))\r\n");
            assert!(
                reply.starts_with(&format!(
                    "* STATUS {projects} (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 1700000000 UNSEEN 0)\r\n"
                )) && reply.contains(&format!(
                    "* STATUS {sent} (MESSAGES 3 UIDNEXT 4 UIDVALIDITY"
                )),
                "{reply}"
            );
            assert!(h.say("e NOTIFY NONE\r\n").starts_with("e OK"));
            assert!(h.say("f NOTIFY BOGUS\r\n").starts_with("f BAD"));
            true
        }
        // The driver does the compressing (tests/sockets/imap.rs checks it on a socket).
        "COMPRESS=DEFLATE" => {
            let (reply, actions) = h.exchange("a COMPRESS DEFLATE\r\n");
            assert_eq!(reply, format!("a {}\r\n", t.completed("COMPRESS", None)));
            assert_eq!(actions, [Action::Compress]);
            let reply = h.say("b COMPRESS DEFLATE\r\n");
            assert!(reply.starts_with("b NO [COMPRESSIONACTIVE]"), "{reply}");
            true
        }
        // Logging in with these is what `logged_in` and the login tests do.
        "SASL-IR" | "AUTH=PLAIN" => {
            let config = ImapConfig {
                personality,
                ..ImapConfig::default()
            };
            let mut h = open(config, true, SessionCounts::default());
            h.say("");
            let ir =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
            let reply = if capability == "SASL-IR" {
                h.say(&format!("a AUTHENTICATE PLAIN {ir}\r\n"))
            } else {
                assert_eq!(h.say("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
                h.say(&format!("{ir}\r\n"))
            };
            assert!(reply.contains("a OK"), "{reply}");
            true
        }
        _ => false,
    }
}

#[test]
fn every_advertised_capability_works() {
    for personality in PERSONALITIES {
        for capability in texts(personality).post_login_capabilities.split(' ') {
            assert!(
                exercise(personality, capability),
                "{personality:?} advertises {capability}: exercise it here"
            );
        }
    }
}

/// What a scenario may advertise (`capability::MODELLED`) is what this file exercises: a
/// Dovecot whose list is all of it.
#[test]
fn every_capability_a_scenario_may_advertise_works() {
    for capability in crate::imap::capability::MODELLED {
        let needed: String = crate::imap::capability::REQUIRES
            .iter()
            .filter(|(c, _)| c == capability)
            .map(|(_, needed)| format!(" {needed}"))
            .collect();
        let list = match *capability {
            "IMAP4rev1" => "IMAP4rev1".to_owned(),
            other => format!("IMAP4rev1{needed} {other}"),
        };
        let config = ImapConfig {
            capabilities: Some(list),
            ..ImapConfig::default()
        };
        assert!(
            exercise_with(config, capability),
            "{capability} is in capability::MODELLED but not exercised here"
        );
    }
}

#[test]
fn a_scenario_s_lists_are_what_the_mock_accepts() {
    let config = ImapConfig {
        capabilities: Some("IMAP4rev1 IDLE".into()),
        auth_mechanisms: Some(vec!["LOGIN".into()]),
        ..ImapConfig::default()
    };
    let mut h = open(config, true, SessionCounts::default());
    assert_eq!(
        h.say(""),
        "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=LOGIN] Dovecot (Debian) ready.\r\n"
    );
    // PLAIN is not offered, so it is refused (and without SASL-IR in the list, an initial
    // response is an argument too many); LOGIN works.
    let ir = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    assert!(h.say("a AUTHENTICATE PLAIN\r\n").starts_with("a NO"));
    assert!(
        h.say(&format!("a2 AUTHENTICATE PLAIN {ir}\r\n"))
            .starts_with("a2 BAD")
    );
    assert!(
        h.say(&format!("b LOGIN {USER} \"{PASSWORD}\"\r\n"))
            .contains("b OK")
    );
    // After login the list is the scenario's too: NAMESPACE and ID are not in it.
    assert!(h.say("c NAMESPACE\r\n").starts_with("c BAD"));
    assert!(h.say("d ID NIL\r\n").starts_with("d BAD"));
    assert!(h.say("e IDLE\r\n").starts_with("+ idling"));
}

#[test]
fn commands_of_unadvertised_extensions_are_refused_as_unknown() {
    // Courier advertises neither MOVE nor UNSELECT, and refuses both
    // (containers/captures/courier-mailbox.txt).
    let (mut h, store) = logged_in(ImapPersonality::Courier);
    h.say("a SELECT INBOX\r\n");
    assert_eq!(
        h.say("b MOVE 1 INBOX.Sent\r\n"),
        "b NO Error in IMAP command received by server.\r\n"
    );
    assert_eq!(
        h.say("c UNSELECT\r\n"),
        "c NO Error in IMAP command received by server.\r\n"
    );
    assert_eq!(store.count(USER, "INBOX"), Some(3));
    // Courier keeps its folders under INBOX.
    assert_eq!(h.say("d CREATE Foo\r\n"), "d NO Invalid mailbox name.\r\n");
}

#[test]
fn a_second_session_sees_what_the_first_changed() {
    let (mut first, store) = logged_in(ImapPersonality::Dovecot);
    let peer: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    let config = ImapConfig::default();
    let mut second = Harness {
        session: ImapSession::new(
            Arc::new(config),
            peer,
            true,
            SessionCounts::default(),
            TranscriptHandle::new(peer),
            store.clone(),
        ),
        transcript: TranscriptHandle::new(peer),
    };
    second.session.start();
    second.say(&format!("l LOGIN {USER} \"{PASSWORD}\"\r\n"));
    second.say("a SELECT INBOX\r\n");
    first.say("a SELECT INBOX\r\n");
    first.say("b STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    first.say("c EXPUNGE\r\n");
    // No expunge is announced during FETCH (RFC 3501 §7.4.1); NOOP announces it.
    let fetch = second.say("b FETCH 1:* UID\r\n");
    assert!(!fetch.contains("EXPUNGE"), "{fetch}");
    let noop = second.say("c NOOP\r\n");
    assert!(noop.starts_with("* 1 EXPUNGE\r\n"), "{noop}");
}

#[test]
fn fetch_errors_as_each_server_words_them() {
    let (mut h, _) = logged_in(ImapPersonality::Dovecot);
    h.say("a SELECT INBOX\r\n");
    assert_eq!(
        h.say("b FETCH 9 FLAGS\r\n"),
        "b BAD Error in IMAP command FETCH: Invalid messageset (0.001 + 0.000 secs).\r\n"
    );
    assert_eq!(
        h.say("c FETCH\r\n"),
        "c BAD Error in IMAP command FETCH: Invalid arguments (0.001 + 0.000 secs).\r\n"
    );
    let (mut h, _) = logged_in(ImapPersonality::Courier);
    h.say("a SELECT INBOX\r\n");
    assert_eq!(
        h.say("b FETCH 9 FLAGS\r\n"),
        "* NO Invalid message sequence number: 9\r\nb OK FETCH completed.\r\n"
    );
}

#[test]
fn the_transcript_keeps_the_start_of_a_large_append() {
    let (mut h, store) = logged_in(ImapPersonality::Dovecot);
    let message = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(10_000));
    assert!(
        h.say(&format!("a APPEND Sent {{{}}}\r\n", message.len()))
            .starts_with('+')
    );
    assert!(h.say(&format!("{message}\r\n")).contains("a OK"));
    assert_eq!(
        store.count(USER, "Sent"),
        Some(2),
        "the whole message is stored"
    );
    let transcript = h.transcript.snapshot().to_string();
    assert!(transcript.contains("bytes in all)"), "{transcript}");
    assert!(transcript.len() < 6 * 1024, "{} bytes", transcript.len());
}

#[test]
fn enable_condstore_tells_the_highest_modseq_first_as_dovecot_does() {
    // containers/captures/dovecot-mailbox.txt: t42.
    let (mut h, _) = logged_in(ImapPersonality::Dovecot);
    h.say("a SELECT INBOX\r\n");
    assert_eq!(
        h.say("b ENABLE CONDSTORE\r\n"),
        "* OK [HIGHESTMODSEQ 4] Highest\r\n* ENABLED CONDSTORE\r\nb OK Enabled (0.001 + 0.000 secs).\r\n"
    );
    // From now on a flag change carries its MODSEQ.
    assert!(
        h.say("c STORE 2 +FLAGS (\\Seen)\r\n")
            .starts_with("* 2 FETCH (MODSEQ (5) FLAGS (")
    );
    // Courier does not advertise it, and enables nothing.
    let (mut h, _) = logged_in(ImapPersonality::Courier);
    assert!(h.say("a ENABLE CONDSTORE\r\n").starts_with("* ENABLED\r\n"));
}
