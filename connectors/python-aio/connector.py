#!/usr/bin/env python3
"""A mailharness connector built on asyncio clients from PyPI: aioimaplib and aiosmtplib.

Reads the settings (protocol mailharness-connector/1) on stdin and prints one JSON outcome.
aioimaplib has no STARTTLS: for a STARTTLS IMAP server this connector can only say so.
The packages are installed into .deps beside this file (see requirements.txt).

An OAuth account (the request's `oauth` object) gets its token from the Tokens the Python
connectors share (connectors/shared/oauth.py, urllib in a thread) and logs in with XOAUTH2
(aioimaplib's `xoauth2`, aiosmtplib's `auth_xoauth2`) or OAUTHBEARER, which neither library
has: an AUTHENTICATE command through aioimaplib's own command machinery, and AUTH through
aiosmtplib's `execute_command`. aioimaplib does not answer a continuation of AUTHENTICATE
(`IMAP4ClientProtocol._continuation` only files the line), so the protocol below answers
the error challenge that precedes a refusal; aiosmtplib's `auth_xoauth2` answers it itself
but drops what it said.
"""
import asyncio
import base64
import binascii
import json
import logging
import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".deps"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))

import aioimaplib  # noqa: E402
import aiosmtplib  # noqa: E402
from aioimaplib.aioimaplib import change_state  # noqa: E402
from oauth import Tokens  # noqa: E402
from readings import (  # noqa: E402
    Failure, auth_refusal, bearer_payload, bearer_refusal_detail, choose_bearer, send_refusal,
    login_refusal, network_failure, test_message, tls_context, tls_failure)


class Secrets:
    """What must never be printed: the client secret, the refresh token, the access tokens
    and the base64 SASL payloads that carry them. The outcome and the log (asyncio reports
    a failed protocol callback with the exception, and aioimaplib's exceptions can show a
    command with its arguments) are passed through `redact`."""

    def __init__(self):
        self.values = set()
        self.tokens = None

    def add(self, *values):
        self.values.update(v for v in values if v)

    def redact(self, text):
        values = set(self.values)
        if self.tokens is not None and self.tokens.token:
            values.add(self.tokens.token)
        for value in sorted(values, key=len, reverse=True):
            text = text.replace(value, "<redacted>")
        return text


SECRETS = Secrets()


class RedactingHandler(logging.StreamHandler):
    """stderr, with the secrets left out of every record, its traceback included."""

    def format(self, record):
        return SECRETS.redact(super().format(record))


class BearerProtocol(aioimaplib.IMAP4ClientProtocol):
    """aioimaplib's protocol, answering the continuations of a bearer AUTHENTICATE: the
    first one takes the initial response when it did not go with the command (no SASL-IR);
    any other is the server's error challenge before its refusal, which the mechanism
    answers (XOAUTH2 an empty line, OAUTHBEARER `AQ==`) to get the tagged NO."""

    sasl = None

    def _continuation(self, line):
        super()._continuation(line)
        sasl, command = self.sasl, self.pending_sync_command
        if sasl is None or command is None or command.name != "AUTHENTICATE":
            return
        if sasl["initial"] is not None:
            answer, sasl["initial"] = sasl["initial"], None
        else:
            sasl["challenges"].append(line[1:].strip())
            answer = sasl["error_answer"]
        self.send(answer, scrub=answer or None)

    @change_state
    async def oauthbearer(self, payload, sasl_ir):
        """AUTHENTICATE OAUTHBEARER (RFC 7628), which aioimaplib does not have, through its
        own command machinery as its `xoauth2` does."""
        command = aioimaplib.Command("AUTHENTICATE", self.new_tag(), "OAUTHBEARER",
                                     *([payload] if sasl_ir else []), loop=self.loop)
        response = await self.execute(command, scrub=payload if sasl_ir else None)
        if response.result == "OK":
            self.state = aioimaplib.AUTH
        return response


def imap_client(settings, context):
    imap = settings["imap"]
    source = settings.get("source_address")
    timeout = settings["step_timeout_ms"] / 1000

    class Client(aioimaplib.IMAP4):
        def create_client(self, host, port, loop, conn_lost_cb=None, ssl_context=None):
            loop = asyncio.get_running_loop()
            self.protocol = BearerProtocol(loop, conn_lost_cb)
            self._client_task = loop.create_task(loop.create_connection(
                lambda: self.protocol, host, port, ssl=ssl_context,
                local_addr=(source, 0) if source else None))

    return Client(imap["host"], imap["port"], timeout=timeout, ssl_context=context)


async def bounded(awaitable, seconds):
    """The awaitable's result, or asyncio.TimeoutError after `seconds`, without waiting for
    the cancelled task to finish: aioimaplib's wait_hello_from_server never finishes
    cancelling when the server resets the connection right after its greeting (its own
    wait_for then hangs too)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        raise asyncio.TimeoutError()
    return task.result()


def said(response):
    """The text of a tagged reply (aioimaplib puts it last, after what came before it)."""
    last = response.lines[-1] if response.lines else b""
    return last.decode("utf-8", "replace") if isinstance(last, bytes) else str(last)


async def current_token(tokens):
    """The token to use and whether it is just issued, from the shared Tokens: urllib,
    blocking, in a thread."""

    def get():
        token = tokens.get()
        return token, tokens.fresh and tokens.token == token

    return await asyncio.to_thread(get)


async def imap_bearer_login(client, settings, tokens):
    """AUTHENTICATE with the account's token, XOAUTH2 (aioimaplib's `xoauth2`) or
    OAUTHBEARER as the server offers; a held token that is refused is refreshed once."""
    step = "imap-login"
    caps = [c.upper() for c in client.protocol.capabilities]
    mechanism = choose_bearer(c[5:] for c in caps if c.startswith("AUTH="))
    if mechanism is None:
        raise Failure("imap_validation_error", step, "missing-capability")
    login = settings.get("username") or settings["email"]
    imap = settings["imap"]
    sasl_ir = "SASL-IR" in caps
    timeout = settings["step_timeout_ms"] / 1000
    token, fresh = await current_token(tokens)
    while True:
        payload = base64.b64encode(
            bearer_payload(mechanism, login, token, imap["host"], imap["port"]).encode()).decode()
        SECRETS.add(payload)
        sasl = {"initial": None, "challenges": [],
                "error_answer": "" if mechanism == "XOAUTH2" else "AQ=="}
        client.protocol.sasl = sasl
        try:
            if mechanism == "XOAUTH2":
                # aioimaplib's own: the initial response always goes with the command.
                response = await bounded(client.xoauth2(login, token), timeout)
            else:
                if not sasl_ir:
                    sasl["initial"] = payload
                response = await bounded(client.protocol.oauthbearer(payload, sasl_ir), timeout)
        except (asyncio.TimeoutError, aioimaplib.Abort, OSError) as e:
            # As for LOGIN: aioimaplib waits for its timeout on a lost connection too.
            raise Failure("imap_authentication_error", step, "connection-lost", text=str(e))
        finally:
            client.protocol.sasl = None
        if response.result == "OK":
            return
        if not fresh:
            token = await asyncio.to_thread(tokens.refresh, token)
            fresh = True
            continue
        text = said(response)
        cls, detail = login_refusal(text)
        if detail in ("wrong-credentials", "unspecified"):
            challenge = None
            if sasl["challenges"]:
                try:
                    challenge = base64.b64decode(sasl["challenges"][-1], validate=True)
                except (binascii.Error, ValueError):
                    challenge = None
            cls, detail = "unauthorized", bearer_refusal_detail(challenge, tokens.scopes)
        raise Failure(cls, step, detail, response.result, text)


async def imap_session(settings, context, step, login=True, tokens=None):
    client = imap_client(settings, context)
    try:
        await bounded(client.wait_hello_from_server(), settings["step_timeout_ms"] / 1000)
    except ssl.SSLError as e:
        raise tls_failure(e, "imap_settings_incorrect", "imap_validation_error", step)
    except OSError as e:
        raise network_failure(e, "imap_settings_incorrect", step)
    except asyncio.TimeoutError:
        raise Failure("imap_settings_incorrect", step, "timeout")
    if not login:
        return client
    if tokens is not None:
        await imap_bearer_login(client, settings, tokens)
        return client
    login_name = settings.get("username") or settings["email"]
    try:
        response = await client.login(login_name, settings["password"])
    except (asyncio.TimeoutError, aioimaplib.Abort, OSError) as e:
        raise Failure("imap_authentication_error", "imap-login", "connection-lost", text=str(e))
    if response.result != "OK":
        text = " ".join(l.decode("utf-8", "replace") if isinstance(l, bytes) else str(l) for l in response.lines)
        cls, detail = login_refusal(text)
        raise Failure(cls, "imap-login", detail, response.result, text)
    return client


async def imap_steps(settings, context, tokens=None):
    if settings["imap"]["security"] == "starttls":
        raise Failure("imap_validation_error", "imap-connect", "client-cannot-starttls",
                      text="aioimaplib has no STARTTLS")
    client = await imap_session(settings, context, "imap-connect", login=False)
    caps = {c.upper() for c in client.protocol.capabilities}
    if "ACL2=UNION" in caps:
        raise Failure("imap_validation_error", "imap-connect", "courier-imap")
    await client.logout()
    sessions = [await imap_session(settings, context, "imap-login", tokens=tokens)]
    try:
        listing = await sessions[0].list('""', "*")
        await sessions[0].select("INBOX")
    except (asyncio.TimeoutError, aioimaplib.Abort, OSError) as e:
        raise Failure("imap_authentication_error", "imap-login", "connection-lost", text=str(e))
    # LIST lines look like (\HasNoChildren) "." Archive
    names = [l.decode("utf-8", "replace") for l in listing.lines if isinstance(l, bytes)]
    further = [n for n in names if n.startswith("(") and "\\Sent" not in n and "INBOX" not in n.upper()]
    extra = 2 if further else 1
    sessions += await asyncio.gather(*[imap_session(settings, context, "imap-login", tokens=tokens)
                                       for _ in range(extra)])
    return sessions


async def smtp_bearer_login(client, settings, tokens):
    """AUTH with the account's token: XOAUTH2 by aiosmtplib's `auth_xoauth2`, OAUTHBEARER
    (which aiosmtplib does not have) by its `execute_command`; a held token that is refused
    is refreshed once."""
    step = "smtp-login"
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    mechanism = choose_bearer(client.server_auth_methods)
    if mechanism is None:
        raise Failure("smtp_settings_incorrect", step, "auth-not-offered")
    login = settings.get("username") or settings["email"]
    smtp = settings["smtp"]
    token, fresh = await current_token(tokens)
    while True:
        # auth_xoauth2 answers the error challenge with an empty line but does not keep it.
        challenge = None
        try:
            if mechanism == "XOAUTH2":
                SECRETS.add(base64.b64encode(
                    bearer_payload(mechanism, login, token, smtp["host"], smtp["port"]).encode()).decode())
                await client.auth_xoauth2(login, token)
            else:
                payload = base64.b64encode(
                    bearer_payload(mechanism, login, token, smtp["host"], smtp["port"]).encode())
                SECRETS.add(payload.decode())
                response = await client.execute_command(b"AUTH", b"OAUTHBEARER", payload)
                if response.code == 334:
                    try:
                        challenge = base64.b64decode(response.message, validate=True)
                    except (binascii.Error, ValueError):
                        challenge = None
                    response = await client.execute_command(b"AQ==")
                if response.code != 235:
                    raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
            return
        except aiosmtplib.SMTPAuthenticationError as e:
            if not fresh:
                token = await asyncio.to_thread(tokens.refresh, token)
                fresh = True
                continue
            cls, detail = auth_refusal(e.code, e.message)
            if (cls, detail) == ("unauthorized", "wrong-credentials"):
                detail = bearer_refusal_detail(challenge, tokens.scopes)
            raise Failure(cls, step, detail, str(e.code), e.message)


async def smtp_steps(settings, context, tokens=None):
    smtp = settings["smtp"]
    source = settings.get("source_address")
    client = aiosmtplib.SMTP(
        hostname=smtp["host"], port=smtp["port"], timeout=settings["step_timeout_ms"] / 1000,
        use_tls=smtp["security"] == "implicit-tls", start_tls=smtp["security"] == "starttls",
        tls_context=context, source_address=(source, 0) if source else None)
    step = "smtp-connect"
    try:
        await client.connect()
    except aiosmtplib.SMTPConnectTimeoutError:
        raise Failure("smtp_settings_incorrect", step, "timeout")
    except aiosmtplib.SMTPConnectError as e:
        cause = e.__cause__ or e.__context__
        if isinstance(cause, ssl.SSLError):
            raise tls_failure(cause, "smtp_settings_incorrect", "smtp_settings_incorrect", step)
        raise Failure("smtp_settings_incorrect", step, "connection-failed", text=str(e))
    except aiosmtplib.SMTPException as e:
        cause = e.__cause__ or e.__context__
        if isinstance(cause, ssl.SSLError):
            raise tls_failure(cause, "smtp_settings_incorrect", "smtp_settings_incorrect", step)
        text = str(e)
        detail = "tls-required" if "starttls" in text.lower() else "connection-failed"
        raise Failure("smtp_settings_incorrect", step, detail, text=text)
    except ssl.SSLError as e:
        raise tls_failure(e, "smtp_settings_incorrect", "smtp_settings_incorrect", step)
    except OSError as e:
        raise network_failure(e, "smtp_settings_incorrect", step)
    step = "smtp-login"
    try:
        if tokens is not None:
            await smtp_bearer_login(client, settings, tokens)
        else:
            await client.login(settings.get("username") or settings["email"], settings["password"])
    except aiosmtplib.SMTPAuthenticationError as e:
        cls, detail = auth_refusal(e.code, e.message)
        raise Failure(cls, step, detail, str(e.code), e.message)
    except aiosmtplib.SMTPException as e:
        detail = "auth-not-offered" if "not supported" in str(e).lower() else "auth-refused"
        raise Failure("smtp_settings_incorrect", step, detail, text=str(e))
    step = "test-send"
    message = test_message(settings)
    try:
        await client.send_message(message, sender=settings["email"], recipients=[settings["bcc"]])
        await client.quit()
    except aiosmtplib.SMTPSenderRefused as e:
        raise Failure("test_email_failed", step, send_refusal("mail-from-refused", e.code), str(e.code), e.message)
    except aiosmtplib.SMTPRecipientsRefused as e:
        first = e.recipients[0]
        raise Failure("test_email_failed", step, send_refusal("rcpt-refused", first.code), str(first.code), first.message)
    except aiosmtplib.SMTPDataError as e:
        raise Failure("test_email_failed", step, send_refusal("data-refused", e.code), str(e.code), e.message)
    except (aiosmtplib.SMTPServerDisconnected, OSError) as e:
        raise Failure("test_email_failed", step, "connection-lost", text=str(e))


async def run(settings):
    context = tls_context(settings)
    sessions = []
    try:
        tokens = Tokens(settings) if settings.get("oauth") else None
        SECRETS.tokens = tokens
        sessions = await imap_steps(settings, context, tokens)
        await smtp_steps(settings, context, tokens)
        return {"class": "ok", "step": None, "detail": None, "response": None}
    except Failure as failure:
        return failure.outcome
    finally:
        for session in sessions:
            try:
                await bounded(session.logout(), 2)
            except Exception:
                pass


def main():
    settings = json.load(sys.stdin)
    if settings.get("protocol") != "mailharness-connector/1":
        print(f"unsupported protocol {settings.get('protocol')!r}", file=sys.stderr)
        return 2
    if settings.get("oauth"):
        oauth = settings["oauth"]
        SECRETS.add(oauth.get("client_secret"), oauth.get("refresh_token"), oauth.get("access_token"))
        logging.basicConfig(handlers=[RedactingHandler()], level=logging.WARNING)
    asyncio.run(report(settings))
    return 0


async def report(settings):
    """Prints the outcome and leaves at once: a task aioimaplib left hanging (see
    `bounded`) would keep asyncio.run from ever returning."""
    print(SECRETS.redact(json.dumps(await run(settings))), flush=True)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
