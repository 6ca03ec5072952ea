"""The e2e test's SMTP client: one message per connection, optionally announced as an
authenticated user with XCLIENT (Postfix XCLIENT_README: NAME, ADDR, PORT, PROTO, HELO, LOGIN,
DESTADDR, DESTPORT), and every reply code kept, so that a scenario can say exactly where a
message was refused.
"""
import smtplib
import time
import uuid


class Outcome:
    """Where the SMTP dialogue ended: `stage` is the last command that got a reply ("xclient",
    "mail", "rcpt", "data"), `code`/`text` that reply; `rcpt` the reply per recipient."""

    def __init__(self):
        self.stage = "connect"
        self.code = 0
        self.text = ""
        self.rcpt = []

    @property
    def accepted(self):
        return self.stage == "data" and self.code == 250

    def __repr__(self):
        rcpt = "" if len(self.rcpt) < 2 else f" rcpt={[c for c, _ in self.rcpt]}"
        return f"{self.stage}:{self.code} {self.text!r}{rcpt}"


def send(port, sender, recipients, login=None, client_addr=None, subject="policyd e2e"):
    """Sends one message to the smtpd on 127.0.0.1:port. `login` (XCLIENT LOGIN) makes Postfix
    treat the session as SMTP AUTH'ed by that user; `client_addr` (XCLIENT ADDR) replaces the
    client address policyd sees (otherwise it is 127.0.0.1, a mailbox server by default)."""
    out = Outcome()
    if isinstance(recipients, str):
        recipients = [recipients]
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.e2e.test", timeout=60) as s:
        s.ehlo()
        if login is not None or client_addr is not None:
            attrs = []
            if client_addr is not None:
                # NAME given too: smtpd would otherwise look the new address up in the DNS.
                attrs += [f"ADDR={client_addr}", "NAME=client.e2e.test"]
            if login is not None:
                attrs.append(f"LOGIN={xtext(login)}")
            out.stage = "xclient"
            out.code, text = s.docmd("XCLIENT", " ".join(attrs))
            out.text = text.decode(errors="replace")
            if out.code != 220:  # XCLIENT answers with a new greeting
                return out
            s.ehlo_resp = None
            s.ehlo()  # the session restarts after XCLIENT; EHLO again
        out.stage = "mail"
        out.code, text = s.mail(sender)
        out.text = text.decode(errors="replace")
        if out.code != 250:
            return out
        out.stage = "rcpt"
        for r in recipients:
            code, text = s.rcpt(r)
            out.rcpt.append((code, text.decode(errors="replace")))
            out.code, out.text = code, out.rcpt[-1][1]
        if not any(c == 250 for c, _ in out.rcpt):
            return out
        out.stage = "data"
        msg = (f"From: <{sender}>\r\nTo: <{recipients[0]}>\r\nSubject: {subject}\r\n"
               f"Message-Id: <{uuid.uuid4().hex}@client.e2e.test>\r\n"
               f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
               "\r\nmailwarden policyd e2e test message\r\n")
        try:
            out.code, text = s.data(msg)
        except smtplib.SMTPDataError as e:  # DATA itself refused (no 354)
            out.code, text = e.smtp_code, e.smtp_error
        out.text = text.decode(errors="replace")
    return out


def xtext(value):
    """RFC 3461 xtext, as XCLIENT attribute values require."""
    return "".join(c if 33 <= ord(c) <= 126 and c not in "+=" else f"+{ord(c):02X}"
                   for c in value)
