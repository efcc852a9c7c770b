#!/usr/bin/env python3
"""Labelled-corpus accuracy check for whydenied's rules.

usage: check.py WHYDENIED_BINARY CORPUS_DIR

Runs
    WHYDENIED_RULES=<repo>/rules whydenied scan CORPUS_DIR/entries.jsonl \
        --events-json <tmp> --format json
(LC_ALL=C) and compares the events (one JSON object per failure) with
CORPUS_DIR/expected.tsv, whose lines are

    INSERT_ID <TAB> CATEGORY [<TAB> key=value]...   a failure: exactly one
                                                    event, that category,
                                                    each key=value among vars
    INSERT_ID <TAB> -                               not a failure: no event

Blank lines and lines starting with '#' are ignored. Any event whose insert
id is not labelled is a mismatch too. Prints one line per mismatch, the
accuracy per expected category, and finally "N passed, M failed" (N =
labelled entries matched fully; M = labelled entries that did not, plus
unlabelled insert ids that produced events). Exits 1 if anything failed,
2 on usage or run errors. Python 3 standard library only.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

NO_EVENT = "-"


def die(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(2)


def read_expected(path):
    """Returns an ordered dict insert_id -> (line, category, [(k, v)])."""
    expected = collections.OrderedDict()
    with open(path, encoding="utf-8") as fp:
        for n, raw in enumerate(fp, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 2 or not cols[0] or not cols[1]:
                die("%s:%d: expected INSERT_ID<TAB>CATEGORY" % (path, n))
            iid, cat = cols[0], cols[1]
            pairs = []
            for c in cols[2:]:
                if c == "":
                    continue
                if "=" not in c:
                    die("%s:%d: '%s' is not key=value" % (path, n, c))
                k, v = c.split("=", 1)
                pairs.append((k, v))
            if cat == NO_EVENT and pairs:
                die("%s:%d: a '-' line takes no key=value" % (path, n))
            if iid in expected:
                die("%s:%d: duplicate insert id %s" % (path, n, iid))
            expected[iid] = (n, cat, pairs)
    return expected


def run_scan(binary, corpus, rules, events_path):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["WHYDENIED_RULES"] = rules
    cmd = [binary, "scan", os.path.join(corpus, "entries.jsonl"),
           "--events-json", events_path, "--format", "json"]
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    except OSError as e:
        die("cannot run %s: %s" % (binary, e))
    # 0: analysed; 1: causes at or above --fail-on. Anything else is an
    # error of the run itself (usage, rules, input).
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        die("%s exited with %d" % (" ".join(cmd), p.returncode))
    try:
        json.loads(p.stdout.decode("utf-8"))
    except ValueError as e:
        die("the --format json report is not JSON: %s" % e)


def read_events(path):
    """Returns insert_id -> [event, ...] (insert_id None when absent)."""
    events = collections.defaultdict(list)
    with open(path, encoding="utf-8") as fp:
        for n, line in enumerate(fp, 1):
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError as e:
                die("%s:%d: not JSON: %s" % (path, n, e))
            events[ev.get("insert_id")].append(ev)
    return events


def show(v):
    return "(absent)" if v is None else "'%s'" % v


def check_entry(iid, cat, pairs, evs):
    """Returns a list of mismatch descriptions (empty when it matches)."""
    if cat == NO_EVENT:
        if evs:
            return ["%s: expected no event (not a failure), got %d: %s"
                    % (iid, len(evs), ", ".join(
                        "%s/%s" % (e.get("category"), e.get("rule"))
                        for e in evs))]
        return []
    if not evs:
        return ["%s: expected %s, got no event" % (iid, cat)]
    if len(evs) != 1:
        return ["%s: expected exactly one event, got %d" % (iid, len(evs))]
    ev = evs[0]
    out = []
    if ev.get("category") != cat:
        out.append("%s: category expected %s, got %s (rule %s)"
                   % (iid, cat, ev.get("category"), ev.get("rule")))
    vars_ = ev.get("vars") or {}
    for k, v in pairs:
        got = vars_.get(k)
        if got != v:
            out.append("%s: %s expected '%s', got %s (rule %s)"
                       % (iid, k, v, show(got), ev.get("rule")))
    return out


def main(argv):
    if len(argv) != 3:
        print("usage: check.py WHYDENIED_BINARY CORPUS_DIR", file=sys.stderr)
        return 2
    binary = os.path.abspath(argv[1])
    corpus = os.path.abspath(argv[2])
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    rules = os.path.join(repo, "rules")
    expected = read_expected(os.path.join(corpus, "expected.tsv"))

    with tempfile.TemporaryDirectory(prefix="wd-corpus-") as tmp:
        events_path = os.path.join(tmp, "events.ndjson")
        run_scan(binary, corpus, rules, events_path)
        events = read_events(events_path)

    passed = failed = 0
    per_cat = collections.OrderedDict()
    for iid, (_, cat, pairs) in expected.items():
        problems = check_entry(iid, cat, pairs, events.get(iid, []))
        tally = per_cat.setdefault(cat, [0, 0])
        tally[1] += 1
        if problems:
            failed += 1
            for p in problems:
                print(p)
        else:
            passed += 1
            tally[0] += 1
    for iid in sorted(events, key=lambda x: (x is None, x or "")):
        if iid in expected:
            continue
        failed += 1
        for ev in events[iid]:
            print("%s: unlabelled event %s/%s at %s"
                  % (iid if iid is not None else "(no insertId)",
                     ev.get("category"), ev.get("rule"), ev.get("source")))

    print("accuracy by expected category:")
    for cat in sorted(per_cat, key=lambda c: (c == NO_EVENT, c)):
        ok, total = per_cat[cat]
        name = "(no event)" if cat == NO_EVENT else cat
        print("  %-16s %3d/%-3d %6.1f%%" % (name, ok, total,
                                            100.0 * ok / total))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
