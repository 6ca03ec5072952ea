#!/usr/bin/python3
"""The JSON of `mailwarden queue summary` and of `queue hold` (dry run and --yes) validated
against docs/queue.schema.json (JSON Schema draft 2020-12), and checked for what the schema
cannot say (figures add up; an action's outcome matches its plan). The queue is a real
`postqueue -j` capture (tests/data/queue) printed by a fake postqueue; a fake postsuper counts
the ids it reads. The webmail attribution is exercised through --logs: a message a mailbox
server (loopback) submitted without SASL is its sender's. The schema is first shown to reject
broken documents, so that a validator that accepts anything cannot pass.

usage: queue_schema_test.py MAILWARDEN SOURCE_DIR
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

import jsonschema

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def main():
    mw, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "docs/queue.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    validator = cls(schema)
    fixture = os.path.join(src, "tests/data/queue/postqueue-j.jsonl")
    with open(fixture, encoding="utf-8") as f:
        queued = [json.loads(line) for line in f if line.strip()]

    work = tempfile.mkdtemp(prefix="mw-queue-schema-")
    try:
        postqueue = os.path.join(work, "postqueue")
        postsuper = os.path.join(work, "postsuper")
        with open(postqueue, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\nexec cat '{fixture}'\n")
        with open(postsuper, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\nn=$(wc -l)\necho \"postsuper: Placed on hold: $n messages\" >&2\n")
        os.chmod(postqueue, 0o755)
        os.chmod(postsuper, 0o755)
        # Webmail: the first alice message submitted by mailboxd on loopback, no SASL.
        webmail_id = next(m["queue_id"] for m in queued if m["sender"] == "alice@e2e.test")
        log = os.path.join(work, "zimbra.log")
        with open(log, "w", encoding="utf-8") as f:
            f.write(f"Nov 28 10:00:00 mx postfix/smtpd[11]: {webmail_id}: "
                    "client=localhost[127.0.0.1]\n")
        tools = ["--postqueue", postqueue, "--postsuper", postsuper, "--format", "json"]

        def run(args, want_rc=0):
            r = subprocess.run([mw, "queue"] + args, capture_output=True, text=True, timeout=60)
            if r.returncode != want_rc:
                fail(f"{args}: exit {r.returncode}, expected {want_rc}: {r.stderr}")
                return None
            return json.loads(r.stdout)

        docs = {}
        docs["summary"] = run(["summary", "--input", fixture, "--logs", log, "--tz", "UTC"] + tools)
        docs["hold-dry"] = run(["hold", "--sender", "spam@e2e.test", "--no-syslog"] + tools)
        docs["hold-yes"] = run(["hold", "--sender", "spam@e2e.test", "--yes", "--no-syslog"] + tools)
        docs["hold-webmail"] = run(["hold", "--sasl-user", "alice@e2e.test", "--logs", log, "--tz",
                                    "UTC", "--no-postcat", "--no-syslog"] + tools)
        for name, doc in docs.items():
            if doc is None:
                continue
            for e in validator.iter_errors(doc):
                fail(f"{name}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")

        s = docs["summary"]
        if s:
            if s["messages"] != len(queued):
                fail(f"summary: {s['messages']} messages, the capture has {len(queued)}")
            if sum(b["messages"] for b in s["by_status"].values()) != s["messages"]:
                fail("summary: by_status does not add up to messages")
            if sum(b["messages"] for b in s["by_age"]) != s["messages"]:
                fail("summary: by_age does not add up to messages")
            a = s["accounts"]
            if a["known"] != a["from_queue_file"] + a["from_logs"] + a["from_webmail"]:
                fail("summary: accounts.known is not the sum of its sources")
            if a["known"] + a["unknown"] != s["messages"]:
                fail("summary: known + unknown accounts != messages")
            if a["from_webmail"] != 1 or s["by_account"] != [
                    {"key": "alice@e2e.test", "messages": 1,
                     "bytes": next(m["message_size"] for m in queued
                                   if m["queue_id"] == webmail_id)}]:
                fail(f"summary: the webmail message is not alice's: {s['accounts']}, "
                     f"{s['by_account']}")
        spam = sorted(m["queue_id"] for m in queued if m["sender"] == "spam@e2e.test")
        for name in ("hold-dry", "hold-yes"):
            d = docs[name]
            if d and sorted(m["queue_id"] for m in d["messages"]) != spam:
                fail(f"{name}: selected {[m['queue_id'] for m in d['messages']]}, expected {spam}")
        if docs["hold-dry"] and "outcome" in docs["hold-dry"]:
            fail("hold-dry: a dry run has an outcome")
        y = docs["hold-yes"]
        if y and (y["outcome"]["requested"] != len(spam) or y["outcome"]["affected"] != len(spam)):
            fail(f"hold-yes: outcome {y['outcome']}, expected {len(spam)} requested and affected")
        w = docs["hold-webmail"]
        if w and [m["queue_id"] for m in w["messages"]] != [webmail_id]:
            fail(f"hold-webmail: selected {[m['queue_id'] for m in w['messages']]}, expected "
                 f"only the webmail message {webmail_id}")

        # The schema must be able to say no.
        if s and y:
            broken = []
            b = copy.deepcopy(s); del b["by_status"]["deferred"]; broken.append(("no deferred", b))
            b = copy.deepcopy(s); b["messages"] = -1; broken.append(("negative count", b))
            b = copy.deepcopy(s); b["surprise"] = 1; broken.append(("unknown key", b))
            b = copy.deepcopy(s); del b["accounts"]; broken.append(("by_account alone", b))
            b = copy.deepcopy(y); del b["outcome"]; broken.append(("done without outcome", b))
            b = copy.deepcopy(y); b["messages"][0]["queue_id"] = "A\nB"; broken.append(("bad id", b))
            b = copy.deepcopy(y); b["action"] = "purge"; broken.append(("unknown action", b))
            for what, doc in broken:
                if validator.is_valid(doc):
                    fail(f"the schema accepts a broken document: {what}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("queue JSON: summary and hold (dry run, --yes, webmail) valid; 7 broken documents "
          "rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
