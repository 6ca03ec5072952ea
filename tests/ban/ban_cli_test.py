#!/usr/bin/python3
"""`mailwarden ban` as a user runs it: the real binary, driving nft and iptables + ipset inside
a network namespace this test creates (`--netns`), with a private state directory.

Per backend (nft; iptables when ipset is installed):
  add: exit 0 (banned, IPv4 and the IPv6 /64), 2 (bad address, bad --for, bad --backend: the
       message names the input), 3 (refused: --allow entry, the namespace's own address)
  list: text, json, nagios ("BAN OK - N active | active=.. added=..c refused=..c", exit 0;
       "BAN UNKNOWN", exit 3, when the firewall cannot be read)
  del (and del of what is not banned: exit 1), flush without --yes (a dry run that changes
  nothing), flush --yes (empties the sets)
  a corrupted state file: every subcommand exits non-zero naming the file, and the kernel's
  ruleset and sets are byte for byte what they were.

usage: ban_cli_test.py MAILWARDEN BAN_TOML
Root only (network namespaces); exits 77 (skipped) otherwise. The namespace and the temp dir
are removed at the end, also on failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
failures = []


def check(cond, what, detail=""):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}\n     {detail}")
        failures.append(what)


def sh(*argv, ns=None, check_rc=True, stdin=None):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    r = subprocess.run(full, capture_output=True, text=True, input=stdin, timeout=60)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(full)}: exit {r.returncode}: {r.stderr}")
    return r


class Cli:
    def __init__(self, binary, ban_toml, ns, state_dir, backend):
        self.binary, self.ns, self.backend = binary, ns, backend
        self.common = ["--netns", ns, "--state-dir", state_dir, "--config", ban_toml,
                       "--backend", backend]

    def run(self, sub, *args, extra=()):
        common = self.common
        if "--backend" in extra:  # an option given twice is a usage error of its own
            i = common.index("--backend")
            common = common[:i] + common[i + 2:]
        argv = [self.binary, "ban", sub, *args, *common, *extra]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return r

    def add(self, *args):
        # Never the host's Postfix; the admin network is an explicit --allow.
        return self.run("add", *args, extra=["--postconf", "", "--allow", "198.51.100.77/32"])


def kernel_snapshot(ns):
    """Everything either backend could have changed in the namespace, without the time left
    on each ban (it counts down between two snapshots)."""
    out = sh("nft", "list", "ruleset", ns=ns, check_rc=False).stdout
    for argv in (["ipset", "save"], ["iptables", "-w", "-S"], ["ip6tables", "-w", "-S"]):
        if shutil.which(argv[0]):
            out += "\n" + sh(*argv, ns=ns, check_rc=False).stdout
    out = re.sub(r" expires [0-9hmsd]+", " expires -", out)  # nft
    return re.sub(r"^(add \S+ \S+ timeout )[0-9]+", r"\1-", out, flags=re.M)  # ipset


def in_kernel(ns, backend, text):
    if backend == "nft":
        listing = sh("nft", "list", "table", "inet", "mailwarden_ban", ns=ns, check_rc=False).stdout
    else:
        listing = sh("ipset", "save", ns=ns, check_rc=False).stdout
    return text in listing, listing


def run_backend(binary, ban_toml, ns, backend):
    state = tempfile.mkdtemp(prefix=f"mw-ban-cli-{backend}-")
    try:
        cli = Cli(binary, ban_toml, ns, state, backend)
        b = f"[{backend}]"

        r = cli.add("198.51.100.10", "--reason", "brute force", "--account", "bob@example.com")
        check(r.returncode == 0 and "banned 198.51.100.10/32 for 1h (offence 1)" in r.stdout,
              f"{b} add IPv4: exit 0", f"{r.returncode} {r.stdout} {r.stderr}")
        found, listing = in_kernel(ns, backend, "198.51.100.10")
        check(found and "brute force; bob@example.com; offence 1" in listing,
              f"{b} the element and its comment are in the kernel", listing)
        r = cli.add("2001:db8:bad:1::10", "--for", "2h", "--reason", "spray")
        check(r.returncode == 0 and "banned 2001:db8:bad:1::/64 for 2h" in r.stdout,
              f"{b} add IPv6 bans its /64", f"{r.returncode} {r.stdout} {r.stderr}")

        for args, needle, what in (
            (["198.51.100.300"], "198.51.100.300", "bad address"),
            (["198.51.100.11", "--for", "1x"], "'1x'", "bad --for"),
            (["198.51.100.11", "--for", "400d"], "'400d'", "--for out of range"),
        ):
            r = cli.add(*args)
            check(r.returncode == 2 and needle in r.stderr,
                  f"{b} {what}: exit 2 naming the input", f"{r.returncode} {r.stderr}")
        r = cli.run("list", extra=["--backend", "pf"])
        check(r.returncode == 2 and "'pf'" in r.stderr, f"{b} bad --backend: exit 2 naming it",
              f"{r.returncode} {r.stderr}")

        r = cli.add("198.51.100.0/24")
        check(r.returncode == 3 and "198.51.100.77/32 (--allow)" in r.stderr,
              f"{b} a ban over the admin --allow entry: exit 3", f"{r.returncode} {r.stderr}")
        r = cli.add("192.0.2.1")
        check(r.returncode == 3 and "host address" in r.stderr,
              f"{b} the namespace's own address: exit 3", f"{r.returncode} {r.stderr}")
        found, listing = in_kernel(ns, backend, "198.51.100.0/24")
        check(not found, f"{b} the refused prefix never reached the kernel", listing)

        r = cli.run("list")
        check(r.returncode == 0 and "198.51.100.10/32" in r.stdout and "bob@example.com" in r.stdout
              and "brute force" in r.stdout and "2001:db8:bad:1::/64" in r.stdout
              and "2 active ban(s)" in r.stdout, f"{b} list text", r.stdout + r.stderr)
        r = cli.run("list", "--format", "json")
        try:
            bans = {x["prefix"]: x for x in json.loads(r.stdout)["bans"]}
        except (ValueError, KeyError) as e:
            bans = {}
            print(f"     json: {e}")
        v4 = bans.get("198.51.100.10/32", {})
        check(r.returncode == 0 and len(bans) == 2 and v4.get("account") == "bob@example.com"
              and v4.get("offences") == 1 and 0 < v4.get("expires_in", 0) <= 3600,
              f"{b} list json", r.stdout + r.stderr)
        r = cli.run("list", "--format", "nagios")
        first = r.stdout.splitlines()[0] if r.stdout else ""
        check(r.returncode == 0 and first == "BAN OK - 2 active | active=2 active_ipv4=1 "
              "active_ipv6=1 added=2c refused=2c", f"{b} list nagios", f"{r.returncode} {r.stdout}")
        broken = ["--ipset", "/nonexistent/ipset"] if backend == "iptables" else \
            ["--nft", "/nonexistent/nft"]
        r = cli.run("list", "--format", "nagios", extra=broken)
        check(r.returncode == 3 and r.stdout.startswith("BAN UNKNOWN - "),
              f"{b} list nagios when the firewall cannot be read: 3 UNKNOWN",
              f"{r.returncode} {r.stdout}")

        r = cli.run("del", "198.51.100.10")
        check(r.returncode == 0 and "unbanned 198.51.100.10/32" in r.stdout, f"{b} del",
              f"{r.returncode} {r.stdout} {r.stderr}")
        found, listing = in_kernel(ns, backend, "198.51.100.10")
        check(not found, f"{b} del removed the element from the kernel", listing)
        r = cli.run("del", "198.51.100.10")
        check(r.returncode == 1 and "not banned" in r.stderr, f"{b} del of what is not banned: 1",
              f"{r.returncode} {r.stderr}")

        before = kernel_snapshot(ns)
        r = cli.run("flush")
        check(r.returncode == 0 and "dry run: would lift 1 ban(s)" in r.stdout
              and kernel_snapshot(ns) == before, f"{b} flush without --yes is a dry run",
              f"{r.returncode} {r.stdout} {r.stderr}")
        r = cli.run("flush", "--yes")
        after = cli.run("list")
        check(r.returncode == 0 and "0 active ban(s)" in after.stdout,
              f"{b} flush --yes empties the sets", f"{r.returncode} {r.stderr} {after.stdout}")

        # A crash or a hand edit left half a state file: nothing may touch the kernel.
        r = cli.add("203.0.113.5")
        check(r.returncode == 0, f"{b} a ban before the state is damaged", r.stderr)
        state_file = os.path.join(state, "bans.json")
        with open(state_file, "w") as f:
            f.write('{"version":1,"bans":[{"pre')
        before = kernel_snapshot(ns)
        for sub, args in (("add", ["203.0.113.6"]), ("del", ["203.0.113.5"]), ("list", []),
                          ("flush", []), ("flush", ["--yes"])):
            r = cli.add(*args) if sub == "add" else cli.run(sub, *args)
            check(r.returncode == 1 and state_file in r.stderr,
                  f"{b} {' '.join([sub, *args])} with a corrupted state: exit 1 naming the file",
                  f"{r.returncode} {r.stdout} {r.stderr}")
        r = cli.run("list", "--format", "nagios")
        check(r.returncode == 3 and r.stdout.startswith("BAN UNKNOWN - " + state_file),
              f"{b} list nagios with a corrupted state: 3 UNKNOWN naming the file",
              f"{r.returncode} {r.stdout}")
        check(kernel_snapshot(ns) == before, f"{b} the kernel is untouched by all of them")
        with open(state_file) as f:
            check(f.read() == '{"version":1,"bans":[{"pre', f"{b} the damaged file is left as is")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, ban_toml = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        print("skipped: needs root for network namespaces")
        return SKIP
    for tool in ("ip", "nft"):
        if not shutil.which(tool):
            print(f"skipped: {tool} is not installed")
            return SKIP
    # "mwt-<pid>-..." so that the netns sweep (tests/harness) removes it if this run crashes.
    ns = f"mwt-{os.getpid()}-bancli"
    if sh("ip", "netns", "add", ns, check_rc=False).returncode != 0:
        print("skipped: cannot create a network namespace")
        return SKIP
    try:
        sh("ip", "link", "set", "lo", "up", ns=ns)
        # A veth pair inside the namespace (dummy interfaces need a module not always loaded).
        sh("ip", "link", "add", "mw0", "type", "veth", "peer", "name", "mw1", ns=ns)
        sh("ip", "addr", "add", "192.0.2.1/24", "dev", "mw0", ns=ns)
        sh("ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "mw0", "nodad", ns=ns)
        sh("ip", "link", "set", "mw0", "up", ns=ns)
        backends = ["nft"]
        have_ipset = all(shutil.which(t) for t in ("ipset", "iptables", "ip6tables"))
        if have_ipset and sh("ipset", "list", ns=ns, check_rc=False).returncode == 0:
            backends.append("iptables")
        else:
            print("note: iptables backend not tested (ipset unavailable)")
        for backend in backends:
            run_backend(binary, ban_toml, ns, backend)
    finally:
        sh("ip", "netns", "del", ns, check_rc=False)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
