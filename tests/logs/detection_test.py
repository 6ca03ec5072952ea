#!/usr/bin/python3
"""The detection results on generated incidents: mw-loggen writes logs with a known truth
(committed seed, tools/loggen/seed), `mailwarden logs report --format json` reads them, and
every incident must be found (100%), no finding may fall outside the incidents (0 false
alarms), the benign look-alikes must stay quiet, and every account's figures must equal the
generator's (attribution through amavis' re-injection, webmail, duplicate Zimbra lines).

usage: detection_test.py MAILWARDEN MW_LOGGEN GEOIP_DIR SOURCE_DIR [FLAVOR DB]
Runs every (flavor, database) pair when FLAVOR/DB are not given. Exit 0 when all hold.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

# A finding that a scenario may add to its expected ones without being a false alarm, by
# what the scenario expects: a compromised login from another continent is also impossible
# travel when the user logged in from home shortly before; a spam run is also above the
# account's baseline and may hold the queue.
IMPLIED_ALLOW = {
    "compromised_login": {"impossible_travel"},
    "outbound_burst": {"baseline_exceeded", "queue_flood", "bounce_ratio"},
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


def check(mailwarden, loggen, geoip_dir, source_dir, flavor, db, work):
    seed = open(os.path.join(source_dir, "tools/loggen/seed")).read().split()[0]
    out = os.path.join(work, flavor)
    if not os.path.isdir(out):
        g = run([loggen, "--out", out, "--seed", seed, "--flavor", flavor, "--accounts", "300",
                 "--days", "3", "--truth-accounts"])
        if g.returncode != 0:
            return [f"mw-loggen failed ({g.returncode}): {g.stderr}"]
    truth = json.load(open(os.path.join(out, "truth.json")))
    a = truth["analyzer"]
    cmd = [mailwarden, "logs", "report", "--format", "json", "--no-progress",
           "--tz", a.get("time_zone", "UTC"), "--geoip-db", os.path.join(geoip_dir, db)]
    for m in a.get("mynetworks", []):
        cmd += ["--mynetworks", m]
    for d in a.get("local_domains", []):
        cmd += ["--local-domain", d]
    cmd += [os.path.join(out, f) for f in truth["files"]]
    r = run(cmd)
    if os.environ.get("MW_DEBUG"):
        print(" ".join(cmd))
    if r.returncode not in (0, 1, 2, 3):
        return [f"mailwarden logs report failed ({r.returncode}): {r.stderr}"]
    report = json.loads(r.stdout)
    errors = []
    found = {(f["detector"], f["key"]) for f in report["findings"]}
    allowed = set()
    for inc in truth["incidents"]:
        expect = {(e["detector"], e["key"]) for e in inc["expect"]}
        for e in sorted(expect - found):
            errors.append(f"{flavor}/{db}: incident {inc['id']} ({inc['scenario']}): "
                          f"{e[0]} {e[1]} not found")
        allowed |= expect
        allowed |= {(e["detector"], e["key"]) for e in inc.get("allow", [])}
        for det, key in expect:
            for extra in IMPLIED_ALLOW.get(det, ()):
                allowed.add((extra, key))
    for f in sorted(found - allowed):
        errors.append(f"{flavor}/{db}: false alarm: {f[0]} {f[1]}")
    # The benign look-alikes: nothing about their accounts or addresses.
    for b in truth.get("benign", []):
        keys = set(b.get("accounts", [])) | set(b.get("ips", [])) | set(b.get("senders", []))
        for det, key in found:
            if key in keys:
                errors.append(f"{flavor}/{db}: benign {b['id']} ({b['scenario']}): {det} {key}")
    # Every account's figures, exactly.
    accounts = {x["account"]: x for x in report["accounts"]}
    for name, want in truth.get("accounts", {}).items():
        got = accounts.get(name)
        if got is None:
            if any(want.get(k, 0) for k in ("messages", "logins", "failures")):
                errors.append(f"{flavor}/{db}: account {name} missing from the report")
            continue
        # SMTP AUTH successes are logged only with each message (client=..., sasl_username=):
        # the report counts one login per smtpd session; the generator's logins are the
        # others (IMAP, POP, webmail, admin, ssh).
        figures = dict(got)
        figures["logins"] = got.get("logins", 0) - got.get("logins_by_protocol", {}).get(
            "submission", 0)
        for k in ("messages", "recipients", "logins", "failures"):
            if k in want and figures.get(k) != want[k]:
                errors.append(f"{flavor}/{db}: account {name}: {k} {figures.get(k)} != {want[k]}")
    # No line lost: every generated line is parsed.
    for i in report["inputs"]:
        unparsed = {k: v for k, v in i.get("unparsed", {}).items() if v}
        if unparsed:
            errors.append(f"{flavor}/{db}: {i['name']}: unparsed lines {unparsed}")
    n_exp = sum(len(inc["expect"]) for inc in truth["incidents"])
    print(f"{flavor}/{db}: {len(truth['incidents'])} incidents, {n_exp} expected findings, "
          f"{len(found)} findings, {len(truth.get('benign', []))} benign look-alikes, "
          f"{len(truth.get('accounts', {}))} accounts checked: "
          f"{'OK' if not errors else str(len(errors)) + ' errors'}")
    return errors


def main():
    mailwarden, loggen, geoip_dir, source_dir = sys.argv[1:5]
    pairs = [(sys.argv[5], sys.argv[6])] if len(sys.argv) > 6 else [
        ("zimbra", "test-city.mmdb"), ("postfix", "test-city.mmdb"),
        ("zimbra", "test-country.mmdb"), ("postfix", "test-flat-city.mmdb")]
    work = tempfile.mkdtemp(prefix="mw-detection-")
    try:
        errors = []
        for flavor, db in pairs:
            errors += check(mailwarden, loggen, geoip_dir, source_dir, flavor, db, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for e in errors[:200]:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
