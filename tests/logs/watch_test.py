#!/usr/bin/python3
"""`mailwarden logs watch` against a live file: a brute force appended to the log raises one
alert (stdout and the --alert-command hook, which gets the finding in its environment), the
file rotated (rename + create, as logrotate does) keeps being followed, and a later spray in
the new file raises its own alert. Lines before the start are not read (tail -F semantics).

usage: watch_test.py MAILWARDEN
"""
import os
import subprocess
import sys
import tempfile
import time

def syslog_time(t):
    g = time.gmtime(t)
    return f"{time.strftime('%b', g)} {g.tm_mday:>2} {time.strftime('%H:%M:%S', g)}"


def failure(t, user, ip):
    return (f"{syslog_time(t)} mail dovecot: imap-login: Disconnected (auth failed, 1 attempts "
            f"in 2 secs): user=<{user}>, method=PLAIN, rip={ip}, lip=192.0.2.1, TLS, "
            f"session=<x>\n")


def wait_for(path, needle, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and needle in open(path).read():
            return True
        time.sleep(0.1)
    return False


def main():
    mw = sys.argv[1]
    errors = []
    with tempfile.TemporaryDirectory(prefix="mw-watch-") as d:
        log = os.path.join(d, "mail.log")
        out = os.path.join(d, "alerts.txt")
        hook_out = os.path.join(d, "hook.txt")
        hook = os.path.join(d, "hook.sh")
        with open(hook, "w") as h:
            h.write("#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$MW_DETECTOR\" \"$MW_KEY\" "
                    f"\"$MW_ACCOUNT\" \"$MW_SOURCE_IPS\" >> {hook_out}\n")
        os.chmod(hook, 0o755)
        now = time.time()
        # An attack before watch starts: not read.
        with open(log, "w") as f:
            for i in range(30):
                f.write(failure(now - 100 + i, "old@example.com", "203.0.113.1"))
        proc = subprocess.Popen(
            [mw, "logs", "watch", log, "--tz", "UTC", "--no-geoip", "--interval", "0.1",
             "--run-for", "40", "--alert-command", hook],
            stdout=open(out, "w"), stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            with open(log, "a") as f:
                for i in range(25):
                    f.write(failure(now + i, "eve@example.com", "203.0.113.7"))
            if not wait_for(out, "brute_force"):
                errors.append("no brute_force alert after 25 failures")
            if not wait_for(hook_out, "brute_force|eve@example.com|eve@example.com|203.0.113.7"):
                errors.append("the hook did not get the brute_force finding: "
                              + (open(hook_out).read() if os.path.exists(hook_out) else "nothing"))
            # logrotate: rename, create a new file, write to it.
            os.rename(log, log + ".1")
            with open(log, "w") as f:
                for i in range(12):
                    f.write(failure(now + 60 + i, f"user{i}@example.com", "198.51.100.99"))
            if not wait_for(out, "password_spray"):
                errors.append("no password_spray alert from the rotated-in file")
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        alerts = open(out).read()
        if "old@example.com" in alerts:
            errors.append("lines written before the start were read")
        if alerts.count("brute_force eve@example.com") != 1 and \
                alerts.count("key=eve@example.com") != 1:
            errors.append("the brute force was alerted more than once or not at all:\n" + alerts)
        if proc.returncode not in (0, -15):
            errors.append(f"watch exited with {proc.returncode}: {err}")
    for e in errors:
        print(e)
    print("watch: " + ("OK" if not errors else f"{len(errors)} errors"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
