#!/usr/bin/python3
"""`mailwarden policyd` proven with the real thing: a private Postfix 3.7 instance (loopback
only, its own config/queue/data directories, every destination an smtp-sink or discard:) wired
to `mailwarden policyd run` with the lines of docs/policyd.md (e2e_docs_wiring.py), and a
private redis-server, driven by an SMTP client that announces authenticated users with
XCLIENT LOGIN=. Every scenario asserts on the SMTP replies Postfix gives and on policyd's
metrics:

  account-limit  the 11th message in an hour from one account is deferred (4.7.1), another
                 account still sends; one alert (command hook) for the account
  webmail        two senders from the mailbox-server address keep separate counts
  hold           over the limit with HOLD: accepted, and in the hold queue (postqueue -j)
  restart        memory backend + state file: SIGTERM, start again, the count continues
  crash          the same after SIGKILL, once the write-behind interval has passed
  redis-shared   two policyd instances sharing Redis (two smtpd services) enforce one limit
  redis-down     Redis SIGKILLed mid-run: on_failure=open passes mail, closed defers it, each
                 counted in its metric; mail passes again once Redis is back
  spoofing       authenticated alice sending as bob is rejected 5.7.1 unless the
                 sender_login_maps entry allows it (SIGHUP re-reads the map)
  malformed      garbage sent straight to policyd's socket: connection closed without a reply,
                 the server keeps serving, counted
  reload         SIGHUP with a broken configuration keeps the old one (limits still enforced,
                 reload error counted); a good one is then taken
  unix-socket    the documented check_policy_service unix:private/... variant
  unprivileged   the same with [server] user = "nobody": privileges dropped after binding,
                 the state file belongs to that user
  rcpt-mode      the documented RCPT-mode lines: the recipient over the limit is deferred at RCPT
  policyd-down   no policyd listening: Postfix applies smtpd_policy_service_default_action
Every policyd must exit 0 on SIGTERM with no sanitizer report in its log.

usage: postfix_e2e_test.py MAILWARDEN [--only NAME,...] [--keep] [--docs docs/policyd.md]
Runs as root (the Postfix master needs it); exits 77 (skipped) when not root or when Postfix,
its Cyrus SASL PLAIN module or redis-server is missing. Nothing outside its temp dir is
touched; every process it starts is stopped and the temp dir removed, also on failure.
"""
import argparse
import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

# The e2e_* modules sit next to this file; no __pycache__ left in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e_docs_wiring import as_overrides, docs_block, unix_socket, with_port  # noqa: E402
from e2e_net import free_port  # noqa: E402
from e2e_postfix import PostfixInstance, SmtpdService, missing_prerequisites  # noqa: E402
from e2e_services import Policyd, Redis, policyd_toml, redis_missing  # noqa: E402
from e2e_smtp import send  # noqa: E402

SKIP = 77
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Client addresses announced with XCLIENT ADDR= for authenticated users: TEST-NET-1, so that
# they are neither a mailbox server (127.0.0.0/8) nor anything real.
ALICE_ADDR = "192.0.2.10"
BOB_ADDR = "192.0.2.11"


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Env:
    """What the scenarios share: the Postfix instance and the policy endpoints its smtpd
    services are wired to, the Redis server (started on first use), every process to clean up.

    smtpd services (master.cf), each on its own 127.0.0.1 port:
      main    main.cf as docs/policyd.md says (end-of-message, inet:127.0.0.1:port_main)
      second  the same hook on port_second: the other MTA of the shared-Redis scenario
      unix    the documented unix:private/... variant of the hook
      rcpt    the documented RCPT-mode lines (inet:127.0.0.1:port_rcpt); the main.cf
              end-of-data hook is switched off there
    """

    def __init__(self, mailwarden, root, docs):
        self.mailwarden = mailwarden
        self.root = root
        self.port_main = free_port()
        self.port_second = free_port()
        self.port_rcpt = free_port()
        self.sources = {}
        blocks = {}
        for variant in ("main.cf", "unix", "rcpt"):
            blocks[variant], self.sources[variant] = docs_block(docs, variant)
        self.wiring = with_port(blocks["main.cf"], self.port_main)
        self.rcpt_wiring = with_port(blocks["rcpt"], self.port_rcpt)
        self.unix_wiring = blocks["unix"]
        services = [
            SmtpdService("main"),
            SmtpdService("second", as_overrides(
                with_port(blocks["main.cf"], self.port_second))),
            SmtpdService("unix", as_overrides(self.unix_wiring)),
            SmtpdService("rcpt", ["{ smtpd_end_of_data_restrictions = }"]
                         + as_overrides(self.rcpt_wiring)),
        ]
        self.postfix = PostfixInstance(root, self.wiring, services)
        self.unix_socket = os.path.join(self.postfix.spool, unix_socket(self.unix_wiring))
        self.redis = None
        self.policyds = []
        self.current = []  # the policyd instances of the running scenario still running
        self.scenario_policyds = []  # all that the running scenario started (logs on failure)

    def describe(self):
        return "\n".join(
            [f"main.cf policy wiring from {self.sources['main.cf']}:", self.wiring.rstrip(),
             f"smtpd 'unix' from {self.sources['unix']}:", self.unix_wiring.rstrip(),
             f"smtpd 'rcpt' from {self.sources['rcpt']}:", self.rcpt_wiring.rstrip()])

    def start_redis(self):
        if self.redis is None:
            self.redis = Redis(self.root)
        if self.redis.proc is None:
            self.redis.start()
        return self.redis

    def policyd(self, name, listen, config_kwargs):
        metrics_port = free_port()
        p = Policyd(self.mailwarden, self.root, name, listen,
                    policyd_toml(listen, metrics_port, **config_kwargs), metrics_port)
        self.policyds.append(p)
        self.current.append(p)
        self.scenario_policyds.append(p)
        p.start()
        return p

    def main_listen(self):
        return [f"inet:127.0.0.1:{self.port_main}"]

    def send(self, service, sender, rcpt="rcpt@example.net", login=None, addr=None):
        return send(self.postfix.port(service), sender, rcpt, login=login, client_addr=addr)

    def stop_scenario(self, check_exit=True):
        """Stops the scenario's policyd instances (SIGTERM). With check_exit, one that does not
        exit 0 or whose log shows a sanitizer report fails the scenario."""
        problems = []
        for p in self.current:
            status = p.stop()
            if status != 0:
                problems.append(f"policyd {p.name} exit status after SIGTERM: {status}")
            problems += [f"policyd {p.name}: {line}" for line in p.sanitizer_reports()]
        self.current = []
        if check_exit and problems:
            raise Failure("; ".join(problems))

    def cleanup(self):
        for p in self.policyds:
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on
                traceback.print_exc()
        self.policyds = []
        if self.redis is not None:
            self.redis.stop()
        self.postfix.stop()


# --- assertions on outcomes --------------------------------------------------------------
def expect_accepted(o, what):
    check(o.accepted, f"{what}: expected 250 after DATA, got {o}")


def expect_deferred(o, what, text="4.7.1"):
    check(o.stage == "data" and 400 <= o.code < 500 and text in o.text,
          f"{what}: expected a 4xx '{text} ...' after DATA, got {o}")


def expect_rejected(o, what, text="5.7.1"):
    check(o.stage == "data" and 500 <= o.code < 600 and text in o.text,
          f"{what}: expected a 5xx '{text} ...' after DATA, got {o}")


def expect_metric(samples, name, expected, at_least=False, **labels):
    value = samples.get((name, tuple(sorted(labels.items()))), 0.0)
    check(value >= expected if at_least else value == expected,
          f"metric {name}{labels or ''} {'>=' if at_least else '=='} {expected}, got {value}")


def send_n(env, n, service, sender, login=None, addr=None, what=""):
    codes = []
    for i in range(n):
        o = env.send(service, sender, login=login, addr=addr)
        codes.append(o.code)
        expect_accepted(o, f"{what} message {i + 1}/{n} (codes so far {codes})")
    return codes


def wait_metric(p, name, at_least, timeout=10, **labels):
    deadline = time.time() + timeout
    value = p.metric(name, **labels)
    while value < at_least and time.time() < deadline:
        time.sleep(0.1)
        value = p.metric(name, **labels)
    return value


LIMIT_10 = [("account", "1h", 10, 100), ("sender", "1h", 10, 100)]


# --- scenarios -----------------------------------------------------------------------------
def s_account_limit(env):
    hook_out = os.path.join(env.root, "alert-hook.txt")
    hook = os.path.join(env.root, "alert-hook.sh")
    with open(hook, "w") as f:
        f.write(f'#!/bin/sh\necho "$MW_ALERT_KIND|$MW_KEY|$MW_SUBJECT" >> {hook_out}\n')
    os.chmod(hook, 0o755)
    p = env.policyd("account-limit", env.main_listen(),
                    {"limits": LIMIT_10, "alerts": {"command": hook}})
    send_n(env, 10, "main", "alice@example.com", login="alice@example.com", addr=ALICE_ADDR,
           what="alice")
    o = env.send("main", "alice@example.com", login="alice@example.com", addr=ALICE_ADDR)
    expect_deferred(o, "alice's 11th message")
    check("rate limit" in o.text.lower(), f"the deferral names the rate limit: {o}")
    expect_deferred(env.send("main", "alice@example.com", login="alice@example.com",
                             addr=ALICE_ADDR), "alice's 12th message")
    o = env.send("main", "bob@example.com", login="bob@example.com", addr=BOB_ADDR)
    expect_accepted(o, "bob while alice is over her limit")
    m = p.metrics()
    expect_metric(m, "mailwarden_policyd_decisions_total", 2, action="defer")
    expect_metric(m, "mailwarden_policyd_decisions_total", 11, action="dunno")  # alice + bob
    expect_metric(m, "mailwarden_policyd_over_limit_total", 2)
    expect_metric(m, "mailwarden_policyd_requests_total", 13, at_least=True)
    # One alert per account per window, whatever the number of refused messages; the hook
    # runs in the background, so wait for its line.
    expect_metric(m, "mailwarden_policyd_alerts_total", 1)
    deadline = time.time() + 15
    while time.time() < deadline and not os.path.exists(hook_out):
        time.sleep(0.1)
    lines = open(hook_out).read().splitlines() if os.path.exists(hook_out) else []
    check(len(lines) == 1 and "alice@example.com" in lines[0],
          f"alert hook: expected one line naming alice@example.com, got {lines}")


def s_webmail(env):
    env.policyd("webmail", env.main_listen(), {"limits": LIMIT_10})
    # No XCLIENT: the client is 127.0.0.1, a mailbox server by default, and nobody is
    # authenticated, as with Zimbra's webmail.
    send_n(env, 10, "main", "u1@example.com", what="webmail user u1")
    expect_deferred(env.send("main", "u1@example.com"), "u1's 11th message")
    expect_deferred(env.send("main", "U1@Example.COM"),
                    "u1's 12th message, sender in other case (buckets are lower case)")
    send_n(env, 3, "main", "u2@example.com", what="webmail user u2 (same client address)")


def s_hold(env):
    env.policyd("hold", env.main_listen(), {"limits": LIMIT_10, "action": "hold"})
    send_n(env, 10, "main", "holly@example.com", login="holly@example.com", addr=ALICE_ADDR,
           what="holly")
    o = env.send("main", "holly@example.com", login="holly@example.com", addr=ALICE_ADDR,
                 rcpt="evidence@example.net")
    expect_accepted(o, "holly's 11th message (HOLD accepts it)")
    m = re.search(r"queued as ([0-9A-Za-z]+)", o.text)
    check(m is not None, f"no queue id in {o}")
    qid = m.group(1)
    deadline = time.time() + 15
    held = []
    while time.time() < deadline:
        queue = env.postfix.queue()
        held = [e for e in queue if e.get("queue_name") == "hold"]
        if held:
            break
        time.sleep(0.2)
    check([e.get("queue_id") for e in held] == [qid],
          f"hold queue should hold exactly {qid}, postqueue -j: {held or queue}")
    e = held[0]
    check(e.get("sender") == "holly@example.com"
          and [r.get("address") for r in e.get("recipients", [])] == ["evidence@example.net"],
          f"held message: {e}")
    env.postfix.delete(qid, "hold")


def s_restart(env):
    state = os.path.join(env.root, "state-restart", "policyd.sqlite")
    os.makedirs(os.path.dirname(state))
    kw = {"limits": LIMIT_10, "state_path": state}
    p = env.policyd("restart", env.main_listen(), kw)
    send_n(env, 6, "main", "rita@example.com", login="rita@example.com", addr=ALICE_ADDR,
           what="rita before the restart")
    status = p.stop()
    check(status == 0, f"policyd exit status after SIGTERM: {status} (expected 0)")
    check(os.path.exists(state), f"no state file {state} after SIGTERM")
    p.start()
    send_n(env, 4, "main", "rita@example.com", login="rita@example.com", addr=ALICE_ADDR,
           what="rita after the restart (6 + 4 = 10)")
    expect_deferred(env.send("main", "rita@example.com", login="rita@example.com",
                             addr=ALICE_ADDR), "rita's 11th message, after the restart")


def s_crash(env):
    # Written behind every flush_interval: after a few intervals a SIGKILL loses nothing.
    state = os.path.join(env.root, "state-crash", "policyd.sqlite")
    os.makedirs(os.path.dirname(state))
    p = env.policyd("crash", env.main_listen(),
                    {"limits": LIMIT_10, "state_path": state, "flush_interval": "250ms"})
    ruth = {"login": "ruth@example.com", "addr": ALICE_ADDR}
    send_n(env, 5, "main", "ruth@example.com", what="ruth before the crash", **ruth)
    time.sleep(3)  # 12 flush intervals: a bounded wait for the write-behind timer
    p.kill()
    p.start()
    send_n(env, 5, "main", "ruth@example.com", what="ruth after the crash (5 + 5 = 10)", **ruth)
    expect_deferred(env.send("main", "ruth@example.com", **ruth),
                    "ruth's 11th message, after the crash")


def redis_kw(env, on_failure="open", prefix=None):
    return {"address": env.redis.address, "on_failure": on_failure,
            "prefix": prefix or f"mwe2e:{os.getpid()}:{time.time_ns()}:", "timeout": "200ms"}


def s_redis_shared(env):
    env.start_redis()
    redis = redis_kw(env)
    kw = {"limits": LIMIT_10, "redis": redis}
    env.policyd("redis-a", env.main_listen(), kw)
    env.policyd("redis-b", [f"inet:127.0.0.1:{env.port_second}"], kw)
    for i in range(10):
        service = ("main", "second")[i % 2]
        expect_accepted(env.send(service, "carol@example.com", login="carol@example.com",
                                 addr=ALICE_ADDR), f"carol message {i + 1}/10 via {service}")
    expect_deferred(env.send("main", "carol@example.com", login="carol@example.com",
                             addr=ALICE_ADDR), "carol's 11th message via instance A")
    expect_deferred(env.send("second", "carol@example.com", login="carol@example.com",
                             addr=ALICE_ADDR), "carol's 12th message via instance B")
    expect_accepted(env.send("second", "dave@example.com", login="dave@example.com",
                             addr=BOB_ADDR), "dave via instance B")
    cli = shutil.which("redis-cli")
    if cli:
        keys = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(env.redis.port), "--scan",
                               "--pattern", redis["prefix"] + "*"],
                              stdout=subprocess.PIPE, text=True, timeout=10).stdout.split()
        check(keys, f"no key with prefix {redis['prefix']} in Redis")


def s_redis_down(env):
    redis = env.start_redis()
    # on_failure = open: mail passes while Redis is gone, counted.
    p = env.policyd("redis-open", env.main_listen(),
                    {"limits": LIMIT_10, "redis": redis_kw(env, "open")})
    send_n(env, 2, "main", "erin@example.com", login="erin@example.com", addr=ALICE_ADDR,
           what="erin with Redis up")
    before = p.metric("mailwarden_policyd_fail_open_total")
    redis.kill()
    expect_accepted(env.send("main", "erin@example.com", login="erin@example.com",
                             addr=ALICE_ADDR), "erin with Redis killed, on_failure=open")
    after = p.metric("mailwarden_policyd_fail_open_total")
    check(after > before, f"fail_open_total did not increase ({before} -> {after})")
    env.stop_scenario()
    # on_failure = closed: mail is deferred while Redis is gone, counted; back when it is.
    redis.start()
    p = env.policyd("redis-closed", env.main_listen(),
                    {"limits": LIMIT_10, "redis": redis_kw(env, "closed")})
    expect_accepted(env.send("main", "frank@example.com", login="frank@example.com",
                             addr=ALICE_ADDR), "frank with Redis up, on_failure=closed")
    before = p.metric("mailwarden_policyd_fail_closed_total")
    redis.kill()
    o = env.send("main", "frank@example.com", login="frank@example.com", addr=ALICE_ADDR)
    check(o.stage == "data" and 400 <= o.code < 500,
          f"frank with Redis killed, on_failure=closed: expected 4xx after DATA, got {o}")
    after = p.metric("mailwarden_policyd_fail_closed_total")
    check(after > before, f"fail_closed_total did not increase ({before} -> {after})")
    redis.start()
    deadline = time.time() + 15
    o = None
    while time.time() < deadline:  # the pool reconnects on its own; give it a few tries
        o = env.send("main", "frank@example.com", login="frank@example.com", addr=ALICE_ADDR)
        if o.accepted:
            break
        time.sleep(1)
    expect_accepted(o, "frank once Redis is back (policyd reconnects)")


def s_spoofing(env):
    maps = os.path.join(env.root, "sender_login_maps")
    with open(maps, "w") as f:
        f.write("# sender            owners (smtpd_sender_login_maps format)\n"
                "alias@example.com   alice@example.com\n"
                "bob@example.com     bob@example.com\n")
    kw = {"limits": [("account", "1h", 100, 1000)],
          "spoofing": {"enabled": True, "sender_login_maps": maps}}
    p = env.policyd("spoofing", env.main_listen(), kw)
    alice = {"login": "alice@example.com", "addr": ALICE_ADDR}
    expect_accepted(env.send("main", "alice@example.com", **alice), "alice as herself")
    expect_rejected(env.send("main", "bob@example.com", **alice), "alice as bob@example.com")
    check(p.metric("mailwarden_policyd_spoofed_total") >= 1, "spoofed_total did not count it")
    expect_accepted(env.send("main", "alias@example.com", **alice),
                    "alice as alias@example.com (map: alias@example.com alice@example.com)")
    expect_accepted(env.send("main", "bob@example.com", login="bob@example.com", addr=BOB_ADDR),
                    "bob as himself")
    # The map entry that allows it, taken on SIGHUP.
    with open(maps + ".tmp", "w") as f:
        f.write("alias@example.com   alice@example.com\n"
                "bob@example.com     bob@example.com, alice@example.com\n")
    os.replace(maps + ".tmp", maps)
    ok_before = p.metric("mailwarden_policyd_config_reloads_total", result="ok")
    p.signal(signal.SIGHUP)
    check(wait_metric(p, "mailwarden_policyd_config_reloads_total", ok_before + 1,
                      result="ok") >= ok_before + 1, "SIGHUP: config_reloads_total{ok} unchanged")
    expect_accepted(env.send("main", "bob@example.com", **alice),
                    "alice as bob@example.com once the map allows it")


def _raw_exchange(port, payload, timeout=10):
    """Sends payload to policyd and reads until it closes: (bytes received, closed?)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still writing (an oversized request): fine
        received = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return received, True
                received += chunk
        except ConnectionResetError:
            return received, True
        except socket.timeout:
            return received, False


def _policy_request(**attrs):
    base = {"request": "smtpd_access_policy", "protocol_state": "END-OF-MESSAGE",
            "protocol_name": "ESMTP", "client_address": ALICE_ADDR, "client_name": "x.e2e.test",
            "server_address": "127.0.0.1", "sender": "mallory@example.com",
            "recipient": "rcpt@example.net", "recipient_count": "1",
            "instance": f"e2e.{time.time_ns()}", "sasl_method": "PLAIN",
            "sasl_username": "mallory@example.com"}
    base.update(attrs)
    return "".join(f"{k}={v}\n" for k, v in base.items()).encode() + b"\n"


def s_malformed(env):
    p = env.policyd("malformed", env.main_listen(), {"limits": LIMIT_10})
    before = p.metric("mailwarden_policyd_malformed_total")
    cases = [
        ("a line without '='", b"request=smtpd_access_policy\nthis line has no equals sign\n\n"),
        ("a request over max_request_bytes (16384)",
         b"request=smtpd_access_policy\nsender=" + b"a" * 20000 + b"\n\n"),
        ("101 attributes (max_attributes 100)",
         b"".join(b"x%d=y\n" % i for i in range(101)) + b"\n"),
    ]
    for what, payload in cases:
        received, closed = _raw_exchange(env.port_main, payload)
        check(received == b"", f"{what}: policyd replied {received[:200]!r}")
        check(closed, f"{what}: connection still open after 10 s")
        check(p.alive(), f"{what}: policyd died (exit status {p.proc.poll()})")
    after = wait_metric(p, "mailwarden_policyd_malformed_total", before + len(cases))
    check(after >= before + len(cases),
          f"malformed_total {before} -> {after}, expected +{len(cases)}")
    # Still serving: a well-formed request by hand, and mail through Postfix.
    with socket.create_connection(("127.0.0.1", env.port_main), timeout=10) as s:
        s.sendall(_policy_request())
        received = b""
        while not received.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            received += chunk
    check(re.fullmatch(rb"action=[^\n]+\n\n", received) is not None,
          f"well-formed request after the malformed ones: reply {received!r}")
    expect_accepted(env.send("main", "alice@example.com", login="alice@example.com",
                             addr=ALICE_ADDR), "mail after the malformed requests")


def s_reload(env):
    limits3 = [("account", "1h", 3, 100)]
    p = env.policyd("reload", env.main_listen(), {"limits": limits3})
    gina = {"login": "gina@example.com", "addr": ALICE_ADDR}
    send_n(env, 3, "main", "gina@example.com", what="gina (limit 3)", **gina)
    expect_deferred(env.send("main", "gina@example.com", **gina), "gina's 4th message")
    good = open(p.config).read()
    broken = good.replace('window = "1h"', 'window = "1 fortnight"')
    check(broken != good, "could not break the configuration")
    broken_path = os.path.join(env.root, "broken.toml")
    with open(broken_path, "w") as f:
        f.write(broken)
    r = subprocess.run([env.mailwarden, "policyd", "check-config", "--config", broken_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    check(r.returncode == 2 and "broken.toml" in r.stderr,
          f"check-config on the broken file: exit {r.returncode} (expected 2), "
          f"stderr {r.stderr.strip()!r} (expected to name broken.toml)")
    err_before = p.metric("mailwarden_policyd_config_reloads_total", result="error")
    p.write_config(broken)
    p.signal(signal.SIGHUP)
    err_after = wait_metric(p, "mailwarden_policyd_config_reloads_total", err_before + 1,
                            result="error")
    check(err_after >= err_before + 1,
          f"config_reloads_total{{result=error}} {err_before} -> {err_after} after SIGHUP")
    check(p.alive(), f"policyd died on SIGHUP with a broken config (status {p.proc.poll()})")
    expect_deferred(env.send("main", "gina@example.com", **gina),
                    "gina after the broken reload (old limits kept)")
    expect_accepted(env.send("main", "henry@example.com", login="henry@example.com",
                             addr=BOB_ADDR), "henry after the broken reload")
    # A good configuration is then taken: limit 20, counters kept.
    ok_before = p.metric("mailwarden_policyd_config_reloads_total", result="ok")
    p.write_config(good.replace("messages = 3", "messages = 20"))
    p.signal(signal.SIGHUP)
    check(wait_metric(p, "mailwarden_policyd_config_reloads_total", ok_before + 1,
                      result="ok") >= ok_before + 1, "good config: reloads_total{ok} unchanged")
    expect_accepted(env.send("main", "gina@example.com", **gina),
                    "gina once the limit is raised to 20")


def s_unix_socket(env):
    env.policyd("unix-socket", [f"unix:{env.unix_socket}"],
                {"limits": [("account", "1h", 3, 100)]})
    send_n(env, 3, "unix", "lena@example.com", login="lena@example.com", addr=ALICE_ADDR,
           what="lena through the unix socket (limit 3)")
    expect_deferred(env.send("unix", "lena@example.com", login="lena@example.com",
                             addr=ALICE_ADDR), "lena's 4th message through the unix socket")


def s_unprivileged(env):
    # As under the systemd unit: bind as root (the socket in Postfix's private/), then run as
    # an unprivileged user, which owns the state file.
    nobody = pwd.getpwnam("nobody")
    state_dir = os.path.join(env.root, "state-nobody")
    os.makedirs(state_dir)
    os.chown(state_dir, nobody.pw_uid, nobody.pw_gid)
    state = os.path.join(state_dir, "policyd.sqlite")
    p = env.policyd("unprivileged", [f"unix:{env.unix_socket}"],
                    {"limits": [("account", "1h", 3, 100)], "user": "nobody",
                     "state_path": state})
    want = [[str(nobody.pw_uid)] * 4, [str(nobody.pw_gid)] * 4]
    deadline = time.time() + 10  # the sockets are bound just before the drop: poll briefly
    while True:
        with open(f"/proc/{p.proc.pid}/status") as f:
            uids = [line.split()[1:] for line in f if line.startswith(("Uid:", "Gid:"))]
        if uids == want or time.time() > deadline:
            break
        time.sleep(0.1)
    check(uids == want,
          f"policyd with user = \"nobody\": Uid/Gid (real, effective, saved, fs) {uids}")
    send_n(env, 3, "unix", "nora@example.com", login="nora@example.com", addr=ALICE_ADDR,
           what="nora (policyd as nobody, limit 3)")
    expect_deferred(env.send("unix", "nora@example.com", login="nora@example.com",
                             addr=ALICE_ADDR), "nora's 4th message")
    env.stop_scenario()
    check(os.path.exists(state) and os.stat(state).st_uid == nobody.pw_uid,
          f"state file {state} missing or not owned by nobody")


def s_rcpt_mode(env):
    env.policyd("rcpt-mode", [f"inet:127.0.0.1:{env.port_rcpt}"],
                {"limits": [("account", "1h", 0, 5), ("sender", "1h", 0, 5)], "stage": "rcpt"})
    ivan = {"login": "ivan@example.com", "addr": ALICE_ADDR}
    o = env.send("rcpt", "ivan@example.com", rcpt=[f"r{i}@example.net" for i in range(3)],
                 **ivan)
    check([c for c, _ in o.rcpt] == [250, 250, 250] and o.accepted,
          f"ivan's first message, 3 recipients of 5: {o}, rcpt {o.rcpt}")
    o = env.send("rcpt", "ivan@example.com", rcpt=[f"s{i}@example.net" for i in range(3)],
                 **ivan)
    codes = [c for c, _ in o.rcpt]
    check(codes[:2] == [250, 250] and 400 <= codes[2] < 500 and "4.7.1" in o.rcpt[2][1],
          f"ivan's second message: recipients 4 and 5 accepted, the 6th deferred 4.7.1 at "
          f"RCPT; got {o.rcpt}")
    check(o.accepted, f"ivan's second message goes to its 2 accepted recipients: {o}")
    o = env.send("rcpt", "judy@example.com", rcpt=[f"t{i}@example.net" for i in range(3)],
                 login="judy@example.com", addr=BOB_ADDR)
    check([c for c, _ in o.rcpt] == [250, 250, 250] and o.accepted,
          f"judy while ivan is over his limit: {o}, rcpt {o.rcpt}")
    # Webmail (permit_mynetworks comes after the hook): counted too.
    o = env.send("rcpt", "w1@example.com", rcpt=[f"u{i}@example.net" for i in range(6)])
    codes = [c for c, _ in o.rcpt]
    check(codes[:5] == [250] * 5 and 400 <= codes[5] < 500,
          f"webmail w1 with 6 recipients: the 6th deferred at RCPT; got {o.rcpt}")


def s_policyd_down(env):
    # Nothing listens on the policy port: the message must not pass unchecked.
    o = env.send("main", "kim@example.com", login="kim@example.com", addr=ALICE_ADDR)
    check(o.stage == "data" and 400 <= o.code < 500,
          f"policyd down: expected smtpd_policy_service_default_action (4xx), got {o}")


SCENARIOS = [
    ("account-limit", s_account_limit),
    ("webmail", s_webmail),
    ("hold", s_hold),
    ("restart", s_restart),
    ("crash", s_crash),
    ("redis-shared", s_redis_shared),
    ("redis-down", s_redis_down),
    ("spoofing", s_spoofing),
    ("malformed", s_malformed),
    ("reload", s_reload),
    ("unix-socket", s_unix_socket),
    ("unprivileged", s_unprivileged),
    ("rcpt-mode", s_rcpt_mode),
    ("policyd-down", s_policyd_down),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mailwarden")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--docs", default=os.path.join(SOURCE_DIR, "docs", "policyd.md"))
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("SKIP: must run as root (the Postfix master starts as root)")
        return SKIP
    missing = missing_prerequisites()
    if redis_missing():
        missing.append("redis-server")
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return SKIP
    if not os.access(args.mailwarden, os.X_OK):
        print(f"FAIL: {args.mailwarden} is not an executable")
        return 1
    selected = [s for s in SCENARIOS
                if not args.only or s[0] in args.only.split(",")]
    if not selected:
        print(f"FAIL: no scenario named {args.only}; have {[s[0] for s in SCENARIOS]}")
        return 1

    root = tempfile.mkdtemp(prefix="mw-policyd-e2e-")
    os.chmod(root, 0o755)  # Postfix's daemons drop privileges and must traverse it
    env = None

    def cleanup():
        nonlocal env
        if env is not None:
            env.cleanup()
            env = None
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    atexit.register(cleanup)
    # ctest sends SIGTERM on timeout: clean up then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    results = []
    try:
        env = Env(args.mailwarden, root, args.docs)
        print(env.describe(), flush=True)
        try:
            env.postfix.start()
        except Exception:
            print(f"FAIL: Postfix did not start\n{traceback.format_exc()}\n"
                  f"--- Postfix maillog:\n{env.postfix.maillog_tail()}")
            return 1
        for name, fn in selected:
            t0 = time.time()
            env.scenario_policyds = []
            try:
                fn(env)
                env.stop_scenario()
                results.append((name, "ok", ""))
            except Exception as e:  # noqa: BLE001 - every scenario is reported
                detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
                results.append((name, "FAIL", detail))
                print(f"--- {name} FAILED: {detail}")
                for p in env.scenario_policyds:
                    print(f"--- policyd {p.name} log ({p.log}), last lines:\n{p.log_tail()}")
                print(f"--- Postfix maillog, last lines:\n{env.postfix.maillog_tail()}")
            finally:
                env.stop_scenario(check_exit=False)
            print(f"{name}: {results[-1][1]} ({time.time() - t0:.1f} s)", flush=True)
    finally:
        cleanup()

    print("\nscenario        result")
    for name, result, detail in results:
        print(f"{name:<15} {result}" + (f"  {detail.splitlines()[0]}" if detail else ""))
    return 0 if all(r == "ok" for _, r, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
