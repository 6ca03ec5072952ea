#!/usr/bin/env python3
"""The HTML audit report opened in a real headless Chromium, driven over the DevTools protocol.

    html_chromium_test.py MAILWARDEN SOURCE_DIR ARTIFACT_DIR

For each example snapshot (zimbra-default, zimbra-hardened) it writes the report with
`mailwarden audit --format html`, loads it from a file:// URL and fails on any uncaught exception,
console error, assertion or warning, browser log error and any request other than the page's own
file. It clicks every Copy button (as a user would, without a user gesture, with a clipboard that
refuses and with neither clipboard nor execCommand: each must report "Copied" or "Select and
copy" without an error), follows a link into a collapsed section, checks that a 390 px phone
viewport has no horizontal page scroll, and that printing shows the collapsed sections and hides
the buttons. Artifacts: ARTIFACT_DIR/audit-NAME-desktop.png,
-phone.png (first screen), -phone-full.png, -dark.png and .pdf.

Before that, the harness proves it can see a failure: a hostile page with an image from
192.0.2.1 (TEST-NET-1, nothing answers), a console.error and an uncaught exception must be
reported, or the test fails.

Needs Debian's chromium and python3-websocket (scripts/install-deps). Chromium is always killed
and the temporary directories removed, also on failure; every wait has a deadline.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

SYSTEM_PYTHON = "/usr/bin/python3"

try:
    import websocket  # python3-websocket
except ImportError:
    # A python3 earlier on PATH (pyenv, a virtualenv) does not see Debian's packages: run again
    # under the system interpreter, which has python3-websocket.
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(
            SYSTEM_PYTHON) and not os.environ.get("MW_HTML_TEST_REEXEC"):
        os.environ["MW_HTML_TEST_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    print("FAIL: python3-websocket is not installed (scripts/install-deps installs it)")
    sys.exit(1)

EXAMPLES = ["zimbra-default", "zimbra-hardened"]
DESKTOP = (1280, 900)
PHONE = (390, 844)
STARTUP_TIMEOUT = 30.0
LOAD_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0
SETTLE = 0.5  # seconds of quiet after load, for late console messages or requests


class Failure(Exception):
    pass


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise Failure("chromium is not installed (scripts/install-deps installs Debian's chromium)")


class Browser:
    """A headless Chromium of our own: its process group, profile directory and DevTools port."""

    def __init__(self, workdir):
        self.profile = os.path.join(workdir, "profile")
        os.makedirs(self.profile)
        self.log_path = os.path.join(workdir, "chromium.log")
        self.log = open(self.log_path, "wb")
        args = [
            find_chromium(), "--headless", "--no-sandbox", "--remote-debugging-port=0",
            "--user-data-dir=" + self.profile, "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--metrics-recording-only", "--no-pings",
            "--mute-audio", "--hide-scrollbars", "--force-color-profile=srgb",
            "--window-size=%d,%d" % DESKTOP, "about:blank"
        ]
        # Its own process group, so that the renderer and GPU processes go with it.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.port, self.browser_path = self._devtools_port()

    def _devtools_port(self):
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure("chromium exited with status %s before listening:\n%s" %
                              (self.proc.returncode, self.log_tail()))
            try:
                with open(path) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].strip():
                    return int(lines[0]), lines[1].strip()
            except FileNotFoundError:
                pass
            time.sleep(0.1)
        raise Failure("chromium wrote no DevToolsActivePort within %.0f s:\n%s" %
                      (STARTUP_TIMEOUT, self.log_tail()))

    def log_tail(self):
        try:
            self.log.flush()
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def new_page(self):
        """A fresh tab, and a DevTools connection to it."""
        browser = Cdp("ws://127.0.0.1:%d%s" % (self.port, self.browser_path))
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        finally:
            browser.close()
        return Cdp("ws://127.0.0.1:%d/devtools/page/%s" % (self.port, target)), target

    def close_page(self, target):
        browser = Cdp("ws://127.0.0.1:%d%s" % (self.port, self.browser_path))
        try:
            browser.call("Target.closeTarget", {"targetId": target})
        finally:
            browser.close()

    def kill(self):
        """Ends the whole process group (the launcher, the browser, its renderers and helpers),
        politely first, and waits until none of them is left."""
        pgid = self.proc.pid
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if self.proc.poll() is None:
                    time.sleep(0.05)
                    continue
                try:
                    os.killpg(pgid, 0)  # anyone left in the group?
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                continue
            break
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self.log.close()


class Cdp:
    """One DevTools websocket: calls with ids, and the events that arrive meanwhile."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=CALL_TIMEOUT, suppress_origin=True,
                                              enable_multithread=False)
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            self.ws.close()
        except Exception:  # closing a broken socket: nothing left to do
            pass

    def _receive(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.ws.settimeout(remaining)
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        return json.loads(raw)

    def call(self, method, params=None, timeout=CALL_TIMEOUT):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._receive(deadline)
            if msg is None:
                raise Failure("no answer to %s within %.0f s" % (method, timeout))
            if msg.get("id") == ident:
                if "error" in msg:
                    raise Failure("%s failed: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, predicate, timeout, since=0):
        """The first event (received since event number `since`, or arriving within `timeout`)
        that matches."""
        for e in self.events[since:]:
            if predicate(e):
                return e
        deadline = time.monotonic() + timeout
        while True:
            msg = self._receive(deadline)
            if msg is None:
                return None
            if "method" in msg:
                self.events.append(msg)
                if predicate(msg):
                    return msg

    def drain(self, seconds):
        """Collects the events of the next `seconds`."""
        self.wait_for(lambda e: False, seconds)

    def evaluate(self, expression, user_gesture=False, await_promise=False):
        r = self.call("Runtime.evaluate", {
            "expression": expression,
            "returnByValue": True,
            "userGesture": user_gesture,
            "awaitPromise": await_promise
        })
        if "exceptionDetails" in r:
            raise Failure("evaluating %r threw: %s" % (expression[:80], describe_exception(
                r["exceptionDetails"])))
        return r.get("result", {}).get("value")


def describe_exception(d):
    ex = d.get("exception", {})
    text = ex.get("description") or d.get("text", "exception")
    return "%s (%s:%s)" % (text.split("\n")[0], d.get("url", ""), d.get("lineNumber", "?"))


def problems_of(events, page_url):
    """What the page did wrong, in words: errors, warnings and requests other than itself."""
    own = page_url.split("#")[0]
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append("uncaught exception: " + describe_exception(p.get("exceptionDetails", {})))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            args = " ".join(
                str(a.get("value", a.get("description", a.get("type")))) for a in p.get("args", []))
            out.append("console.%s: %s" % (p["type"], args))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            entry = p["entry"]
            out.append("browser log %s (%s): %s %s" % (entry["level"], entry.get("source"),
                                                        entry.get("text"), entry.get("url", "")))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url.split("#")[0] == own:
                continue
            if url.startswith("data:image/"):
                continue
            kind = "a data: URL that is not an image" if url.startswith("data:") else "a request"
            out.append("%s: %s" % (kind, url[:200]))
    return out


def open_page(page, url, wait_load=True):
    page.call("Page.enable")
    page.call("Runtime.enable")
    page.call("Log.enable")
    page.call("Network.enable")
    page.call("Page.navigate", {"url": url})
    if wait_load:
        if page.wait_for(lambda e: e["method"] == "Page.loadEventFired", LOAD_TIMEOUT) is None:
            raise Failure("%s: no load event within %.0f s" % (url, LOAD_TIMEOUT))
        page.drain(SETTLE)


def capture(page, path, full_page, width, scale=1):
    params = {"format": "png"}
    if full_page:
        metrics = page.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        params["captureBeyondViewport"] = True
        params["clip"] = {"x": 0, "y": 0, "width": width, "height": size["height"],
                          "scale": scale}
    data = page.call("Page.captureScreenshot", params, timeout=60)["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))
    print("artifact: " + path)


def check_hostile_page(browser, workdir):
    """The harness must see a request, a console error and an exception: else it is blind."""
    path = os.path.join(workdir, "hostile.html")
    with open(path, "w") as f:
        f.write("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>hostile</title></head>"
                "<body><p>hostile page</p><img src=\"http://192.0.2.1/x.png\" alt=\"\">"
                "<script>console.error(\"hostile console error\");"
                "setTimeout(function () { throw new Error(\"hostile uncaught\"); }, 0);</script>"
                "</body></html>")
    url = "file://" + urllib.parse.quote(path)
    page, target = browser.new_page()
    try:
        # No wait for the load event: the image from 192.0.2.1 may hang until a TCP timeout.
        open_page(page, url, wait_load=False)
        want = {
            "request": lambda e: e["method"] == "Network.requestWillBeSent" and "192.0.2.1" in e[
                "params"]["request"]["url"],
            "console.error": lambda e: e["method"] == "Runtime.consoleAPICalled" and e["params"][
                "type"] == "error",
            "exception": lambda e: e["method"] == "Runtime.exceptionThrown",
        }
        for pred in want.values():
            page.wait_for(pred, LOAD_TIMEOUT)
        found = problems_of(page.events, url)
        missing = []
        if not any("192.0.2.1" in p for p in found):
            missing.append("the request to 192.0.2.1")
        if not any("hostile console error" in p for p in found):
            missing.append("the console.error")
        if not any("hostile uncaught" in p for p in found):
            missing.append("the uncaught exception")
        if missing:
            raise Failure("the harness is blind: on the hostile page it did not report " +
                          ", ".join(missing) + "; it reported: " + repr(found))
        print("ok: the harness reports the hostile page's %d problems:" % len(found))
        for p in found:
            print("  " + p)
    finally:
        page.close()
        browser.close_page(target)


JS_CLICK_ALL = """
(async function () {
  var buttons = Array.from(document.querySelectorAll("button.copy"));
  var commands = document.querySelectorAll("pre.cmd").length;
  var findings = document.querySelectorAll("article.finding").length;
  var hidden = buttons.filter(function (b) { return b.hidden || b.offsetParent === null; }).length;
  document.querySelectorAll(".copy-msg").forEach(function (m) { m.textContent = ""; });
  for (var i = 0; i < buttons.length; i++) buttons[i].click();
  // The clipboard answers asynchronously; wait for every button to show its outcome.
  var deadline = Date.now() + 5000;
  var msgs = [];
  while (Date.now() < deadline) {
    msgs = buttons.map(function (b) {
      var m = b.parentNode.querySelector(".copy-msg");
      return m ? m.textContent : "";
    });
    if (msgs.every(function (t) { return t !== ""; })) break;
    await new Promise(function (r) { setTimeout(r, 50); });
  }
  var pres = document.querySelectorAll("pre.cmd");
  var sel = window.getSelection ? String(window.getSelection()) : "";
  var lastPre = pres.length ? pres[pres.length - 1].textContent : "";
  return {count: buttons.length, commands: commands, findings: findings, selected: sel,
          lastPre: lastPre, hidden: hidden, messages: msgs};
})()
"""

JS_PRINT_CHECK = """
(function () {
  var details = Array.from(document.querySelectorAll("details"));
  var closedHidden = details.filter(function (d) {
    var inner = d.querySelector("table, ul, div");
    return inner && !(inner.getClientRects().length > 0 && inner.offsetHeight > 0);
  }).length;
  var visibleButtons = Array.from(document.querySelectorAll("button.copy")).filter(function (b) {
    return b.getClientRects().length > 0;
  }).length;
  return {details: details.length, collapsed: closedHidden, buttons: visibleButtons};
})()
"""


def report_args(mailwarden, src, workdir, name):
    """The audit arguments of each report: an example snapshot, the hardened one with the
    default one's JSON report as its baseline, and an Exchange IIS configuration."""
    snapshots = os.path.join(src, "examples", "snapshots")
    if name in EXAMPLES:
        return ["--snapshot", os.path.join(snapshots, name)]
    if name == "zimbra-hardened-since-default":
        baseline = os.path.join(workdir, "default.json")
        with open(baseline, "wb") as out:
            subprocess.run([mailwarden, "audit", "--snapshot",
                            os.path.join(snapshots, "zimbra-default"), "--format", "json"],
                           stdout=out, stderr=subprocess.DEVNULL, timeout=120)
        return ["--snapshot", os.path.join(snapshots, "zimbra-hardened"), "--baseline", baseline]
    if name == "iis-allow-all":
        return ["--iis-config", os.path.join(src, "tests", "data", "iis", "allow-all.config"),
                "--policy", os.path.join(src, "examples", "exchange.toml"), "--node",
                "ex1.example.com"]
    raise Failure("no arguments for report %s" % name)


def check_report(browser, mailwarden, src, artifacts, workdir, name):
    print("== %s" % name)
    html = os.path.join(workdir, "audit-%s.html" % name)
    args = report_args(mailwarden, src, workdir, name)
    with open(html, "wb") as out:
        r = subprocess.run([mailwarden, "audit"] + args + ["--format", "html"],
                           stdout=out, stderr=subprocess.PIPE, timeout=120)
    # 0-3: the worst failure's severity; 4: the audit could not run.
    if r.returncode not in (0, 1, 2, 3):
        raise Failure("mailwarden audit --format html exited %d: %s" %
                      (r.returncode, r.stderr.decode("utf-8", "replace")))
    size = os.path.getsize(html)
    if size < 1000:
        raise Failure("%s: the report is only %d bytes" % (html, size))
    print("report: %s (%d bytes)" % (html, size))
    url = "file://" + urllib.parse.quote(html)

    page, target = browser.new_page()
    problems = []
    try:
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": DESKTOP[0], "height": DESKTOP[1], "deviceScaleFactor": 1, "mobile": False
        })
        open_page(page, url)
        title = page.evaluate("document.title")
        if not title or "Audit" not in title:
            problems.append("unexpected title %r" % title)
        capture(page, os.path.join(artifacts, "audit-%s-desktop.png" % name), True, DESKTOP[0])

        # Every Copy button, as a user would click it (and once more without a user gesture:
        # then the clipboard refuses and the fallback must still say something).
        # Click every Copy button: as a user would, without a user gesture, with a clipboard
        # that refuses (the textarea fallback), and with neither clipboard nor execCommand (the
        # commands get selected for the reader). Never an error; always feedback.
        copied, manual = "Copied", "Select and copy (Ctrl+C)"
        passes = [
            ("user gesture", True, None, (copied, manual)),
            ("no user gesture", False, None, (copied, manual)),
            ("clipboard refuses", True,
             "Object.defineProperty(navigator.clipboard, 'writeText', {configurable: true, "
             "value: function () { return Promise.reject(new DOMException('refused', "
             "'NotAllowedError')); }}); true", (copied, manual)),
            ("no clipboard, execCommand throws", True,
             "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: "
             "undefined}); document.execCommand = function () { throw new Error('no'); }; true",
             (manual,)),
        ]
        for label, gesture, setup, allowed in passes:
            if setup:
                page.evaluate(setup)
            res = page.evaluate(JS_CLICK_ALL, user_gesture=gesture, await_promise=True)
            page.drain(SETTLE)
            if res["count"] != res["commands"]:
                problems.append("%d Copy buttons for %d command blocks" % (res["count"],
                                                                          res["commands"]))
            if res["findings"] and not res["count"]:
                problems.append("%d findings and no Copy button" % res["findings"])
            if res["hidden"]:
                problems.append("%d Copy buttons are hidden after the script ran" % res["hidden"])
            bad = [m for m in res["messages"] if m not in allowed]
            if bad:
                problems.append("copy (%s): feedback %r, expected one of %r" %
                                (label, sorted(set(bad)), allowed))
            if allowed == (manual,) and res["count"] and res["selected"] != res["lastPre"]:
                problems.append("copy (%s): the commands are not selected for the reader" % label)
            print("copy (%s): %d buttons, feedback %s" %
                  (label, res["count"], sorted(set(res["messages"]))))
        # The overrides end with a reload; a reload's events belong to this page as well.
        since = len(page.events)
        page.call("Page.reload")
        if page.wait_for(lambda e: e["method"] == "Page.loadEventFired", LOAD_TIMEOUT,
                         since) is None:
            problems.append("no load event after reload")
        page.drain(SETTLE)

        # A link to a passed control (inside a closed <details>) opens its section.
        revealed = page.evaluate(
            "(function () { var li = document.querySelector('ul.passed li[id]'); if (!li) "
            "return null; location.hash = '#' + li.id; return new Promise(function (r) { "
            "setTimeout(function () { r(li.closest('details').open); }, 200); }); })()",
            await_promise=True)
        if revealed is False:
            problems.append("following a link to a passed control leaves it hidden")
        page.evaluate("history.replaceState(null, '', location.pathname); "
                      "document.querySelectorAll('details').forEach(function (d) "
                      "{ d.open = false; }); window.scrollTo(0, 0); true")

        # The phone: no horizontal scroll of the page at 390 px.
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True
        })
        page.drain(SETTLE)
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, client: "
            "document.documentElement.clientWidth, body: document.body.scrollWidth, "
            "inner: window.innerWidth})")
        print("phone widths: %s" % widths)
        if widths["client"] != PHONE[0]:
            problems.append("the layout viewport is %d px wide on a %d px phone (no viewport "
                            "meta?): the page is shown shrunk" % (widths["client"], PHONE[0]))
        if widths["scroll"] > widths["client"] or widths["body"] > widths["client"]:
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('body *')).filter(function (e) { var r = "
                "e.getBoundingClientRect(); return r.right > document.documentElement.clientWidth "
                "+ 1 && !e.closest('.tw, .scroll'); }).slice(0, 5).map(function (e) { return "
                "e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right); "
                "})")
            problems.append("horizontal scroll on a %d px phone: scrollWidth %d > clientWidth %d "
                            "(widest: %s)" % (PHONE[0], widths["scroll"], widths["client"], wide))
        capture(page, os.path.join(artifacts, "audit-%s-phone.png" % name), False, PHONE[0])
        # The whole page at CSS pixel size (the viewport is at 2x): a tall image, kept small.
        capture(page, os.path.join(artifacts, "audit-%s-phone-full.png" % name), True, PHONE[0],
                0.5)

        # Dark colour scheme, the first screen, for a look.
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": DESKTOP[0], "height": DESKTOP[1], "deviceScaleFactor": 1, "mobile": False
        })
        page.call("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        page.drain(SETTLE)
        capture(page, os.path.join(artifacts, "audit-%s-dark.png" % name), False, DESKTOP[0])

        # Print: sections expanded, buttons gone; then the PDF.
        page.call("Emulation.setEmulatedMedia", {"media": "print", "features": []})
        printed = page.evaluate(JS_PRINT_CHECK)
        print("print media: %s" % printed)
        if printed["collapsed"]:
            problems.append("%d collapsed sections stay hidden in print" % printed["collapsed"])
        if printed["buttons"]:
            problems.append("%d Copy buttons are visible in print" % printed["buttons"])
        page.call("Emulation.setEmulatedMedia", {"media": "", "features": []})
        page.call("Emulation.clearDeviceMetricsOverride")
        pdf = page.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True},
                        timeout=120)["data"]
        pdf_path = os.path.join(artifacts, "audit-%s.pdf" % name)
        with open(pdf_path, "wb") as f:
            f.write(base64.b64decode(pdf))
        print("artifact: " + pdf_path)
        page.drain(SETTLE)
        problems += problems_of(page.events, url)
    finally:
        page.close()
        browser.close_page(target)
    if problems:
        raise Failure("%s:\n  %s" % (name, "\n  ".join(problems)))
    print("ok: %s: no console error, no request, copy buttons answer, fits a phone" % name)


def check_logs_report(browser, mailwarden, loggen, artifacts, workdir):
    """`logs report --format html` of generated incidents: loads clean (no error, no request),
    one timeline per compromised account, every Copy button works; desktop and phone shots."""
    print("== logs")
    logs_dir = os.path.join(workdir, "logs")
    subprocess.run([loggen, "--out", logs_dir, "--flavor", "zimbra", "--accounts", "250",
                    "--days", "3", "--quiet"], check=True, timeout=300)
    html = os.path.join(workdir, "logs.html")
    files = [os.path.join(logs_dir, f) for f in ("zimbra.log", "audit.log", "mailbox.log")]
    r = subprocess.run([mailwarden, "logs", "report", "--format", "html", "--out", html,
                        "--no-progress", "--tz", "UTC", "--no-geoip", "--local-domain",
                        "example.com", "--mynetworks", "198.51.100.0/28"] + files,
                       stderr=subprocess.PIPE, timeout=300)
    if r.returncode not in (0, 1, 2, 3):
        raise Failure("mailwarden logs report --format html exited %d: %s" %
                      (r.returncode, r.stderr.decode("utf-8", "replace")))
    url = "file://" + urllib.parse.quote(html)
    page, target = browser.new_page()
    try:
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": DESKTOP[0], "height": DESKTOP[1], "deviceScaleFactor": 1, "mobile": False
        })
        open_page(page, url)
        problems = []
        counts = page.evaluate(
            "({timelines: document.querySelectorAll('svg').length, "
            "title: document.title, text: document.body.innerText.length})")
        if counts["timelines"] < 1:
            problems.append("no timeline chart")
        if "logs" not in counts["title"].lower():
            problems.append("unexpected title %r" % counts["title"])
        res = page.evaluate(JS_CLICK_ALL, user_gesture=True, await_promise=True)
        page.drain(SETTLE)
        if res["count"] == 0 or res["count"] != res["commands"]:
            problems.append("%d Copy buttons for %d command blocks" % (res["count"],
                                                                      res["commands"]))
        bad = [m for m in res["messages"] if m not in ("Copied", "Select and copy (Ctrl+C)")]
        if bad:
            problems.append("copy feedback %r" % sorted(set(bad)))
        capture(page, os.path.join(artifacts, "logs-desktop.png"), True, DESKTOP[0])
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True
        })
        page.drain(SETTLE)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
        if overflow:
            problems.append("the page scrolls sideways on a phone")
        capture(page, os.path.join(artifacts, "logs-phone.png"), False, PHONE[0])
        problems += problems_of(page.events, url)
        print("logs report: %d timelines, %d Copy buttons" % (counts["timelines"], res["count"]))
        if problems:
            raise Failure("logs report: " + "; ".join(problems))
    finally:
        browser.close_page(target)


def main(argv):
    loggen = None
    if len(argv) == 5:
        loggen = os.path.abspath(argv.pop())
    if len(argv) != 4:
        print("usage: html_chromium_test.py MAILWARDEN SOURCE_DIR ARTIFACT_DIR [MW_LOGGEN]")
        return 2
    mailwarden, src, artifacts = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3]
    artifacts = os.path.abspath(artifacts)
    os.makedirs(artifacts, exist_ok=True)
    help_text = subprocess.run([mailwarden, "audit", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60).stdout.decode()
    if "html" not in help_text:
        print("FAIL: `mailwarden audit --help` names no html format: --format html is not wired")
        return 1
    workdir = tempfile.mkdtemp(prefix="mw-html-chromium-")
    browser = None
    try:
        browser = Browser(workdir)
        print("chromium: DevTools on 127.0.0.1:%d" % browser.port)
        check_hostile_page(browser, workdir)
        failures = []
        reports = EXAMPLES + ["zimbra-hardened-since-default", "iis-allow-all"]
        for name in reports:
            try:
                check_report(browser, mailwarden, src, artifacts, workdir, name)
            except Failure as e:
                failures.append(str(e))
                print("FAIL: %s" % e)
        if loggen is not None:
            reports.append("logs")
            try:
                check_logs_report(browser, mailwarden, loggen, artifacts, workdir)
            except Failure as e:
                failures.append(str(e))
                print("FAIL: %s" % e)
        if failures:
            return 1
        print("PASS: %d reports" % len(reports))
        return 0
    except (Failure, OSError, websocket.WebSocketException, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e)
        if browser is not None:
            print("chromium log (tail):\n" + browser.log_tail())
        return 1
    finally:
        if browser is not None:
            browser.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
