#!/usr/bin/python3
"""`mailwarden queue` against the real thing: a private Postfix 3.7 instance (loopback only, its
own config/queue/data directories; tests/policyd/e2e_postfix.py) whose every destination is a
closed loopback port, so that all mail stays deferred. The queue gets mail from a "compromised"
account (XCLIENT LOGIN=mallory, so that smtpd stores sasl_username in the queue file, with a
forged sender), from a spamming sender, and from legitimate senders (one of them using the same
envelope sender as the forged mail). Then:

  summary      by account (from the queue files, and from the maillog alone) and nagios
  dry run      hold / delete without --yes change nothing (every queue file byte for byte)
  refusal      delete of mail that is not on hold is refused and changes nothing
  hold+delete  the compromised account's and the spammer's mail is held (one message released
               and held again), then deleted
and every other message is still there, its `postcat -q` output byte for byte the same.

usage: postfix_queue_e2e_test.py MAILWARDEN [--keep] [--capture DIR]
Root only; exits 77 (skipped) when not root or Postfix / Cyrus SASL PLAIN is missing. Nothing
outside its temp dir is touched; Postfix is stopped and the temp dir removed, also on failure.
--capture DIR writes the instance's `postqueue -j` output and one `postcat -e -q` output there
(the fixtures of tests/data/queue/).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "policyd"))

from e2e_net import free_port  # noqa: E402
from e2e_postfix import PostfixInstance, SmtpdService, missing_prerequisites  # noqa: E402
from e2e_smtp import send  # noqa: E402

SKIP = 77


class DeferringPostfix(PostfixInstance):
    """The shared instance with every destination sent to a closed loopback port: the base
    main.cf lines are replaced (not overridden further down, which postconf warns about)."""

    def __init__(self, root, closed_port, services):
        super().__init__(root, "", services)
        self.closed_port = closed_port

    def write_config(self):
        super().write_config()
        path = os.path.join(self.conf, "main.cf")
        with open(path) as f:
            lines = f.read().splitlines()
        dest = f"smtp:[127.0.0.1]:{self.closed_port}"
        replace = {"default_transport": dest, "relay_transport": dest, "transport_maps": ""}
        out = []
        for line in lines:
            key = line.split("=", 1)[0].strip()
            out.append(f"{key} = {replace[key]}" if key in replace else line)
        out.append("smtp_connect_timeout = 2s")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


class Queue:
    def __init__(self, pf, mailwarden):
        self.pf = pf
        self.mw = mailwarden

    def listing(self):
        return {m["queue_id"]: m for m in self.pf.queue()}

    def postcat(self, qid):
        return subprocess.run([tool("postcat"), "-c", self.pf.conf, "-q", qid], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout

    def snapshot(self, ids=None):
        """queue id -> (queue name, postcat -q bytes)."""
        q = self.listing()
        return {i: (m["queue_name"], self.postcat(i)) for i, m in q.items()
                if ids is None or i in ids}

    def run(self, *args, expect=0):
        cmd = [self.mw, "queue", *args, "--postqueue", tool("postqueue"), "--postsuper",
               tool("postsuper"), "--postcat", tool("postcat"), "--config-dir", self.pf.conf]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=120)
        if r.returncode != expect:
            raise Failure(f"{' '.join(args)}: exit {r.returncode}, expected {expect}\n"
                          f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            check(marker not in r.stderr, f"{' '.join(args)}: sanitizer report:\n{r.stderr}")
        return r


def wait_all_deferred(q, n, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        listing = q.listing()
        if len(listing) == n and all(m["queue_name"] == "deferred" for m in listing.values()):
            return listing
        time.sleep(0.3)
    raise Failure(f"queue not {n} deferred messages after {timeout}s: "
                  f"{[(m['queue_id'], m['queue_name']) for m in q.listing().values()]}\n"
                  f"{q.pf.maillog_tail()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mailwarden")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--capture")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("skipped: needs root (the Postfix master runs as root)")
        return SKIP
    missing = missing_prerequisites()
    if missing:
        print("skipped: missing " + ", ".join(missing))
        return SKIP
    root = tempfile.mkdtemp(prefix="mw-queue-e2e-")
    os.chmod(root, 0o755)
    closed = free_port()  # nobody listens: every delivery attempt is refused -> deferred
    pf = DeferringPostfix(root, closed, [SmtpdService("submission")])
    try:
        pf.start()
        q = Queue(pf, os.path.abspath(a.mailwarden))
        port = pf.port("submission")
        sent = []

        def mail(sender, rcpt, login=None):
            out = send(port, sender, rcpt, login=login, subject=f"queue e2e {len(sent)}")
            check(out.accepted, f"{sender} -> {rcpt} (login={login}) not accepted: {out}")
            sent.append((sender, login))

        # The compromised account: authenticated as mallory, sender forged as the CEO.
        for i in range(4):
            mail("ceo@e2e.test", [f"victim{i}@target{i % 2}.example", "x@target9.example"],
                 login="mallory")
        for i in range(3):  # a spamming sender, not authenticated
            mail("spam@e2e.test", f"v{i}@target1.example")
        # Legitimate mail: alice (authenticated), bob, and the real CEO (same sender, no login).
        mail("alice@e2e.test", "partner@customer.example", login="alice")
        mail("alice@e2e.test", "other@customer.example", login="alice")
        for i in range(3):
            mail("bob@e2e.test", f"r{i}@supplier.example")
        mail("ceo@e2e.test", "board@customer.example")
        total = len(sent)
        listing = wait_all_deferred(q, total)
        bad = {i for i, m in listing.items()
               if m["sender"] == "spam@e2e.test" or b"sasl_username=mallory" in q.postcat(i)}
        mallory = {i for i in bad if listing[i]["sender"] == "ceo@e2e.test"}
        check(len(mallory) == 4 and len(bad) == 7, f"expected 4 + 3 compromised, got {bad}")
        good = set(listing) - bad
        before = q.snapshot()
        good_before = {i: before[i] for i in good}

        if a.capture:
            os.makedirs(a.capture, exist_ok=True)
            raw = subprocess.run([tool("postqueue"), "-c", pf.conf, "-j"], check=True,
                                 stdout=subprocess.PIPE).stdout
            with open(os.path.join(a.capture, "postqueue-j.jsonl"), "wb") as f:
                f.write(raw)
            one = sorted(mallory)[0]
            env = subprocess.run([tool("postcat"), "-c", pf.conf, "-e", "-q", one], check=True,
                                 stdout=subprocess.PIPE).stdout
            with open(os.path.join(a.capture, "postcat-e-sasl.txt"), "wb") as f:
                f.write(env)
            legit = sorted(i for i in good if listing[i]["sender"] == "bob@e2e.test")[0]
            env = subprocess.run([tool("postcat"), "-c", pf.conf, "-q", legit], check=True,
                                 stdout=subprocess.PIPE).stdout
            with open(os.path.join(a.capture, "postcat-full-nosasl.txt"), "wb") as f:
                f.write(env)

        # summary: accounts from the queue files, then from the maillog alone.
        s = json.loads(q.run("summary", "--format", "json", "--accounts").stdout)
        check(s["messages"] == total, f"summary counts {s['messages']} of {total}")
        check(s["by_status"]["deferred"]["messages"] == total, f"by_status {s['by_status']}")
        acc = {t["key"]: t["messages"] for t in s["by_account"]}
        check(acc.get("mallory") == 4 and acc.get("alice") == 2, f"by_account {acc}")
        snd = {t["key"]: t["messages"] for t in s["by_sender"]}
        check(snd.get("ceo@e2e.test") == 5 and snd.get("spam@e2e.test") == 3, f"by_sender {snd}")
        s = json.loads(q.run("summary", "--format", "json", "--logs", pf.maillog).stdout)
        acc = {t["key"]: t["messages"] for t in s["by_account"]}
        check(acc.get("mallory") == 4 and s["accounts"]["from_logs"] == 6,
              f"by_account from the maillog {acc} {s['accounts']}")
        r = q.run("summary", "--format", "nagios", "--warning", "10", "--critical", "100",
                  expect=1)
        check(r.stdout.startswith("QUEUE WARNING") and f"messages={total};10;100" in r.stdout,
              f"nagios: {r.stdout}")

        # Dry runs and a refusal change nothing.
        d = json.loads(q.run("hold", "--sasl-user", "mallory", "--format", "json").stdout)
        check(d["dry_run"] and {m["queue_id"] for m in d["messages"]} == mallory,
              f"dry-run hold selects {d['messages']}, expected {mallory}")
        d = json.loads(q.run("delete", "--sasl-user", "mallory", "--format", "json").stdout)
        check(len(d["refused"]) == 4 and not d["messages"], f"dry-run delete: {d}")
        q.run("delete", "--sender", "bob@e2e.test", "--yes", expect=1)  # not on hold: refused
        q.run("hold", "--format", "json", expect=2)  # no selector: never "ALL"
        check(q.snapshot() == before, "a dry run or a refused delete changed the queue")

        # The guided flow: hold, review, delete.
        q.run("hold", "--sasl-user", "mallory", "--yes")
        q.run("hold", "--sender", "spam@e2e.test", "--queue", "deferred", "--yes")
        now = q.listing()
        check({i for i, m in now.items() if m["queue_name"] == "hold"} == bad,
              f"on hold: {[(i, m['queue_name']) for i, m in now.items()]}, expected {bad}")
        # Held by mistake: release puts it back in deferred (and only it); hold it again.
        one = sorted(bad - mallory)[0]
        q.run("release", "--queue-id", one, "--yes")
        now = q.listing()
        check(now[one]["queue_name"] == "deferred" and
              all(now[i]["queue_name"] == "hold" for i in bad - {one}), f"release {one}: {now}")
        q.run("hold", "--queue-id", one, "--yes")
        d = json.loads(q.run("delete", "--sasl-user", "mallory", "--format", "json").stdout)
        check({m["queue_id"] for m in d["messages"]} == mallory and not d["refused"],
              f"review before delete: {d}")
        q.run("delete", "--sasl-user", "mallory", "--yes")
        r = q.run("delete", "--sender", "spam@e2e.test", "--queue", "hold", "--yes")
        check("postsuper reports 3 of 3" in r.stdout, f"delete spam: {r.stdout}")

        after = q.snapshot()
        check(set(after) == good, f"left in the queue {sorted(after)}, expected {sorted(good)}")
        for i in good:
            check(after[i] == good_before[i], f"{i} changed: {after[i][0]} vs {good_before[i][0]}")
        print(f"ok: {total} messages, {len(bad)} compromised held and deleted, {len(good)} "
              "untouched byte for byte")
        return 0
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print(pf.maillog_tail())
        return 1
    finally:
        pf.stop()
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
