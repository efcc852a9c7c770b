"""test_pull.py - whydenied pull against the fake Logging API (issue 5).

Pagination, the request it sends, faults (429, 503, empty pages with a
token, slow and dripping pages, malformed bodies, a connection cut
mid-body, a 200 HTML answer, an endless body, no answer at all, tokens
forever), pacing, and exit codes. Every failure must be reported exactly
once (--events-json), and no secret may appear in any output.

usage: python3 test_pull.py WHYDENIED_BINARY
"""

import collections
import json
import os
import pty
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import Suite, expect, CORPUS  # noqa: E402

FROM = "2026-11-25T00:00:00Z"
TO = "2026-11-27T00:00:00Z"


def main():
    if len(sys.argv) != 2:
        print("usage: test_pull.py WHYDENIED_BINARY")
        return 2
    s = Suite(sys.argv[1])
    f = s.fake
    n = [0]

    def events_path():
        n[0] += 1
        return os.path.join(s.dir, "events-%d.json" % n[0])

    def pull(extra_args=(), env=None, faults=None, always=None,
             token=True, page_size=10):
        f.reset(faults, always)
        ev = events_path()
        args = ["pull", "--project", "acme-ci", "--endpoint", f.url,
                "--from", FROM, "--to", TO, "--page-size", str(page_size),
                "--rate", "6000", "--format", "json", "--events-json", ev,
                "--no-step-summary"] + list(extra_args)
        e = dict(env or {})
        if token:
            e.setdefault("GOOGLE_OAUTH_ACCESS_TOKEN", f.static_token)
        rc, out, err, dt = s.run(args, e)
        text = s.slurp(ev) or ""
        events = [json.loads(l) for l in text.splitlines() if l.strip()]
        try:
            report = json.loads(out) if out.strip() else None
        except ValueError:
            report = None
        return rc, out, err, dt, events, report

    # The failures the corpus holds, as scan sees them.
    ev0 = events_path()
    rc, _, err, _ = s.run(["scan", "--events-json", ev0, "--format", "json",
                           "--no-step-summary", CORPUS])
    expected = collections.Counter(
        (e["insert_id"], e["rule"]) for e in
        (json.loads(l) for l in open(ev0) if l.strip()))
    assert rc == 0 and len(expected) > 50, "scan of the corpus failed: " + err

    def same_failures(events):
        got = collections.Counter((e["insert_id"], e["rule"]) for e in events)
        dup = [k for k, v in got.items() if v > 1]
        expect(not dup, "reported more than once: %s" % dup[:3])
        missing = expected - got
        extra = got - expected
        expect(not missing, "never reported: %s" % list(missing)[:3])
        expect(not extra, "not in the corpus: %s" % list(extra)[:3])

    def summary(report):
        expect(report is not None, "no JSON report on stdout")
        return report["summary"]

    def t_pages():
        rc, out, err, dt, events, report = pull()
        expect(rc == 0, "rc %d: %s" % (rc, err))
        same_failures(events)
        reqs = f.list_requests()
        expect(len(reqs) == 10, "%d requests for 97 entries in pages of 10"
               % len(reqs))
        first = reqs[0]["json"]
        expect(first["resourceNames"] == ["projects/acme-ci"],
               "resourceNames %r" % first["resourceNames"])
        expect(first["pageSize"] == 10, "pageSize %r" % first["pageSize"])
        expect(first["orderBy"] == "timestamp desc", "orderBy")
        expect("pageToken" not in first, "first page has a token")
        flt = first["filter"]
        expect('(timestamp>="%s")' % FROM in flt, "no lower bound: " + flt)
        expect('(timestamp<="%s")' % TO in flt, "no upper bound: " + flt)
        expect('log_id("cloudaudit.googleapis.com/activity")' in flt and
               'log_id("cloudaudit.googleapis.com/data_access")' in flt and
               'log_id("cloudaudit.googleapis.com/policy")' in flt,
               "audit logs missing: " + flt)
        expect("protoPayload.status.code!=0" in flt and
               "protoPayload.status.message:*" in flt,
               "failure selection: " + flt)
        for i, r in enumerate(reqs[1:], 1):
            expect(r["json"].get("pageToken", "").startswith(
                "tok-%d-" % (10 * i)), "page %d token %r" %
                (i + 1, r["json"].get("pageToken")))
            expect(r["json"]["filter"] == flt, "filter changed between pages")
        h = reqs[0]["headers"]
        expect(h.get("user-agent") == "whydenied/0.1.0 (gzip)",
               "User-Agent %r" % h.get("user-agent"))
        expect("gzip" in h.get("accept-encoding", ""), "gzip not accepted")
        expect(h.get("authorization") == "Bearer " + f.static_token,
               "no bearer token")
        expect(h.get("content-type", "").startswith("application/json"),
               "content type")
        expect("x-goog-user-project" not in h, "quota project sent unasked")
        sm = summary(report)
        expect(sm["inputs"] == 10 and sm["inputs_unreadable"] == 0,
               "inputs %r" % sm)
        expect(sm["entries"] == 97, "entries %r" % sm["entries"])
        expect("\r" not in err, "progress drawn although stderr is no tty")
        expect(report["source"] == "pull" if "source" in report else True,
               "source")

    def t_faults_recovered():
        faults = {2: "429", 3: "503", 5: "empty", 6: "slow", 7: "malformed",
                  9: "cut", 11: "drip", 13: "500"}
        rc, out, err, dt, events, report = pull(faults=faults)
        expect(rc == 0, "rc %d: %s" % (rc, err))
        same_failures(events)
        reqs = f.list_requests()
        # 10 pages + the empty one + a retry each for 429, 503, malformed,
        # cut and 500.
        expect(len(reqs) == 16, "%d requests, expected 16" % len(reqs))
        tokens = [r["json"].get("pageToken") for r in reqs]
        expect(tokens[1] == tokens[2] == tokens[3],
               "a retried page did not ask for the same token: %r"
               % tokens[:4])
        sm = summary(report)
        expect(sm["inputs_unreadable"] == 0, "unreadable inputs %r" % sm)
        expect(sm["skipped"] == 0, "skipped entries: %r" % sm)
        expect("retry 1 of 5" in err, "retries not told: " + err)
        expect("INCOMPLETE" not in err, "said incomplete: " + err)
        expect("sent twice" in err, "duplicates after the cut not told")
        # Entries re-sent after the cut are analysed once and counted once
        # (regression: they used to count twice in "entries read").
        expect(sm["entries"] == 97, "entries counted %r" % sm["entries"])
        expect(sm["duplicates"] > 0, "duplicates not counted: %r" % sm)

    def t_pacing():
        rc, out, err, dt, events, report = pull(
            ["--rate", "120"], page_size=20, faults={3: "503"})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        same_failures(events)
        ts = [r["t"] for r in f.list_requests()]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        expect(len(ts) == 6, "%d requests" % len(ts))
        expect(min(gaps) >= 0.5 * 0.95, "requests %.3f s apart at --rate 120"
               % min(gaps))
        # no 60-second window (here: 1 s scaled) holds more than rate
        # (0.95 s: the server's clock sees requests a little unevenly)
        win = [sum(1 for u in ts if t <= u < t + 0.95) for t in ts]
        expect(max(win) <= 2, "%d requests within 1 s at 2/s" % max(win))
        print("# pacing: --rate 120 -> gaps %s s (min %.3f)"
              % (", ".join("%.3f" % g for g in gaps), min(gaps)))

    def t_pacing_default():
        # The default, 60 a minute: one request a second.
        rc, out, err, dt, events, report = pull(
            ["--rate", "60", "--max-pages", "3"], always="forever")
        expect(rc == 0, "rc %d: %s" % (rc, err))
        ts = [r["t"] for r in f.list_requests()]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        expect(len(ts) == 3 and min(gaps) >= 0.95,
               "gaps %r at the default rate" % gaps)
        print("# pacing: --rate 60 -> gaps %s s"
              % ", ".join("%.3f" % g for g in gaps))

    def t_429_exhausted():
        rc, out, err, dt, events, report = pull(["--max-retries", "2"],
                                                always="429")
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 3, "%d requests for 2 retries"
               % len(f.list_requests()))
        expect("Read requests per minute" in err and
               "ReadRequestsPerMinutePerProject" in err,
               "quota not named: " + err)
        expect("nothing could be read from the Logging API" in err,
               "loss not said: " + err)
        sm = summary(report)
        expect(sm["inputs_unreadable"] == 1, "lost page not in report")
        bad = [i for i in report["inputs"] if i["status"] == "error"]
        expect(bad and "429" in bad[0]["message"], "inputs %r"
               % report["inputs"])

    def t_lost_midway():
        rc, out, err, dt, events, report = pull(
            ["--max-retries", "1"], faults={3: "503", 4: "503"})
        expect(rc == 3, "rc %d" % rc)
        expect("INCOMPLETE: entries:list page 3 could not be read" in err
               and "2 pages were read" in err, "stderr: " + err)
        expect(err.count("HTTP 503 UNAVAILABLE: The service is currently "
                         "unavailable. (gave up") == 1,
               "the loss is not told exactly once: " + err)
        ids = collections.Counter(e["insert_id"] for e in events)
        expect(all(v == 1 for v in ids.values()), "duplicates")
        expect(0 < len(events) < sum(expected.values()), "%d failures"
               % len(events))
        sm = summary(report)
        expect(sm["inputs_unreadable"] == 1, "summary %r" % sm)

    def t_hang():
        rc, out, err, dt, events, report = pull(
            ["--max-retries", "1"], env={"WHYDENIED_HTTP_TIMEOUT": "1"},
            always="hang")
        expect(rc == 3, "rc %d" % rc)
        expect(dt < 8, "took %.1f s" % dt)
        expect(len(f.list_requests()) == 2, "%d requests"
               % len(f.list_requests()))
        expect("timed out" in err, "stderr: " + err)

    def t_html():
        rc, out, err, dt, events, report = pull(always="html")
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 1, "HTML answer retried")
        expect("not JSON" in err and "text/html" in err, "stderr: " + err)

    def t_endless():
        rc, out, err, dt, events, report = pull(always="endless")
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 1, "endless body retried")
        expect("more than 10 items" in err, "stderr: " + err)
        expect(dt < 8, "took %.1f s" % dt)

    def t_endless_whitespace():
        rc, out, err, dt, events, report = pull(
            ["--max-retries", "0"], env={"WHYDENIED_HTTP_TIMEOUT": "1.5"},
            always="endless-ws")
        expect(rc == 3, "rc %d" % rc)
        expect("timed out" in err, "stderr: " + err)
        expect(dt < 8, "took %.1f s" % dt)

    def t_forever():
        rc, out, err, dt, events, report = pull(["--max-pages", "5"],
                                                always="forever")
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(len(f.list_requests()) == 5, "%d requests"
               % len(f.list_requests()))
        expect("--max-pages 5" in err, "stderr: " + err)

    def t_403():
        rc, out, err, dt, events, report = pull(always="403-private")
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 1, "403 retried")
        expect("roles/logging.privateLogViewer" in err and
               "--logs activity,policy" in err, "stderr: " + err)
        rc, out, err, dt, events, report = pull(always="403-list")
        expect(rc == 3 and len(f.list_requests()) == 1, "403 list")
        expect("roles/logging.viewer" in err, "stderr: " + err)

    def t_400_404():
        for fault in ("400", "404"):
            rc, out, err, dt, events, report = pull(always=fault)
            expect(rc == 3, "%s: rc %d" % (fault, rc))
            expect(len(f.list_requests()) == 1, "%s retried" % fault)
            expect("HTTP " + fault in err, "stderr: " + err)

    def t_401_bare_token():
        rc, out, err, dt, events, report = pull(always="401")
        expect(rc == 3, "rc %d" % rc)
        expect(len(f.list_requests()) == 1, "%d requests"
               % len(f.list_requests()))
        expect("cannot be refreshed" in err, "stderr: " + err)

    def t_max_entries():
        rc, out, err, dt, events, report = pull(["--max-entries", "15"])
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(len(f.list_requests()) == 2, "%d requests"
               % len(f.list_requests()))
        expect("--max-entries 15" in err, "stderr: " + err)
        expect(0 < len(events) <= 15, "%d failures" % len(events))

    def t_print_filter():
        f.reset()
        rc, out, err, dt = s.run(["pull", "--project", "p", "--print-filter",
                                  "--principal", 'tf@p.iam.gserviceaccount'
                                  '.com', "--logs", "activity,system_event"])
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect(not f.requests, "--print-filter sent requests")
        expect('(timestamp>="2026-11-27T11:00:00Z")' in out and
               '(timestamp<="2026-11-27T12:00:00Z")' in out,
               "default window is not the last hour: " + out)
        expect('principalEmail="tf@p.iam.gserviceaccount.com"' in out, out)
        expect("system_event" in out and "data_access" not in out, out)

    def t_quota_project():
        rc, out, err, dt, events, report = pull(
            env={"GOOGLE_CLOUD_QUOTA_PROJECT": "acme-billing"})
        expect(rc == 0, "rc %d" % rc)
        h = f.list_requests()[0]["headers"]
        expect(h.get("x-goog-user-project") == "acme-billing",
               "x-goog-user-project %r" % h.get("x-goog-user-project"))

    def t_env_project_and_order():
        f.reset()
        rc, out, err, dt = s.run(
            ["pull", "--endpoint", f.url, "--from", FROM, "--to", TO,
             "--rate", "6000", "--order", "asc", "--max-pages", "1",
             "--no-step-summary"],
            {"GOOGLE_OAUTH_ACCESS_TOKEN": f.static_token,
             "GOOGLE_CLOUD_PROJECT": "acme-env"})
        expect(rc == 0, "rc %d: %s" % (rc, err))
        req = f.list_requests()[0]["json"]
        expect(req["resourceNames"] == ["projects/acme-env"],
               "resourceNames %r" % req["resourceNames"])
        expect(req["orderBy"] == "timestamp asc", "orderBy %r"
               % req["orderBy"])
        expect(req["pageSize"] == 1000, "default pageSize %r"
               % req["pageSize"])
        expect("from the environment" in err, "stderr: " + err)

    def t_batches():
        args = []
        for i in range(63):
            args += ["--project", "acme-%d" % i]
        for i in range(40):
            args += ["--folder", str(1000 + i)]
        rc, out, err, dt, events, report = pull(args, page_size=100)
        expect(rc == 0, "rc %d: %s" % (rc, err))
        sizes = [len(r["json"]["resourceNames"]) for r in f.list_requests()]
        expect(sizes == [100, 4], "resourceNames per request %r" % sizes)
        same_failures(events)   # the second batch's copies are dropped

    def t_usage():
        f.reset()
        rc, out, err, dt = s.run(["pull", "--project", "p", "--endpoint",
                                  "http://example.com"],
                                 {"GOOGLE_OAUTH_ACCESS_TOKEN": "x" * 20})
        expect(rc == 2 and "https://" in err, "plain http: %d %s" % (rc, err))
        rc, out, err, dt = s.run(["pull", "--project", "p", "--since", "1h",
                                  "--from", FROM])
        expect(rc == 2, "--since with --from: rc %d" % rc)
        rc, out, err, dt = s.run(["pull", "--project", "p", "--filter",
                                  'a) OR (b', "--print-filter"])
        expect(rc == 2, "unbalanced --filter: rc %d" % rc)
        rc, out, err, dt = s.run(["pull", "--endpoint", f.url],
                                 {"GOOGLE_OAUTH_ACCESS_TOKEN": "x" * 20})
        expect(rc == 2 and "--project" in err, "no resource: %d %s"
               % (rc, err))
        expect(not f.requests, "requests sent on a usage error")

    def t_report_outputs():
        md = os.path.join(s.dir, "report.md")
        csv = os.path.join(s.dir, "report.csv")
        rc, out, err, dt, events, report = pull(["--markdown", md, "--csv",
                                                 csv])
        expect(rc == 0, "rc %d" % rc)
        expect(s.slurp(md) and s.slurp(csv), "report files missing")

    def t_step_log():
        # Issue 6: the step's own output narrows the pull (IAM denials to
        # the permission the step was denied; everything else kept) and
        # the failure seen in both places is one cause, marked so.
        log = os.path.join(s.dir, "tf.log")
        with open(log, "w") as fh:
            fh.write("\u2502 Error: Error creating Repository: googleapi: Error "
                     "403: Permission 'artifactregistry.repositories.create' "
                     "denied on resource (or it may not exist).\n"
                     "\u2502 \n\u2502   with google_artifact_registry_repository"
                     ".repo,\n\u2502   on main.tf line 7, in resource "
                     "\"google_artifact_registry_repository\" \"repo\":\n")
        rc, out, err, dt, events, report = pull(["--step-log", log])
        expect(rc == 0, "rc %d: %s" % (rc, err))
        flt = [r["json"].get("filter", "") for r in f.list_requests()]
        expect(flt and all('permission=("artifactregistry.repositories.'
                           'create")' in x for x in flt),
               "no permission narrowing in the filter: %r" % flt[:1])
        expect(flt and all("NOT protoPayload.status.code:*" in x
                           for x in flt), "message-only failures dropped")
        causes = [c for c in report["causes"]
                  if c["subject"] == "artifactregistry.repositories.create"]
        expect(len(causes) == 1, "causes %r" % causes)
        expect(causes and causes[0]["seen_in"] == {"audit_log": True,
                                                   "step_log": True},
               "not marked seen in both: %r" % causes[:1])
        expect(causes and "google_artifact_registry_repository.repo "
               "(main.tf:7)" in causes[0]["locations"],
               "no Terraform location: %r" % causes[:1])

    def on_tty(args):
        """Runs whydenied with stderr on a terminal; returns rc, stderr."""
        m, sl = pty.openpty()
        p = subprocess.Popen([s.binary] + args, env=s.env(
            {"GOOGLE_OAUTH_ACCESS_TOKEN": f.static_token}),
            stdout=subprocess.DEVNULL, stderr=sl)
        os.close(sl)
        data = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([m], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(m, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            elif p.poll() is not None:
                break
        os.close(m)
        rc = p.wait(timeout=30)
        err = data.decode("utf-8", "replace")
        s.outputs.append(("tty stderr", err))
        return rc, err

    def t_progress():
        args = ["pull", "--project", "acme-ci", "--endpoint", f.url,
                "--from", FROM, "--to", TO, "--page-size", "10",
                "--rate", "6000", "--no-step-summary"]
        f.reset()
        rc, err = on_tty(args)
        expect(rc == 0, "rc %d: %s" % (rc, err))
        expect("10 pages, 97 entries" in err and "failures" in err and
               "requests/min" in err and "\r" in err,
               "no progress on a terminal: %r" % err[-300:])
        f.reset()
        rc, err = on_tty(args + ["--quiet"])
        expect(rc == 0 and "pages" not in err, "--quiet drew progress")

    s.check("pages: request shape, tokens chained, filter bounds", t_pages)
    s.check("progress on a terminal only, not with --quiet", t_progress)
    s.check("faults recovered: 429, 503, 500, empty page, slow, drip, "
            "malformed, cut", t_faults_recovered)
    s.check("pacing holds at --rate 120", t_pacing)
    s.check("pacing holds at 60 a minute", t_pacing_default)
    s.check("429 exhausted: exit 3 naming the quota", t_429_exhausted)
    s.check("a page lost midway: exit 3, report says so", t_lost_midway)
    s.check("no answer: timeout, retry, exit 3", t_hang)
    s.check("200 with HTML: not retried, exit 3", t_html)
    s.check("endless body: stopped, exit 3", t_endless)
    s.check("endless whitespace: timeout, exit 3", t_endless_whitespace)
    s.check("nextPageToken forever: --max-pages", t_forever)
    s.check("403 explained, not retried", t_403)
    s.check("400 and 404 not retried", t_400_404)
    s.check("401 with a bare token: clear failure", t_401_bare_token)
    s.check("--max-entries", t_max_entries)
    s.check("--print-filter", t_print_filter)
    s.check("x-goog-user-project from GOOGLE_CLOUD_QUOTA_PROJECT",
            t_quota_project)
    s.check("project from GOOGLE_CLOUD_PROJECT, --order asc, default "
            "page size", t_env_project_and_order)
    s.check("more than 100 resources: batches", t_batches)
    s.check("usage errors: exit 2, no request", t_usage)
    s.check("every report output works", t_report_outputs)
    s.check("--step-log narrows and marks", t_step_log)
    s.check("no secret in any output", s.no_secrets)
    return s.finish()


if __name__ == "__main__":
    sys.exit(main())
