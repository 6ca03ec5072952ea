#!/usr/bin/env python3
"""`mailwarden ban fail2ban-config` end to end: writes the files, leaves identical ones alone,
refuses to overwrite a changed one without --force, writes its own route action when the
fail2ban directory has none, and exits 2 with a message on bad options. Temp dirs only."""
import os
import subprocess
import sys
import tempfile

MW = sys.argv[1]
SRC = sys.argv[2]
failures = []


def run(*args):
    p = subprocess.run([MW, "ban", "fail2ban-config", "--postconf", "", *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


with tempfile.TemporaryDirectory(prefix="mw-f2b-cli-") as tmp:
    out = os.path.join(tmp, "etc-fail2ban")
    empty_f2b = os.path.join(tmp, "no-fail2ban")  # has no action.d/route.conf
    os.mkdir(empty_f2b)
    args = ["--out", out, "--allow", "203.0.113.64/26",
            "--policy", os.path.join(SRC, "examples/zimbra-multi.toml")]
    rc, so, se = run(*args)
    check(rc == 0, f"first write exits 0 (got {rc}: {se})")
    jail = os.path.join(out, "jail.d/mailwarden.local")
    text = open(jail).read()
    check("ignoreip = 127.0.0.0/8 ::1/128 198.51.100.0/28" in text, "ignoreip from the policy")
    check("203.0.113.64/26" in text, "--allow in ignoreip")
    for f in ["mailwarden-postfix-sasl", "mailwarden-zimbra-audit", "mailwarden-zimbra-mailbox",
              "mailwarden-zimbra-admin"]:
        check(os.path.exists(os.path.join(out, "filter.d", f + ".conf")), f + " written")

    rc, so, se = run(*args)
    check(rc == 0 and so.count("unchanged") == 5, f"second run leaves the files ({so})")

    with open(jail, "a") as fh:
        fh.write("# local edit\n")
    rc, so, se = run(*args)
    check(rc == 1 and "exists and differs" in se, f"refuses to overwrite ({rc}: {se})")
    check(open(jail).read().endswith("# local edit\n"), "the edited file is untouched")
    rc, so, se = run(*args, "--force")
    check(rc == 0 and not open(jail).read().endswith("# local edit\n"), "--force overwrites")

    rc, so, se = run("--out", out, "--force", "--action", "route", "--fail2ban-dir", empty_f2b)
    check(rc == 0, f"route action without route.conf ({se})")
    check(os.path.exists(os.path.join(out, "action.d/mailwarden-route.conf")),
          "action.d/mailwarden-route.conf written")
    check("action = mailwarden-route[blocktype=unreachable]" in open(jail).read(),
          "the jails use it")

    rc, so, se = run("--stdout", "--flavour", "postfix", "--maillog", "/srv/mail.log")
    check(rc == 0 and "### jail.d/mailwarden.local" in so and "logpath = /srv/mail.log" in so
          and "mailwarden-zimbra" not in so, "--stdout, postfix flavour")

    for bad, msg in [(["--stdout", "--flavour", "exim"], "--flavour 'exim'"),
                     (["--stdout", "--action", "ufw"], "--action 'ufw'"),
                     (["--stdout", "--audit-log", "audit.log"], "--audit-log 'audit.log'"),
                     (["--stdout", "--allow", "10.0.0.1/33"], "--allow"),
                     (["--stdout", "--findtime", "10x"], "--findtime"),
                     ([], "--out DIR or --stdout"),
                     (["--stdout", "--out", out], "--out DIR or --stdout")]:
        rc, so, se = run(*bad)
        check(rc == 2 and msg in se, f"{bad}: exit 2 naming {msg} (got {rc}: {se.strip()})")

sys.exit(1 if failures else 0)
