#!/usr/bin/env python3
"""A mailharness connector built on asyncio clients from PyPI: aioimaplib and aiosmtplib.

Reads the settings (protocol mailharness-connector/1) on stdin and prints one JSON outcome.
aioimaplib has no STARTTLS: for a STARTTLS IMAP server this connector can only say so.
The packages are installed into .deps beside this file (see requirements.txt).
"""
import asyncio
import json
import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".deps"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))

import aioimaplib  # noqa: E402
import aiosmtplib  # noqa: E402
from readings import (  # noqa: E402
    Failure, auth_refusal, send_refusal, login_refusal, network_failure, test_message, tls_context,
    tls_failure)


def imap_client(settings, context):
    imap = settings["imap"]
    source = settings.get("source_address")
    timeout = settings["step_timeout_ms"] / 1000

    class Client(aioimaplib.IMAP4):
        def create_client(self, host, port, loop, conn_lost_cb=None, ssl_context=None):
            loop = asyncio.get_running_loop()
            self.protocol = aioimaplib.IMAP4ClientProtocol(loop, conn_lost_cb)
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


async def imap_session(settings, context, step, login=True):
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


async def imap_steps(settings, context):
    if settings["imap"]["security"] == "starttls":
        raise Failure("imap_validation_error", "imap-connect", "client-cannot-starttls",
                      text="aioimaplib has no STARTTLS")
    client = await imap_session(settings, context, "imap-connect", login=False)
    caps = {c.upper() for c in client.protocol.capabilities}
    if "ACL2=UNION" in caps:
        raise Failure("imap_validation_error", "imap-connect", "courier-imap")
    await client.logout()
    sessions = [await imap_session(settings, context, "imap-login")]
    try:
        listing = await sessions[0].list('""', "*")
        await sessions[0].select("INBOX")
    except (asyncio.TimeoutError, aioimaplib.Abort, OSError) as e:
        raise Failure("imap_authentication_error", "imap-login", "connection-lost", text=str(e))
    # LIST lines look like (\HasNoChildren) "." Archive
    names = [l.decode("utf-8", "replace") for l in listing.lines if isinstance(l, bytes)]
    further = [n for n in names if n.startswith("(") and "\\Sent" not in n and "INBOX" not in n.upper()]
    extra = 2 if further else 1
    sessions += await asyncio.gather(*[imap_session(settings, context, "imap-login") for _ in range(extra)])
    return sessions


async def smtp_steps(settings, context):
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
        sessions = await imap_steps(settings, context)
        await smtp_steps(settings, context)
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
    asyncio.run(report(settings))
    return 0


async def report(settings):
    """Prints the outcome and leaves at once: a task aioimaplib left hanging (see
    `bounded`) would keep asyncio.run from ever returning."""
    print(json.dumps(await run(settings)), flush=True)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
