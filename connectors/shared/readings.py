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


def login_refusal(text):
    """Class and detail of a refused IMAP LOGIN, from its text (classify/imap.rs)."""
    t = text.lower()
    has = lambda *needles: any(n in t for n in needles)
    if has("application-specific password", "app password", "invalidsecondfactor"):
        return "unauthorized_app_password_required", "app-password-required"
    if has("web login required", "log in via your web browser", "webalert"):
        return "unauthorized", "web-login-required"
    if has("maximum number of connections", "too many simultaneous connections", "too many connections", "[limit]"):
        return "imap_authentication_error", "too-many-connections"
    if has("privacyrequired", "starttls required", "plaintext authentication", "cleartext authentication"):
        return "imap_validation_error", "tls-required"
    if has("not enabled for imap", "imap access is disabled", "basic authentication is disabled"):
        return "imap_authentication_error", "imap-disabled"
    if has("address is not allowed", "this address is not allowed", "contactadmin"):
        return "imap_authentication_error", "address-not-allowed"
    if has("unavailable", "temporary", "try again later"):
        return "imap_authentication_error", "unavailable"
    if has("authenticationfailed", "invalid credentials", "login failed", "authentication failed",
           "authentication failure", "incorrect username or password", "authenticate failed"):
        return "unauthorized", "wrong-credentials"
    return "imap_authentication_error", "unspecified"


def auth_refusal(code, text):
    """Class and detail of a refused SMTP AUTH, from its code and text (classify/smtp.rs)."""
    t = text.lower()
    has = lambda *needles: any(n in t for n in needles)
    if has("application-specific password", "invalidsecondfactor"):
        return "unauthorized_app_password_required", "app-password-required"
    if has("5.7.14", "webloginrequired", "log in via your web browser", "log in with your web browser"):
        return "unauthorized", "web-login-required"
    if has("smtpclientauthentication is disabled", "basic authentication is disabled", "authentication not enabled"):
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


def test_message(settings):
    """The test message the connectors send, from the inbox to the BCC address."""
    message = email.message.EmailMessage()
    message["From"] = settings["email"]
    message["To"] = settings["bcc"]
    message["Subject"] = "mailharness test message"
    message.set_content("This message checks that the inbox can send. It can be deleted.")
    return message
