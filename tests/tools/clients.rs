//! Mail clients nobody here wrote, against the mock servers and real Dovecot: Python's
//! imaplib does a full sync of every IMAP personality's mock (LIST, EXAMINE, UID SEARCH,
//! UID FETCH, IDLE until a message sent through the SMTP mock arrives, APPEND to Sent), and
//! mbsync (isync) syncs every personality's mock and a real Dovecot holding the same
//! messages into Maildirs that must hold the same thing. `tests/fixtures/imap_client.py` is
//! the Python side.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mailharness::connector::ConnectionSecurity;
use serde_json::{Value, json};

use crate::support::check::{Setup, setup};
use crate::support::tools::{Need, Test, block_on};

/// A Maildir's folders by message count, each a sorted list of (Maildir flags, content).
type Folders = BTreeMap<usize, Vec<Vec<(String, Vec<u8>)>>>;

const PERSONALITIES: [&str; 4] = ["dovecot", "courier", "gmail", "exchange"];

fn client_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/imap_client.py")
}

/// The servers of a scenario body, over implicit TLS on both protocols.
async fn servers(imap: &str) -> Setup {
    setup(&format!(
        "[imap]\n{imap}\nsecurity = \"implicit-tls\"\n[smtp]\nsecurity = \"implicit-tls\"\n"
    ))
    .await
}

/// Writes what `imap_client.py` needs to reach `setup`'s servers into `dir`.
fn server_file(setup: &Setup, dir: &Path) -> PathBuf {
    let account = &setup.config.account;
    let password_file = dir.join("password");
    std::fs::write(&password_file, account.password.expose()).expect("write the password");
    let security = match account.smtp.security {
        ConnectionSecurity::ImplicitTls => "implicit-tls",
        ConnectionSecurity::Starttls => "starttls",
    };
    let server = json!({
        "host": account.imap.host,
        "port": account.imap.port,
        "ca": account.ca_file.as_ref().expect("the setup writes a CA file"),
        "user": account.username.clone().unwrap_or_else(|| account.email.clone()),
        "password_file": password_file,
        "smtp": {"port": account.smtp.port, "security": security},
    });
    let path = dir.join("server.json");
    std::fs::write(&path, server.to_string()).expect("write server.json");
    path
}

/// Runs `imap_client.py command` and returns what it wrote to its output file.
fn client(command: &str, server: &Path, file: &Path) {
    let output = Command::new("python3")
        .arg(client_script())
        .arg(command)
        .arg(server)
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "imap_client.py {command} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn imaplib_syncs_every_personality() {
    block_on(async {
        for personality in PERSONALITIES {
            let setup = servers(&format!("personality = \"{personality}\"")).await;
            let dir = tempfile::tempdir().expect("tempdir");
            let server = server_file(&setup, dir.path());
            let out = dir.path().join("summary.json");
            client("sync", &server, &out);
            let summary: Value =
                serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            let flags = |folder: &str| -> Vec<Value> {
                summary["folders"][folder]
                    .as_array()
                    .unwrap_or_else(|| panic!("{personality}: no {folder} in {summary}"))
                    .iter()
                    .map(|m| m["flags"].clone())
                    .collect()
            };
            assert_eq!(
                flags("INBOX"),
                [json!(["\\Seen"]), json!([]), json!(["\\Flagged"])],
                "{personality}: {summary}"
            );
            let sent = summary["folders"]
                .as_object()
                .unwrap()
                .keys()
                .find(|name| *name != "INBOX")
                .unwrap_or_else(|| panic!("{personality}: no Sent in {summary}"))
                .clone();
            assert_eq!(flags(&sent), [json!(["\\Seen"])], "{personality}");
            assert_eq!(
                summary["exists_while_idling"], 4,
                "{personality}: {summary}"
            );
            assert!(
                summary["append"].as_str().unwrap().starts_with("OK"),
                "{personality}: {summary}"
            );
            assert_eq!(summary["sent_after_append"], 2, "{personality}: {summary}");
            setup.env.shutdown().await;
        }
    })
}

/// An mbsync configuration pulling everything from one server into `maildir`.
fn mbsync_config(server: &Value, password_file: &Path, maildir: &Path) -> String {
    format!(
        "IMAPAccount far\nHost {host}\nPort {port}\nUser {user}\nPassCmd \"cat {password}\"\n\
         SSLType IMAPS\nCertificateFile {ca}\n\n\
         IMAPStore far\nAccount far\n\n\
         MaildirStore near\nPath {maildir}/\nInbox {maildir}/INBOX\nSubFolders Verbatim\n\n\
         Channel all\nFar :far:\nNear :near:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\n",
        host = server["host"].as_str().unwrap(),
        port = server["port"],
        user = server["user"].as_str().unwrap(),
        password = password_file.display(),
        ca = server["ca"].as_str().unwrap(),
        maildir = maildir.display(),
    )
}

/// Every folder of a Maildir tree with messages: its messages as (Maildir flags, content
/// without mbsync's `X-TUID`), sorted, grouped by message count. Folder names are left out: each server names Sent its own way.
fn maildir_contents(maildir: &Path) -> Folders {
    let mut folders: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    let mut stack = vec![maildir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut messages = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("read the maildir") {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            match name.as_str() {
                "cur" | "new" => {
                    for file in std::fs::read_dir(&path).unwrap() {
                        let file = file.unwrap().path();
                        let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
                        let flags = file_name
                            .split_once(":2,")
                            .map(|(_, f)| f.to_owned())
                            .unwrap_or_default();
                        messages.push((flags, without_tuid(&std::fs::read(&file).unwrap())));
                    }
                }
                "tmp" => {}
                _ if path.is_dir() => stack.push(path),
                _ => {}
            }
        }
        if !messages.is_empty() {
            messages.sort();
            folders.push(messages);
        }
    }
    let mut by_size = BTreeMap::new();
    for folder in folders {
        by_size
            .entry(folder.len())
            .or_insert_with(Vec::new)
            .push(folder);
    }
    by_size
}

/// A message without the `X-TUID:` header mbsync adds (a random id of its own).
fn without_tuid(message: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(message);
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with("X-TUID: "))
        .collect::<String>()
        .into_bytes()
}

/// Runs mbsync against `setup`'s IMAP server; the Maildir it filled.
fn mbsync(setup: &Setup, dir: &Path) -> PathBuf {
    let server_path = server_file(setup, dir);
    let server: Value =
        serde_json::from_str(&std::fs::read_to_string(&server_path).unwrap()).unwrap();
    let maildir = dir.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    let config = dir.join("mbsyncrc");
    std::fs::write(
        &config,
        mbsync_config(&server, &dir.join("password"), &maildir),
    )
    .unwrap();
    let output = Command::new("mbsync")
        .arg("--config")
        .arg(&config)
        .arg("--all")
        .output()
        .expect("mbsync runs");
    assert!(
        output.status.success(),
        "mbsync failed against {}: {}{}",
        server["port"],
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    maildir
}

fn mbsync_syncs_every_personality_as_it_syncs_real_dovecot() {
    block_on(async {
        // Real Dovecot gets the mock's messages, with their flags and dates, by APPEND.
        let mock = servers("personality = \"dovecot\"").await;
        let real = servers("server = \"dovecot\"").await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to) = (dir.path().join("mock"), dir.path().join("real"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        let dump = dir.path().join("messages.json");
        client("export", &server_file(&mock, &from), &dump);
        client("import", &server_file(&real, &to), &dump);
        let expected = maildir_contents(&mbsync(&real, &to));
        real.env.shutdown().await;
        mock.env.shutdown().await;
        assert_eq!(
            expected.keys().copied().collect::<Vec<_>>(),
            [1, 3],
            "real Dovecot: INBOX with three messages, Sent with one"
        );
        for personality in PERSONALITIES {
            let setup = servers(&format!("personality = \"{personality}\"")).await;
            let dir = tempfile::tempdir().expect("tempdir");
            let got = maildir_contents(&mbsync(&setup, dir.path()));
            setup.env.shutdown().await;
            assert!(
                got == expected,
                "{personality}: mbsync synced other folders, flags or messages from the mock than \
                 from real Dovecot: {:?} against {:?}",
                summary(&got),
                summary(&expected)
            );
        }
    })
}

/// Folder sizes and flags, for a failure message.
fn summary(contents: &Folders) -> Vec<Vec<String>> {
    contents
        .values()
        .flatten()
        .map(|folder| folder.iter().map(|(flags, _)| flags.clone()).collect())
        .collect()
}

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "imaplib_syncs_every_personality",
            needs: &[Need::Tool("python3")],
            run: imaplib_syncs_every_personality,
        },
        Test {
            name: "mbsync_syncs_every_personality_as_it_syncs_real_dovecot",
            needs: &[Need::Docker, Need::Tool("mbsync"), Need::Tool("python3")],
            run: mbsync_syncs_every_personality_as_it_syncs_real_dovecot,
        },
    ]
}
