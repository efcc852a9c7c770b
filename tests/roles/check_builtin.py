#!/usr/bin/env python3
"""Check src/roles/builtin_roles.inc against the predefined-role catalogue.

Usage: check_builtin.py INC_FILE CATALOGUE_JSON

The .inc file is hand-maintained: one C initialiser row per permission,
    { "permission", "roles/smallest", "roles/alternative-or-empty" },
sorted by permission. This script verifies each row against a catalogue in
the shape of the IAM API response `GET iam.googleapis.com/v1/roles?view=FULL`
({"roles":[{"name","title","description","stage","includedPermissions"}]}).

Ranking of the roles that hold a permission (best first), the same as
src/roles/build.c applies to an imported index:
  0. ignored entirely: DEPRECATED and DISABLED roles, and service-agent roles
     (the name contains "serviceAgent", compared case-insensitively so that
     e.g. roles/aiplatform.customCodeServiceAgent counts): Google documents
     that those must only be granted to its own service agents;
  1. non-basic roles before basic ones (roles/owner, roles/editor, roles/viewer);
  2. same-service roles first: the role name starts with "roles/<svc>." where
     <svc> is the permission's text before the first '.' (for
     "iam.googleapis.com/x.y" it is "iam"); no other special cases;
  3. stage GA before BETA before anything else (ALPHA, EAP, ...); a missing
     stage counts as GA;
  4. fewer includedPermissions;
  5. lexicographically smaller role name.

Checks per row: the role exists, is not ignored, holds the permission, and is
the first in that order (else the first is printed); the alternative is the
second in that order, or "" when only one role holds the permission.
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
SERVICE_AGENT_RE = re.compile(r"serviceagent", re.IGNORECASE)

# Service families that must each have at least one row (the permission's
# prefix before the first dot).
REQUIRED_FAMILIES = (
    "iam", "resourcemanager", "serviceusage", "compute", "storage",
    "container", "run", "cloudfunctions", "cloudbuild", "artifactregistry",
    "secretmanager", "cloudkms", "bigquery", "pubsub", "logging", "apikeys",
    "cloudsql",
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


def service_of(perm):
    return perm.split(".", 1)[0]


def rank_key(perm, role):
    return (
        1 if role["name"] in BASIC_ROLES else 0,
        0 if role["name"].startswith("roles/%s." % service_of(perm)) else 1,
        stage_rank(role.get("stage")),
        len(role["perms"]),
        role["name"],
    )


def describe(perm, role):
    """role (stage, N perms[, other service][, basic]) for messages."""
    extra = ""
    if not role["name"].startswith("roles/%s." % service_of(perm)):
        extra += ", other service"
    if role["name"] in BASIC_ROLES:
        extra += ", basic"
    return "%s (%s, %d perms%s)" % (role["name"], role.get("stage") or "GA",
                                   len(role["perms"]), extra)


def is_service_agent(role):
    return bool(SERVICE_AGENT_RE.search(role["name"]))


def is_ignored(role):
    if role.get("stage") in IGNORED_STAGES:
        return True
    return is_service_agent(role)


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

        holders = sorted(by_perm.get(perm, []), key=lambda r: rank_key(perm, r))
        if not holders:
            problems.append("no usable role in the catalogue holds the permission")
        elif holders[0]["name"] != role_name:
            best = holders[0]
            if role is not None and not is_ignored(role) and perm in role["perms"]:
                problems.append("role %s ranks below %s" % (describe(perm, role),
                                                           describe(perm, best)))
            else:
                problems.append("first role is %s" % describe(perm, best))

        want_alt = holders[1]["name"] if len(holders) > 1 else ""
        if alt_name and alt_name not in roles:
            problems.append("alternative %s does not exist" % alt_name)
        elif alt_name and is_ignored(roles[alt_name]):
            problems.append("alternative %s is %s" % (alt_name, why_ignored(roles[alt_name])))
        elif alt_name and perm not in roles[alt_name]["perms"]:
            problems.append("alternative %s does not hold the permission" % alt_name)
        elif alt_name != want_alt:
            problems.append("alternative should be %s, not %s"
                            % (describe(perm, holders[1]) if want_alt else '""',
                               alt_name or '""'))

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
