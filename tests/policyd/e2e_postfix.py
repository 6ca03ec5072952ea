"""A private, loopback-only Postfix instance for the policyd e2e test: its own config, queue and
data directories under the test's temp dir, postlogd writing to a file there, smtpd services on
free 127.0.0.1 ports, and every destination ending in an smtp-sink or a discard: transport, so
that nothing ever leaves the machine. The host's Postfix configuration and queue
(/etc/postfix/main.cf, /var/spool/postfix) are never used: every command gets `-c CONF`.
"""
import glob
import json
import os
import shutil
import subprocess
import time

from e2e_net import free_port, wait_for_port

# The services every instance runs, in master.cf syntax (no chroot: the paths are in /tmp).
_MASTER_BASE = """\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def missing_prerequisites():
    """What this host lacks to run a private Postfix instance (empty when nothing)."""
    missing = [c for c in ("postfix", "postconf", "postqueue", "postsuper", "smtp-sink")
               if shutil.which(c) is None and not os.path.exists("/usr/sbin/" + c)]
    # XCLIENT LOGIN= is ignored unless smtpd has SASL, which needs a Cyrus mechanism.
    if not glob.glob("/usr/lib/*/sasl2/libplain.so*"):
        missing.append("Cyrus SASL PLAIN module (libsasl2-modules)")
    for cmd, what in ((["id", "postfix"], "user postfix"),
                      (["getent", "group", "postdrop"], "group postdrop")):
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            missing.append(what)
    return missing


def _tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


class SmtpdService:
    """One smtpd listener: its port and the `-o name=value` overrides of master.cf."""

    def __init__(self, name, overrides=()):
        self.name = name
        self.port = free_port()
        self.overrides = list(overrides)


class PostfixInstance:
    """main.cf is the base configuration plus `wiring` (the policy service lines, verbatim as an
    administrator writes them); each SmtpdService is a master.cf smtpd entry on its own port."""

    def __init__(self, root, wiring, services):
        self.root = root
        self.conf = os.path.join(root, "postfix-etc")
        self.spool = os.path.join(root, "postfix-spool")
        self.data = os.path.join(root, "postfix-data")
        self.logdir = os.path.join(root, "postfix-log")
        self.maillog = os.path.join(self.logdir, "mail.log")
        self.wiring = wiring
        self.services = {s.name: s for s in services}
        self.sink_port = free_port()
        self.sink = None
        self.started = False

    def port(self, service):
        return self.services[service].port

    def write_config(self):
        for d in (self.conf, self.spool, self.data, self.logdir):
            os.makedirs(d, exist_ok=True)
        shutil.chown(self.data, "postfix", "root")
        os.chmod(self.data, 0o700)
        main = f"""\
# Private e2e instance: loopback only, nothing leaves the machine.
compatibility_level = 3.6
queue_directory = {self.spool}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
# postlogd(8) to a file: there is no syslog daemon, and the host's log stays clean.
maillog_file = {self.maillog}
maillog_file_prefixes = {self.logdir}

myhostname = mta.e2e.test
mydomain = e2e.test
myorigin = $mydomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8

# No local delivery; every destination is either the smtp-sink (example.net) or discarded.
mydestination =
local_transport = error:local delivery disabled in the e2e instance
alias_maps =
alias_database =
transport_maps = texthash:{self.conf}/transport
default_transport = discard:e2e default
relay_transport = discard:e2e relay
relayhost =

# The test announces the SMTP AUTH user with XCLIENT LOGIN= (XCLIENT_README): only from
# loopback. XCLIENT LOGIN is ignored unless SASL is on, so smtpd gets Cyrus SASL with a config
# of our own (no AUTH is ever attempted; nothing in /etc/postfix/sasl is read).
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {self.conf}/sasl
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0s
smtpd_tls_security_level = none
smtp_tls_security_level = none
biff = no
append_dot_mydomain = no

# --- the policy service wiring under test ---
{self.wiring}
"""
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(main)
        master = ["# service type  private unpriv  chroot  wakeup  maxproc command + args"]
        for s in self.services.values():
            master.append(f"127.0.0.1:{s.port} inet n - n - - smtpd")
            master.append(f"  -o syslog_name=postfix/{s.name}")
            master.extend(f"  -o {o}" for o in s.overrides)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write("\n".join(master) + "\n" + _MASTER_BASE)
        os.makedirs(os.path.join(self.conf, "sasl"), exist_ok=True)
        with open(os.path.join(self.conf, "sasl", "smtpd.conf"), "w") as f:
            f.write(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    f"sasldb_path: {self.conf}/sasl/sasldb2\nmech_list: PLAIN\n")
        with open(os.path.join(self.conf, "transport"), "w") as f:
            f.write(f"example.net  smtp:[127.0.0.1]:{self.sink_port}\n")

    def start(self):
        self.write_config()
        # `postfix check` creates the queue directories with their owners and modes.
        self._postfix("check")
        self.sink = subprocess.Popen(
            [_tool("smtp-sink"), "-4", "-u", "nobody", "-h", "mx.example.net",
             f"127.0.0.1:{self.sink_port}", "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = True
        self._postfix("start")
        for s in self.services.values():
            if not wait_for_port(s.port, 20):
                raise RuntimeError(f"postfix smtpd {s.name} not listening on 127.0.0.1:{s.port}")
        if not wait_for_port(self.sink_port, 20):
            raise RuntimeError(f"smtp-sink not listening on 127.0.0.1:{self.sink_port}")

    def stop(self):
        if self.started:
            subprocess.run([_tool("postfix"), "-c", self.conf, "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pidfile = os.path.join(self.spool, "pid", "master.pid")
            deadline = time.time() + 15
            while time.time() < deadline and _pid_alive(pidfile):
                time.sleep(0.1)
            if _pid_alive(pidfile):  # a master that ignores "stop": don't leave it behind
                subprocess.run([_tool("postfix"), "-c", self.conf, "abort"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started = False
        if self.sink is not None:
            self.sink.terminate()
            try:
                self.sink.wait(10)
            except subprocess.TimeoutExpired:
                self.sink.kill()
                self.sink.wait()
            self.sink = None

    def queue(self):
        """The queue as `postqueue -j` reports it: one dict per message."""
        out = subprocess.run([_tool("postqueue"), "-c", self.conf, "-j"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def delete(self, queue_id, queue):
        subprocess.run([_tool("postsuper"), "-c", self.conf, "-d", queue_id, queue],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def maillog_tail(self, lines=40):
        try:
            with open(self.maillog, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"(no maillog: {e})\n"

    def _postfix(self, command):
        r = subprocess.run([_tool("postfix"), "-c", self.conf, command],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"postfix {command} failed ({r.returncode}):\n{r.stdout}")


def _pid_alive(pidfile):
    try:
        with open(pidfile) as f:
            pid = int("".join(c for c in f.read() if c.isdigit()) or 0)
    except OSError:
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
