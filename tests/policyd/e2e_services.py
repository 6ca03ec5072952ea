"""The processes the policyd e2e test runs besides Postfix: `mailwarden policyd run` instances
(configuration written by the test, output kept in a log file, metrics read over HTTP) and a
private redis-server on a free loopback port with its own directory.
"""
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

from e2e_net import free_port, wait_for_port, wait_for_unix_socket


def toml_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def policyd_toml(listen, metrics_port, limits, action="defer", stage=None, state_path="",
                 flush_interval="1s", redis=None, spoofing=None, alerts=None, user=""):
    """A policyd configuration in the format of the common spec. `limits`: (scope, window,
    messages, recipients) tuples; `redis`: dict of [state.redis] keys (backend redis when set);
    `spoofing`, `alerts`: dicts of [spoofing] and [alerts] keys."""
    lines = ["[server]",
             "listen = [" + ", ".join(toml_string(x) for x in listen) + "]",
             "threads = 2",
             f"user = {toml_string(user)}",
             f'metrics = "127.0.0.1:{metrics_port}"',
             # Postfix waits up to smtpd_policy_service_timeout; the test never wants that long.
             'request_timeout = "10s"',
             ""]
    if stage is not None:
        lines += ["[counting]", f"stage = {toml_string(stage)}", ""]
    lines += ["[action]", f"over_limit = {toml_string(action)}", ""]
    for scope, window, messages, recipients in limits:
        lines += ["[[limit]]", f"scope = {toml_string(scope)}", f"window = {toml_string(window)}",
                  f"messages = {messages}", f"recipients = {recipients}", ""]
    # No mail to a postmaster unless asked; syslog off so that the host's log stays clean.
    lines += ["[alerts]", "syslog = false"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in (alerts or {}).items()] + [""]
    if spoofing:
        lines += ["[spoofing]"] + [f"{k} = {_toml_value(v)}" for k, v in spoofing.items()] + [""]
    lines += ["[state]", f'backend = "{"redis" if redis else "memory"}"',
              f"path = {toml_string(state_path)}",
              f"flush_interval = {toml_string(flush_interval)}", ""]
    if redis:
        lines += ["[state.redis]"] + [f"{k} = {_toml_value(v)}" for k, v in redis.items()] + [""]
    return "\n".join(lines)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return toml_string(str(v))


def parse_metrics(text):
    """Prometheus text format -> {(name, ((label, value), ...)): float}; labels sorted."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$', line)
        if not m:
            raise ValueError(f"unparseable metrics line: {line!r}")
        labels = tuple(sorted(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                         m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


class Policyd:
    """One `mailwarden policyd run --config NAME.toml` process."""

    def __init__(self, mailwarden, root, name, listen, config_text, metrics_port):
        self.mailwarden = mailwarden
        self.name = name
        self.listen = listen
        self.metrics_port = metrics_port
        self.config = os.path.join(root, f"{name}.toml")
        self.log = os.path.join(root, f"{name}.log")
        self.proc = None
        self.write_config(config_text)

    def write_config(self, text):
        # Written whole and renamed, as an administrator's editor would: a SIGHUP never sees
        # a half-written file.
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config)

    def start(self, timeout=30):
        with open(self.log, "a") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')}\n")
            log.flush()
            self.proc = subprocess.Popen(
                [self.mailwarden, "policyd", "run", "--config", self.config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        alive = lambda: self.proc.poll() is None
        for spec in self.listen:
            if spec.startswith("inet:"):
                port = int(spec.rsplit(":", 1)[1])
                ok = wait_for_port(port, timeout, alive)
            else:
                ok = wait_for_unix_socket(spec[len("unix:"):], timeout, alive)
            if not ok:
                raise AssertionError(f"policyd {self.name} not listening on {spec} "
                                     f"(exit status {self.proc.poll()})")
        if not wait_for_port(self.metrics_port, timeout, alive):
            raise AssertionError(f"policyd {self.name}: no metrics endpoint on "
                                 f"127.0.0.1:{self.metrics_port} (exit status {self.proc.poll()})")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL: a crash, nothing flushed on the way out."""
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        status = self.proc.poll()
        if status is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                status = None
        self.proc = None
        return status

    def metrics_text(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=10) as r:
            return r.read().decode()

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def metric(self, name, **labels):
        """A sample's value; 0 when absent (a counter not incremented yet may be missing)."""
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def sanitizer_reports(self):
        """ASan/LSan/UBSan report lines in the log (the binary is built with sanitizers)."""
        try:
            with open(self.log, errors="replace") as f:
                return [line.strip() for line in f
                        if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                        or "runtime error:" in line]
        except OSError:
            return []

    def log_tail(self, lines=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"(no log: {e})\n"


def redis_missing():
    return shutil.which("redis-server") is None


class Redis:
    """A private redis-server: 127.0.0.1 only, free port, no persistence, its own directory."""

    def __init__(self, root):
        self.port = free_port()
        self.dir = os.path.join(root, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", self.dir, "--save", "", "--appendonly", "no", "--protected-mode", "yes",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, 20, lambda: self.proc.poll() is None):
            raise RuntimeError(f"redis-server did not start on {self.address}")

    def kill(self):
        """SIGKILL: the way a crashed or OOM-killed Redis goes, without closing connections
        politely."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
