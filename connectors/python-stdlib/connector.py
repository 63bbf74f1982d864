#!/usr/bin/env python3
"""A mailharness connector built on Python's standard library only (imaplib, smtplib, ssl).

Reads the settings (protocol mailharness-connector/1) as JSON on stdin, runs the five
steps -- imap-connect, imap-login, smtp-connect, smtp-login, test-send -- and prints one
JSON outcome on stdout. An OAuth account (the request's `oauth` object) gets its token
with urllib (the Tokens the Python connectors share, connectors/shared/oauth.py) and logs in
with XOAUTH2 or OAUTHBEARER through imaplib's `authenticate` and smtplib's `auth`. It
classifies what the standard library lets it see; where the library hides a difference (a
timeout at TCP connect or at the greeting, say) the outcome shows it, which is a finding
about the client, not about the harness.
"""
import imaplib
import json
import smtplib
import socket
import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from readings import (  # noqa: E402
    Failure, auth_refusal, bearer_payload, bearer_refusal_detail, choose_bearer, greeting_refusal,
    send_refusal, login_refusal, network_failure, test_message, tls_context, tls_failure)
from oauth import Tokens  # noqa: E402


def text_of(value):
    if isinstance(value, (list, tuple)):
        value = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def imap_class(settings):
    timeout = settings["step_timeout_ms"] / 1000
    source = settings.get("source_address")

    class Imap(imaplib.IMAP4):
        def _create_socket(self, timeout):
            return socket.create_connection((self.host, self.port), timeout,
                                            source_address=(source, 0) if source else None)

    class ImapSsl(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout):
            sock = socket.create_connection((self.host, self.port), timeout,
                                            source_address=(source, 0) if source else None)
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host)

    return Imap, ImapSsl, timeout


def imap_connect(settings, context):
    step = "imap-connect"
    imap = settings["imap"]
    Imap, ImapSsl, timeout = imap_class(settings)
    try:
        if imap["security"] == "implicit-tls":
            client = ImapSsl(imap["host"], imap["port"], ssl_context=context, timeout=timeout)
        else:
            client = Imap(imap["host"], imap["port"], timeout=timeout)
    except ssl.SSLError as e:
        raise tls_failure(e, "imap_settings_incorrect", "imap_validation_error", step)
    except imaplib.IMAP4.abort as e:
        raise Failure("imap_settings_incorrect", step, "connection-closed", text=str(e))
    except imaplib.IMAP4.error as e:
        raise Failure("imap_validation_error", step, "not-imap", text=str(e))
    except OSError as e:
        raise network_failure(e, "imap_settings_incorrect", step)
    welcome = text_of(client.welcome)
    if "Courier-IMAP" in welcome:
        raise Failure("imap_validation_error", step, "courier-imap", "OK", welcome)
    caps = [c.upper() for c in client.capabilities]
    if "ACL2=UNION" in caps:
        raise Failure("imap_validation_error", step, "courier-imap")
    if imap["security"] == "starttls":
        if "STARTTLS" not in caps:
            raise Failure("imap_validation_error", step, "tls-required")
        try:
            client.starttls(ssl_context=context)
        except ssl.SSLError as e:
            raise tls_failure(e, "imap_settings_incorrect", "imap_validation_error", step)
        except (imaplib.IMAP4.error, OSError) as e:
            raise Failure("imap_settings_incorrect", step, "connection-closed", text=str(e))
    return client


def said(error):
    """What the server said: imaplib raises with the reply's bytes, which str() would show
    as b'...'."""
    text = error.args[0] if error.args else ""
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def imap_bearer_login(client, settings, tokens):
    """AUTHENTICATE with the account's token; a held token that is refused is refreshed once."""
    step = "imap-login"
    caps = [c.upper() for c in client.capabilities]
    mechanism = choose_bearer(c[5:] for c in caps if c.startswith("AUTH="))
    if mechanism is None:
        raise Failure("imap_validation_error", step, "missing-capability")
    login = settings.get("username") or settings["email"]
    imap = settings["imap"]
    while True:
        payload = bearer_payload(mechanism, login, tokens.get(), imap["host"], imap["port"]).encode()
        sent, challenges = [], []

        def answer(data, payload=payload, sent=sent, challenges=challenges):
            # The first continuation takes the token; one after it is the error challenge.
            if not sent:
                sent.append(True)
                return payload
            challenges.append(data)
            return b"" if mechanism == "XOAUTH2" else b"\x01"

        try:
            client.authenticate(mechanism, answer)
            return
        except imaplib.IMAP4.abort as e:
            raise Failure("imap_authentication_error", step, "connection-closed", text=str(e))
        except imaplib.IMAP4.error as e:
            if not tokens.fresh:
                tokens.fetch()
                continue
            text = said(e)
            cls, detail = login_refusal(text)
            if detail in ("wrong-credentials", "unspecified"):
                cls, detail = "unauthorized", bearer_refusal_detail(
                    challenges[-1] if challenges else None, tokens.scopes)
            raise Failure(cls, step, detail, "NO", text)


def imap_login(client, settings, context, tokens=None):
    step = "imap-login"
    login = settings.get("username") or settings["email"]
    try:
        if tokens is not None:
            imap_bearer_login(client, settings, tokens)
        else:
            client.login(login, settings["password"])
    except imaplib.IMAP4.abort as e:
        raise Failure("imap_authentication_error", step, "connection-closed", text=str(e))
    except imaplib.IMAP4.error as e:
        cls, detail = login_refusal(said(e))
        raise Failure(cls, step, detail, "NO", said(e))
    except OSError as e:
        raise Failure("imap_authentication_error", step, "connection-reset", text=str(e))
    try:
        typ, data = client.list()
        client.select("INBOX")
    except (imaplib.IMAP4.error, OSError) as e:
        raise Failure("imap_authentication_error", step, "connection-reset", text=str(e))
    names = [text_of(line) for line in data or [] if line]
    further = [n for n in names if "INBOX" not in n.upper() and "\\Sent" not in n and "Sent" not in n]
    sessions = [client]
    # The sessions kept for syncing: Sent, and a third when there are further folders.
    for _ in range(2 if further else 1):
        extra = imap_connect(settings, context)
        try:
            if tokens is not None:
                imap_bearer_login(extra, settings, tokens)
            else:
                extra.login(login, settings["password"])
        except imaplib.IMAP4.error as e:
            cls, detail = login_refusal(said(e))
            raise Failure(cls, step, detail, "NO", said(e))
        sessions.append(extra)
    return sessions


def smtp_bearer_login(client, settings, tokens):
    """AUTH with the account's token; a held token that is refused is refreshed once."""
    step = "smtp-login"
    mechanism = choose_bearer(client.esmtp_features.get("auth", "").split())
    if mechanism is None:
        raise Failure("smtp_settings_incorrect", step, "auth-not-offered")
    login = settings.get("username") or settings["email"]
    smtp = settings["smtp"]
    while True:
        payload = bearer_payload(mechanism, login, tokens.get(), smtp["host"], smtp["port"])
        challenges = []

        def answer(challenge=None, payload=payload, challenges=challenges):
            if challenge is None:
                return payload
            challenges.append(challenge)
            return "" if mechanism == "XOAUTH2" else "\x01"

        try:
            client.auth(mechanism, answer, initial_response_ok=True)
            return
        except smtplib.SMTPAuthenticationError as e:
            if not tokens.fresh:
                tokens.fetch()
                continue
            text = text_of(e.smtp_error)
            cls, detail = auth_refusal(e.smtp_code, text)
            if (cls, detail) == ("unauthorized", "wrong-credentials"):
                detail = bearer_refusal_detail(challenges[-1] if challenges else None, tokens.scopes)
            raise Failure(cls, step, detail, str(e.smtp_code), text)


def smtp_steps(settings, context, tokens=None):
    smtp = settings["smtp"]
    timeout = settings["step_timeout_ms"] / 1000
    source = settings.get("source_address")
    source = (source, 0) if source else None
    step = "smtp-connect"
    try:
        if smtp["security"] == "implicit-tls":
            client = smtplib.SMTP_SSL(smtp["host"], smtp["port"], timeout=timeout,
                                      context=context, source_address=source)
        else:
            client = smtplib.SMTP(smtp["host"], smtp["port"], timeout=timeout, source_address=source)
        client.ehlo("mailharness.localhost")
        if smtp["security"] == "starttls":
            if not client.has_extn("starttls"):
                raise Failure("smtp_settings_incorrect", step, "tls-required")
            client.starttls(context=context)
            client.ehlo("mailharness.localhost")
    except Failure:
        raise
    except ssl.SSLError as e:
        raise tls_failure(e, "smtp_settings_incorrect", "smtp_settings_incorrect", step)
    except smtplib.SMTPConnectError as e:
        raise Failure("smtp_settings_incorrect", step, greeting_refusal(e.smtp_code), str(e.smtp_code),
                      text_of(e.smtp_error))
    except (smtplib.SMTPServerDisconnected, ConnectionResetError) as e:
        # smtplib turns a reset into a disconnect, or not, depending on when it comes.
        raise Failure("smtp_settings_incorrect", step, "connection-closed", text=str(e))
    except OSError as e:
        raise network_failure(e, "smtp_settings_incorrect", step)
    step = "smtp-login"
    try:
        if tokens is not None:
            smtp_bearer_login(client, settings, tokens)
        else:
            client.login(settings.get("username") or settings["email"], settings["password"])
    except smtplib.SMTPNotSupportedError as e:
        raise Failure("smtp_settings_incorrect", step, "auth-not-offered", text=str(e))
    except smtplib.SMTPAuthenticationError as e:
        text = text_of(e.smtp_error)
        cls, detail = auth_refusal(e.smtp_code, text)
        raise Failure(cls, step, detail, str(e.smtp_code), text)
    except smtplib.SMTPException as e:
        raise Failure("smtp_settings_incorrect", step, "auth-refused", text=str(e))
    except OSError as e:
        raise Failure("smtp_settings_incorrect", step, "connection-reset", text=str(e))
    step = "test-send"
    message = test_message(settings)
    try:
        client.send_message(message, settings["email"], [settings["bcc"]])
        client.quit()
    except smtplib.SMTPSenderRefused as e:
        raise Failure("test_email_failed", step, send_refusal("mail-from-refused", e.smtp_code), str(e.smtp_code), text_of(e.smtp_error))
    except smtplib.SMTPRecipientsRefused as e:
        code, text = next(iter(e.recipients.values()))
        raise Failure("test_email_failed", step, send_refusal("rcpt-refused", code), str(code), text_of(text))
    except smtplib.SMTPDataError as e:
        # smtplib does not say whether DATA itself or the message was refused.
        raise Failure("test_email_failed", step, send_refusal("data-refused", e.smtp_code), str(e.smtp_code), text_of(e.smtp_error))
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        raise Failure("test_email_failed", step, "connection-lost", text=str(e))


def main():
    settings = json.load(sys.stdin)
    if settings.get("protocol") != "mailharness-connector/1":
        print(f"unsupported protocol {settings.get('protocol')!r}", file=sys.stderr)
        return 2
    context = tls_context(settings)
    sessions = []
    try:
        tokens = Tokens(settings) if settings.get("oauth") else None
        client = imap_connect(settings, context)
        if tokens is not None:
            tokens.get()
        sessions = imap_login(client, settings, context, tokens)
        smtp_steps(settings, context, tokens)
        outcome = {"class": "ok", "step": None, "detail": None, "response": None}
    except Failure as failure:
        outcome = failure.outcome
    finally:
        for session in sessions:
            try:
                session.logout()
            except Exception:
                pass
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
