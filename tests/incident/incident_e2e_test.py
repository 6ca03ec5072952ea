#!/usr/bin/python3
"""End-to-end test of `mailwarden incident` on a generated incident.

The incident: alice@example.com's mailbox (tests/data/incident/snapshot: an external forwarding
address, a filter rule that redirects, two app passwords, an IMAP data source, a send-as grant),
her audit.log (her usual logins from 198.51.100.23 over three days; 40 failures then successes
from 203.0.113.66; an admin ModifyAccount from the admin network and one from the attacker), and
a queue (fake postqueue / postcat / postsuper in Python) holding her spam and legitimate mail
and bob's mail. Checks the report names each finding, the attacker address (and not her usual
one), the queue counts and the commands; that --act refuses without --yes when stdin is not a
terminal; and that --act --yes runs exactly the non-destructive commands (fake zmprov, the real
`mailwarden queue hold` against the fake postsuper) and logs them.

usage: incident_e2e_test.py MAILWARDEN SOURCE_DIR [--keep DIR]
  --keep DIR: write the generated inputs to DIR, print the report and the command, and exit
  (how docs/incident.md's example was made).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ACCOUNT = "alice@example.com"
USUAL = "198.51.100.23"
ATTACKER = "203.0.113.66"
ADMIN_NET_IP = "192.0.2.10"
DAY = 86400
T0 = 1795737600  # 2026-11-27T00:00:00Z (generation is fixed: the report is reproducible)


def stamp(t):
    import time
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ",000"


def audit_line(t, oip, account, protocol, ok, thread="ImapSSLServer-7"):
    level = "INFO " if ok else "WARN "
    msg = f"cmd=Auth; account={account}; protocol={protocol};"
    if not ok:
        msg += f" error=authentication failed for [{account}], invalid password;"
    return f"{stamp(t)} {level} [{thread}] [ip=10.0.0.2;oip={oip};ua=client;] security - {msg}\n"


def admin_line(t, oip, cmd):
    return (f"{stamp(t)} INFO  [qtp1-1:https://mail.example.com:7071/service/admin/soap/] "
            f"[name=admin@example.com;oip={oip};] security - cmd={cmd}; name={ACCOUNT};\n")


def make_logs(path):
    lines = []
    # Her usual day: IMAP at 08:00, 12:00, 17:00 and webmail at 09:00, for three days; one typo.
    for d in range(3):
        for h in (8, 12, 17):
            lines.append((T0 + d * DAY + h * 3600, audit_line(T0 + d * DAY + h * 3600, USUAL,
                                                              ACCOUNT, "imap", True)))
        t = T0 + d * DAY + 9 * 3600
        lines.append((t, audit_line(t, USUAL, ACCOUNT, "soap", True, "qtp1-5:https://x/service/soap/")))
    t = T0 + DAY + 10 * 3600
    lines.append((t, audit_line(t, USUAL, ACCOUNT, "imap", False)))
    lines.append((t + 5, audit_line(t + 5, USUAL, ACCOUNT, "imap", True)))
    # The attack: 40 failures in the night of the third day, then her password works.
    start = T0 + 2 * DAY + 2 * 3600
    for i in range(40):
        lines.append((start + i * 15, audit_line(start + i * 15, ATTACKER, ACCOUNT, "imap", False)))
    t = start + 40 * 15 + 30
    lines.append((t, audit_line(t, ATTACKER, ACCOUNT, "imap", True)))
    lines.append((t + 60, audit_line(t + 60, ATTACKER, ACCOUNT, "soap", True, "qtp1-9:https://x/service/soap/")))
    # Another account's logins: not in alice's report.
    lines.append((t + 90, audit_line(t + 90, "198.51.100.99", "bob@example.com", "imap", True)))
    # Admin commands on her account: one from the admin network, one from the attacker.
    lines.append((T0 + 3600, admin_line(T0 + 3600, ADMIN_NET_IP, "ModifyAccount")))
    lines.append((t + 120, admin_line(t + 120, ATTACKER, "ModifyAccount")))
    lines.sort(key=lambda x: x[0])
    with open(path, "w") as f:
        f.writelines(l for _, l in lines)


QUEUE = [
    # id, queue, sender, sasl, recipients, arrival offset
    ("A1B2C3D4E5", "deferred", ACCOUNT, ACCOUNT, ["x1@example.net", "x2@example.net"], 2 * DAY + 3 * 3600),
    ("A1B2C3D4E6", "deferred", ACCOUNT, ACCOUNT, ["x3@example.net"], 2 * DAY + 3 * 3600 + 10),
    ("A1B2C3D4E7", "deferred", "ceo@example.org", ACCOUNT, ["y1@example.org", "y2@example.org"],
     2 * DAY + 3 * 3600 + 20),
    ("A1B2C3D4E8", "deferred", "ceo@example.org", ACCOUNT, ["y3@example.org"], 2 * DAY + 3 * 3600 + 30),
    ("A1B2C3D4E9", "active", ACCOUNT, ACCOUNT, ["colleague@example.org"], 2 * DAY + 17 * 3600),
    ("B1B2C3D4E5", "deferred", "bob@example.com", "bob@example.com", ["z@example.net"], 2 * DAY),
    ("B1B2C3D4E6", "deferred", "bob@example.com", "bob@example.com", ["z@example.org"], 2 * DAY),
]

FAKE_POSTQUEUE = """#!/usr/bin/python3
import json, os
state = json.load(open(os.environ.get("MW_FAKE_QUEUE") or "{queue}"))
for m in state:
    print(json.dumps(m))
"""

FAKE_POSTCAT = """#!/usr/bin/python3
import json, sys
state = json.load(open("{queue}"))
qid = sys.argv[-1]
for m in state:
    if m["queue_id"] == qid:
        print("*** ENVELOPE RECORDS %s/%s ***" % (m["queue_name"], qid))
        print("sender: " + m["sender"])
        print("named_attribute: sasl_username=" + m["_sasl"])
        print("*** MESSAGE CONTENTS %s/%s ***" % (m["queue_name"], qid))
        sys.exit(0)
print("postcat: fatal: open queue file %s: No such file or directory" % qid, file=sys.stderr)
sys.exit(1)
"""

# Records each call (argv and the ids on stdin) and applies hold/release to the queue file.
FAKE_POSTSUPER = """#!/usr/bin/python3
import json, sys
ids = [l.strip() for l in sys.stdin if l.strip()]
with open("{calls}", "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "ids": ids}}) + "\\n")
state = json.load(open("{queue}"))
n = 0
for m in state:
    if m["queue_id"] in ids and "-h" in sys.argv:
        m["queue_name"] = "hold"; n += 1
json.dump(state, open("{queue}", "w"))
print("postsuper: Placed on hold: %d messages" % n, file=sys.stderr)
"""

FAKE_ZMPROV = """#!/usr/bin/python3
import json, sys
with open("{calls}", "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def setup(work, source):
    snap = os.path.join(work, "snapshot")
    shutil.copytree(os.path.join(source, "tests/data/incident/snapshot"), snap)
    make_logs(os.path.join(work, "audit.log"))
    queue = os.path.join(work, "queue.json")
    state = []
    for qid, q, sender, sasl, rcpts, off in QUEUE:
        state.append({"queue_name": q, "queue_id": qid, "arrival_time": T0 + off,
                      "message_size": 2400 + len(rcpts) * 100, "forced_expire": False,
                      "sender": sender, "_sasl": sasl,
                      "recipients": [{"address": r, "delay_reason": "connect to mx: Connection refused"}
                                     for r in rcpts]})
    json.dump(state, open(queue, "w"))
    tools = {}
    for name, text in (("postqueue", FAKE_POSTQUEUE), ("postcat", FAKE_POSTCAT),
                       ("postsuper", FAKE_POSTSUPER), ("zmprov", FAKE_ZMPROV)):
        tools[name] = os.path.join(work, "fake-" + name)
        write_script(tools[name], text.format(queue=queue, calls=os.path.join(work, name + ".calls")))
    return snap, tools


def base_cmd(mw, work, snap, tools):
    return [mw, "incident", ACCOUNT, "--snapshot", snap, "--logs", os.path.join(work, "audit.log"),
            "--tz", "UTC", "--no-geoip", "--mynetworks", "127.0.0.0/8", "--no-host-addresses",
            "--postconf", "", "--allow", "192.0.2.0/24", "--admin-network", "192.0.2.0/24",
            "--postqueue", tools["postqueue"], "--postcat", tools["postcat"],
            "--postsuper", tools["postsuper"]]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


def main():
    mw, source = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 4 and sys.argv[3] == "--keep":
        work = sys.argv[4]
        os.makedirs(work, exist_ok=True)
        snap, tools = setup(work, source)
        cmd = base_cmd(mw, work, snap, tools)
        r = run(cmd)
        print("$ " + " ".join(c if c else "''" for c in cmd))
        print(r.stdout, end="")
        print(r.stderr, end="", file=sys.stderr)
        return r.returncode
    errors = []

    def check(cond, what):
        if not cond:
            errors.append(what)

    with tempfile.TemporaryDirectory(prefix="mw-incident-e2e-") as work:
        snap, tools = setup(work, source)
        cmd = base_cmd(mw, work, snap, tools)
        r = run(cmd)
        text = r.stdout
        check(r.returncode == 3, f"report exit {r.returncode} (want 3): {r.stderr}")
        for want in ("forwarding: zimbraPrefMailForwardingAddress forwards every message to "
                     "drop.box@example.net (external)",
                     "filter_redirect: filter rule 'Invoices' redirects mail to collector@example.net",
                     "app_password: 2 app-specific password(s)",
                     "data_source: data source 'Backup' (imap, imap.example.org",
                     "send_grant: mallory@example.com (usr) holds the right sendAs",
                     f"ATTACKER {ATTACKER}",
                     "40 failure(s), then a success",
                     f"attacker addresses to ban: {ATTACKER}\n",
                     "admin action ModifyAccount from 203.0.113.66",
                     ": UNUSUAL, from an attacker address",
                     "5 message(s) of the account",
                     "3 deferred" if False else "4 deferred",
                     "zmprov ma alice@example.com zimbraAccountStatus locked",
                     "zmprov ma alice@example.com zimbraAuthTokenValidityValue 4",
                     "zmprov -s mbox1.example.com flushCache account alice@example.com",
                     "zmprov -s mbox2.example.com flushCache account alice@example.com",
                     "mailwarden queue hold --sasl-user alice@example.com --yes",
                     f"mailwarden ban add {ATTACKER} --reason compromised --account alice@example.com",
                     "zmmailbox -z -m alice@example.com deleteFilterRule Invoices",
                     "accounts.password.min-length",
                     "not checked: give --outbound-ip"):
            check(want in text, f"report lacks {want!r}")
        check(f"ATTACKER {USUAL}" not in text, "the usual address is called an attacker")
        check(f"ban add {USUAL}" not in text, "the usual address is offered for a ban")
        check("bob@example.com" not in text.split("3. The queue")[0].split("2. Logins")[1],
              "bob's logins are in alice's report")

        j = run(cmd + ["--format", "json"])
        try:
            rep = json.loads(j.stdout)
            check(rep["logins"]["attacker_ips"] == [ATTACKER], f"json attackers {rep['logins']['attacker_ips']}")
            check(rep["queue"]["messages"] == 5 and rep["queue"]["by_status"] == {"active": 1, "deferred": 4},
                  f"json queue {rep['queue']}")
            kinds = {m["kind"] for m in rep["mailbox"]}
            check({"forwarding", "filter_redirect", "app_password", "data_source", "send_grant"} <= kinds,
                  f"json kinds {kinds}")
            check(rep["exit_code"] == 3, "json exit_code")
        except (ValueError, KeyError) as e:
            errors.append(f"json report: {e}: {j.stdout[:300]} {j.stderr}")

        state = os.path.join(work, "state")
        # --act without --yes and without a terminal: refused, nothing run.
        r = run(cmd + ["--act", "--zmprov", tools["zmprov"], "--no-runuser", "--state-dir", state])
        check(r.returncode == 5, f"--act without --yes: exit {r.returncode}")
        check(not os.path.exists(os.path.join(work, "zmprov.calls")), "--act without --yes ran zmprov")
        check(not os.path.exists(os.path.join(work, "postsuper.calls")), "--act without --yes ran postsuper")

        r = run(cmd + ["--act", "--yes", "--zmprov", tools["zmprov"], "--no-runuser",
                       "--state-dir", state])
        check(r.returncode == 3, f"--act --yes: exit {r.returncode}: {r.stderr} {r.stdout[-600:]}")
        calls = [json.loads(l) for l in open(os.path.join(work, "zmprov.calls"))] \
            if os.path.exists(os.path.join(work, "zmprov.calls")) else []
        want = [["ma", ACCOUNT, "zimbraAccountStatus", "locked"],
                ["ma", ACCOUNT, "zimbraAuthTokenValidityValue", "4"],
                ["-s", "mbox1.example.com", "flushCache", "account", ACCOUNT],
                ["-s", "mbox2.example.com", "flushCache", "account", ACCOUNT]]
        check(calls == want, f"zmprov calls {calls}")
        supers = [json.loads(l) for l in open(os.path.join(work, "postsuper.calls"))] \
            if os.path.exists(os.path.join(work, "postsuper.calls")) else []
        held = sorted(i for c in supers for i in c["ids"])
        check(all("-h" in c["argv"] for c in supers), f"postsuper calls other than hold: {supers}")
        check(held == sorted(q[0] for q in QUEUE if q[3] == ACCOUNT), f"held {held}")
        log = open(os.path.join(state, "incident.log")).read() \
            if os.path.exists(os.path.join(state, "incident.log")) else ""
        check(log.count(" run: ") == 6 and log.count(" result: exit 0") == 6,
              f"incident.log: {log}")
        check("7. Done by --act" in r.stdout, "the report does not say what --act did")
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print("incident e2e: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
