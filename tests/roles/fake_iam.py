#!/usr/bin/env python3
"""A fake IAM roles.list endpoint for 'whydenied roles update' tests.

Usage: fake_iam.py --roles FILE [--per-page N] [--token T] [--fail N:STATUS]...
                   [--cut N] --port-file FILE [--log FILE]

Serves GET /v1/roles?view=FULL&pageSize=1000[&pageToken=...] on 127.0.0.1
(a free port, written to --port-file once listening): the roles of FILE (a
JSON array of role objects) split into pages of --per-page roles, each page
{"roles": [...], "nextPageToken": "..."} but the last. Tokens are opaque
strings with characters that need escaping in a query.

--token: the bearer token every request must carry (else 401).
--fail N:STATUS: answer the Nth request (1-based) with that HTTP status, a
  google.rpc.Status body and "Retry-After: 0" (repeatable).
--cut N: send the Nth request's page cut in the middle (the connection is
  closed before Content-Length bytes).
--log: one line per request: "N GET PATH -> STATUS".

Python 3 standard library only. Stops when killed.
"""

import argparse
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def token_for(page):
    return "tok/%d+=&" % page


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--roles", required=True)
    ap.add_argument("--per-page", type=int, default=2)
    ap.add_argument("--token", default="")
    ap.add_argument("--fail", action="append", default=[])
    ap.add_argument("--cut", type=int, action="append", default=[])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()

    with open(args.roles, encoding="utf-8") as fh:
        roles = json.load(fh)
    pages = [roles[i:i + args.per_page]
             for i in range(0, len(roles), args.per_page)] or [[]]
    fails = {}
    for f in args.fail:
        n, status = f.split(":")
        fails[int(n)] = int(status)
    state = {"n": 0}
    log = open(args.log, "w", encoding="utf-8") if args.log else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, body, headers=(), cut=False):
            data = json.dumps(body).encode()
            # Logged first: the client may look at the log as soon as it
            # has the answer.
            if log:
                log.write("%d GET %s -> %d%s\n" % (
                    state["n"], self.path, status, " (cut)" if cut else ""))
                log.flush()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data[:len(data) // 2] if cut else data)
            if cut:
                self.close_connection = True

        def error(self, status, reason, msg):
            self.reply(status, {"error": {"code": status, "message": msg,
                                          "status": reason}},
                       headers=[("Retry-After", "0")])

        def do_GET(self):
            state["n"] += 1
            n = state["n"]
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if args.token and self.headers.get("Authorization") != \
                    "Bearer " + args.token:
                return self.error(401, "UNAUTHENTICATED", "bad token")
            if url.path != "/v1/roles" or q.get("view") != ["FULL"] or \
                    q.get("pageSize") != ["1000"]:
                return self.error(400, "INVALID_ARGUMENT", "bad request")
            if n in fails:
                status = fails[n]
                if status == 403:
                    return self.error(status, "PERMISSION_DENIED",
                                      "Permission 'iam.roles.list' denied")
                return self.error(status, "UNAVAILABLE", "try again")
            page = 0
            if "pageToken" in q:
                tok = q["pageToken"][0]
                found = [i for i in range(len(pages)) if token_for(i) == tok]
                if not found:
                    return self.error(400, "INVALID_ARGUMENT", "bad token")
                page = found[0]
            body = {"roles": pages[page]}
            if page + 1 < len(pages):
                body["nextPageToken"] = token_for(page + 1)
            self.reply(200, body, cut=n in args.cut)

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as fh:
        fh.write("%d\n" % srv.server_address[1])
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
