#!/usr/bin/python3
"""The JSON of `mailwarden logs report` validated against docs/logs-report.schema.json (JSON
Schema draft 2020-12), and checked for what the schema cannot say (evidence names an input,
counts add up, timelines in order). The CLI does not render logs reports yet, so the JSON comes
from a hand-built report: the test LogsReportSample.WritesSampleJson of the C++ test program,
run here so that the order of the tests does not matter. The schema is first shown to reject
broken documents, so that a validator that accepts anything cannot pass.

usage: logs_schema_test.py TEST_PROGRAM SCHEMA OUTPUT_JSON
"""

import copy
import json
import os
import subprocess
import sys

import jsonschema

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def make_validator(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        fail(f"{schema_path}: $schema is {schema.get('$schema')!r}, expected draft 2020-12")
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(validator, doc):
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))]


def semantic_errors(doc):
    errs = []
    names = [i["name"] for i in doc["inputs"]]
    total_lines = 0
    for i in doc["inputs"]:
        c = i["counts"]
        total_lines += c["lines"]
        if sum(c["by_kind"].values()) != c["lines"]:
            errs.append(f"input {i['name']!r}: by_kind does not add up to lines")
        if c["lines"] - c["parsed"] != c["unparsed"]:
            errs.append(f"input {i['name']!r}: unparsed != lines - parsed")
        if sum(c["message_unknown_by_program"].values()) > c["by_kind"]["message_unknown"]:
            errs.append(f"input {i['name']!r}: more message_unknown by program than in all")
    if doc["totals"]["input_lines"]["lines"] != total_lines:
        errs.append("totals.input_lines.lines is not the sum of the inputs' lines")
    if doc["totals"]["findings"] != len(doc["findings"]):
        errs.append("totals.findings is not the number of findings")
    if doc["totals"]["accounts"] != len(doc["accounts"]):
        errs.append("totals.accounts is not the number of accounts")
    compromised = {f["account"] for f in doc["findings"] if "commands" in f}
    if doc["totals"]["compromised_accounts"] != len(compromised):
        errs.append("totals.compromised_accounts is not the accounts of findings with commands")
    for n, f in enumerate(doc["findings"]):
        where = f"findings/{n}"
        for e in f["evidence"]:
            if e["input"] not in names:
                errs.append(f"{where}: evidence names {e['input']!r}, not an input")
        if f["source_ip_count"] < len(f["source_ips"]):
            errs.append(f"{where}: source_ip_count below the listed addresses")
        if f["account_count"] < len(f["accounts"]):
            errs.append(f"{where}: account_count below the listed accounts")
        if f["first_seen"] > f["last_seen"]:
            errs.append(f"{where}: first_seen after last_seen")
        if "commands" in f and "account" not in f:
            errs.append(f"{where}: commands without an account")
    for n, a in enumerate(doc["accounts"]):
        hours = [h["hour"] for h in a["timeline"]]
        if hours != sorted(set(hours)):
            errs.append(f"accounts/{n}: timeline hours not in order")
        if a["ip_count"] < len(a["ips"]):
            errs.append(f"accounts/{n}: ip_count below the listed addresses")
    return errs


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    program, schema_path, out = sys.argv[1:]
    env = dict(os.environ, MW_LOGS_REPORT_SAMPLE=out)
    if os.path.exists(out):
        os.remove(out)
    run = subprocess.run([program, "--gtest_filter=LogsReportSample.WritesSampleJson"], env=env,
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0 or not os.path.exists(out):
        print(run.stdout + run.stderr, file=sys.stderr)
        fail(f"{program} did not write {out} (exit {run.returncode})")
        return 1
    with open(out, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8"))  # strict: invalid UTF-8 raises
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"{out}: not UTF-8 JSON: {e}")
        return 1

    validator = make_validator(schema_path)

    # The sample must hold what the mutations below break, or they would prove nothing.
    with_account = [f for f in doc["findings"] if "account" in f]
    without_account = [f for f in doc["findings"] if "account" not in f]
    with_commands = [f for f in doc["findings"] if "commands" in f]
    if not (with_account and without_account and with_commands and doc["accounts"]):
        fail("the sample lacks a finding with / without an account, commands or accounts")
        return 1

    broken = []

    def mutation(name, change):
        d = copy.deepcopy(doc)
        change(d)
        broken.append((name, d))

    mutation("a finding without detector", lambda d: d["findings"][0].pop("detector"))
    mutation("an unknown detector", lambda d: d["findings"][0].update(detector="guessing"))
    mutation("an unknown severity", lambda d: d["findings"][0].update(severity="info"))
    mutation("evidence line 0", lambda d: d["findings"][0]["evidence"][0].update(line=0))
    mutation("a time without zone", lambda d: d["findings"][0].update(
        first_seen="2026-11-28T03:12:00"))
    mutation("an unknown top-level member", lambda d: d.update(extra=1))
    mutation("a negative count", lambda d: d["totals"].update(messages=-1))
    mutation("an unknown protocol", lambda d: d["accounts"][0]["logins_by_protocol"].update(
        carrier_pigeon=1))
    mutation("a line kind missing", lambda d: d["inputs"][0]["counts"]["by_kind"].pop("too_long"))
    mutation("an empty account", lambda d: with_account_of(d).update(account=""))
    mutation("no tool version", lambda d: d["tool"].pop("version"))
    mutation("a period of text", lambda d: d["period"].update(first="yesterday"))

    for name, d in broken:
        if not schema_errors(validator, d):
            fail(f"the schema accepts {name}")

    for e in schema_errors(validator, doc):
        fail(f"{out}: {e}")
    for e in semantic_errors(doc):
        fail(f"{out}: {e}")
    # The semantic checks, too, must be able to fail.
    d = copy.deepcopy(doc)
    d["findings"][0]["evidence"][0]["input"] = "not-an-input.log"
    if not semantic_errors(d):
        fail("the semantic checks accept evidence naming no input")

    if not failures:
        print(f"ok: {out} is valid ({len(doc['findings'])} findings, {len(doc['accounts'])} "
              f"accounts); {len(broken)} broken documents rejected")
    return 1 if failures else 0


def with_account_of(d):
    return next(f for f in d["findings"] if "account" in f)


if __name__ == "__main__":
    sys.exit(main())
