"""Loopback ports and readiness probes for the policyd e2e test."""
import os
import random
import socket
import time


def free_port():
    """A 127.0.0.1 TCP port nobody listens on now. Picked at random from a high range rather
    than from the kernel's ephemeral range, where outgoing connections take theirs."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port on 127.0.0.1 in 20000-32000")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(port, timeout, alive=lambda: True):
    """True once something accepts on 127.0.0.1:port; False after `timeout` seconds or as soon
    as alive() says the process that should listen has died."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if port_open(port):
            return True
        if not alive():
            return False
        time.sleep(0.05)
    return False


def wait_for_unix_socket(path, timeout, alive=lambda: True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                try:
                    s.connect(path)
                    return True
                except OSError:
                    pass
        if not alive():
            return False
        time.sleep(0.05)
    return False
