#!/usr/bin/python3
"""`mailwarden logs report` on bad input, end to end: binary garbage, a 1 MB line, invalid
UTF-8, truncated lines, time going backwards, an empty file, a truncated gzip file and a
missing file. Never a crash: the report is produced, every line is counted by kind, the
damaged inputs are named on stderr with the byte offset, and the exit code says the read was
incomplete (4).

usage: bad_input_test.py MAILWARDEN
"""
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

GOOD = ("Nov 28 10:00:{s:02d} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts "
        "in 2 secs): user=<eve@example.com>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, TLS, "
        "session=<x>\n")


def main():
    mw = sys.argv[1]
    errors = []
    rnd = random.Random(20261129)
    with tempfile.TemporaryDirectory(prefix="mw-bad-") as d:
        bad = os.path.join(d, "bad.log")
        with open(bad, "wb") as f:
            f.write(GOOD.format(s=10).encode())
            f.write(bytes(rnd.randrange(256) for _ in range(4096)) + b"\n")   # garbage
            f.write(b"Nov 28 10:00:11 mail postfix/smtpd[1]: " + b"A" * (1 << 20) + b"\n")
            f.write(GOOD.format(s=12).replace("eve", "\xff\xfeeve").encode("latin-1"))
            f.write(GOOD.format(s=13)[:40].encode() + b"\n")                  # truncated
            f.write(GOOD.format(s=5).encode())                                  # backwards
            f.write(b"\x00\x00\x00\n\n")
            f.write(GOOD.format(s=14).encode()[:-1])                            # no final \n
        empty = os.path.join(d, "empty.log")
        open(empty, "w").close()
        trunc = os.path.join(d, "old.log.1.gz")
        data = gzip.compress("".join(GOOD.format(s=s) for s in range(20, 50)).encode())
        with open(trunc, "wb") as f:
            f.write(data[: len(data) // 2])
        missing = os.path.join(d, "missing.log")
        r = subprocess.run([mw, "logs", "report", "--format", "json", "--no-progress", "--tz",
                            "UTC", "--no-geoip", bad, empty, trunc, missing],
                           capture_output=True, text=True)
        if r.returncode != 4:
            errors.append(f"exit code {r.returncode}, expected 4 (inputs incomplete)")
        if "old.log.1.gz" not in r.stderr or "byte" not in r.stderr:
            errors.append(f"the truncated gzip file is not named with an offset: {r.stderr!r}")
        if "missing.log" not in r.stderr:
            errors.append(f"the missing file is not named: {r.stderr!r}")
        try:
            report = json.loads(r.stdout)
        except json.JSONDecodeError as e:
            errors.append(f"no JSON report: {e}: {r.stdout[:200]!r}")
            report = None
        if report:
            inputs = {os.path.basename(i["name"]): i for i in report["inputs"]}
            b = inputs.get("bad.log")
            if b is None:
                errors.append("bad.log missing from the inputs")
            else:
                c = b["counts"]
                if c["lines"] != sum(c["by_kind"].values()):
                    errors.append(f"lines not all counted by kind: {c}")
                if c["by_kind"]["too_long"] != 1:
                    errors.append(f"the 1 MB line is not counted as too_long: {c}")
                if c["invalid_utf8"] < 1:
                    errors.append(f"invalid UTF-8 not counted: {c}")
                if c["time_backwards"] < 1:
                    errors.append(f"time going backwards not counted: {c}")
                if c["by_kind"]["parsed"] < 4:
                    errors.append(f"good lines lost among the bad: {c}")
            g = inputs.get("old.log.1.gz")
            if g is None or g["counts"]["lines"] < 1:
                errors.append(f"the lines before the damage were not read: {g}")
            accounts = {a["account"] for a in report["accounts"]}
            if "eve@example.com" not in accounts:
                errors.append(f"the good lines' account is missing: {sorted(accounts)}")
        # --since / --until: a bad time is named; a good one keeps only the lines in range.
        r = subprocess.run([mw, "logs", "report", "--no-progress", "--tz", "UTC", "--no-geoip",
                            "--since", "2026-13-01", bad], capture_output=True, text=True)
        if r.returncode != 4 or "--since '2026-13-01'" not in r.stderr:
            errors.append(f"--since 2026-13-01: exit {r.returncode}, {r.stderr!r}")
        year = json.loads(subprocess.run(
            [mw, "logs", "report", "--format", "json", "--no-progress", "--tz", "UTC",
             "--no-geoip", bad], capture_output=True, text=True).stdout)["period"]["first"][:4]
        for since, until, want in ((f"{year}-11-28T10:00:12Z", None, 2),
                                   (None, f"{year}-11-28 10:00:11+00:00", 2),
                                   (f"{year}-11-28T11:00+01:00", f"{year}-11-28T10:00:13Z", 3)):
            cmd = [mw, "logs", "report", "--format", "json", "--no-progress", "--tz", "UTC",
                   "--no-geoip", bad]
            if since:
                cmd += ["--since", since]
            if until:
                cmd += ["--until", until]
            r = subprocess.run(cmd, capture_output=True, text=True)
            got = json.loads(r.stdout)["totals"]["failures"] if r.stdout else None
            if got != want:
                errors.append(f"--since {since} --until {until}: {got} failures, expected {want}")
    for e in errors:
        print(e)
    print("bad input: " + ("OK" if not errors else f"{len(errors)} errors"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
