#!/usr/bin/env python3
"""A mailharness connector whose client is curl (its IMAP and SMTP support).

The script only drives curl and reads what it says: its exit code, its error message, and
for the pre-login probe (no credentials) the protocol lines of -v. Credentials go to curl
through a config file readable by this user only, never on the command line. What curl
cannot tell apart stays apart in the snapshots: that is the finding.

An OAuth account (the request's `oauth` object): curl cannot get a token, so the script
gets it with the Tokens the Python connectors share (connectors/shared/oauth.py) and gives
it to curl as `oauth2-bearer` in the same config file, with the login name and an empty
password as `user`; curl picks OAUTHBEARER or XOAUTH2 from what the server offers. A login
curl reports denied (exit 67) with a token held from before is tried once more with a new
one; with a fresh token it is `token-rejected`, since curl says no more than "Login denied".
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from oauth import Tokens  # noqa: E402
from readings import Failure, greeting_refusal  # noqa: E402

STEP_EXIT = {
    6: "dns", 7: "connection-refused", 28: "timeout", 52: "connection-closed",
    55: "connection-reset", 56: "connection-reset",
}


def certificate_detail(message):
    m = message.lower()
    for needle, detail in [
        ("has expired", "certificate-expired"), ("not yet valid", "certificate-not-yet-valid"),
        ("self-signed", "certificate-self-signed"), ("self signed", "certificate-self-signed"),
        ("local issuer", "certificate-unknown-authority"), ("unable to get issuer", "certificate-unknown-authority"),
        ("subject name", "certificate-wrong-host"), ("does not match", "certificate-wrong-host"),
        ("purpose", "certificate-invalid-purpose"),
    ]:
        if needle in m:
            return detail
    return "certificate-invalid"


def config_string(value):
    """A value for curl's config file, in double quotes, its line breaks and tabs escaped as
    curl reads them back: a token comes from the network, and a raw newline in it would end
    the line and start an option of the endpoint's choosing."""
    value = value.replace("\\", "\\\\").replace('"', '\\"')
    for raw, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\v", "\\v")):
        value = value.replace(raw, escaped)
    return '"' + value + '"'


class Curl:
    def __init__(self, settings, workdir, tokens=None):
        self.settings = settings
        self.timeout = settings["step_timeout_ms"] / 1000
        self.config = os.path.join(workdir, "curl.conf")
        self.tokens = tokens
        # The access token in the config file, and whether it was just issued.
        self.token, self.fresh = None, False
        self.write_config()

    def write_config(self):
        """The config file with the credentials: the login and the password, or for an OAuth
        account the login, an empty password and the bearer token."""
        login = self.settings.get("username") or self.settings["email"]
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f'user = {config_string(login + ":" + self.settings["password"])}\n')
            if self.token is not None:
                f.write(f"oauth2-bearer = {config_string(self.token)}\n")

    def use_token(self, token):
        self.fresh = self.tokens.fresh and self.tokens.token == token
        if token != self.token:
            self.token = token
            self.write_config()

    def base(self, leg, path=""):
        endpoint = self.settings[leg]
        implicit = endpoint["security"] == "implicit-tls"
        scheme = {"imap": ("imaps", "imap"), "smtp": ("smtps", "smtp")}[leg][0 if implicit else 1]
        # IPv4 only: with "localhost" curl would race ::1 and 127.0.0.1 and report
        # whichever failed, which makes its error messages depend on timing.
        args = ["curl", "--silent", "--show-error", "--ipv4", "--tlsv1.2",
                "--connect-timeout", str(self.timeout), "--max-time", str(self.timeout * 2),
                "--url", f"{scheme}://{endpoint['host']}:{endpoint['port']}/{path}"]
        if not implicit:
            args.append("--ssl-reqd")
        if self.settings.get("ca_file"):
            args += ["--cacert", self.settings["ca_file"]]
        if self.settings["allow_insecure_certificate"]:
            args.append("--insecure")
        if self.settings.get("source_address"):
            args += ["--interface", self.settings["source_address"]]
        return args

    def run(self, args, stdin=None, credentials=True):
        if credentials:
            args = args + ["--config", self.config]
        if not credentials or self.tokens is None:
            return self.call(args, stdin)
        # The token endpoint's failures are at imap-login (docs/outcomes.md).
        self.use_token(self.tokens.get())
        code, out, err = self.call(args, stdin)
        if code == 67 and not self.fresh:
            # A token held from before that the server refuses: one new one, once.
            self.use_token(self.tokens.refresh(self.token))
            code, out, err = self.call(args, stdin)
        return code, out, err

    def call(self, args, stdin):
        done = subprocess.run(args, input=stdin, capture_output=True, timeout=self.timeout * 3)
        return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")

    def denied(self):
        """The detail of a login curl says was denied (exit 67)."""
        return "login-denied" if self.tokens is None else "token-rejected"


def curl_message(err):
    """curl's own error line (`curl: (60) SSL certificate problem: …`), else the last line
    of what it printed: never the whole --verbose log, whose TLS lines mention the
    certificate whatever went wrong."""
    lines = [l for l in err.splitlines() if l.startswith("curl: (")]
    if lines:
        return lines[-1]
    rest = err.strip().splitlines()
    return rest[-1] if rest else ""


def fail_common(code, err, step, settings_class, validation_class):
    message = curl_message(err)
    if code == 60 or "certificate" in message.lower():
        return Failure("unauthorized_untrusted_certificate", step, certificate_detail(message), text=message)
    if code == 64:
        return Failure(validation_class, step, "tls-required", text=message)
    if code == 35:
        detail = "tls-version" if "version" in message.lower() else "tls-handshake-failed"
        return Failure(validation_class, step, detail, text=message)
    if code in STEP_EXIT:
        return Failure(settings_class, step, STEP_EXIT[code], text=message)
    return None


def imap_steps(curl):
    step = "imap-connect"
    code, _, err = curl.run(curl.base("imap") + ["--verbose"], credentials=False)
    lines = [l[2:] for l in err.splitlines() if l.startswith("< ")]
    greeting = lines[0] if lines else ""
    if "Courier-IMAP" in greeting or any("ACL2=UNION" in l for l in lines):
        raise Failure("imap_validation_error", step, "courier-imap", "OK", greeting)
    failure = fail_common(code, err, step, "imap_settings_incorrect", "imap_validation_error")
    if failure:
        raise failure
    if code == 8 or (lines and not greeting.startswith("* ")):
        raise Failure("imap_validation_error", step, "not-imap", text=greeting)
    step = "imap-login"
    code, out, err = curl.run(curl.base("imap"))
    if code == 67:
        raise Failure("unauthorized", step, curl.denied(), text=curl_message(err))
    failure = fail_common(code, err, step, "imap_authentication_error", "imap_validation_error")
    if failure:
        raise failure
    if code != 0:
        raise Failure("imap_authentication_error", step, f"curl-exit-{code}", text=curl_message(err))
    folders = [(flags, name.strip().strip('"'))
               for flags, name in re.findall(r'^\* LIST \(([^)]*)\) "[^"]*" (.+)$', out, re.M)]
    sent = next((name for flags, name in folders if "\\Sent" in flags), "INBOX")
    further = [name for flags, name in folders if "\\Sent" not in flags and name.upper() != "INBOX"]
    mailboxes = ["INBOX", sent] + further[:1]
    # The sessions kept for syncing. curl cannot hold a session open: each call logs in,
    # selects and logs out, so they run one after another and a server's connection limit
    # goes unnoticed (a finding about curl). Mailbox names are percent-encoded in the URL.
    results = [curl.run(curl.base("imap", urllib.parse.quote(box))) for box in mailboxes]
    for code, _, err in results:
        if code == 67:
            raise Failure("unauthorized", step, curl.denied(), text=curl_message(err))
        if code != 0:
            raise Failure("imap_authentication_error", step, f"curl-exit-{code}", text=curl_message(err))


def smtp_steps(curl, settings):
    message = (f"From: <{settings['email']}>\r\nTo: <{settings['bcc']}>\r\n"
               "Subject: mailharness test message\r\n\r\nThis message checks that the inbox can send.\r\n").encode()
    args = curl.base("smtp") + ["--mail-from", settings["email"], "--mail-rcpt", settings["bcc"],
                                "--upload-file", "-"]
    code, _, err = curl.run(args, stdin=message)
    if code == 0:
        return
    message = curl_message(err)
    reply = re.search(r"(\d{3})", message)
    reply = reply.group(1) if reply else None
    if code in (7, 55, 56):
        # One curl call connects, logs in and sends, and it reports a refused, reset or lost
        # connection at any of these points as 7, 55 or 56 depending on timing: it cannot
        # say which step failed, so neither can this connector.
        raise Failure("smtp_settings_incorrect", "smtp-connect", "connection-failed", reply, message)
    failure = fail_common(code, err, "smtp-connect", "smtp_settings_incorrect", "smtp_settings_incorrect")
    if failure:
        raise failure
    if code == 67:
        raise Failure("unauthorized", "smtp-login", curl.denied(), reply, message)
    lower = message.lower()
    if "mail failed" in lower or "mail from" in lower:
        raise Failure("test_email_failed", "test-send", "mail-from-refused", reply, message)
    if "rcpt" in lower:
        raise Failure("test_email_failed", "test-send", "rcpt-refused", reply, message)
    if "data" in lower:
        raise Failure("test_email_failed", "test-send", "data-refused", reply, message)
    if code == 8 and reply:
        # "Got unexpected smtp-server response: 554": a refusing greeting.
        raise Failure("smtp_settings_incorrect", "smtp-connect", greeting_refusal(reply), reply, message)
    if code == 8:
        # "Weird server reply": curl says this of garbage and of a refused message alike.
        raise Failure("smtp_settings_incorrect", "smtp-connect", "not-smtp", reply, message)
    raise Failure("smtp_settings_incorrect", "smtp-login", f"curl-exit-{code}", reply, message)


def main():
    settings = json.load(sys.stdin)
    if settings.get("protocol") != "mailharness-connector/1":
        print(f"unsupported protocol {settings.get('protocol')!r}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        curl = Curl(settings, workdir, Tokens(settings) if settings.get("oauth") else None)
        try:
            imap_steps(curl)
            smtp_steps(curl, settings)
            outcome = {"class": "ok", "step": None, "detail": None, "response": None}
        except Failure as failure:
            outcome = failure.outcome
        except subprocess.TimeoutExpired:
            outcome = {"class": "imap_settings_incorrect", "step": "imap-connect", "detail": "timeout", "response": None}
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
