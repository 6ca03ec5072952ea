"""The Postfix configuration lines docs/policyd.md gives an administrator, read from the
document itself so that the e2e test runs Postfix with exactly those lines (only the policy
port changed to the test's own). Each variant is the fenced code block right after its marker
comment (`<!-- policyd-e2e: main.cf -->`, `... unix -->`, `... rcpt -->`), or else the first
block that looks like it; while the document lacks a variant, the built-in copy below is used
and the test says so.
"""
import os
import re

# Built-in copies, used only while docs/policyd.md has no such block.
DEFAULTS = {
    # Count at END-OF-MESSAGE; when policyd cannot be reached, defer rather than accept unchecked
    # mail. The client's timers are Postfix's defaults, written out because policyd's idle and
    # ttl timeouts (330 s, 1100 s) are chosen to outlast them.
    "main.cf": """\
smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:10031
smtpd_policy_service_default_action = DEFER_IF_PERMIT
smtpd_policy_service_timeout = 100s
smtpd_policy_service_max_idle = 300s
smtpd_policy_service_max_ttl = 1000s
smtpd_policy_service_try_limit = 2
""",
    "unix": """\
smtpd_end_of_data_restrictions = check_policy_service unix:private/mailwarden-policy
""",
    "rcpt": """\
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:10031, permit_mynetworks,
    permit_sasl_authenticated, reject_unauth_destination
""",
}

# How a block of each variant is recognized when it has no marker.
_LOOKS_LIKE = {
    "main.cf": r"^smtpd_end_of_data_restrictions\s*=.*check_policy_service\s+inet:",
    "unix": r"^smtpd_end_of_data_restrictions\s*=\s*check_policy_service\s+unix:",
    "rcpt": r"^smtpd_recipient_restrictions\s*=\s*check_policy_service\s+inet:",
}


def marker(variant):
    return f"<!-- policyd-e2e: {variant} -->"


def docs_block(docs_path, variant):
    """(text, where it came from) of one variant."""
    if not os.path.exists(docs_path):
        return DEFAULTS[variant], f"built-in copy ({docs_path} not found)"
    with open(docs_path) as f:
        doc = f.read()
    blocks = [(m.start(), m.group(1))
              for m in re.finditer(r"^```[^\n]*\n(.*?)^```", doc, re.S | re.M)]
    at = doc.find(marker(variant))
    if at >= 0:
        after = [body for start, body in blocks if start > at]
        if not after:
            raise ValueError(f"{docs_path}: no code block after {marker(variant)}")
        return after[0], f"{docs_path}, the block after {marker(variant)}"
    for _, body in blocks:
        if re.search(_LOOKS_LIKE[variant], body, re.M):
            return body, f"{docs_path}, the first block matching /{_LOOKS_LIKE[variant]}/"
    return DEFAULTS[variant], f"built-in copy ({docs_path} has no {variant} block)"


def parameters(text):
    """main.cf text -> [(name, value)]: comments and blank lines skipped, a line that starts
    with whitespace continues the previous one (postconf(5))."""
    params = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and params:
            name, value = params[-1]
            params[-1] = (name, value + " " + line.strip())
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=\s*(.*)$", line)
        if not m:
            raise ValueError(f"not a main.cf line: {line!r}")
        params.append((m.group(1), m.group(2).strip()))
    return params


def with_port(text, port):
    """The documented text with every check_policy_service inet:127.0.0.1:PORT on `port`."""
    if not re.search(r"check_policy_service\s+inet:127\.0\.0\.1:\d+", text):
        raise ValueError(f"no check_policy_service inet:127.0.0.1:PORT in:\n{text}")
    return re.sub(r"(check_policy_service\s+inet:127\.0\.0\.1:)\d+", rf"\g<1>{port}", text)


def unix_socket(text):
    """The `unix:NAME` of a check_policy_service, relative to Postfix's queue directory."""
    m = re.search(r"check_policy_service\s+unix:([^\s,]+)", text)
    if not m:
        raise ValueError(f"no check_policy_service unix:NAME in:\n{text}")
    return m.group(1)


def as_overrides(text):
    """master.cf `-o { name = value }` arguments for the parameters of `text`."""
    return [f"{{ {name} = {value} }}" for name, value in parameters(text)]
