"""fake_server.py - a fake Google Cloud for whydenied's network tests.

Python 3 standard library only. One threaded HTTP server on 127.0.0.1 and a
random port plays every endpoint pull and auth talk to:

  POST /v2/entries:list                     Cloud Logging entries.list
  POST /token                               OAuth token endpoint (JWT-bearer
                                            grant with RS256 verification,
                                            refresh-token grant)
  POST /sts                                 STS token exchange
  POST /v1/projects/-/serviceAccounts/E:generateAccessToken   IAM Credentials
  GET  /oidc                                an OIDC token URL (what GitHub's
                                            ACTIONS_ID_TOKEN_REQUEST_URL is)
  GET  /computeMetadata/v1/...              the GCE metadata server

Entries come from tests/corpus/entries.jsonl, served in pages. A test sets
`faults`: {n: name} applies fault `name` to the n-th entries:list request
(1-based); `always` applies one to every request. Faults: 429, 429-plain,
503, 500, empty, slow, drip, malformed, cut, 401, html, endless,
endless-ws, hang, forever, 403-private, 403-list, 400, 404.

Every request is recorded (time, path, headers, body) for assertions.
The server stops by itself after `lifetime` seconds; every loop in it is
bounded.
"""

import base64
import gzip
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("WD_SRC") or os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(SRC, "tests", "corpus", "entries.jsonl")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rpc_error(code, status, message, details=None):
    e = {"error": {"code": code, "message": message, "status": status}}
    if details:
        e["error"]["details"] = details
    return json.dumps(e).encode()


class Fake:
    def __init__(self, workdir, lifetime=120):
        self.workdir = workdir
        self.lock = threading.Lock()
        self.requests = []
        self.entries = []
        with open(CORPUS, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    self.entries.append(line)
        self.faults = {}
        self.always = None
        self.list_count = 0
        self.retry_delay = "0.1s"
        self.stop_event = threading.Event()
        # Credentials known to the fake.
        self.valid_tokens = set()
        self.static_token = "ya29.static-" + secrets.token_hex(16)
        self.valid_tokens.add(self.static_token)
        self.sa_email = "puller@acme-ci.iam.gserviceaccount.com"
        self.sa_key_id = "k-" + secrets.token_hex(8)
        self.public_key = None
        self.client_id = "123-fake.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-" + secrets.token_hex(12)
        self.refresh_token = "1//rt-" + secrets.token_hex(20)
        self.request_token = "gha-req-" + secrets.token_hex(20)
        self.subject_token = "eyJhbGciOiJSUzI1NiJ9.subject-" + \
            secrets.token_hex(20) + ".sig"
        self.audience = ("//iam.googleapis.com/projects/123/locations/global/"
                         "workloadIdentityPools/ci/providers/gh")
        self.impersonated = "deployer@acme-ci.iam.gserviceaccount.com"
        self.metadata_email = "build@acme-ci.iam.gserviceaccount.com"
        self.issued = []           # every token the fake handed out
        self.token_errors = {}     # grant kind -> (status, body)
        self.grants = []           # verified grants, for assertions
        self.jwt_claims = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.watchdog = threading.Timer(lifetime, self.stop)
        self.watchdog.daemon = True
        self.watchdog.start()

    # --- control -----------------------------------------------------
    def stop(self):
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        self.watchdog.cancel()
        self.server.shutdown()
        self.server.server_close()

    def reset(self, faults=None, always=None):
        with self.lock:
            self.requests = []
            self.faults = dict(faults or {})
            self.always = always
            self.list_count = 0
            self.grants = []
            self.jwt_claims = []
            self.token_errors = {}

    def issue(self, kind):
        t = "ya29.%s-%s" % (kind, secrets.token_hex(16))
        with self.lock:
            self.valid_tokens.add(t)
            self.issued.append(t)
        return t

    def list_requests(self):
        return [r for r in self.requests if r["path"] == "/v2/entries:list"]

    def secrets(self):
        """Every secret a test must never find in whydenied's output."""
        s = [self.static_token, self.client_secret, self.refresh_token,
             self.request_token, self.subject_token] + list(self.issued)
        return s

    # --- pages -------------------------------------------------------
    def page(self, token, size):
        start = 0
        if token:
            start = int(token.split("-")[1])
        chunk = self.entries[start:start + size]
        nxt = start + size
        body = '{"entries":[' + ",".join(chunk) + "]"
        if nxt < len(self.entries):
            body += ',"nextPageToken":"tok-%d-%s"' % (nxt, "x" * 40)
        body += "}"
        return body.encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-google/1"

    def log_message(self, fmt, *args):
        pass

    # --- helpers -----------------------------------------------------
    @property
    def fake(self):
        return self.server.fake

    def record(self, body):
        r = {"t": time.monotonic(), "method": self.command,
             "path": urllib.parse.urlsplit(self.path).path,
             "query": urllib.parse.urlsplit(self.path).query,
             "headers": {k.lower(): v for k, v in self.headers.items()},
             "body": body}
        with self.fake.lock:
            self.fake.requests.append(r)
        return r

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json; charset=UTF-8",
             headers=None, allow_gzip=True):
        enc = None
        if (allow_gzip and "gzip" in (self.headers.get("Accept-Encoding") or "")
                and "(gzip)" in (self.headers.get("User-Agent") or "")
                and len(body) > 200):
            body = gzip.compress(body)
            enc = "gzip"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if enc:
            self.send_header("Content-Encoding", enc)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def bearer(self):
        a = self.headers.get("Authorization") or ""
        return a[7:] if a.startswith("Bearer ") else None

    def form(self, body):
        return {k: v[0] for k, v in
                urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
                .items()}

    # --- routing -----------------------------------------------------
    def do_POST(self):
        body = self.read_body()
        rec = self.record(body)
        path = rec["path"]
        if path == "/v2/entries:list":
            return self.entries_list(rec, body)
        if path == "/token":
            return self.token(body)
        if path == "/sts":
            return self.sts(body)
        if path.startswith("/v1/projects/-/serviceAccounts/") and \
                path.endswith(":generateAccessToken"):
            return self.generate(path, body)
        self.send(404, rpc_error(404, "NOT_FOUND", "no such method"))

    def do_GET(self):
        rec = self.record(b"")
        path = rec["path"]
        if path == "/oidc":
            return self.oidc(rec)
        if path.startswith("/computeMetadata/v1/"):
            return self.metadata(path)
        self.send(404, b"not found", "text/plain")

    # --- Logging API -------------------------------------------------
    def entries_list(self, rec, body):
        f = self.fake
        with f.lock:
            f.list_count += 1
            n = f.list_count
            fault = f.faults.get(n, f.always)
        rec["fault"] = fault
        token = self.bearer()
        if fault == "401" or token not in f.valid_tokens:
            return self.send(401, rpc_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication "
                "credentials. Expected OAuth 2 access token."))
        try:
            req = json.loads(body)
        except ValueError:
            return self.send(400, rpc_error(400, "INVALID_ARGUMENT",
                                            "bad JSON"))
        rec["json"] = req
        size = int(req.get("pageSize") or 50)
        tok = req.get("pageToken") or ""
        if fault in ("429", "429-plain"):
            details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RATE_LIMIT_EXCEEDED",
                        "domain": "googleapis.com",
                        "metadata": {
                            "quota_metric":
                                "logging.googleapis.com/read_requests",
                            "quota_limit": "ReadRequestsPerMinutePerProject",
                            "consumer": "projects/424242",
                            "service": "logging.googleapis.com"}}]
            if fault == "429":
                details.append({"@type":
                                "type.googleapis.com/google.rpc.RetryInfo",
                                "retryDelay": f.retry_delay})
            return self.send(429, rpc_error(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric "
                "'Read requests' and limit 'Read requests per minute' of "
                "service 'logging.googleapis.com' for consumer "
                "'project_number:424242'.", details))
        if fault in ("500", "503"):
            st = "INTERNAL" if fault == "500" else "UNAVAILABLE"
            return self.send(int(fault), rpc_error(int(fault), st,
                                                   "The service is "
                                                   "currently unavailable."))
        if fault in ("403-private", "403-list"):
            perm = ("logging.privateLogEntries.list" if fault == "403-private"
                    else "logging.logEntries.list")
            return self.send(403, rpc_error(
                403, "PERMISSION_DENIED",
                "Permission '%s' denied on resource (or it may not exist)."
                % perm,
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                  "reason": "IAM_PERMISSION_DENIED",
                  "domain": "iam.googleapis.com",
                  "metadata": {"permission": perm}}]))
        if fault == "400":
            return self.send(400, rpc_error(400, "INVALID_ARGUMENT",
                                            "Unparseable filter: syntax "
                                            "error at line 7"))
        if fault == "404":
            return self.send(404, rpc_error(404, "NOT_FOUND",
                                            "Project not found"))
        if fault == "html":
            return self.send(200, b"<html><body>Sign in to the Wi-Fi"
                             + b"." * 300 + b"</body></html>",
                             "text/html; charset=utf-8")
        if fault == "empty":
            # Empty page, and the same position again: not the end.
            return self.send(200, ('{"nextPageToken":"%s"}' % (tok or "tok-0-e"))
                             .encode())
        if fault == "forever":
            return self.send(200, ('{"entries":[],"nextPageToken":'
                                   '"forever-%d"}' % n).encode())
        if fault == "malformed":
            page = f.page(tok, size)
            return self.send(200, page[:len(page) // 2] + b'}]]{"oops',
                             allow_gzip=False)
        if fault == "hang":
            f.stop_event.wait(8)
            self.close_connection = True
            return
        if fault in ("endless", "endless-ws"):
            return self.endless(fault == "endless")
        page = f.page(tok, size)
        if fault == "slow":
            f.stop_event.wait(1.0)
        if fault == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page[:len(page) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            step = max(1, len(page) // 8)
            for i in range(0, len(page), step):
                self.wfile.write(page[i:i + step])
                self.wfile.flush()
                if f.stop_event.wait(0.1):
                    break
            return
        return self.send(200, page)

    def endless(self, entries):
        f = self.fake
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        deadline = time.monotonic() + 10
        try:
            self.wfile.write(b'{"entries":[')
            i = 0
            while time.monotonic() < deadline and not f.stop_event.is_set():
                if entries:
                    e = json.loads(f.entries[i % len(f.entries)])
                    e["insertId"] = "endless-%d" % i
                    self.wfile.write((b"," if i else b"")
                                     + json.dumps(e).encode())
                else:
                    self.wfile.write(b" " * 64)
                    f.stop_event.wait(0.05)
                i += 1
        except OSError:
            pass

    # --- OAuth token endpoint ------------------------------------------
    def oauth_error(self, status, error, desc):
        return self.send(status, json.dumps(
            {"error": error, "error_description": desc}).encode())

    def token(self, body):
        f = self.fake
        form = self.form(body)
        grant = form.get("grant_type")
        if grant in f.token_errors:
            st, err, desc = f.token_errors[grant]
            return self.oauth_error(st, err, desc)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            ok, why = self.verify_jwt(form.get("assertion", ""))
            if not ok:
                return self.oauth_error(400, "invalid_grant", why)
            f.grants.append("jwt-bearer")
            return self.send(200, json.dumps({
                "access_token": f.issue("sa"), "expires_in": 3599,
                "token_type": "Bearer"}).encode())
        if grant == "refresh_token":
            if (form.get("refresh_token") != f.refresh_token or
                    form.get("client_secret") != f.client_secret or
                    form.get("client_id") != f.client_id):
                return self.oauth_error(400, "invalid_grant", "Bad Request")
            f.grants.append("refresh_token")
            return self.send(200, json.dumps({
                "access_token": f.issue("user"), "expires_in": "3599",
                "token_type": "Bearer", "scope": "openid"}).encode())
        return self.oauth_error(400, "unsupported_grant_type", "")

    def verify_jwt(self, jwt):
        f = self.fake
        parts = jwt.split(".")
        if len(parts) != 3:
            return False, "not a JWT"
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return False, "bad JWT encoding"
        f.jwt_claims.append({"header": header, "claims": claims})
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return False, "bad JWT header"
        if header.get("kid") != f.sa_key_id:
            return False, "bad kid"
        now = time.time()
        if claims.get("iss") != f.sa_email:
            return False, "bad iss"
        if claims.get("aud") != f.url + "/token":
            return False, "bad aud"
        if "cloud-platform" not in claims.get("scope", "") and \
                "logging.read" not in claims.get("scope", ""):
            return False, "bad scope"
        iat, exp = claims.get("iat", 0), claims.get("exp", 0)
        if not (now - 120 <= iat <= now + 5) or exp - iat > 3600 or exp <= now:
            return False, "bad iat/exp"
        signing_input = (parts[0] + "." + parts[1]).encode()
        with tempfile.TemporaryDirectory(dir=f.workdir) as d:
            data, sigf = os.path.join(d, "data"), os.path.join(d, "sig")
            with open(data, "wb") as w:
                w.write(signing_input)
            with open(sigf, "wb") as w:
                w.write(sig)
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify",
                                f.public_key, "-signature", sigf, data],
                               capture_output=True, timeout=20)
        if r.returncode != 0:
            return False, "Invalid JWT Signature."
        return True, ""

    # --- STS and IAM Credentials ---------------------------------------
    def sts(self, body):
        f = self.fake
        form = self.form(body)
        f.grants.append(("sts", form))
        if "sts" in f.token_errors:
            st, err, desc = f.token_errors["sts"]
            return self.oauth_error(st, err, desc)
        want = {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type":
                "urn:ietf:params:oauth:token-type:access_token",
            "audience": f.audience,
            "subject_token": f.subject_token,
        }
        for k, v in want.items():
            if form.get(k) != v:
                return self.oauth_error(400, "invalid_request",
                                        "bad " + k)
        if not form.get("subject_token_type", "").startswith(
                "urn:ietf:params:oauth:token-type:"):
            return self.oauth_error(400, "invalid_request",
                                    "bad subject_token_type")
        if "cloud-platform" not in form.get("scope", ""):
            return self.oauth_error(400, "invalid_scope", "bad scope")
        return self.send(200, json.dumps({
            "access_token": f.issue("sts"), "issued_token_type":
            "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer", "expires_in": 3600}).encode())

    def generate(self, path, body):
        f = self.fake
        email = urllib.parse.unquote(path.split("/serviceAccounts/")[1]
                                     .split(":")[0])
        tok = self.bearer()
        if tok not in f.valid_tokens or not tok.startswith("ya29."):
            return self.send(401, rpc_error(401, "UNAUTHENTICATED", "no"))
        if "iam" in f.token_errors:
            st, status, msg = f.token_errors["iam"]
            return self.send(st, rpc_error(st, status, msg))
        try:
            req = json.loads(body)
        except ValueError:
            return self.send(400, rpc_error(400, "INVALID_ARGUMENT", "json"))
        f.grants.append(("iam", email, req))
        if email != f.impersonated or not req.get("scope"):
            return self.send(403, rpc_error(
                403, "PERMISSION_DENIED", "Permission "
                "'iam.serviceAccounts.getAccessToken' denied on resource "
                "(or it may not exist)."))
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                            time.gmtime(time.time() + 3600))
        return self.send(200, json.dumps({"accessToken": f.issue("imp"),
                                          "expireTime": exp}).encode())

    def oidc(self, rec):
        f = self.fake
        if self.headers.get("Authorization") != "Bearer " + f.request_token:
            return self.send(401, b'{"message":"bad request token"}')
        q = urllib.parse.parse_qs(rec["query"])
        if not q.get("audience"):
            return self.send(400, b'{"message":"no audience"}')
        return self.send(200, json.dumps({"count": 1, "value":
                                          f.subject_token}).encode())

    # --- metadata server ----------------------------------------------
    def metadata(self, path):
        f = self.fake
        hdr = {"Metadata-Flavor": "Google"}
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.send(403, b"Missing Metadata-Flavor", "text/html",
                             hdr)
        if path.endswith("/instance/service-accounts/default/token"):
            return self.send(200, json.dumps({
                "access_token": f.issue("gce"), "expires_in": 3599,
                "token_type": "Bearer"}).encode(), headers=hdr)
        if path.endswith("/instance/service-accounts/default/email"):
            return self.send(200, f.metadata_email.encode(),
                             "application/text", hdr)
        return self.send(404, b"not found", "text/html", hdr)


# ---------------------------------------------------------------------------
# Test harness shared by the test scripts.

class Suite:
    def __init__(self, binary):
        self.binary = os.path.abspath(binary)
        self.tmp = tempfile.TemporaryDirectory(prefix="wd-http-")
        self.dir = self.tmp.name
        self.fake = Fake(self.dir)
        self.passed = 0
        self.failed = 0
        self.outputs = []    # every stdout/stderr/file whydenied wrote

    def keypair(self):
        """An RSA key pair made with the openssl CLI."""
        key = os.path.join(self.dir, "sa-key.pem")
        pub = os.path.join(self.dir, "sa-pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out",
                        pub], check=True, capture_output=True, timeout=60)
        self.fake.public_key = pub
        with open(key) as f:
            return f.read()

    def write(self, name, data):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return p

    def env(self, extra=None):
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.path.join(self.dir, "home"),
            "LC_ALL": "C", "TZ": "UTC",
            "WHYDENIED_NOW": "2026-11-27T12:00:00Z",
            # Never probe a real metadata server: a closed local port.
            "GCE_METADATA_HOST": "127.0.0.1:9",
            "GCE_METADATA_TIMEOUT": "1",
            "WHYDENIED_HTTP_TIMEOUT": "20",
        }
        os.makedirs(e["HOME"], exist_ok=True)
        rules = os.path.join(SRC, "rules")
        if os.path.isdir(rules):
            e["WHYDENIED_RULES"] = rules
        for k, v in (extra or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def run(self, args, extra_env=None, timeout=90):
        t0 = time.monotonic()
        r = subprocess.run([self.binary] + list(args), env=self.env(extra_env),
                           capture_output=True, timeout=timeout)
        dt = time.monotonic() - t0
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        self.outputs.append(("stdout of " + " ".join(args[:2]), out))
        self.outputs.append(("stderr of " + " ".join(args[:2]), err))
        return r.returncode, out, err, dt

    def slurp(self, path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                s = f.read()
        except OSError:
            return None
        self.outputs.append((path, s))
        return s

    def check(self, name, fn):
        try:
            fn()
        except AssertionError as e:
            self.failed += 1
            print("FAIL - %s: %s" % (name, e))
            sys.stdout.flush()
            return
        except Exception as e:  # a broken test is a failure too
            self.failed += 1
            print("FAIL - %s: %s: %s" % (name, type(e).__name__, e))
            sys.stdout.flush()
            return
        self.passed += 1
        print("ok - %s" % name)
        sys.stdout.flush()

    def no_secrets(self, extra=()):
        """No secret of the fake (or extra) in anything whydenied wrote."""
        found = []
        key_lines = []
        if self.fake.public_key:
            with open(os.path.join(self.dir, "sa-key.pem")) as f:
                key_lines = [l.strip() for l in f if len(l.strip()) >= 16
                             and not l.startswith("-----")]
        for where, text in self.outputs:
            for s in list(self.fake.secrets()) + key_lines + list(extra):
                if s and s in text:
                    found.append("%s holds %s..." % (where, s[:12]))
        assert not found, "; ".join(found[:5])

    def finish(self):
        self.fake.stop()
        self.tmp.cleanup()
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)
