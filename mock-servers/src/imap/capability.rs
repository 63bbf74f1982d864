//! Which IMAP capabilities the mock implements, so that a scenario's own capability list
//! (`capabilities`, `auth-mechanisms` in `[imap]`) advertises only what works: the mock
//! accepts exactly what it advertises. `session/tests/mailbox.rs` exercises each of these.

/// Capabilities the mock implements after login. `APPENDLIMIT=n` is accepted for any `n`
/// up to the mock's literal limit.
pub const MODELLED: &[&str] = &[
    "IMAP4rev1",
    "IMAP4",
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "MOVE",
    "UIDPLUS",
    "ENABLE",
    "UTF8=ACCEPT",
    "ID",
    "CHILDREN",
    "SPECIAL-USE",
    "XLIST",
    "LITERAL+",
    "LITERAL-",
    "WITHIN",
    "SASL-IR",
    "LOGINDISABLED",
    "LOGIN-REFERRALS",
    "SORT",
    "SORT=DISPLAY",
    "I18NLEVEL=1",
    "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "STATUS=SIZE",
    "QUOTA",
    "ACL",
    "ACL2=UNION",
    "BINARY",
    "CONDSTORE",
    "ESEARCH",
    "ESORT",
    "SEARCHRES",
    "CONTEXT=SEARCH",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "PREVIEW",
    "PREVIEW=FUZZY",
    "SNIPPET=FUZZY",
    "SAVEDATE",
    "X-GM-EXT-1",
    "MULTIAPPEND",
    "CATENATE",
    "URL-PARTIAL",
    "QRESYNC",
    "NOTIFY",
    "COMPRESS=DEFLATE",
];

/// Capabilities that make sense only with others: (capability, one it needs), an entry for
/// each one needed.
pub const REQUIRES: &[(&str, &str)] = &[
    // RFC 6855: UTF8=ACCEPT is turned on with ENABLE.
    ("UTF8=ACCEPT", "ENABLE"),
    ("SORT=DISPLAY", "SORT"),
    // The comparator is the mock's for SORT.
    ("I18NLEVEL=1", "SORT"),
    ("ACL2=UNION", "ACL"),
    // RFC 5267: ESORT is SORT with ESEARCH's answer.
    ("ESORT", "SORT"),
    // RFC 5182 §1 and RFC 5267 §5: both build on ESEARCH's RETURN.
    ("SEARCHRES", "ESEARCH"),
    ("CONTEXT=SEARCH", "ESEARCH"),
    // RFC 5819: STATUS is a return option of the extended LIST.
    ("LIST-STATUS", "LIST-EXTENDED"),
    // The draft's name for PREVIEW (RFC 8970), which the mock's FETCH item answers to.
    ("PREVIEW=FUZZY", "PREVIEW"),
    // What the mock does with URL-PARTIAL is refuse it in CATENATE's URLs, as Dovecot.
    ("URL-PARTIAL", "CATENATE"),
    // RFC 7162 §3.2: QRESYNC builds on CONDSTORE's modification sequences.
    ("QRESYNC", "CONDSTORE"),
    ("QRESYNC", "ENABLE"),
];

/// SASL mechanisms the mock's AUTHENTICATE (and SMTP AUTH) does (`sasl.rs`).
pub const MECHANISMS: &[&str] = &["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"];

/// Largest `APPENDLIMIT` a scenario may advertise: the mock's literal limit after login.
pub const MAX_APPENDLIMIT: u64 = 36 * 1024 * 1024;

/// Why `list` (a space-separated capability list) cannot be advertised, if it cannot.
pub fn check_list(list: &str) -> Result<(), String> {
    if !list
        .split_whitespace()
        .any(|c| c.eq_ignore_ascii_case("IMAP4rev1"))
    {
        return Err(format!(
            "`capabilities` is {list:?}; expected IMAP4rev1 among them"
        ));
    }
    for capability in list.split_whitespace() {
        let upper = capability.to_ascii_uppercase();
        if upper == "STARTTLS" || upper.starts_with("AUTH=") {
            return Err(format!(
                "`capabilities` names {capability}; set it with `security` or `auth-mechanisms` instead"
            ));
        }
        if let Some(limit) = upper.strip_prefix("APPENDLIMIT=") {
            match limit.parse::<u64>() {
                Ok(n) if n <= MAX_APPENDLIMIT => continue,
                _ => {
                    return Err(format!(
                        "`capabilities` names {capability}; expected APPENDLIMIT=n with n at most {MAX_APPENDLIMIT}"
                    ));
                }
            }
        }
        for (_, needed) in REQUIRES
            .iter()
            .filter(|(c, _)| c.eq_ignore_ascii_case(&upper))
        {
            if !list
                .split_whitespace()
                .any(|c| c.eq_ignore_ascii_case(needed))
            {
                return Err(format!(
                    "`capabilities` names {capability} without {needed}, which it needs"
                ));
            }
        }
        if !MODELLED.iter().any(|m| m.eq_ignore_ascii_case(capability)) {
            return Err(format!(
                "`capabilities` names {capability}, which the mock does not implement; expected some of {}",
                MODELLED.join(" ")
            ));
        }
    }
    Ok(())
}

/// Checks a configuration's own lists; on failure, the `[imap]` key at fault and why.
pub fn check(config: &super::ImapConfig) -> Result<(), (&'static str, String)> {
    if let Some(list) = &config.capabilities {
        check_list(list).map_err(|e| ("capabilities", e))?;
        let id = list
            .split_whitespace()
            .any(|c| c.eq_ignore_ascii_case("ID"));
        if id && config.personality.texts().id_response.is_none() {
            return Err((
                "capabilities",
                format!(
                    "`capabilities` names ID, which the {:?} personality does not answer",
                    config.personality
                ),
            ));
        }
    }
    if let Some(mechanisms) = &config.auth_mechanisms {
        check_mechanisms(mechanisms).map_err(|e| ("auth-mechanisms", e))?;
    }
    Ok(())
}

/// Why `mechanisms` cannot be offered, if they cannot.
pub fn check_mechanisms(mechanisms: &[String]) -> Result<(), String> {
    match mechanisms
        .iter()
        .find(|m| !MECHANISMS.iter().any(|known| known.eq_ignore_ascii_case(m)))
    {
        Some(mechanism) => Err(format!(
            "`auth-mechanisms` names {mechanism}, which the mock does not implement; expected some of {}",
            MECHANISMS.join(", ")
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_checked_against_what_the_mock_implements() {
        assert!(check_list("IMAP4rev1 IDLE APPENDLIMIT=1000").is_ok());
        assert!(check_list("IDLE").unwrap_err().contains("IMAP4rev1"));
        assert!(
            check_list("IMAP4rev1 QRESYNC")
                .unwrap_err()
                .contains("QRESYNC")
        );
        assert!(
            check_list("IMAP4rev1 SORT=DISPLAY")
                .unwrap_err()
                .contains("without SORT")
        );
        assert!(
            check_list("IMAP4rev1 STARTTLS")
                .unwrap_err()
                .contains("security")
        );
        assert!(check_list("IMAP4rev1 APPENDLIMIT=99999999999").is_err());
        assert!(
            check_list("IMAP4rev1 UTF8=ACCEPT")
                .unwrap_err()
                .contains("ENABLE")
        );
        assert!(check_mechanisms(&["PLAIN".into()]).is_ok());
        assert!(
            check_mechanisms(&["CRAM-MD5".into()])
                .unwrap_err()
                .contains("CRAM-MD5")
        );
    }
}
