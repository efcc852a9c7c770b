#!/usr/bin/env python3
"""Generate realistic Cloud Audit Log exports for the benchmark.

usage: gen.py --size MB --format ndjson|array [--failures 0.02] [--seed N] OUT

Entries are shaped like the reference (docs: ../shared/reference/denials.md):
successes with "status": {} or no status, data-access reads with granted
authorization entries, request bodies that contain the words "code" and
"status" (traps for naive substring filters), and ~2 % failures of every
category (IAM code 7 and 2, org policy code 9, quota code 3, VPC-SC dry runs,
message-only capacity failures). About 1.5 KB an entry. --format array
writes a pretty-printed gcloud-style array (2-space indent, sorted keys).
"""
import argparse
import json
import random
import sys

PROJECTS = ["acme-prod-1", "acme-data-2", "acme-ci-3", "acme-genai-dev"]
PRINCIPALS = [
    "terraform@acme-ci-3.iam.gserviceaccount.com",
    "deployer@acme-prod-1.iam.gserviceaccount.com",
    "alice@example.com",
    "bob@example.com",
    "service-123456789012@gcp-sa-logging.iam.gserviceaccount.com",
]
SERVICES = [
    ("storage.googleapis.com", "storage.objects.get", "storage.objects.get", "projects/_/buckets/acme-data/objects/part-%05d.parquet"),
    ("compute.googleapis.com", "v1.compute.instances.insert", "compute.instances.create", "projects/%s/zones/us-central1-a/instances/vm-%d"),
    ("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccount", "iam.serviceAccounts.create", "projects/%s"),
    ("bigquery.googleapis.com", "google.cloud.bigquery.v2.JobService.InsertJob", "bigquery.jobs.create", "projects/%s/jobs/job_%d"),
    ("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", "secretmanager.versions.access", "projects/%s/secrets/db-password/versions/%d"),
]


def success(rnd, i, ts):
    svc, method, perm, res = rnd.choice(SERVICES)
    proj = rnd.choice(PROJECTS)
    res = res % ((proj, i) if res.count("%") == 2 else (i,)) if "%" in res else res
    e = {
        "insertId": "%016x" % rnd.getrandbits(64),
        "logName": "projects/%s/logs/cloudaudit.googleapis.com%%2F%s" % (proj, rnd.choice(["activity", "data_access"])),
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": rnd.choice(PRINCIPALS)},
            "authorizationInfo": [{
                "granted": True,
                "permission": perm,
                "resource": res,
                "resourceAttributes": {"name": res, "service": svc.split(".")[0], "type": svc.split(".")[0] + ".resource"},
                "permissionType": "DATA_READ",
            }],
            "methodName": method,
            "request": {
                "@type": "type.googleapis.com/google.example.Request",
                "name": res,
                "labels": {"code": "blue", "team": "platform", "status": "active"},
                "description": "nightly job; status and code words are traps",
            },
            "requestMetadata": {
                "callerIp": "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
                "callerSuppliedUserAgent": "google-api-go-client/0.5 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-google/6.8.0,gzip(gfe)",
                "requestAttributes": {"time": ts, "auth": {}},
                "destinationAttributes": {},
            },
            "resourceName": res,
            "serviceName": svc,
        },
        "receiveTimestamp": ts,
        "resource": {"labels": {"project_id": proj, "method": method, "service": svc}, "type": "audited_resource"},
        "severity": "INFO",
        "timestamp": ts,
    }
    r = rnd.random()
    if r < 0.5:
        e["protoPayload"]["status"] = {}
    elif r < 0.55:
        e["protoPayload"]["status"] = {"code": 0}
    elif r < 0.57:
        e["protoPayload"]["status"] = {"message": "OK"}
    return e


def failure(rnd, i, ts):
    e = success(rnd, i, ts)
    p = e["protoPayload"]
    perm = p["authorizationInfo"][0]["permission"]
    kind = rnd.randrange(7)
    e["severity"] = "ERROR"
    if kind == 0:
        p["status"] = {"code": 7, "message": "Permission '%s' denied on resource (or it may not exist)." % perm,
                       "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
                                    "domain": "iam.googleapis.com", "metadata": {"permission": perm}}]}
        p["authorizationInfo"][0].pop("granted")
    elif kind == 1:
        p["status"] = {"code": 2, "message": "permission denied by IAM"}
        p["authorizationInfo"][0]["granted"] = False
    elif kind == 2:
        p["status"] = {"code": 9, "message": "The request has violated one or more Org Policies. Please refer to the respective violations for more information."}
    elif kind == 3:
        p["status"] = {"code": 3, "message": "Insufficient 'CPUS' quota. Requested 8.0, available 2.0."}
    elif kind == 4:
        uid = "%032x" % rnd.getrandbits(128)
        p["status"] = {"code": 7, "message": "(Dry Run Mode) Request is prohibited by organization's policy. vpcServiceControlsUniqueIdentifier: " + uid,
                       "details": [{"@type": "type.googleapis.com/google.rpc.PreconditionFailure", "violations": [{"type": "VPC_SERVICE_CONTROLS", "description": uid}]}]}
        p["metadata"] = {"@type": "type.googleapis.com/google.cloud.audit.VpcServiceControlAuditMetadata", "dryRun": True,
                         "violationReason": "NO_MATCHING_ACCESS_LEVEL", "vpcServiceControlsUniqueId": uid,
                         "securityPolicyInfo": {"servicePerimeterName": "accessPolicies/123/servicePerimeters/prod", "organizationId": "123"}}
        e["logName"] = e["logName"].rsplit("%2F", 1)[0] + "%2Fpolicy"
    elif kind == 5:
        p["status"] = {"message": "ZONE_RESOURCE_POOL_EXHAUSTED"}
    else:
        p["status"] = {"code": 7, "message": "Required '%s' permission for '%s'" % (perm, p["resourceName"])}
        p["authorizationInfo"][0]["granted"] = False
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=float, required=True, help="MB to write")
    ap.add_argument("--format", choices=["ndjson", "array"], default="ndjson")
    ap.add_argument("--failures", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    target = int(a.size * 1024 * 1024)
    # A pool of rendered entries, re-used with fresh insertIds: fast enough
    # to write gigabytes.
    pool = []
    for i in range(4000):
        ts = "2026-11-26T%02d:%02d:%02d.%06dZ" % (i // 3600 % 24, i // 60 % 60, i % 60, rnd.randrange(1000000))
        e = failure(rnd, i, ts) if rnd.random() < a.failures else success(rnd, i, ts)
        e["insertId"] = "@@ID@@"
        if a.format == "array":
            s = json.dumps(e, indent=2, sort_keys=True)
            s = "\n".join("  " + line for line in s.split("\n"))
        else:
            s = json.dumps(e, separators=(",", ":"))
        pool.append(s)
    written = 0
    n = 0
    with open(a.out, "w") as f:
        if a.format == "array":
            f.write("[\n")
        while written < target:
            s = pool[n % len(pool)].replace("@@ID@@", "%016x" % n, 1)
            if a.format == "array":
                if n:
                    f.write(",\n")
                f.write(s)
            else:
                f.write(s)
                f.write("\n")
            written += len(s) + 2
            n += 1
        if a.format == "array":
            f.write("\n]\n")
    print("%s: %d entries, %.1f MB" % (a.out, n, written / 1048576.0), file=sys.stderr)


if __name__ == "__main__":
    main()
