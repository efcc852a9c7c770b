#!/usr/bin/env python3
"""Check src/roles/builtin_roles.inc against the predefined-role catalogue.

Usage: check_builtin.py INC_FILE CATALOGUE_JSON

The .inc file is hand-maintained: one C initialiser row per permission,
    { "permission", "roles/smallest", "roles/alternative-or-empty" },
sorted by permission. This script verifies each row against a catalogue in
the shape of the IAM API response `GET iam.googleapis.com/v1/roles?view=FULL`
({"roles":[{"name","title","description","stage","includedPermissions"}]}).

Ranking of the roles that hold a permission (smallest first):
  0. service-agent roles (name contains "serviceAgent", e.g.
     roles/run.serviceAgent; their titles all say "Service Agent") are ignored
     entirely: Google documents that they must only be granted to Google's
     service agents, never to users or user-managed service accounts, so they
     are never a useful suggestion. Set EXCLUDE_SERVICE_AGENT_ROLES = False
     to rank them like any other role.
  1. non-basic roles before basic ones (roles/owner, roles/editor, roles/viewer);
  2. stage GA before BETA before anything else (ALPHA, EAP, ...); a missing
     stage counts as GA; DEPRECATED and DISABLED roles are ignored entirely;
  3. fewer includedPermissions;
  4. lexicographically smaller role name.

Checks per row: the role exists, is not deprecated/disabled, holds the
permission, and no role ranks smaller (the better one is printed); the
alternative, if non-empty, exists, is not deprecated/disabled, differs from
the role, and holds the permission.
Global checks: at least MIN_ROWS rows, no duplicate permissions, rows sorted
by permission, no unparseable rows, every required service family present.

Prints one line per failure and a final line "N passed, M failed".
Exit status: 0 when nothing failed, 1 on any failure, 2 on usage/input
errors, 77 when the catalogue is missing (ctest SKIP_RETURN_CODE).

Python 3 standard library only.
"""

import json
import os
import re
import sys

MIN_ROWS = 150

BASIC_ROLES = frozenset(("roles/owner", "roles/editor", "roles/viewer"))
IGNORED_STAGES = frozenset(("DEPRECATED", "DISABLED"))
EXCLUDE_SERVICE_AGENT_ROLES = True
SERVICE_AGENT_RE = re.compile(r"serviceagent", re.IGNORECASE)

# Service families that must each have at least one row (the permission's
# prefix before the first dot).
REQUIRED_FAMILIES = (
    "iam", "resourcemanager", "serviceusage", "compute", "storage",
    "container", "run", "cloudfunctions", "cloudbuild", "artifactregistry",
    "secretmanager", "cloudkms", "bigquery", "pubsub", "logging", "apikeys",
    "cloudsql", "monitoring", "dns", "cloudscheduler", "aiplatform",
    "orgpolicy", "billing",
)

ROW_RE = re.compile(
    r'^\s*\{\s*"([^"\\]+)"\s*,\s*"([^"\\]+)"\s*,\s*"([^"\\]*)"\s*\}\s*,?\s*'
    r'(?://.*|/\*.*\*/\s*)?$'
)


def stage_rank(stage):
    if stage is None or stage == "" or stage == "GA":
        return 0
    if stage == "BETA":
        return 1
    return 2


def rank_key(role):
    return (
        1 if role["name"] in BASIC_ROLES else 0,
        stage_rank(role.get("stage")),
        len(role["perms"]),
        role["name"],
    )


def is_service_agent(role):
    return bool(SERVICE_AGENT_RE.search(role["name"]))


def is_ignored(role):
    if role.get("stage") in IGNORED_STAGES:
        return True
    return EXCLUDE_SERVICE_AGENT_ROLES and is_service_agent(role)


def why_ignored(role):
    if role.get("stage") in IGNORED_STAGES:
        return role["stage"]
    return "a service-agent role"


def parse_inc(path):
    """Return (rows, bad_lines): rows = [(lineno, perm, role, alt)]."""
    rows, bad = [], []
    in_block_comment = False
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if in_block_comment:
                if "*/" in text:
                    in_block_comment = False
                continue
            if not text or text.startswith("//"):
                continue
            if text.startswith("/*"):
                if "*/" not in text:
                    in_block_comment = True
                continue
            m = ROW_RE.match(line)
            if m:
                rows.append((lineno, m.group(1), m.group(2), m.group(3)))
            else:
                bad.append((lineno, text))
    return rows, bad


def load_catalogue(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    roles = {}
    by_perm = {}
    for r in data.get("roles", []):
        role = {
            "name": r["name"],
            "stage": r.get("stage"),
            "perms": frozenset(r.get("includedPermissions") or ()),
        }
        roles[role["name"]] = role
        if is_ignored(role):
            continue
        for p in role["perms"]:
            by_perm.setdefault(p, []).append(role)
    return roles, by_perm


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: check_builtin.py INC_FILE CATALOGUE_JSON\n")
        return 2
    inc_path, cat_path = argv[1], argv[2]
    if not os.path.exists(cat_path):
        print("catalogue not found, skipping")
        return 77
    if not os.path.exists(inc_path):
        sys.stderr.write("inc file not found: %s\n" % inc_path)
        return 2

    roles, by_perm = load_catalogue(cat_path)
    rows, bad_lines = parse_inc(inc_path)

    # Each row is one unit, and so is each global check: a unit passes when
    # it has no problem; every problem is printed on its own FAIL line.
    passed = 0
    failed = 0

    def fail_unit(msgs):
        nonlocal failed
        failed += 1
        for msg in msgs:
            print("FAIL: " + msg)

    def fail(msg):
        fail_unit([msg])

    # --- per-row checks -------------------------------------------------
    for lineno, perm, role_name, alt_name in rows:
        problems = []
        where = "line %d %s" % (lineno, perm)

        role = roles.get(role_name)
        if role is None:
            problems.append("role %s does not exist" % role_name)
        else:
            if is_ignored(role):
                problems.append("role %s is %s" % (role_name, why_ignored(role)))
            if perm not in role["perms"]:
                problems.append("role %s does not hold the permission" % role_name)

        holders = by_perm.get(perm, [])
        if not holders:
            problems.append("no usable role in the catalogue holds the permission")
        else:
            best = min(holders, key=rank_key)
            if best["name"] != role_name:
                if role is not None and not is_ignored(role) and perm in role["perms"]:
                    problems.append(
                        "role %s (%s, %d perms) ranks below %s (%s, %d perms)"
                        % (role_name, role.get("stage") or "GA", len(role["perms"]),
                           best["name"], best.get("stage") or "GA", len(best["perms"])))
                else:
                    problems.append("smallest role is %s (%s, %d perms)"
                                    % (best["name"], best.get("stage") or "GA",
                                       len(best["perms"])))

        if alt_name:
            alt = roles.get(alt_name)
            if alt_name == role_name:
                problems.append("alternative equals the role")
            if alt is None:
                problems.append("alternative %s does not exist" % alt_name)
            else:
                if is_ignored(alt):
                    problems.append("alternative %s is %s" % (alt_name, why_ignored(alt)))
                if perm not in alt["perms"]:
                    problems.append("alternative %s does not hold the permission" % alt_name)

        if problems:
            fail_unit(["%s: %s" % (where, p) for p in problems])
        else:
            passed += 1

    # --- global checks --------------------------------------------------
    if bad_lines:
        fail_unit(["line %d: unparseable row: %s" % (lineno, text)
                   for lineno, text in bad_lines])
    else:
        passed += 1

    if len(rows) >= MIN_ROWS:
        passed += 1
    else:
        fail("only %d rows, need at least %d" % (len(rows), MIN_ROWS))

    seen = {}
    dups = []
    for lineno, perm, _, _ in rows:
        if perm in seen:
            dups.append((lineno, perm, seen[perm]))
        else:
            seen[perm] = lineno
    if dups:
        fail_unit(["line %d: duplicate permission %s (first on line %d)"
                   % (lineno, perm, first) for lineno, perm, first in dups])
    else:
        passed += 1

    unsorted = [(rows[i][0], rows[i][1]) for i in range(1, len(rows))
                if rows[i][1] < rows[i - 1][1]]
    if unsorted:
        fail_unit(["line %d: %s is out of order" % (lineno, perm)
                   for lineno, perm in unsorted])
    else:
        passed += 1

    families = {}
    for _, perm, _, _ in rows:
        fam = perm.split(".", 1)[0]
        families[fam] = families.get(fam, 0) + 1
    missing = [f for f in REQUIRED_FAMILIES if f not in families]
    if missing:
        fail("missing service families: %s" % ", ".join(missing))
    else:
        passed += 1

    print("%d rows; families: %s" % (
        len(rows), ", ".join("%s=%d" % (f, families[f]) for f in sorted(families))))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
