"""What the Python connectors under connectors/ (python-stdlib, python-aio, curl) read into
the harness's classes: one copy, so that where they differ in the conformance matrix it is
the clients that differ, not our adapters.

These readings are ours, not the clients': the refusal texts are read as the reference
connector reads them (login_refusal is harness/src/classify/imap.rs's table, auth_refusal
harness/src/classify/smtp.rs's; tests/tools/readings.rs checks that they agree), and the
certificate verify codes are OpenSSL's, and a failed handshake or connection is read from
the ssl and socket exceptions as the reference connector reads rustls's and the OS's
(harness/src/probe/net.rs). What each client can or cannot see (a timeout at connect or at
the greeting, DATA or the message) stays in its connector. Beside the readings, the one
thing they all send the same way: the test message.
"""
import email.message
import json
import socket
import ssl

# The harness keeps the last 1 MiB of what a connector prints: a server's reply (which a
# hostile server makes megabytes long) is cut here so that the outcome always fits.
TEXT_MAX = 4096


class Failure(Exception):
    """A step that failed, as the outcome the connector prints."""

    def __init__(self, cls, step, detail, code=None, text=None):
        super().__init__(detail)
        self.outcome = {"class": cls, "step": step, "detail": detail,
                        "response": {"code": code, "text": text[:TEXT_MAX]} if text else None}


def tls_context(settings):
    """TLS 1.2 and up, the settings' CA, and no checks when insecure certificates are allowed."""
    context = ssl.create_default_context(cafile=settings.get("ca_file"))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings["allow_insecure_certificate"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code gives them.
CERTIFICATE_DETAILS = {
    9: "certificate-not-yet-valid",
    10: "certificate-expired",
    18: "certificate-self-signed",
    19: "certificate-unknown-authority",
    20: "certificate-unknown-authority",
    21: "certificate-unknown-authority",
    26: "certificate-invalid-purpose",
    62: "certificate-wrong-host",
}


def certificate_detail(error):
    """The detail of a failed certificate verification."""
    return CERTIFICATE_DETAILS.get(error.verify_code, "certificate-invalid")


def response_code(reply):
    """The response code a reply starts with, upper case; Gmail's [THROTTLED] at the end
    counts too (classify/imap.rs)."""
    t = reply.lstrip().upper()
    for status in ("NO ", "BAD ", "OK ", "BYE ", "* BYE ", "* NO "):
        if t.startswith(status):
            t = t[len(status):]
            break
    t = t.lstrip()
    if t.endswith("[THROTTLED]") or "[THROTTLED] " in t:
        return "THROTTLED"
    if not t.startswith("["):
        return None
    inner = t[1:]
    ends = [i for i in (inner.find("]"), inner.find(" ")) if i >= 0]
    return inner[:min(ends)] if ends else None


AUTH_ERROR = "imap_authentication_error"
CODES = {
    "AUTHENTICATIONFAILED": ("unauthorized", "wrong-credentials"),
    "AUTHORIZATIONFAILED": ("unauthorized", "authorization-failed"),
    "EXPIRED": ("unauthorized", "credentials-expired"),
    "PRIVACYREQUIRED": ("imap_validation_error", "tls-required"),
    "CONTACTADMIN": (AUTH_ERROR, "contact-admin"),
    "UNAVAILABLE": (AUTH_ERROR, "temporarily-unavailable"),
    "LIMIT": (AUTH_ERROR, "temporarily-rate-limited"),
    "THROTTLED": (AUTH_ERROR, "temporarily-rate-limited"),
    "OVERQUOTA": (AUTH_ERROR, "over-quota"),
    "INUSE": (AUTH_ERROR, "temporarily-in-use"),
    "NOPERM": (AUTH_ERROR, "no-permission"),
    "SERVERBUG": (AUTH_ERROR, "server-bug"),
    "CLIENTBUG": (AUTH_ERROR, "client-bug"),
    "CANNOT": (AUTH_ERROR, "server-cannot"),
    "CORRUPTION": (AUTH_ERROR, "mailbox-corrupt"),
    "NONEXISTENT": (AUTH_ERROR, "no-such-mailbox"),
}


def code_refusal(code, text):
    """The class and detail an RFC 5530 code means, refined by the text (classify/imap.rs)."""
    t = text.lower()
    if code == "CONTACTADMIN" and "from this address is not allowed" in t:
        return AUTH_ERROR, "address-not-allowed"
    if code == "UNAVAILABLE" and "maximum number of connections" in t:
        return AUTH_ERROR, "too-many-connections"
    if code == "LIMIT" and "connections" in t:
        return AUTH_ERROR, "too-many-connections"
    return CODES.get(code)


def login_refusal(text):
    """Class and detail of a refused IMAP LOGIN: its response code where there is one, else
    the providers' exact phrases (classify/imap.rs)."""
    code = response_code(text)
    found = code_refusal(code, text) if code else None
    if found:
        return found
    t = text.lower()
    has = lambda *needles: any(n in t for n in needles)
    if has("application-specific password required", "app password", "invalidsecondfactor"):
        return "unauthorized_app_password_required", "app-password-required"
    if has("web login required", "please log in via your web browser"):
        return "unauthorized", "web-login-required"
    if has("maximum number of connections", "too many simultaneous connections"):
        return AUTH_ERROR, "too-many-connections"
    if has("starttls required", "plaintext authentication disallowed", "cleartext authentication disallowed"):
        return "imap_validation_error", "tls-required"
    if has("not enabled for imap use", "imap access is disabled", "basic authentication is disabled"):
        return AUTH_ERROR, "imap-disabled"
    if has("from this address is not allowed"):
        return AUTH_ERROR, "address-not-allowed"
    if has("server unavailable.", "temporary authentication failure", "temporary problem, please try again later"):
        return AUTH_ERROR, "temporarily-unavailable"
    if has("invalid credentials", "login failed", "authentication failed",
           "authentication failure", "incorrect username or password", "authenticate failed"):
        return "unauthorized", "wrong-credentials"
    return AUTH_ERROR, "unspecified"


def send_refusal(detail, code):
    """A refusal at test-send: its temporary form for a 4xx reply (detail.rs's
    Detail::temporary)."""
    try:
        temporary = 400 <= int(code) < 500
    except (TypeError, ValueError):
        temporary = False
    return detail.replace("-refused", "-temporarily-refused") if temporary else detail


def auth_refusal(code, text):
    """Class and detail of a refused SMTP AUTH, from its code and text (classify/smtp.rs)."""
    t = text.lower()
    has = lambda *needles: any(n in t for n in needles)
    if has("application-specific password", "invalidsecondfactor"):
        return "unauthorized_app_password_required", "app-password-required"
    if has("5.7.14", "webloginrequired", "log in via your web browser", "log in with your web browser"):
        return "unauthorized", "web-login-required"
    if has("smtpclientauthentication is disabled", "basic authentication is disabled",
           "basic authentication is not supported", "authentication not enabled"):
        return "smtp_settings_incorrect", "auth-disabled"
    if has("did not meet the criteria", "client host rejected", "not allowed"):
        return "smtp_settings_incorrect", "policy-refused"
    if 400 <= code < 500:
        return "smtp_settings_incorrect", "temporarily-unavailable"
    if code == 535 or has("5.7.8", "5.7.3", "authentication failed", "authentication unsuccessful",
                          "username and password not accepted", "credentials invalid",
                          "incorrect authentication data", "too many bad auth attempts"):
        return "unauthorized", "wrong-credentials"
    return "smtp_settings_incorrect", "auth-refused"


def tls_failure(error, settings_class, validation_class, step):
    """Class and detail of a failed handshake, from what the ssl module says."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return Failure("unauthorized_untrusted_certificate", step, certificate_detail(error), text=str(error))
    reason = (getattr(error, "reason", None) or str(error)).upper()
    if "VERSION" in reason or "PROTOCOL" in reason:
        # OpenSSL says "wrong version number" for a plaintext peer too: it cannot tell.
        return Failure(validation_class, step, "tls-version", text=str(error))
    if isinstance(error, (ssl.SSLEOFError, ConnectionResetError, EOFError)):
        return Failure(settings_class, step, "connection-closed", text=str(error))
    return Failure(validation_class, step, "tls-handshake-failed", text=str(error))


def network_failure(error, settings_class, step):
    """Class and detail of a connection that failed below TLS (socket.timeout and
    asyncio.TimeoutError are TimeoutError)."""
    if isinstance(error, ConnectionRefusedError):
        return Failure(settings_class, step, "connection-refused")
    if isinstance(error, TimeoutError):
        return Failure(settings_class, step, "timeout")
    if isinstance(error, ConnectionResetError):
        return Failure(settings_class, step, "connection-reset")
    if isinstance(error, socket.gaierror):
        return Failure(settings_class, step, "dns")
    return Failure(settings_class, step, "connection-failed", text=str(error))


def greeting_refusal(code):
    """An SMTP greeting that refuses service: for now (421) or for good (554)."""
    return "greeting-temporarily-refused" if str(code).startswith("4") else "greeting-refused"


def test_message(settings):
    """The test message the connectors send, from the inbox to the BCC address."""
    message = email.message.EmailMessage()
    message["From"] = settings["email"]
    message["To"] = settings["bcc"]
    message["Subject"] = "mailharness test message"
    message.set_content("This message checks that the inbox can send. It can be deleted.")
    return message


# OAuth: the reference connector's readings (docs/outcomes.md, "OAuth accounts").
TOKEN_ERRORS = {
    "invalid_grant": ("unauthorized", "invalid-grant"),
    "invalid_client": ("unauthorized", "invalid-client"),
    "unauthorized_client": ("unauthorized", "invalid-client"),
    "invalid_scope": ("unauthorized", "invalid-scope"),
}


def token_endpoint_failure(status, body, step="imap-login"):
    """An answer of the token endpoint without a token: its OAuth error code decides."""
    error = body.get("error") if isinstance(body, dict) else None
    cls, detail = TOKEN_ERRORS.get(error, ("imap_authentication_error", "token-endpoint-error"))
    text = f"{error}: {body.get('error_description')}" if error else f"HTTP {status} without a token"
    return Failure(cls, step, detail, str(status), text)


def bearer_refusal_detail(challenge, granted):
    """A fresh token refused: insufficient-scope when the server's error challenge (its
    decoded JSON) names a scope the token was not granted, else token-rejected; a challenge
    whose status says the token itself is bad (invalid_token, 401: Dovecot's always names
    the scope "mail") is token-rejected whatever scope it names."""
    def text(value):
        # A field as text: a string, or a number (a status written 401); nothing else.
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return ""

    try:
        body = json.loads(challenge)
        status, required = text(body.get("status")), text(body.get("scope"))
    except (ValueError, TypeError, AttributeError):
        status, required = "", ""
    if status in ("401", "invalid_token"):
        return "token-rejected"
    if required and granted is not None and any(s not in granted for s in required.split()):
        return "insufficient-scope"
    return "token-rejected"


def bearer_payload(mechanism, user, token, host, port):
    """The initial response of XOAUTH2 or OAUTHBEARER (RFC 7628), before base64."""
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01"
    name = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={name},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


def choose_bearer(offered):
    """XOAUTH2 where offered, else OAUTHBEARER, else None."""
    offered = [m.upper() for m in offered]
    return "XOAUTH2" if "XOAUTH2" in offered else "OAUTHBEARER" if "OAUTHBEARER" in offered else None
