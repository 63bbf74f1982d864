//! One stored message as an IMAP server sees it: its MIME tree (byte ranges of each part's
//! header and body), its ENVELOPE and BODYSTRUCTURE as imap-types values, the sections a
//! `BODY[…]` fetch names, and the header and text lookups SEARCH needs.
//!
//! This is the server's side of RFC 3501 §6.4.5 and §7.4.2, written here because the mock is
//! the server: imap-types holds the values and imap-codec writes them on the wire.

use std::num::NonZeroU32;
use std::ops::Range;

use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_codec::imap_types::core::{AString, IString, NString, Vec1};
use imap_codec::imap_types::envelope::{Address, Envelope};
use imap_codec::imap_types::fetch::{Part, Section};

/// A MIME entity: a whole message, a part of a multipart, or the message inside a
/// `message/rfc822` part.
#[derive(Debug)]
pub(crate) struct Entity {
    /// The header, including the blank line that ends it.
    header: Range<usize>,
    body: Range<usize>,
    media_type: String,
    subtype: String,
    params: Vec<(String, String)>,
    /// The parts of a multipart.
    children: Vec<Entity>,
    /// The message inside a `message/rfc822` part.
    message: Option<Box<Entity>>,
}

/// Largest nesting of multiparts and embedded messages followed; deeper ones are leaves.
const MAX_DEPTH: usize = 16;

/// Parses `raw` (a whole message) into its MIME tree. Never fails: what is not MIME is one
/// `text/plain` part, as servers treat it.
pub(crate) fn parse(raw: &[u8]) -> Entity {
    parse_entity(raw, 0..raw.len(), ("text", "plain"), 0)
}

fn parse_entity(raw: &[u8], range: Range<usize>, default: (&str, &str), depth: usize) -> Entity {
    let bytes = &raw[range.clone()];
    let header_len = header_length(bytes);
    let header = range.start..range.start + header_len;
    let body = range.start + header_len..range.end;
    let (media_type, subtype, params) = field(&raw[header.clone()], "Content-Type")
        .and_then(|value| content_type(&value))
        .unwrap_or_else(|| {
            let params = if default.0 == "text" {
                vec![("charset".to_owned(), "us-ascii".to_owned())]
            } else {
                Vec::new()
            };
            (default.0.to_owned(), default.1.to_owned(), params)
        });
    let mut entity = Entity {
        header,
        body: body.clone(),
        media_type,
        subtype,
        params,
        children: Vec::new(),
        message: None,
    };
    if depth >= MAX_DEPTH {
        return entity;
    }
    if entity.media_type.eq_ignore_ascii_case("multipart") {
        let child_default = if entity.subtype.eq_ignore_ascii_case("digest") {
            ("message", "rfc822")
        } else {
            ("text", "plain")
        };
        if let Some(boundary) = entity.param("boundary") {
            entity.children = split_multipart(raw, body, boundary.as_bytes())
                .into_iter()
                .map(|part| parse_entity(raw, part, child_default, depth + 1))
                .collect();
        }
    } else if entity.is_message() {
        entity.message = Some(Box::new(parse_entity(
            raw,
            body,
            ("text", "plain"),
            depth + 1,
        )));
    }
    entity
}

/// Length of the header block of `bytes`, with the blank line; a part that starts with a
/// blank line has an empty header of two bytes.
fn header_length(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\r\n") {
        return 2;
    }
    if bytes.starts_with(b"\n") {
        return 1;
    }
    if let Some(at) = find(bytes, b"\r\n\r\n") {
        return at + 4;
    }
    if let Some(at) = find(bytes, b"\n\n") {
        return at + 2;
    }
    bytes.len()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The byte ranges of the parts of a multipart body: between the delimiter lines, without
/// the line break that belongs to the next delimiter.
fn split_multipart(raw: &[u8], body: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut line_start = body.start;
    while line_start < body.end {
        let line_end = raw[line_start..body.end]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.end, |at| line_start + at + 1);
        let line = &raw[line_start..line_end];
        if line.starts_with(&delimiter) {
            let rest = &line[delimiter.len()..];
            let closing = rest.starts_with(b"--");
            if let Some(begin) = start {
                // The CRLF before the delimiter belongs to it.
                let mut end = line_start;
                if end > begin && raw[end - 1] == b'\n' {
                    end -= 1;
                    if end > begin && raw[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                parts.push(begin..end.max(begin));
            }
            if closing {
                return parts;
            }
            start = Some(line_end);
        }
        line_start = line_end;
    }
    if let Some(begin) = start {
        parts.push(begin..body.end);
    }
    parts
}

/// The unfolded value of the first header field `name` in `header`.
pub(crate) fn field(header: &[u8], name: &str) -> Option<String> {
    fields(header)
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value)
}

/// One header field: its name, unfolded value and the raw lines it spans.
pub(crate) struct Field {
    pub name: String,
    pub value: String,
    pub raw: Range<usize>,
}

/// The fields of a header block, in order.
pub(crate) fn fields(header: &[u8]) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let mut pos = 0;
    while pos < header.len() {
        let end = header[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(header.len(), |at| pos + at + 1);
        let line = &header[pos..end];
        let text = String::from_utf8_lossy(line);
        let trimmed = text.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = out.last_mut() {
                last.value.push(' ');
                last.value.push_str(trimmed.trim_start());
                last.raw.end = end;
            }
        } else if let Some((name, value)) = trimmed.split_once(':') {
            out.push(Field {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
                raw: pos..end,
            });
        }
        pos = end;
    }
    out
}

/// A media type: type, subtype and parameters.
type MediaType = (String, String, Vec<(String, String)>);

/// `type/subtype; name=value; name="quoted value"`.
fn content_type(value: &str) -> Option<MediaType> {
    let mut pieces = split_params(value).into_iter();
    let kind = pieces.next()?;
    let (media_type, subtype) = kind.split_once('/')?;
    let params = pieces.filter_map(|p| param(&p)).collect();
    Some((
        media_type.trim().to_owned(),
        subtype.trim().to_owned(),
        params,
    ))
}

/// `value; name=value …` split at semicolons outside quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.last_mut().expect("never empty").push(c);
            }
            ';' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out.into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn param(piece: &str) -> Option<(String, String)> {
    let (name, value) = piece.split_once('=')?;
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .map_or_else(
            || value.to_owned(),
            |v| v.replace("\\\"", "\"").replace("\\\\", "\\"),
        );
    Some((name.trim().to_owned(), value))
}

impl Entity {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_message(&self) -> bool {
        self.media_type.eq_ignore_ascii_case("message")
            && self.subtype.eq_ignore_ascii_case("rfc822")
    }

    fn is_multipart(&self) -> bool {
        !self.children.is_empty() || self.media_type.eq_ignore_ascii_case("multipart")
    }

    /// The header block of this entity.
    pub(crate) fn header<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[self.header.clone()]
    }

    /// The body of this entity.
    pub(crate) fn body<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[self.body.clone()]
    }

    /// The entity a part number (`1.2.3`) names, counted from this message.
    fn part(&self, numbers: &[NonZeroU32]) -> Option<&Entity> {
        let Some((first, rest)) = numbers.split_first() else {
            return Some(self);
        };
        let index = first.get() as usize - 1;
        let child = if self.is_multipart() {
            self.children.get(index)?
        } else if let Some(message) = &self.message {
            return message.part(numbers);
        } else if index == 0 {
            self
        } else {
            return None;
        };
        match rest {
            [] => Some(child),
            _ if child.is_multipart() => child.part(rest),
            _ => child.message.as_ref()?.part(rest),
        }
    }

    /// The bytes a `BODY[section]` fetch returns; `None` when the section does not exist.
    pub(crate) fn section(&self, raw: &[u8], section: Option<&Section>) -> Option<Vec<u8>> {
        let Some(section) = section else {
            return Some(raw[self.header.start..self.body.end].to_vec());
        };
        // The message whose header a HEADER/TEXT section means: this one, or the one
        // inside the `message/rfc822` part named.
        let message = |part: &Option<Part>| -> Option<&Entity> {
            match part {
                None => Some(self),
                Some(Part(numbers)) => self.part(numbers.as_ref())?.message.as_deref(),
            }
        };
        Some(match section {
            Section::Part(Part(numbers)) => {
                let entity = self.part(numbers.as_ref())?;
                // A non-multipart message's part 1 is its body.
                entity.body(raw).to_vec()
            }
            Section::Mime(Part(numbers)) => self.part(numbers.as_ref())?.header(raw).to_vec(),
            Section::Header(part) => message(part)?.header(raw).to_vec(),
            Section::Text(part) => message(part)?.body(raw).to_vec(),
            Section::HeaderFields(part, names) => {
                header_fields(message(part)?.header(raw), names.as_ref(), true)
            }
            Section::HeaderFieldsNot(part, names) => {
                header_fields(message(part)?.header(raw), names.as_ref(), false)
            }
        })
    }

    /// The first text part that is not an attachment, depth first, with its body decoded
    /// and whether it is HTML: what a preview is made of.
    pub(crate) fn first_text(&self, raw: &[u8]) -> Option<(Vec<u8>, bool)> {
        if self.is_multipart() {
            return self.children.iter().find_map(|child| child.first_text(raw));
        }
        if let Some(message) = &self.message {
            return message.first_text(raw);
        }
        let attachment = field(self.header(raw), "Content-Disposition").is_some_and(|d| {
            d.trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment")
        });
        if !self.media_type.eq_ignore_ascii_case("text") || attachment {
            return None;
        }
        let html = self.subtype.eq_ignore_ascii_case("html");
        Some((self.decoded(raw).unwrap_or_default(), html))
    }

    /// This entity's body with its Content-Transfer-Encoding undone; `Err` with an
    /// encoding the mock cannot undo.
    fn decoded(&self, raw: &[u8]) -> Result<Vec<u8>, String> {
        let body = self.body(raw);
        let encoding = field(self.header(raw), "Content-Transfer-Encoding")
            .unwrap_or_else(|| "7bit".into())
            .to_ascii_lowercase();
        match encoding.trim() {
            "7bit" | "8bit" | "binary" => Ok(body.to_vec()),
            "base64" => {
                use base64::Engine as _;
                let text: Vec<u8> = body
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| encoding)
            }
            "quoted-printable" => Ok(quoted_printable(body)),
            _ => Err(encoding),
        }
    }

    /// The bytes a `BINARY[part]` fetch returns (RFC 3516): the part's body with its
    /// Content-Transfer-Encoding undone; the whole message for no part. `Ok(None)` when
    /// the part does not exist, `Err` with an encoding the mock cannot undo.
    pub(crate) fn binary(
        &self,
        raw: &[u8],
        numbers: &[NonZeroU32],
    ) -> Result<Option<Vec<u8>>, String> {
        if numbers.is_empty() {
            return Ok(Some(raw[self.header.start..self.body.end].to_vec()));
        }
        let Some(part) = self.part(numbers) else {
            return Ok(None);
        };
        part.decoded(raw).map(Some)
    }

    /// BODYSTRUCTURE (`extended`) or BODY of this entity.
    pub(crate) fn structure(&self, raw: &[u8], extended: bool) -> BodyStructure<'static> {
        if self.is_multipart() && !self.children.is_empty() {
            let bodies: Vec<BodyStructure> = self
                .children
                .iter()
                .map(|child| child.structure(raw, extended))
                .collect();
            return BodyStructure::Multi {
                bodies: Vec1::try_from(bodies).expect("children are not empty"),
                subtype: istring(&self.subtype),
                extension_data: extended.then(|| MultiPartExtensionData {
                    parameter_list: self.param_list(),
                    tail: Some(self.disposition(raw)),
                }),
            };
        }
        let header = self.header(raw);
        let body = self.body(raw);
        let lines = count_lines(body);
        let specific = if self.media_type.eq_ignore_ascii_case("text") {
            SpecificFields::Text {
                subtype: istring(&self.subtype),
                number_of_lines: lines,
            }
        } else if let Some(message) = &self.message {
            SpecificFields::Message {
                envelope: Box::new(envelope(message.header(raw))),
                body_structure: Box::new(message.structure(raw, extended)),
                number_of_lines: lines,
            }
        } else {
            SpecificFields::Basic {
                r#type: istring(&self.media_type),
                subtype: istring(&self.subtype),
            }
        };
        let encoding = field(header, "Content-Transfer-Encoding").unwrap_or_else(|| "7bit".into());
        BodyStructure::Single {
            body: Body {
                basic: BasicFields {
                    parameter_list: self.param_list(),
                    id: nstring(field(header, "Content-ID")),
                    description: nstring(field(header, "Content-Description")),
                    content_transfer_encoding: istring(&encoding),
                    size: u32::try_from(body.len()).unwrap_or(u32::MAX),
                },
                specific,
            },
            extension_data: extended.then(|| SinglePartExtensionData {
                md5: nstring(field(header, "Content-MD5")),
                tail: Some(self.disposition(raw)),
            }),
        }
    }

    fn param_list(&self) -> Vec<(IString<'static>, IString<'static>)> {
        self.params
            .iter()
            .map(|(name, value)| (istring(name), istring(value)))
            .collect()
    }

    /// Disposition, language and location, as Dovecot sends them (NIL where absent).
    fn disposition(&self, raw: &[u8]) -> Disposition<'static> {
        let header = self.header(raw);
        let disposition = field(header, "Content-Disposition").and_then(|value| {
            let mut pieces = split_params(&value).into_iter();
            let kind = pieces.next()?;
            let params = pieces
                .filter_map(|p| param(&p))
                .map(|(n, v)| (istring(&n), istring(&v)))
                .collect();
            Some((istring(&kind), params))
        });
        let language = field(header, "Content-Language")
            .map(|value| {
                value
                    .split(',')
                    .map(|l| istring(l.trim()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        Disposition {
            disposition,
            tail: Some(Language {
                language,
                tail: Some(Location {
                    location: nstring(field(header, "Content-Location")),
                    extensions: Vec::new(),
                }),
            }),
        }
    }
}

/// Quoted-printable (RFC 2045 §6.7) decoded: `=XX` escapes and soft line breaks; a
/// malformed `=` stays as it is.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'=' {
            if body[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if body[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let (Some(&a), Some(&b)) = (body.get(i + 1), body.get(i + 2))
                && let (Some(a), Some(b)) = (hex(a), hex(b))
            {
                out.push(a * 16 + b);
                i += 3;
                continue;
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The fields of `header` named in `names` (or all others), with the blank line.
fn header_fields(header: &[u8], names: &[AString], wanted: bool) -> Vec<u8> {
    let names: Vec<String> = names
        .iter()
        .map(|name| String::from_utf8_lossy(name.as_ref()).into_owned())
        .collect();
    let mut out = Vec::new();
    for f in fields(header) {
        if names.iter().any(|n| n.eq_ignore_ascii_case(&f.name)) == wanted {
            out.extend_from_slice(&header[f.raw.clone()]);
            if !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn count_lines(body: &[u8]) -> u32 {
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    let partial = usize::from(!body.is_empty() && !body.ends_with(b"\n"));
    u32::try_from(lines + partial).unwrap_or(u32::MAX)
}

fn istring(text: &str) -> IString<'static> {
    // Only a NUL makes a string unrepresentable; a header never holds one after parsing
    // as text, but drop it rather than fail.
    IString::try_from(text.replace('\0', "")).expect("a string without NUL is an IMAP string")
}

fn nstring(text: Option<String>) -> NString<'static> {
    NString(text.map(|t| istring(&t)))
}

/// The ENVELOPE of a message with this header (RFC 3501 §7.4.2): raw header values,
/// encoded words left as they are.
pub(crate) fn envelope(header: &[u8]) -> Envelope<'static> {
    let get = |name: &str| field(header, name);
    let from = addresses(get("From"));
    let sender = match addresses(get("Sender")) {
        list if list.is_empty() => from.clone(),
        list => list,
    };
    let reply_to = match addresses(get("Reply-To")) {
        list if list.is_empty() => from.clone(),
        list => list,
    };
    Envelope {
        date: nstring(get("Date")),
        subject: nstring(get("Subject")),
        from,
        sender,
        reply_to,
        to: addresses(get("To")),
        cc: addresses(get("Cc")),
        bcc: addresses(get("Bcc")),
        in_reply_to: nstring(get("In-Reply-To")),
        message_id: nstring(get("Message-ID")),
    }
}

/// An address list as ENVELOPE writes it.
fn addresses(value: Option<String>) -> Vec<Address<'static>> {
    parse_addresses(value.as_deref().unwrap_or_default())
        .into_iter()
        .map(|(name, mailbox, host)| Address {
            name: nstring(name),
            adl: NString::NIL,
            mailbox: nstring(Some(mailbox)),
            host: nstring(Some(host)),
        })
        .collect()
}

/// The first address of header field `name`: display name, mailbox and host.
pub(crate) fn first_address(header: &[u8], name: &str) -> Option<(Option<String>, String, String)> {
    parse_addresses(&field(header, name)?).into_iter().next()
}

/// An address list: `Name <local@host>, local@host, "Quoted, Name" <x@y>`, as (display
/// name, mailbox, host). Groups and entries without an `@` are left out.
fn parse_addresses(value: &str) -> Vec<(Option<String>, String, String)> {
    let mut entries = vec![String::new()];
    let (mut quoted, mut angle) = (false, false);
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                entries.push(String::new());
                continue;
            }
            _ => {}
        }
        entries.last_mut().expect("never empty").push(c);
    }
    entries
        .iter()
        .filter_map(|entry| {
            let entry = entry.trim();
            let (name, address) = match (entry.find('<'), entry.rfind('>')) {
                (Some(open), Some(close)) if open < close => {
                    let name = entry[..open].trim().trim_matches('"').trim();
                    (
                        (!name.is_empty()).then(|| name.to_owned()),
                        &entry[open + 1..close],
                    )
                }
                _ => (None, entry),
            };
            let (mailbox, host) = address.trim().rsplit_once('@')?;
            Some((name, mailbox.to_owned(), host.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::imap_types::core::Vec1;

    const MULTI: &[u8] = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: \"In, Ner\" <in@ner.test>\r\n\r\ninner body\r\n--XX--\r\n";

    fn part(numbers: &[u32]) -> Part {
        Part(
            Vec1::try_from(
                numbers
                    .iter()
                    .map(|&n| NonZeroU32::new(n).unwrap())
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
        )
    }

    #[test]
    fn parts_and_sections_of_a_multipart() {
        let tree = parse(MULTI);
        assert_eq!(tree.children.len(), 2);
        let get = |s: Section| {
            tree.section(MULTI, Some(&s))
                .map(|b| String::from_utf8(b).unwrap())
        };
        assert_eq!(get(Section::Part(part(&[1]))).as_deref(), Some("hello"));
        assert_eq!(
            get(Section::Mime(part(&[1]))).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
        assert_eq!(
            get(Section::Header(Some(part(&[2])))).as_deref(),
            Some("Subject: inner\r\nFrom: \"In, Ner\" <in@ner.test>\r\n\r\n")
        );
        assert_eq!(
            get(Section::Text(Some(part(&[2])))).as_deref(),
            Some("inner body")
        );
        assert_eq!(
            get(Section::Part(part(&[2, 1]))).as_deref(),
            Some("inner body")
        );
        assert_eq!(get(Section::Part(part(&[3]))), None);
        let fields = Section::HeaderFields(None, Vec1::from(AString::try_from("FROM").unwrap()));
        assert_eq!(get(fields).as_deref(), Some("From: a@b.c\r\n\r\n"));
        assert_eq!(tree.section(MULTI, None).unwrap(), MULTI);
    }

    #[test]
    fn a_single_part_message_is_its_own_part_one() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        let tree = parse(raw);
        assert_eq!(
            tree.section(raw, Some(&Section::Part(part(&[1])))).unwrap(),
            b"body\r\n"
        );
        assert_eq!(tree.section(raw, Some(&Section::Part(part(&[2])))), None);
    }

    #[test]
    fn envelope_addresses_keep_quoted_commas() {
        let env = envelope(b"From: \"Dave, Reports\" <dave@example.net>, x@y.z\r\nTo: undisclosed-recipients:;\r\n\r\n");
        assert_eq!(env.from.len(), 2);
        assert_eq!(env.from[0].name, nstring(Some("Dave, Reports".into())));
        assert_eq!(env.from[1].mailbox, nstring(Some("x".into())));
        assert!(env.to.is_empty());
        assert_eq!(env.sender, env.from);
    }

    #[test]
    fn binary_undoes_the_transfer_encoding() {
        let raw = b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSm=C3=B6r=\r\ng=3D\r\n--B\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--B\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nx\r\n--B--\r\n";
        let tree = parse(raw);
        let n = |v: u32| NonZeroU32::new(v).unwrap();
        assert_eq!(
            tree.binary(raw, &[n(1)]).unwrap().unwrap(),
            "Smörg=".as_bytes()
        );
        assert_eq!(tree.binary(raw, &[n(2)]).unwrap().unwrap(), b"hello");
        assert_eq!(tree.binary(raw, &[n(3)]), Err("x-uuencode".into()));
        assert_eq!(tree.binary(raw, &[n(4)]), Ok(None));
        assert_eq!(tree.binary(raw, &[]).unwrap().unwrap(), raw);
    }

    #[test]
    fn folded_fields_are_unfolded() {
        let f = fields(b"Subject: a\r\n b\r\nX: y\r\n\r\n");
        assert_eq!(f[0].value, "a b");
        assert_eq!(f[0].raw, 0..16);
        assert_eq!(f[1].name, "X");
    }
}
