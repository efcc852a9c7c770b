"""test_auth.py - credentials for whydenied pull and auth (issue 5).

Each source in its order: --access-token-file, GOOGLE_OAUTH_ACCESS_TOKEN,
CLOUDSDK_AUTH_ACCESS_TOKEN_FILE, GOOGLE_APPLICATION_CREDENTIALS
(service_account with an RS256 JWT-bearer grant the fake verifies with
the openssl CLI, authorized_user, external_account with a url source and
impersonation exactly as google-github-actions/auth writes it, and with a
file source as GitLab CI uses it), gcloud's ADC file under
CLOUDSDK_CONFIG, and the metadata server. Token endpoint errors are told
without secrets; 401 refreshes once.

usage: python3 test_auth.py WHYDENIED_BINARY
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import Suite, expect  # noqa: E402

FROM = "2026-11-25T00:00:00Z"
TO = "2026-11-27T00:00:00Z"


def main():
    if len(sys.argv) != 2:
        print("usage: test_auth.py WHYDENIED_BINARY")
        return 2
    s = Suite(sys.argv[1])
    f = s.fake
    key = s.keypair()

    def sa_file(name="sa.json", private_key=None):
        return s.write(name, {
            "type": "service_account", "project_id": "acme-ci",
            "private_key_id": f.sa_key_id,
            "private_key": private_key or key,
            "client_email": f.sa_email, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f.url + "/token",
            "universe_domain": "googleapis.com"})

    def user_file(path, quota="acme-quota", account="dev@example.com"):
        d = {"type": "authorized_user", "client_id": f.client_id,
             "client_secret": f.client_secret,
             "refresh_token": f.refresh_token,
             "token_uri": f.url + "/token"}
        if quota:
            d["quota_project_id"] = quota
        if account:
            d["account"] = account
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as w:
            json.dump(d, w)
        return path

    def gha_file(impersonate=True):
        # What google-github-actions/auth writes (src/client/
        # workload_identity_federation.ts), pointed at the fake.
        d = {"type": "external_account",
             "audience": f.audience,
             "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
             "token_url": f.url + "/sts",
             "credential_source": {
                 "url": f.url + "/oidc?api-version=2.0&audience="
                 "https://iam.googleapis.com/projects/123/locations/global/"
                 "workloadIdentityPools/ci/providers/gh",
                 "headers": {"Authorization": "Bearer " + f.request_token},
                 "format": {"type": "json",
                            "subject_token_field_name": "value"}}}
        if impersonate:
            d["service_account_impersonation_url"] = (
                f.url + "/v1/projects/-/serviceAccounts/" + f.impersonated +
                ":generateAccessToken")
        return s.write("gha-creds-0123456789abcdef.json", d)

    def gitlab_file(fmt="text"):
        tok = s.write("gitlab-id-token", (f.subject_token + "\n") if
                      fmt == "text" else json.dumps({"id_token":
                                                     f.subject_token}))
        src = {"file": tok}
        if fmt == "json":
            src["format"] = {"type": "json",
                             "subject_token_field_name": "id_token"}
        return s.write("gitlab-cred.json", {
            "type": "external_account", "audience": f.audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": f.url + "/sts", "credential_source": src})

    def pull(env, faults=None, extra=()):
        f.reset(faults)
        return s.run(["pull", "--project", "acme-ci", "--endpoint", f.url,
                      "--from", FROM, "--to", TO, "--page-size", "50",
                      "--rate", "6000", "--format", "json",
                      "--no-step-summary"] + list(extra), env)

    def auth(env, extra=()):
        f.reset()
        return s.run(["auth"] + list(extra), env)

    def bearers():
        return [r["headers"].get("authorization", "")[7:]
                for r in f.list_requests()]

    # -- service account ------------------------------------------------
    def t_service_account():
        rc, out, err, dt = pull({"GOOGLE_APPLICATION_CREDENTIALS":
                                 sa_file()})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(f.grants == ["jwt-bearer"], "grants %r" % f.grants)
        c = f.jwt_claims[-1]
        expect(c["header"] == {"alg": "RS256", "typ": "JWT",
                               "kid": f.sa_key_id}, "header %r" % c)
        cl = c["claims"]
        expect(cl["exp"] - cl["iat"] == 3600, "exp-iat %d"
               % (cl["exp"] - cl["iat"]))
        expect(cl["iat"] <= time.time() - 5, "iat not backdated")
        expect(cl["aud"] == f.url + "/token", "aud %r" % cl["aud"])
        b = bearers()
        expect(len(b) == 2 and all(x.startswith("ya29.sa-") for x in b),
               "Logging API bearer %r" % [x[:9] for x in b])

    def t_service_account_auth():
        rc, out, err, dt = auth({"GOOGLE_APPLICATION_CREDENTIALS":
                                 sa_file()})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect("GOOGLE_APPLICATION_CREDENTIALS" in out and
               "service_account" in out and f.sa_email in out,
               "auth said: " + out)
        expect("valid for" in out, out)

    def t_wrong_key():
        other = os.path.join(s.dir, "other.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out", other],
                       check=True, capture_output=True, timeout=60)
        with open(other) as r:
            okey = r.read()
        rc, out, err, dt = pull({"GOOGLE_APPLICATION_CREDENTIALS":
                                 sa_file("sa-wrong.json", okey)})
        expect(rc == 3, "rc %d" % rc)
        expect("invalid_grant" in err and "Invalid JWT Signature" in err,
               "stderr: " + err)
        expect(not f.list_requests(), "Logging API called without token")
        lines = [l.strip() for l in okey.splitlines() if len(l) >= 16 and
                 not l.startswith("-----")]
        for l in lines:
            expect(l not in out + err, "a line of the wrong key leaked")

    def t_401_then_success():
        rc, out, err, dt = pull({"GOOGLE_APPLICATION_CREDENTIALS":
                                 sa_file()}, faults={1: "401"})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(f.grants == ["jwt-bearer", "jwt-bearer"],
               "grants %r (one refresh expected)" % f.grants)
        b = bearers()
        expect(len(b) == 3 and b[0] != b[1], "tokens not refreshed")
        expect("refreshing the access token" in err, err)

    def t_401_twice():
        f.reset({1: "401", 2: "401"})
        rc, out, err, dt = s.run(
            ["pull", "--project", "acme-ci", "--endpoint", f.url, "--from",
             FROM, "--to", TO, "--rate", "6000", "--no-step-summary"],
            {"GOOGLE_APPLICATION_CREDENTIALS": sa_file()})
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 2, "%d requests"
               % len(f.list_requests()))
        expect("even after a fresh access token" in err, "stderr: " + err)

    # -- authorized user (gcloud ADC under CLOUDSDK_CONFIG) ---------------
    def t_authorized_user_adc():
        cfg = os.path.join(s.dir, "gcloud-config")
        user_file(os.path.join(cfg, "application_default_credentials.json"))
        rc, out, err, dt = pull({"CLOUDSDK_CONFIG": cfg})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(f.grants == ["refresh_token"], "grants %r" % f.grants)
        h = f.list_requests()[0]["headers"]
        expect(h.get("x-goog-user-project") == "acme-quota",
               "quota project header %r" % h.get("x-goog-user-project"))
        rc, out, err, dt = auth({"CLOUDSDK_CONFIG": cfg})
        expect(rc == 0 and "authorized_user" in out and
               "dev@example.com" in out and "acme-quota" in out,
               "auth said: " + out + err)

    def t_home_adc():
        user_file(os.path.join(s.dir, "home", ".config", "gcloud",
                               "application_default_credentials.json"),
                  quota=None, account=None)
        rc, out, err, dt = auth({})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect("gcloud application default credentials" in out and
               "the file does not name it" in out, out)
        os.remove(os.path.join(s.dir, "home", ".config", "gcloud",
                               "application_default_credentials.json"))

    def t_token_error_scrubbed():
        cfg = os.path.join(s.dir, "gcloud-config-2")
        user_file(os.path.join(cfg, "application_default_credentials.json"))
        f.reset()
        f.token_errors["refresh_token"] = (
            400, "invalid_grant", "Token has been expired or revoked: "
            + f.refresh_token + " client " + f.client_secret)
        rc, out, err, dt = s.run(["pull", "--project", "acme-ci",
                                  "--endpoint", f.url, "--from", FROM,
                                  "--to", TO, "--no-step-summary"],
                                 {"CLOUDSDK_CONFIG": cfg})
        expect(rc == 3, "rc %d" % rc)
        expect("invalid_grant" in err and "Token has been expired" in err,
               "stderr: " + err)
        expect("[REDACTED]" in err, "secret not replaced: " + err)
        expect("application-default login" in err, "no hint: " + err)

    # -- external accounts --------------------------------------------
    def t_github_actions():
        path = gha_file()
        rc, out, err, dt = pull({"GOOGLE_APPLICATION_CREDENTIALS": path})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        sts = [g for g in f.grants if g[0] == "sts"]
        iam = [g for g in f.grants if g[0] == "iam"]
        expect(len(sts) == 1 and len(iam) == 1, "grants %r" % f.grants)
        form = sts[0][1]
        expect(form["subject_token_type"] ==
               "urn:ietf:params:oauth:token-type:jwt", form)
        expect("cloud-platform" in form["scope"], form)
        expect(iam[0][2].get("lifetime") == "3600s" and
               iam[0][2]["scope"] == [
                   "https://www.googleapis.com/auth/cloud-platform"],
               "generateAccessToken body %r" % iam[0][2])
        oidc = [r for r in f.requests if r["path"] == "/oidc"]
        expect(len(oidc) == 1 and "audience=" in oidc[0]["query"],
               "OIDC url not called as written")
        gen = [r for r in f.requests if r["path"].endswith(
            ":generateAccessToken")]
        expect(gen[0]["headers"]["authorization"].startswith(
            "Bearer ya29.sts-"), "generateAccessToken not with STS token")
        expect(all(b.startswith("ya29.imp-") for b in bearers()),
               "Logging API not called with the impersonated token")
        rc, out, err, dt = auth({"GOOGLE_APPLICATION_CREDENTIALS": path})
        expect(rc == 0 and "external_account" in out and
               f.impersonated in out, "auth said: " + out + err)

    def t_iam_denied():
        path = gha_file()
        f.reset()
        f.token_errors["iam"] = (403, "PERMISSION_DENIED", "Permission "
                                 "'iam.serviceAccounts.getAccessToken' "
                                 "denied on resource (or it may not "
                                 "exist).")
        rc, out, err, dt = s.run(["auth"], {"GOOGLE_APPLICATION_CREDENTIALS":
                                            path})
        expect(rc == 3, "rc %d" % rc)
        expect("iam.serviceAccounts.getAccessToken" in err and
               "roles/iam.workloadIdentityUser" in err, "stderr: " + err)

    def t_sts_refused():
        path = gha_file(impersonate=False)
        f.reset()
        f.token_errors["sts"] = (400, "invalid_grant", "The audience in "
                                 "ID Token does not match the expected "
                                 "audience. token=" + f.subject_token)
        rc, out, err, dt = s.run(["auth"], {"GOOGLE_APPLICATION_CREDENTIALS":
                                            path})
        expect(rc == 3, "rc %d" % rc)
        expect("invalid_grant" in err and "audience" in err, err)
        expect(f.subject_token not in err, "subject token echoed")

    def t_gitlab_file():
        for fmt in ("text", "json"):
            path = gitlab_file(fmt)
            rc, out, err, dt = pull({"GOOGLE_APPLICATION_CREDENTIALS": path})
            expect(rc == 0, "%s: rc %d: %s" % (fmt, rc, err))
            expect(all(b.startswith("ya29.sts-") for b in bearers()),
                   "%s: Logging API not called with the STS token" % fmt)
            expect(not [g for g in f.grants if g[0] == "iam"],
                   "impersonation without a URL")
        rc, out, err, dt = auth({"GOOGLE_APPLICATION_CREDENTIALS": path})
        expect(rc == 0 and "federated identity of audience" in out and
               f.audience in out, "auth said: " + out + err)

    # -- metadata server ----------------------------------------------
    def t_metadata():
        host = "127.0.0.1:%d" % f.port
        rc, out, err, dt = pull({"GCE_METADATA_HOST": host})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        md = [r for r in f.requests if r["path"].startswith(
            "/computeMetadata/")]
        expect(md and all(r["headers"].get("metadata-flavor") == "Google"
                          for r in md), "Metadata-Flavor missing")
        expect(all(b.startswith("ya29.gce-") for b in bearers()),
               "Logging API not called with the metadata token")
        rc, out, err, dt = auth({"GCE_METADATA_HOST": host})
        expect(rc == 0 and "metadata server" in out and
               f.metadata_email in out, "auth said: " + out + err)

    def t_no_credentials():
        t0 = time.monotonic()
        rc, out, err, dt = auth({})
        expect(rc == 3, "rc %d" % rc)
        expect("no credentials found" in err and
               "GOOGLE_APPLICATION_CREDENTIALS" in err, "stderr: " + err)
        expect(time.monotonic() - t0 < 5, "no credentials took %.1f s" % dt)
        rc, out, err, dt = pull({})
        expect(rc == 3 and "no credentials found" in err,
               "pull: rc %d %s" % (rc, err))

    # -- bare tokens and precedence ---------------------------------------
    def t_precedence():
        tokfile = s.write("token.txt", f.static_token + "\n")
        broken = s.write("broken.json", "{ not json")
        # --access-token-file wins over a broken GOOGLE_APPLICATION_...
        f.reset()
        rc, out, err, dt = s.run(
            ["pull", "--project", "acme-ci", "--endpoint", f.url, "--from",
             FROM, "--to", TO, "--rate", "6000", "--no-step-summary",
             "--access-token-file", tokfile],
            {"GOOGLE_APPLICATION_CREDENTIALS": broken,
             "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.wrong-token-000000"})
        expect(rc == 0, "--access-token-file: rc %d %s" % (rc, err))
        # GOOGLE_OAUTH_ACCESS_TOKEN before CLOUDSDK_AUTH_ACCESS_TOKEN_FILE
        rc, out, err, dt = auth({"GOOGLE_OAUTH_ACCESS_TOKEN": f.static_token,
                                 "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": broken})
        expect(rc == 0 and "GOOGLE_OAUTH_ACCESS_TOKEN" in out, out + err)
        rc, out, err, dt = auth({"CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": tokfile,
                                 "GOOGLE_APPLICATION_CREDENTIALS": broken})
        expect(rc == 0 and "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE" in out,
               out + err)
        # set but broken: an error, no fall-through to ADC or metadata
        rc, out, err, dt = auth({"GOOGLE_APPLICATION_CREDENTIALS": broken})
        expect(rc == 2 and "not a JSON credential file" in err, err)
        rc, out, err, dt = auth({"GOOGLE_APPLICATION_CREDENTIALS":
                                 os.path.join(s.dir, "missing.json")})
        expect(rc == 2 and "cannot open" in err, err)

    def t_stale_token_file():
        tokfile = s.write("stale.txt", "ya29.stale-token-123456789\n")
        f.reset()
        rc, out, err, dt = s.run(
            ["pull", "--project", "acme-ci", "--endpoint", f.url, "--from",
             FROM, "--to", TO, "--no-step-summary"],
            {"CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": tokfile})
        expect(rc == 3, "rc %d" % rc)
        expect("still holds the same token" in err, "stderr: " + err)
        expect(len(f.list_requests()) == 1, "%d requests"
               % len(f.list_requests()))

    def t_secrets():
        s.no_secrets(extra=[key.split("\n")[1]])

    s.check("service_account: RS256 JWT-bearer grant verified", t_service_account)
    s.check("service_account: auth names the account", t_service_account_auth)
    s.check("service_account: wrong key -> invalid_grant, exit 3", t_wrong_key)
    s.check("401 then success: refreshed once", t_401_then_success)
    s.check("401 twice: fails clearly", t_401_twice)
    s.check("authorized_user from CLOUDSDK_CONFIG, quota project",
            t_authorized_user_adc)
    s.check("authorized_user from ~/.config/gcloud", t_home_adc)
    s.check("token endpoint error told, secrets scrubbed",
            t_token_error_scrubbed)
    s.check("external_account: google-github-actions/auth file",
            t_github_actions)
    s.check("external_account: generateAccessToken denied explained",
            t_iam_denied)
    s.check("external_account: STS refusal without the subject token",
            t_sts_refused)
    s.check("external_account: GitLab file source (text, json)",
            t_gitlab_file)
    s.check("metadata server via GCE_METADATA_HOST", t_metadata)
    s.check("no credentials: quick, clear, exit 3", t_no_credentials)
    s.check("source precedence; a broken named source is an error",
            t_precedence)
    s.check("a stale token file: refused clearly", t_stale_token_file)
    s.check("no secret in any output", t_secrets)
    return s.finish()


if __name__ == "__main__":
    sys.exit(main())
