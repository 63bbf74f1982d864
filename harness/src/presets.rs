//! Domain presets: the server settings an administrator fills in ahead of time for an email
//! domain, so that whoever connects an address at that domain finds them pre-filled.
//!
//! A domain takes either IMAP settings (IMAP and SMTP host and port, and whether an
//! untrusted certificate is accepted) or Exchange settings (the Exchange URL), never both,
//! as inbox products that offer presets require. This module reads `presets.toml`, checks
//! every preset and reports every problem it finds at once, each with its path, line and
//! column, and looks up the preset for an address ([`Presets::for_email`]).
//!
//! ```toml
//! # IMAP settings for one domain
//! [[imap]]
//! domain = "example.com"
//! imap-host = "imap.example.com"
//! imap-port = 993
//! smtp-host = "smtp.example.com"
//! smtp-port = 587
//! allow-insecure-certificate = false   # optional, default false
//!
//! # Exchange settings for another
//! [[exchange]]
//! domain = "corp.example"
//! url = "https://mail.corp.example/EWS/Exchange.asmx"
//! ```

use std::collections::HashMap;
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::file_error::{FileError, line_column};

/// The IMAP and SMTP settings preset for one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImapPreset {
    /// The email domain, as written in the file (compared case-insensitively).
    pub domain: String,
    pub imap_host: String,
    pub imap_port: u16,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// Whether a certificate that does not verify is accepted (default `false`).
    pub allow_insecure_certificate: bool,
}

/// The Exchange settings preset for one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangePreset {
    /// The email domain, as written in the file (compared case-insensitively).
    pub domain: String,
    /// The Exchange Web Services URL (`https://…` or `http://…`).
    pub url: String,
}

/// The preset that applies to an address: IMAP settings or Exchange settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset<'a> {
    Imap(&'a ImapPreset),
    Exchange(&'a ExchangePreset),
}

/// Every preset of a `presets.toml`. A file that [`load`] accepts names each domain once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presets {
    pub imap: Vec<ImapPreset>,
    pub exchange: Vec<ExchangePreset>,
}

impl Presets {
    /// The preset for `email`'s domain (what follows its last `@`), compared
    /// case-insensitively and exactly: a preset for `example.com` does not apply to
    /// `mail.example.com`, as one domain's settings say nothing about its subdomains.
    /// `None` for an address without `@` or a domain without a preset.
    pub fn for_email(&self, email: &str) -> Option<Preset<'_>> {
        let (_, domain) = email.rsplit_once('@')?;
        if let Some(preset) = self
            .imap
            .iter()
            .find(|p| p.domain.eq_ignore_ascii_case(domain))
        {
            return Some(Preset::Imap(preset));
        }
        self.exchange
            .iter()
            .find(|p| p.domain.eq_ignore_ascii_case(domain))
            .map(Preset::Exchange)
    }
}

/// A presets file that could not be read, or one problem in it.
pub type PresetError = FileError;

/// Reads, parses and checks the presets file at `path`: the presets, or every problem
/// found (an unreadable file is one problem).
pub fn load(path: &Path) -> Result<Presets, Vec<PresetError>> {
    let text = fs::read_to_string(path).map_err(|e| vec![PresetError::io(path, &e)])?;
    parse(path, &text)
}

/// Parses and checks presets from `text`; `path` is for messages only. The problems come
/// in the order of the file.
pub fn parse(path: &Path, text: &str) -> Result<Presets, Vec<PresetError>> {
    let mut checker = Checker {
        path,
        text,
        errors: Vec::new(),
        unparsed_domains: Vec::new(),
    };
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for error in syntax_errors {
            checker.toml_error(&error);
        }
        return Err(checker.finish());
    }
    let mut imap = Vec::new();
    let mut exchange = Vec::new();
    for (key, value) in document.get_ref() {
        match key.get_ref().as_ref() {
            "imap" => imap = checker.entries::<RawImap>(Kind::Imap, value),
            "exchange" => exchange = checker.entries::<RawExchange>(Kind::Exchange, value),
            other => checker.error(
                key.span(),
                format!("unknown key `{other}`, expected `[[imap]]` or `[[exchange]]` tables"),
            ),
        }
    }
    let presets = checker.check(imap, exchange);
    if checker.errors.is_empty() {
        Ok(presets)
    } else {
        Err(checker.finish())
    }
}

/// One `[[imap]]` entry as written, with the position of each value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawImap {
    domain: Spanned<String>,
    imap_host: Spanned<String>,
    /// Wider than a port, so that an out-of-range port is reported along with the other
    /// problems rather than as the one deserialisation error.
    imap_port: Spanned<i64>,
    smtp_host: Spanned<String>,
    smtp_port: Spanned<i64>,
    #[serde(default)]
    allow_insecure_certificate: bool,
}

/// One `[[exchange]]` entry as written, with the position of each value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExchange {
    domain: Spanned<String>,
    url: Spanned<String>,
}

/// Collects the problems of one file.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<PresetError>,
    /// The domains of presets that did not deserialise (an unknown key, a missing one), so
    /// that they still count towards duplicates.
    unparsed_domains: Vec<(Kind, Spanned<String>)>,
}

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        self.errors
            .push(PresetError::at(self.path, self.text, Some(span), message));
    }

    fn toml_error(&mut self, error: &toml::de::Error) {
        let message = error.message().trim().to_owned();
        self.errors
            .push(PresetError::at(self.path, self.text, error.span(), message));
    }

    /// The problems sorted by position, so they read in the order of the file.
    fn finish(mut self) -> Vec<PresetError> {
        self.errors.sort_by_key(FileError::offset);
        self.errors
    }

    /// Deserialises each entry of the `[[name]]` array on its own, so that a problem in one
    /// (an unknown key, a missing one, a value of the wrong type) does not hide the others.
    fn entries<T: DeserializeOwned>(&mut self, kind: Kind, value: &Spanned<DeValue>) -> Vec<T> {
        let name = kind.key();
        let Some(array) = value.get_ref().as_array() else {
            self.error(
                value.span(),
                format!(
                    "`{name}` is a list of presets: write each one under a `[[{name}]]` header"
                ),
            );
            return Vec::new();
        };
        let mut entries = Vec::new();
        for element in array.iter() {
            if !element.get_ref().is_table() {
                self.error(
                    element.span(),
                    format!(
                        "each `{name}` preset is a table, found a {}",
                        element.get_ref().type_str()
                    ),
                );
                continue;
            }
            match T::deserialize(ValueDeserializer::from(element.clone())) {
                Ok(entry) => entries.push(entry),
                Err(error) => {
                    self.toml_error(&error);
                    let domain = element.get_ref().get("domain");
                    if let Some((span, name)) =
                        domain.and_then(|d| Some((d.span(), d.get_ref().as_str()?)))
                    {
                        self.unparsed_domains
                            .push((kind, Spanned::new(span, name.to_owned())));
                    }
                }
            }
        }
        entries
    }

    /// Checks every value and the domains across presets; the presets, complete when no
    /// problem was found.
    fn check(&mut self, imap: Vec<RawImap>, exchange: Vec<RawExchange>) -> Presets {
        let mut domains = Vec::new();
        let mut presets = Presets::default();
        for raw in imap {
            let domain_ok = self.check_domain(&raw.domain);
            // `&`, not `&&`: both hosts are checked.
            let hosts_ok = self.check_host(&raw.imap_host, "imap-port")
                & self.check_host(&raw.smtp_host, "smtp-port");
            let imap_port = self.check_port(&raw.imap_port);
            let smtp_port = self.check_port(&raw.smtp_port);
            if domain_ok {
                domains.push((Kind::Imap, raw.domain.clone()));
            }
            if let (true, true, Some(imap_port), Some(smtp_port)) =
                (domain_ok, hosts_ok, imap_port, smtp_port)
            {
                presets.imap.push(ImapPreset {
                    domain: raw.domain.into_inner(),
                    imap_host: raw.imap_host.into_inner(),
                    imap_port,
                    smtp_host: raw.smtp_host.into_inner(),
                    smtp_port,
                    allow_insecure_certificate: raw.allow_insecure_certificate,
                });
            }
        }
        for raw in exchange {
            let domain_ok = self.check_domain(&raw.domain);
            let url_ok = self.check_url(&raw.url);
            if domain_ok {
                domains.push((Kind::Exchange, raw.domain.clone()));
            }
            if domain_ok && url_ok {
                presets.exchange.push(ExchangePreset {
                    domain: raw.domain.into_inner(),
                    url: raw.url.into_inner(),
                });
            }
        }
        for (kind, domain) in std::mem::take(&mut self.unparsed_domains) {
            if self.check_domain(&domain) {
                domains.push((kind, domain));
            }
        }
        self.check_unique(domains);
        presets
    }

    /// Each domain once: the later of two presets for one domain is the problem, and the
    /// message says where the first is.
    fn check_unique(&mut self, mut domains: Vec<(Kind, Spanned<String>)>) {
        domains.sort_by_key(|(_, domain)| domain.span().start);
        let mut first: HashMap<String, (Kind, usize)> = HashMap::new();
        for (kind, domain) in domains {
            let key = domain.get_ref().to_ascii_lowercase();
            let Some(&(first_kind, offset)) = first.get(&key) else {
                first.insert(key, (kind, domain.span().start));
                continue;
            };
            let (line, _) = line_column(self.text, offset);
            let message = if first_kind == kind {
                format!(
                    "duplicate domain `{}` (first preset at line {line})",
                    domain.get_ref()
                )
            } else {
                format!(
                    "`{}` has both IMAP and Exchange settings; a domain takes one or the other ({} preset at line {line})",
                    domain.get_ref(),
                    first_kind.name()
                )
            };
            self.error(domain.span(), message);
        }
    }

    fn check_domain(&mut self, domain: &Spanned<String>) -> bool {
        let name = domain.get_ref();
        let problem = if name.is_empty() {
            Some("`domain` is empty, expected a domain name such as `example.com`".to_owned())
        } else if let Some((_, after)) = name.rsplit_once('@') {
            Some(format!(
                "`{name}` is an email address, expected the domain alone (`{after}`)"
            ))
        } else {
            name_problem(name).map(|why| format!("`{name}` is not a domain name: {why}"))
        };
        self.report(domain.span(), problem)
    }

    /// A host name or an IP address; `port_key` is named when the host carries a port.
    fn check_host(&mut self, host: &Spanned<String>, port_key: &str) -> bool {
        let name = host.get_ref();
        let problem = if name.is_empty() {
            Some("the host is empty, expected a host name such as `imap.example.com` or an IP address".to_owned())
        } else {
            host_problem(name, port_key)
                .map(|why| format!("`{name}` is not a host name or IP address: {why}"))
        };
        self.report(host.span(), problem)
    }

    fn check_port(&mut self, port: &Spanned<i64>) -> Option<u16> {
        let value = *port.get_ref();
        match u16::try_from(value) {
            Ok(port) if port != 0 => Some(port),
            _ => {
                self.error(port.span(), format!("port must be 1–65535 (found {value})"));
                None
            }
        }
    }

    fn check_url(&mut self, url: &Spanned<String>) -> bool {
        let value = url.get_ref();
        let problem =
            url_problem(value).map(|why| format!("`{value}` is not an Exchange URL: {why}"));
        self.report(url.span(), problem)
    }

    /// Records `problem`, if any; whether there was none.
    fn report(&mut self, span: Range<usize>, problem: Option<String>) -> bool {
        match problem {
            Some(message) => {
                self.error(span, message);
                false
            }
            None => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Imap,
    Exchange,
}

impl Kind {
    /// The key of its presets in the file.
    fn key(self) -> &'static str {
        match self {
            Kind::Imap => "imap",
            Kind::Exchange => "exchange",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Imap => "IMAP",
            Kind::Exchange => "Exchange",
        }
    }
}

/// Why `name` is not a DNS name (dot-separated labels of letters, digits and inner
/// hyphens, each 1–63 characters, 253 in all), or `None` if it is one.
fn name_problem(name: &str) -> Option<String> {
    if let Some(c) = name.chars().find(|c| c.is_whitespace()) {
        return Some(format!("it contains whitespace ({c:?})"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        let hint = if c.is_ascii() {
            ""
        } else {
            " (write an internationalised name in its `xn--` form)"
        };
        return Some(format!(
            "`{c}` is not allowed, expected letters a–z, digits, hyphens and dots{hint}"
        ));
    }
    if name.len() > 253 {
        return Some(format!(
            "it is {} characters long, at most 253 are allowed",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("it has an empty label (a leading, trailing or doubled dot)".to_owned());
        }
        if label.len() > 63 {
            return Some(format!(
                "the label `{label}` is {} characters long, at most 63 are allowed",
                label.len()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("the label `{label}` starts or ends with a hyphen"));
        }
    }
    None
}

/// Why `host` is neither a host name nor an IPv4 or IPv6 address (bare or in brackets).
fn host_problem(host: &str, port_key: &str) -> Option<String> {
    if host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if unbracketed.parse::<Ipv6Addr>().is_ok() {
        return None;
    }
    if host.contains("://") {
        return Some("expected the host alone, without a scheme".to_owned());
    }
    if host.contains(':') && !host.contains('[') {
        return Some(format!(
            "expected the host alone; the port goes in `{port_key}`"
        ));
    }
    if host
        .split('.')
        .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("it looks like an IPv4 address but is not one".to_owned());
    }
    name_problem(host)
}

/// Why `url` is not an `https://` or `http://` URL with a host (and optionally a port,
/// path, query), or `None` if it is one.
fn url_problem(url: &str) -> Option<String> {
    let example = "such as `https://mail.example.com/EWS/Exchange.asmx`";
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url["https://".len()..]
    } else if lower.starts_with("http://") {
        &url["http://".len()..]
    } else {
        return Some(format!(
            "expected an `https://` (or `http://`) URL {example}"
        ));
    };
    if let Some(c) = url.chars().find(|c| c.is_whitespace()) {
        return Some(format!("it contains whitespace ({c:?})"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Some("expected no user name or password in the URL".to_owned());
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], &authority[end + 1..]),
            None => return Some("the IPv6 address has no closing `]`".to_owned()),
        }
    } else {
        match authority.find(':') {
            Some(colon) => (&authority[..colon], &authority[colon..]),
            None => (authority, ""),
        }
    };
    if host.is_empty() {
        return Some(format!("it has no host, expected a URL {example}"));
    }
    if !port.is_empty() {
        let number = port.strip_prefix(':').unwrap_or(port);
        if !matches!(number.parse::<u16>(), Ok(n) if n != 0) {
            return Some(format!(
                "the port `{number}` is not a port, expected 1–65535"
            ));
        }
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => None,
            Err(_) => Some(format!("`{inner}` is not an IPv6 address")),
        };
    }
    host_problem(host, "the URL").map(|why| format!("its host `{host}`: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/check.md's example presets file is valid.
    #[test]
    fn the_docs_example_is_valid() {
        let doc = include_str!("../../docs/check.md");
        let blocks = crate::doc_examples::blocks(doc, "toml");
        assert!(!blocks.is_empty());
        for block in blocks {
            if let Err(errors) = parse(Path::new("docs/check.md"), block) {
                panic!("{block}: {errors:?}");
            }
        }
    }

    const GOOD: &str = r#"# IMAP settings
[[imap]]
domain = "example.com"
imap-host = "imap.example.com"
imap-port = 993
smtp-host = "smtp.example.com"
smtp-port = 587

[[imap]]
domain = "Legacy.Example"
imap-host = "192.0.2.10"
imap-port = 143
smtp-host = "[2001:db8::25]"
smtp-port = 25
allow-insecure-certificate = true

[[exchange]]
domain = "corp.example"
url = "https://mail.corp.example/EWS/Exchange.asmx"
"#;

    fn parse_text(text: &str) -> Result<Presets, Vec<PresetError>> {
        parse(Path::new("presets.toml"), text)
    }

    /// The problems of `text`, as `line:column: message`.
    fn problems(text: &str) -> Vec<String> {
        parse_text(text)
            .unwrap_err()
            .into_iter()
            .map(|e| {
                let location = e
                    .location
                    .strip_prefix("presets.toml:")
                    .unwrap_or(&e.location);
                format!("{location}: {}", e.message)
            })
            .collect()
    }

    /// One `[[imap]]` preset with `key = value` replaced (or added).
    fn imap_with(key: &str, value: &str) -> String {
        let mut lines = vec![
            "[[imap]]".to_owned(),
            "domain = \"example.com\"".to_owned(),
            "imap-host = \"imap.example.com\"".to_owned(),
            "imap-port = 993".to_owned(),
            "smtp-host = \"smtp.example.com\"".to_owned(),
            "smtp-port = 587".to_owned(),
        ];
        let line = format!("{key} = {value}");
        match lines
            .iter()
            .position(|l| l.starts_with(&format!("{key} =")))
        {
            Some(i) => lines[i] = line,
            None => lines.push(line),
        }
        lines.join("\n") + "\n"
    }

    fn exchange_with_url(url: &str) -> String {
        format!("[[exchange]]\ndomain = \"corp.example\"\nurl = \"{url}\"\n")
    }

    #[test]
    fn a_good_file_loads() {
        let presets = parse_text(GOOD).unwrap();
        assert_eq!(presets.imap.len(), 2);
        assert_eq!(presets.exchange.len(), 1);
        assert_eq!(
            presets.imap[1],
            ImapPreset {
                domain: "Legacy.Example".into(),
                imap_host: "192.0.2.10".into(),
                imap_port: 143,
                smtp_host: "[2001:db8::25]".into(),
                smtp_port: 25,
                allow_insecure_certificate: true,
            }
        );
        assert!(!presets.imap[0].allow_insecure_certificate);
        assert_eq!(parse_text("").unwrap(), Presets::default());
    }

    #[test]
    fn the_example_in_docs_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/presets.example.toml");
        let presets = load(&path).unwrap_or_else(|errors| panic!("{errors:#?}"));
        assert!(!presets.imap.is_empty() && !presets.exchange.is_empty());
    }

    #[test]
    fn for_email_matches_the_domain_exactly_and_ignores_case() {
        let presets = parse_text(GOOD).unwrap();
        match presets.for_email("alice@EXAMPLE.com") {
            Some(Preset::Imap(p)) => assert_eq!(p.imap_host, "imap.example.com"),
            other => panic!("{other:?}"),
        }
        match presets.for_email("bob@legacy.example") {
            Some(Preset::Imap(p)) => assert_eq!(p.imap_port, 143),
            other => panic!("{other:?}"),
        }
        match presets.for_email("\"a@b\"@corp.example") {
            Some(Preset::Exchange(p)) => assert!(p.url.starts_with("https://")),
            other => panic!("{other:?}"),
        }
        assert_eq!(presets.for_email("carol@mail.example.com"), None);
        assert_eq!(presets.for_email("dave@example.org"), None);
        assert_eq!(presets.for_email("example.com"), None);
    }

    #[test]
    fn duplicate_domains_name_the_first() {
        let text = format!(
            "{}{}",
            imap_with("imap-port", "993"),
            imap_with("domain", "\"Example.COM\"")
        );
        assert_eq!(
            problems(&text),
            ["8:10: duplicate domain `Example.COM` (first preset at line 2)"]
        );
        let text = format!(
            "{}\n{}",
            exchange_with_url("https://a.example/"),
            exchange_with_url("https://b.example/")
        );
        assert_eq!(
            problems(&text),
            ["6:10: duplicate domain `corp.example` (first preset at line 2)"]
        );
    }

    #[test]
    fn a_domain_takes_imap_or_exchange_not_both() {
        // The later preset is the problem, whichever table it is in.
        let text = format!(
            "[[exchange]]\ndomain = \"EXAMPLE.com\"\nurl = \"https://x.example/\"\n{}",
            imap_with("imap-port", "993")
        );
        assert_eq!(
            problems(&text),
            [
                "5:10: `example.com` has both IMAP and Exchange settings; a domain takes one or the other (Exchange preset at line 2)"
            ]
        );
    }

    #[test]
    fn domains_must_be_domain_names() {
        for (domain, why) in [
            ("", "`domain` is empty"),
            (
                "alice@example.com",
                "is an email address, expected the domain alone (`example.com`)",
            ),
            ("exa mple.com", "contains whitespace"),
            ("example..com", "empty label"),
            (".example.com", "empty label"),
            ("-example.com", "starts or ends with a hyphen"),
            ("example-.com", "starts or ends with a hyphen"),
            ("exa_mple.com", "`_` is not allowed"),
            ("exämple.com", "`xn--` form"),
        ] {
            let found = problems(&imap_with("domain", &format!("{domain:?}")));
            assert_eq!(found.len(), 1, "{domain}: {found:?}");
            assert!(found[0].starts_with("2:10: "), "{domain}: {found:?}");
            assert!(found[0].contains(why), "{domain}: {found:?}");
        }
        let long = format!("\"{}.example\"", "a".repeat(64));
        assert!(problems(&imap_with("domain", &long))[0].contains("at most 63"));
        let longest = format!("\"{}.example\"", "a".repeat(63));
        assert!(parse_text(&imap_with("domain", &longest)).is_ok());
    }

    #[test]
    fn hosts_are_names_or_addresses() {
        for host in [
            "imap",
            "imap-1.example.com",
            "127.0.0.1",
            "::1",
            "[2001:db8::1]",
        ] {
            let text = imap_with("imap-host", &format!("{host:?}"));
            assert!(parse_text(&text).is_ok(), "{host}: {:?}", problems(&text));
        }
        for (host, why) in [
            ("", "the host is empty"),
            ("imap .example.com", "whitespace"),
            ("imap.example.com:993", "the port goes in `imap-port`"),
            ("imaps://imap.example.com", "without a scheme"),
            ("imap!.example.com", "`!` is not allowed"),
            ("192.0.2.300", "looks like an IPv4 address"),
        ] {
            let found = problems(&imap_with("imap-host", &format!("{host:?}")));
            assert_eq!(found.len(), 1, "{host}: {found:?}");
            assert!(found[0].starts_with("3:13: "), "{host}: {found:?}");
            assert!(found[0].contains(why), "{host}: {found:?}");
        }
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(
            problems(&imap_with("imap-port", "0")),
            ["4:13: port must be 1–65535 (found 0)"]
        );
        assert_eq!(
            problems(&imap_with("smtp-port", "70000")),
            ["6:13: port must be 1–65535 (found 70000)"]
        );
        assert_eq!(
            problems(&imap_with("smtp-port", "-25")),
            ["6:13: port must be 1–65535 (found -25)"]
        );
        let found = problems(&imap_with("imap-port", "\"993\""));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("4:13: invalid type: string"),
            "{found:?}"
        );
        assert!(parse_text(&imap_with("smtp-port", "65535")).is_ok());
    }

    #[test]
    fn exchange_urls_are_http_or_https_with_a_host() {
        for url in [
            "https://mail.corp.example/EWS/Exchange.asmx",
            "HTTP://10.0.0.5:8080/ews",
            "https://[2001:db8::1]/EWS/Exchange.asmx",
            "https://mail.corp.example",
        ] {
            let text = exchange_with_url(url);
            assert!(parse_text(&text).is_ok(), "{url}: {:?}", problems(&text));
        }
        for (url, why) in [
            (
                "mail.corp.example/EWS/Exchange.asmx",
                "expected an `https://`",
            ),
            ("ftp://mail.corp.example/", "expected an `https://`"),
            ("https:///EWS/Exchange.asmx", "no host"),
            ("https://mail corp.example/", "whitespace"),
            ("https://mail.corp.example:0/", "expected 1–65535"),
            ("https://mail.corp.example:https/", "is not a port"),
            (
                "https://user:pw@mail.corp.example/",
                "no user name or password",
            ),
            ("https://mail_corp.example/", "`_` is not allowed"),
        ] {
            let found = problems(&exchange_with_url(url));
            assert_eq!(found.len(), 1, "{url}: {found:?}");
            assert!(found[0].starts_with("3:7: "), "{url}: {found:?}");
            assert!(found[0].contains(why), "{url}: {found:?}");
        }
    }

    #[test]
    fn structural_problems_point_at_the_key() {
        let found = problems(&imap_with("allow-insecure-certificates", "true"));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("7:1: unknown field `allow-insecure-certificates`"),
            "{found:?}"
        );
        let found = problems("[[imap]]\ndomain = \"example.com\"\n");
        assert!(
            found[0].starts_with("1:1: missing field `imap-host`"),
            "{found:?}"
        );
        let found = problems("[imap]\ndomain = \"example.com\"\n");
        assert!(
            found[0].contains("write each one under a `[[imap]]` header"),
            "{found:?}"
        );
        let found = problems("[[smtp]]\ndomain = \"example.com\"\n");
        assert!(found[0].starts_with("1:3: unknown key `smtp`"), "{found:?}");
        let found = problems("[[imap]\n");
        assert!(found[0].starts_with("1:"), "{found:?}");
    }

    #[test]
    fn every_problem_is_reported_in_file_order() {
        let text = format!(
            "{}{}\n{}",
            imap_with("imap-port", "0"),
            imap_with("unknown", "1").replace("example.com\"", "example.net\""),
            exchange_with_url("https://"),
        );
        let found = problems(&text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("4:13: port must be"), "{found:?}");
        assert!(
            found[1].starts_with("13:1: unknown field `unknown`"),
            "{found:?}"
        );
        assert!(found[2].starts_with("17:7: "), "{found:?}");
    }

    #[test]
    fn a_preset_that_does_not_deserialise_still_counts_for_duplicates() {
        let text = format!(
            "{}{}",
            imap_with("imap-port", "993"),
            imap_with("colour", "1")
        );
        let found = problems(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0],
            "8:10: duplicate domain `example.com` (first preset at line 2)"
        );
        assert!(
            found[1].starts_with("13:1: unknown field `colour`"),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let errors = load(Path::new("/nonexistent/presets.toml")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].location, "/nonexistent/presets.toml");
        assert!(
            errors[0].message.starts_with("cannot read"),
            "{}",
            errors[0].message
        );
    }
}
