//! The short text of a message that PREVIEW (RFC 8970) and Dovecot's older SNIPPET show:
//! the first text part that is not an attachment, HTML reduced to its text, quoted lines
//! left out, white space collapsed, cut at 200 characters without an ellipsis, as Dovecot
//! does (containers/captures/dovecot-rfc-extensions.txt).

use super::message;

/// Longest preview, in characters (RFC 8970 §3 allows 256; Dovecot gives 200).
const MAX_CHARS: usize = 200;

/// The preview text of the message `raw`; empty when it has no text part.
pub(crate) fn preview(raw: &[u8]) -> String {
    let Some((body, html)) = message::parse(raw).first_text(raw) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let text = if html { html_text(&text) } else { text };
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    let words: Vec<&str> = kept.iter().flat_map(|l| l.split_whitespace()).collect();
    words.join(" ").chars().take(MAX_CHARS).collect()
}

/// The text of an HTML body: tags dropped (with what `<style>` and `<script>` hold) and
/// the common entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open..];
        let lower = after.to_ascii_lowercase();
        let skip_to = ["style", "script"]
            .iter()
            .find(|tag| lower.starts_with(&format!("<{tag}")))
            .and_then(|tag| lower.find(&format!("</{tag}>")));
        let from = skip_to.unwrap_or(0);
        match after[from..].find('>') {
            Some(close) => rest = &after[from + close + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_as_dovecot_makes_them() {
        let html =
            b"Subject: three\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>html</b>  world</p>\r\n";
        assert_eq!(preview(html), "Hello html world");
        let multipart = b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n> quoted\r\nthere\r\n--XX\r\nContent-Type: text/csv\r\nContent-Disposition: attachment\r\n\r\na,b\r\n--XX--\r\n";
        assert_eq!(preview(multipart), "hello there");
        let long = format!("Subject: x\r\n\r\n{}\r\n", "word ".repeat(100));
        assert_eq!(preview(long.as_bytes()).chars().count(), 200);
        let qp = b"Content-Transfer-Encoding: quoted-printable\r\n\r\nSm=C3=B6rg=C3=A5sbord\r\n";
        assert_eq!(preview(qp), "Smörgåsbord");
        assert_eq!(preview(b"Content-Type: image/png\r\n\r\nxx"), "");
    }
}
