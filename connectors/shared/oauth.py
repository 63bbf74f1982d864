"""The OAuth 2.0 client the Python connectors under connectors/ (python-stdlib, python-aio,
curl) share: the run's access token, from the token endpoint by urllib. One copy, so that
where they differ in the conformance matrix it is their IMAP and SMTP clients that differ,
not how they got the token (curl cannot get one itself).

It does what the reference connector does (harness/src/connector/reference/oauth.rs):
the refresh-token grant, or client credentials when there is no refresh token; client_id
and client_secret in the form; the scope as given; over TLS trusting the run's CA file and
the system roots, never "allow insecure certificate" (a refresh token must not go to a
server nobody checked); everything within the step timeout and at imap-login. What goes
wrong there is read as docs/outcomes.md's "OAuth accounts" says (token_endpoint_failure,
tls_failure). A token held from before is tried first and refreshed once when a mail server
refuses it.

Nothing here prints or returns a secret in a Failure: the texts are the endpoint's error
code and description, urllib's reason, or the certificate's verify message.
"""
import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request

from readings import Failure, tls_failure, token_endpoint_failure


class Tokens:
    """The run's access token: the one held from before, else one from the token endpoint
    (urllib, trusting the CA file, never "allow insecure"), refreshed once when refused."""

    def __init__(self, settings):
        self.settings = settings
        oauth = settings["oauth"]
        self.token = oauth.get("access_token")
        self.scopes = None
        self.fresh = False
        # fetch may run in threads (python-aio's asyncio.to_thread): one request at a time.
        self._lock = threading.Lock()

    def __repr__(self):
        return f"Tokens(fresh={self.fresh}, scopes={self.scopes!r})"

    def get(self):
        with self._lock:
            if self.token is None:
                self._fetch()
            return self.token

    def fetch(self):
        """A new token from the endpoint, whatever is held."""
        with self._lock:
            self._fetch()

    def refresh(self, refused):
        """A new token in place of `refused`, unless another session already refreshed it
        meanwhile (the reference connector's TokenCache::refresh)."""
        with self._lock:
            if self.token is None or self.token == refused:
                self._fetch()
            return self.token

    def _fetch(self):
        step = "imap-login"
        oauth = self.settings["oauth"]
        form = {"client_id": oauth["client_id"], "client_secret": oauth["client_secret"],
                "scope": oauth["scope"]}
        if oauth.get("refresh_token"):
            form.update(grant_type="refresh_token", refresh_token=oauth["refresh_token"])
        else:
            form["grant_type"] = "client_credentials"
        request = urllib.request.Request(oauth["token_url"], data=urllib.parse.urlencode(form).encode(),
                                         headers={"Accept": "application/json"})
        context = ssl.create_default_context(cafile=self.settings.get("ca_file"))
        timeout = self.settings["step_timeout_ms"] / 1000
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
                status, body = answer.status, json.load(answer)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                body = {}
            raise token_endpoint_failure(e.code, body, step)
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise tls_failure(reason, "imap_authentication_error", "imap_authentication_error", step)
            if isinstance(reason, TimeoutError):
                raise Failure("imap_authentication_error", step, "token-endpoint-timeout")
            raise Failure("imap_authentication_error", step, "token-endpoint-unreachable", text=str(e))
        except TimeoutError:
            raise Failure("imap_authentication_error", step, "token-endpoint-timeout")
        except ValueError:
            raise token_endpoint_failure(200, {}, step)
        if not isinstance(body, dict) or "access_token" not in body \
                or str(body.get("token_type", "")).lower() != "bearer":
            raise token_endpoint_failure(status, body if isinstance(body, dict) else {}, step)
        self.token = body["access_token"]
        self.scopes = body.get("scope", "").split() if "scope" in body else None
        self.fresh = True
