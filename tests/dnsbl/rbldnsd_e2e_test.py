#!/usr/bin/python3
"""`mailwarden dnsbl check` against the real thing: rbldnsd serving test zones on 127.0.0.1 (a
high port), and unbound on another loopback port configured only for this test (its own config
in a temp dir: stub zones to rbldnsd, one zone forwarded to a socket that never answers, the
root forwarded to a closed loopback port so that nothing leaves the host). Every check goes
through unbound, as a real MTA's lookups go through its resolver.

Zones (rbldnsd):
  zen.mw-e2e.example      ip4set (127.0.0.2 and documentation addresses with SBL/XBL/PBL codes)
                          + ip6tset (the ::ffff:7f00:2 test entry's /64 minus ::1, and
                          2001:db8:bad:1::/64)
  bl.mw-e2e.example       ip4set, one code (SpamCop-like)
  refuse.mw-e2e.example   ip4trie/ip6trie answering 127.255.255.254 for everything
                          (Spamhaus' answer to queries from public resolvers)
  empty.mw-e2e.example    ip4set without the 127.0.0.2 test entry (a dead list)
  dead.mw-e2e.example     (unbound) forwarded to a UDP socket that never answers

Cases: listed / not listed / refused, IPv4 and IPv6, the health check (unreliable list), the
dead list -> timeout and never clean, TXT reasons, usage errors (exit 3), and the text, JSON
and nagios outputs with their exit codes.

usage: rbldnsd_e2e_test.py MAILWARDEN [--keep] [--bench]
Unprivileged or root (rbldnsd then runs as nobody). Exits 77 (skipped) when rbldnsd or
unbound is missing. Every process started is stopped and the temp dir removed, also on failure.
--bench prints the timings of 1 IP x all lists and 256 IPs x 8 lists through unbound.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
ZONE = "mw-e2e.example"

CATALOG_HEAD = "schema = 1\n"
LIST = """
[[list]]
id = "{id}"
name = "{id} (e2e)"
zone = "{zone}"
ipv4 = true
ipv6 = {v6}
status = "active"
policy = "free"
policy_note = "test list"
delist_url = "https://delist.example/{id}"
default = true
rate = {rate}
test_ipv4 = "127.0.0.2"
{test6}codes = [
  {{ code = "127.0.0.2", class = "listed", meaning = "SBL test listing" }},
  {{ code = "127.0.0.4-127.0.0.7", class = "listed", meaning = "XBL exploited host" }},
  {{ code = "127.0.0.10-127.0.0.11", class = "listed", meaning = "PBL end-user range" }},
  {{ code = "127.255.255.252", class = "refused", meaning = "typing error in the DNSBL name" }},
  {{ code = "127.255.255.254", class = "refused", meaning = "query via a public resolver" }},
  {{ code = "127.255.255.255", class = "refused", meaning = "excessive number of queries" }},
]
"""


def entry(id_, v6=False, rate=0, zone=None):
    return LIST.format(id=id_, zone=zone or f"{id_}.{ZONE}", v6="true" if v6 else "false",
                       rate=rate, test6='test_ipv6 = "::ffff:7f00:2"\n' if v6 else "")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port")


def dns_query(port, name, timeout=0.5):
    """(rcode, answer count) of an A query to 127.0.0.1:port, or None: the readiness probe,
    independent of the code under test."""
    q = b"\x4d\x57\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00\x00\x01\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, ("127.0.0.1", port))
        m = s.recv(4096)
        return (m[3] & 0x0F, (m[6] << 8) | m[7])
    except OSError:
        return None
    finally:
        s.close()


class Harness:
    def __init__(self, mailwarden, keep=False):
        self.mailwarden = mailwarden
        self.keep = keep
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="mw-dnsbl-e2e-")
        os.chmod(self.tmp, 0o755)  # rbldnsd reads its data as nobody when we are root
        self.blackhole = None

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        os.chmod(self.path(name), 0o644)
        return self.path(name)

    def start(self):
        self.write("zen4", ":127.0.0.2:Listed in zen, see https://delist.example/$\n"
                   "127.0.0.2\n"
                   "192.0.2.10\n"
                   "192.0.2.11 :127.0.0.4:Exploited host $\n"
                   "192.0.2.12 :127.0.0.10:End-user range $\n"
                   "198.51.100.0/24 :127.0.0.3:\n")
        self.write("zen6", ":127.0.0.2:Listed (IPv6) $\n"
                   "0:0:0:0\n"
                   "!::1\n"
                   "2001:db8:bad:1\n")
        self.write("bl4", ":127.0.0.2:Blocked, see https://delist.example/bl\n"
                   "127.0.0.2\n192.0.2.10\n203.0.113.7\n")
        self.write("refuse4", "0.0.0.0/0 :127.255.255.254:Query via public resolver\n")
        self.write("refuse6", "::/0 :127.255.255.254:Query via public resolver\n")
        self.write("empty4", ":127.0.0.2:listed\n192.0.2.10\n")
        bench = ""
        for i in range(1, 9):
            self.write(f"b{i}", f":127.0.0.2:bench list {i}\n127.0.0.2\n192.0.2.{i * 10}\n")
        rport = free_port()
        self.rport = rport
        args = ["rbldnsd", "-n", "-q", "-4", "-b", f"127.0.0.1/{rport}", "-w", self.tmp,
                "-p", self.path("rbldnsd.pid"), "-t", "1", "-c", "0",
                f"zen.{ZONE}:ip4set:zen4", f"zen.{ZONE}:ip6tset:zen6",
                f"bl.{ZONE}:ip4set:bl4",
                f"refuse.{ZONE}:ip4trie:refuse4", f"refuse.{ZONE}:ip6trie:refuse6",
                f"empty.{ZONE}:ip4set:empty4"]
        args += [f"b{i}.{ZONE}:ip4set:b{i}" for i in range(1, 9)]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "nobody"]
        self.spawn(args, "rbldnsd.log")

        # The dead list's server: a bound UDP socket that never reads, so no ICMP error either.
        self.blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.blackhole.bind(("127.0.0.1", 0))
        dead_port = self.blackhole.getsockname()[1]
        closed_port = free_port()  # nothing listens: the root and everything else fail fast

        uport = free_port()
        self.resolver = f"127.0.0.1:{uport}"
        stubs = "".join(f'stub-zone:\n  name: "{z}.{ZONE}."\n  stub-addr: 127.0.0.1@{rport}\n'
                        for z in ["zen", "bl", "refuse", "empty"] +
                        [f"b{i}" for i in range(1, 9)])
        conf = f"""server:
  interface: 127.0.0.1
  port: {uport}
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  chroot: ""
  username: ""
  directory: "{self.tmp}"
  pidfile: "{self.path('unbound.pid')}"
  logfile: "{self.path('unbound.log')}"
  use-syslog: no
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  qname-minimisation: no
  harden-referral-path: no
  target-fetch-policy: "0 0 0 0 0"
  local-zone: "example." nodefault
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  infra-host-ttl: 1
  infra-keep-probing: yes
remote-control:
  control-enable: no
{stubs}forward-zone:
  name: "dead.{ZONE}."
  forward-addr: 127.0.0.1@{dead_port}
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{closed_port}
"""
        self.write("unbound.conf", conf)
        self.spawn(["unbound", "-d", "-c", self.path("unbound.conf")], "unbound.stderr")
        self.wait_udp(uport)

        cat = CATALOG_HEAD + entry("zen", v6=True) + entry("bl") + entry("refuse", v6=True) + \
            entry("empty") + entry("dead")
        self.catalog = self.write("lists.toml", cat)
        self.write("broken.toml", CATALOG_HEAD + entry("zen").replace("rate = 0", "rate = -3"))
        self.bench_catalog = self.write(
            "bench.toml", CATALOG_HEAD + "".join(entry(f"b{i}") for i in range(1, 9)))

    def spawn(self, args, log):
        out = open(self.path(log), "w")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(p)
        return p

    def wait_udp(self, port):
        """Until unbound answers the test entry through rbldnsd (both are then up)."""
        deadline = time.monotonic() + 20
        name = f"2.0.0.127.bl.{ZONE}"
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[0]} exited with {p.returncode}")
            if dns_query(port, name) == (0, 1):
                return
            time.sleep(0.2)
        raise RuntimeError("unbound/rbldnsd did not come up")

    def logs(self):
        out = ""
        for name in ("rbldnsd.log", "unbound.log", "unbound.stderr"):
            if os.path.exists(self.path(name)):
                with open(self.path(name)) as f:
                    out += f"\n--- {name}\n" + f.read()[-3000:]
        return out

    def run(self, *args, catalog=None, resolver=True):
        cmd = [self.mailwarden, "dnsbl", *args]
        if catalog is not False:
            cmd += ["--lists", catalog or getattr(self, "catalog", "")]
        if resolver:
            cmd += ["--resolver", self.resolver]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.blackhole:
            self.blackhole.close()
        if self.keep:
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


FAILURES = []


def expect(cond, what, r=None):
    if cond:
        print(f"ok   {what}")
        return
    detail = ""
    if r is not None:
        detail = f"\n  exit {r.returncode}\n  stdout: {r.stdout}\n  stderr: {r.stderr}"
    print(f"FAIL {what}{detail}")
    FAILURES.append(what)


def result_of(doc, ip, list_id):
    for a in doc["addresses"]:
        if a["ip"] == ip:
            for r in a["results"]:
                if r["list"] == list_id:
                    return r
    return None


def health_of(doc, list_id):
    return next(l for l in doc["lists"] if l["id"] == list_id)


def cases(h):
    # Listed (IPv4) with its code and meaning, text output.
    r = h.run("check", "192.0.2.10", "--only", "zen,bl")
    expect(r.returncode == 1, "listed IPv4: exit 1", r)
    expect("LISTED" in r.stdout and "127.0.0.2 SBL test listing" in r.stdout and
           "delist: https://delist.example/zen" in r.stdout, "listed IPv4: text names code, meaning, delisting URL", r)

    # Not listed anywhere.
    r = h.run("check", "192.0.2.99", "--only", "zen,bl")
    expect(r.returncode == 0, "clean IPv4: exit 0", r)
    expect(sum(" not listed" in line for line in r.stdout.splitlines()[1:3]) == 2 and "summary: 0 listed, 2 not listed, 0 unknown" in r.stdout,
           "clean IPv4: text", r)
    expect("documentation" in r.stderr, "documentation range: a warning, still checked", r)

    # JSON: codes with meanings, health ok, the query name.
    r = h.run("check", "192.0.2.11", "192.0.2.12", "198.51.100.1", "--only", "zen", "--format", "json")
    doc = json.loads(r.stdout)
    x = result_of(doc, "192.0.2.11", "zen")
    expect(r.returncode == 1 and x["status"] == "listed" and x["codes"][0]["code"] == "127.0.0.4" and
           x["codes"][0]["meaning"] == "XBL exploited host" and x["query"] == f"11.2.0.192.zen.{ZONE}",
           "JSON: XBL code decoded, query name reversed", r)
    expect(result_of(doc, "192.0.2.12", "zen")["codes"][0]["meaning"] == "PBL end-user range",
           "JSON: PBL code decoded", r)
    expect(result_of(doc, "198.51.100.1", "zen")["codes"][0]["code"] == "127.0.0.3" and
           result_of(doc, "198.51.100.1", "zen")["status"] == "listed", "JSON: CIDR listing", r)
    expect(health_of(doc, "zen")["health"] == "ok" and doc["summary"]["exit_code"] == 1,
           "JSON: health ok, exit code in summary", r)

    # TXT reasons.
    r = h.run("check", "192.0.2.11", "--only", "zen", "--txt", "--format", "json")
    doc = json.loads(r.stdout)
    expect(result_of(doc, "192.0.2.11", "zen").get("reasons") == ["Exploited host 192.0.2.11"],
           "TXT reason fetched for a listing", r)

    # IPv6: listed, not listed, and an IPv4-only list skipped.
    r = h.run("check", "2001:db8:bad:1::5", "2001:db8::5", "--only", "zen,bl", "--format", "json")
    doc = json.loads(r.stdout)
    expect(r.returncode == 1 and result_of(doc, "2001:db8:bad:1::5", "zen")["status"] == "listed",
           "IPv6 listed (ip6tset, 32 reversed nibbles)", r)
    expect(result_of(doc, "2001:db8::5", "zen")["status"] == "not_listed" and
           result_of(doc, "2001:db8::5", "bl")["status"] == "skipped",
           "IPv6 not listed; IPv4-only list skipped", r)
    expect(health_of(doc, "zen")["health"] == "ok", "IPv6 health check (::ffff:7f00:2 listed, ::1 not)", r)
    r = h.run("check", "2001:db8::5", "--only", "zen")
    expect(r.returncode == 0, "IPv6 clean: exit 0", r)

    # Refused (Spamhaus' public-resolver answer): never clean, never listed.
    r = h.run("check", "192.0.2.99", "2001:db8::5", "--only", "refuse", "--format", "json")
    doc = json.loads(r.stdout)
    x = result_of(doc, "192.0.2.99", "refuse")
    expect(r.returncode == 2 and x["status"] == "refused" and "public resolver" in x["detail"],
           "refusal code 127.255.255.254 -> refused, exit 2", r)
    expect(result_of(doc, "2001:db8::5", "refuse")["status"] == "refused" and
           health_of(doc, "refuse")["health"] == "refused" and doc["summary"]["not_listed"] == 0,
           "refused IPv6 too; health refused; nothing counted clean", r)

    # Health check: a list whose test entry is missing is unreliable: its "not listed" is unknown.
    r = h.run("check", "192.0.2.99", "--only", "empty,bl", "--format", "json")
    doc = json.loads(r.stdout)
    x = result_of(doc, "192.0.2.99", "empty")
    expect(r.returncode == 2 and health_of(doc, "empty")["health"] == "unreliable" and
           x["reliable"] is False and doc["summary"]["unknown"] == 1 and doc["summary"]["not_listed"] == 1,
           "unreliable list (no test entry): exit 2, not counted clean", r)

    # Dead list: timeout after the retries, never clean; the live list still answers.
    t0 = time.monotonic()
    r = h.run("check", "192.0.2.99", "--only", "zen,dead", "--timeout", "400ms", "--retries", "1",
              "--format", "json")
    took = time.monotonic() - t0
    doc = json.loads(r.stdout)
    x = result_of(doc, "192.0.2.99", "dead")
    expect(r.returncode == 2 and x["status"] == "timeout" and
           result_of(doc, "192.0.2.99", "zen")["status"] == "not_listed" and
           health_of(doc, "dead")["health"] == "timeout",
           f"dead list: timeout (never clean), exit 2 ({took:.1f}s)", r)
    r = h.run("check", "192.0.2.99", "--only", "zen,dead", "--timeout", "400ms", "--retries", "1")
    expect(r.returncode == 2 and "TIMEOUT" in r.stdout and "1 unknown" in r.stdout, "dead list: text", r)

    # Nagios: OK / WARNING / CRITICAL / UNKNOWN with perfdata.
    r = h.run("check", "192.0.2.99", "--only", "zen,bl", "--format", "nagios")
    expect(r.returncode == 0 and r.stdout.startswith("DNSBL OK - ") and "| listed=0;" in r.stdout,
           "nagios OK", r)
    r = h.run("check", "192.0.2.10", "--only", "zen,bl", "--format", "nagios")
    expect(r.returncode == 2 and r.stdout.startswith("DNSBL CRITICAL - ") and "192.0.2.10 on zen" in r.stdout
           and "listed=2;" in r.stdout, "nagios CRITICAL", r)
    r = h.run("check", "192.0.2.99", "--only", "zen,dead", "--timeout", "400ms", "--retries", "0",
              "--format", "nagios")
    expect(r.returncode == 1 and r.stdout.startswith("DNSBL WARNING - ") and "unknown=1;" in r.stdout,
           "nagios WARNING (one list unknown)", r)
    r = h.run("check", "192.0.2.99", "--only", "refuse", "--format", "nagios")
    expect(r.returncode == 3 and r.stdout.startswith("DNSBL UNKNOWN - "), "nagios UNKNOWN (all refused)", r)
    r = h.run("check", "not-an-ip", "--format", "nagios")
    expect(r.returncode == 3 and r.stdout.startswith("DNSBL UNKNOWN - "), "nagios usage error: UNKNOWN", r)

    # Usage and setup errors: exit 3, naming the input.
    r = h.run("check", "192.0.2.300")
    expect(r.returncode == 3 and "192.0.2.300" in r.stderr, "bad IP: exit 3, named", r)
    r = h.run("check", "192.0.2.1", "--only", "nosuch")
    expect(r.returncode == 3 and "nosuch" in r.stderr, "unknown list: exit 3", r)
    r = h.run("check", "192.0.2.1", catalog=h.path("broken.toml"))
    expect(r.returncode == 3 and "broken.toml:14:8:" in r.stderr, "broken catalog: exit 3, file:line:column", r)
    r = h.run("check", "192.0.2.1", "--bogus")
    expect(r.returncode == 3 and "--bogus" in r.stderr, "unknown option: exit 3", r)
    r = h.run("check", "192.0.2.1", "--resolver", "127.0.0.1:99999", resolver=False)
    expect(r.returncode == 3 and "99999" in r.stderr, "bad resolver: exit 3", r)


def bench(h):
    runs = 5
    t = []
    for _ in range(runs):
        t0 = time.monotonic()
        r = h.run("check", "192.0.2.10", "--only", "zen,bl,refuse,empty")
        t.append(time.monotonic() - t0)
    print(f"bench: 1 IP x 4 answering lists (+ health checks), through unbound: "
          f"median {sorted(t)[runs // 2] * 1000:.0f} ms (exit {r.returncode})")
    ips = [f"192.0.2.{i}" for i in range(256)]
    t = []
    for _ in range(3):
        t0 = time.monotonic()
        r = h.run("check", *ips, "--format", "json", catalog=h.bench_catalog)
        t.append(time.monotonic() - t0)
    doc = json.loads(r.stdout)
    s = doc["summary"]
    print(f"bench: 256 IPs x 8 lists ({s['queries']} queries) through unbound: "
          f"median {sorted(t)[1] * 1000:.0f} ms; listed={s['listed']} not_listed={s['not_listed']} "
          f"unknown={s['unknown']}")


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    mailwarden = os.path.abspath(args[0])
    missing = [t for t in ("rbldnsd", "unbound") if shutil.which(t, path=os.environ.get("PATH", "") +
                                                                   ":/usr/sbin:/sbin") is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed")
        return SKIP
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    h = Harness(mailwarden, keep="--keep" in args)
    try:
        h.start()
        if "--harness-only" in args:
            print("harness up:", dns_query(int(h.resolver.split(":")[1]), f"10.2.0.192.zen.{ZONE}"),
                  dns_query(int(h.resolver.split(":")[1]), f"99.2.0.192.zen.{ZONE}"))
        elif "--bench" in args:
            bench(h)
        else:
            cases(h)
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        print(f"FAIL harness: {e}")
        FAILURES.append("harness")
    finally:
        if FAILURES:
            print(h.logs())
        h.stop()
    if FAILURES:
        print(f"{len(FAILURES)} failure(s): {', '.join(FAILURES)}")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
