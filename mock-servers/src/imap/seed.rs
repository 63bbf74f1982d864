//! The messages every mock account starts with, so that a client has something to sync:
//! in INBOX a plain-text message (already read), a multipart message with a small
//! attachment, and one with UTF-8 in encoded-word headers and a quoted-printable body; in
//! Sent one message the user sent. `{user}` stands for the account's login.

use chrono::{DateTime, FixedOffset};

/// A message to seed, with its flags and internal date.
pub(crate) struct Seeded {
    pub raw: Vec<u8>,
    pub flags: Vec<String>,
    pub date: DateTime<FixedOffset>,
}

const PLAIN: &str = "Return-Path: <carol@example.org>\r
Date: Mon, 02 Nov 2026 09:15:00 +0100\r
From: Carol Example <carol@example.org>\r
To: {user}\r
Subject: Welcome to the test mailbox\r
Message-ID: <seed-1@example.org>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=us-ascii\r
Content-Transfer-Encoding: 7bit\r
\r
Hello,\r
\r
this mailbox belongs to a mailharness mock server. It holds three messages in\r
INBOX and one in the Sent folder.\r
\r
Carol\r
";

const MULTIPART: &str = "Return-Path: <dave@example.net>\r
Date: Tue, 03 Nov 2026 14:02:11 +0000\r
From: \"Dave, Reports\" <dave@example.net>\r
To: {user}\r
Cc: carol@example.org\r
Subject: Quarterly report attached\r
Message-ID: <seed-2@example.net>\r
In-Reply-To: <seed-1@example.org>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"=_mailharness_seed_2\"\r
\r
This is a multi-part message in MIME format.\r
\r
--=_mailharness_seed_2\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 7bit\r
\r
The report is attached.\r
\r
--=_mailharness_seed_2\r
Content-Type: text/csv; name=\"report.csv\"\r
Content-Disposition: attachment; filename=\"report.csv\"\r
Content-Transfer-Encoding: base64\r
\r
cXVhcnRlcixyZXZlbnVlCjEsMTAwCjIsMTIwCjMsMTUwCg==\r
\r
--=_mailharness_seed_2--\r
";

const UTF8: &str = "Return-Path: <erik@example.se>\r
Date: Wed, 04 Nov 2026 07:30:45 +0100\r
From: =?UTF-8?Q?Erik_L=C3=B6fgren?= <erik@example.se>\r
To: {user}\r
Subject: =?UTF-8?B?U23DtnJnw6VzYm9yZCBmw7ZyIGZyZWRhZw==?=\r
Message-ID: <seed-3@example.se>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: quoted-printable\r
\r
Hej! Sm=C3=B6rg=C3=A5sbord p=C3=A5 fredag kl. 12.\r
";

const SENT: &str = "Date: Thu, 05 Nov 2026 16:45:00 +0000\r
From: {user}\r
To: Carol Example <carol@example.org>\r
Subject: Re: Welcome to the test mailbox\r
Message-ID: <seed-4@mailharness.test>\r
In-Reply-To: <seed-1@example.org>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=us-ascii\r
\r
Thanks, it works.\r
";

fn seeded(template: &str, user: &str, flags: &[&str], date: &str) -> Seeded {
    Seeded {
        raw: template.replace("{user}", user).into_bytes(),
        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
        date: DateTime::parse_from_rfc3339(date).expect("seed dates are valid"),
    }
}

/// INBOX's seeded messages, oldest first.
pub(crate) fn inbox(user: &str) -> Vec<Seeded> {
    vec![
        seeded(PLAIN, user, &["\\Seen"], "2026-11-02T09:15:03+01:00"),
        seeded(MULTIPART, user, &[], "2026-11-03T14:02:15+00:00"),
        seeded(UTF8, user, &["\\Flagged"], "2026-11-04T07:30:50+01:00"),
    ]
}

/// Sent's seeded messages.
pub(crate) fn sent(user: &str) -> Vec<Seeded> {
    vec![seeded(SENT, user, &["\\Seen"], "2026-11-05T16:45:01+00:00")]
}
