#!/usr/bin/env python3
"""`mailwarden audit --format sarif` of the example snapshots, validated against the SARIF 2.1.0
JSON schema (tests/data/sarif/, OASIS) and checked for what the schema cannot say: each result's
ruleIndex names its rule, kind and level agree, every location is a line of a snapshot file,
artifact indexes agree, the kinds are the statuses of `--format json`. With `--baseline` (when the
CLI has it), the baselineState of each result. The checks are first shown to reject broken
documents, so that a validator that accepts anything cannot pass.

usage: sarif_schema_test.py MAILWARDEN SOURCE_DIR
"""

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

import jsonschema

SNAPSHOTS = ["zimbra-default", "zimbra-hardened"]
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
KIND_OF_STATUS = {"pass": "pass", "fail": "fail", "not_checked": "open",
                  "not_applicable": "notApplicable"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def make_validator(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)  # the draft the schema declares (draft-07)
    cls.check_schema(schema)
    checker = getattr(cls, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
    return cls(schema, format_checker=checker)


def schema_errors(validator, doc):
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))]


def line_count(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def semantic_errors(doc, bases, statuses=None, baseline_expected=None):
    """What the schema cannot check. `bases`: uriBaseId -> directory on disk. `statuses`:
    control id -> status of `--format json`. `baseline_expected`: control id -> baselineState
    for the results that must have one (None: no result may have one)."""
    errs = []
    if doc.get("version") != "2.1.0":
        errs.append(f"version is {doc.get('version')!r}")
    runs = doc.get("runs") or []
    if len(runs) != 1:
        return errs + [f"{len(runs)} runs, expected 1"]
    run = runs[0]
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    ids = [r.get("id") for r in rules]
    if len(set(ids)) != len(ids):
        errs.append("rule ids are not unique")
    declared = run.get("originalUriBaseIds", {})
    for name, loc in declared.items():
        uri = loc.get("uri")
        if uri is not None and (not urllib.parse.urlsplit(uri).scheme or not uri.endswith("/")):
            errs.append(f"originalUriBaseIds.{name}.uri {uri!r}: must be absolute, ending in '/'")
        if uri is None and "description" not in loc:
            errs.append(f"originalUriBaseIds.{name}: neither uri nor description")
    artifacts = run.get("artifacts", [])

    def check_artifact_location(al, where):
        uri, base = al.get("uri", ""), al.get("uriBaseId")
        if urllib.parse.urlsplit(uri).scheme or uri.startswith("/"):
            errs.append(f"{where}: uri {uri!r} is not relative")
            return None
        if base not in declared:
            errs.append(f"{where}: uriBaseId {base!r} not in originalUriBaseIds")
            return None
        if "index" in al:
            i = al["index"]
            if not 0 <= i < len(artifacts):
                errs.append(f"{where}: artifact index {i} out of range")
            elif artifacts[i]["location"].get("uri") != uri or \
                    artifacts[i]["location"].get("uriBaseId") != base:
                errs.append(f"{where}: artifact {i} is {artifacts[i]['location']}, not {al}")
        path = urllib.parse.unquote(uri)
        if ".." in path.split("/"):
            errs.append(f"{where}: {uri!r} leaves its base")
            return None
        root = bases.get(base)
        if root is None:
            return None
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            errs.append(f"{where}: {base}/{path} is not a file of {root}")
            return None
        return full

    kinds = {}
    for n, res in enumerate(run.get("results", [])):
        rid = res.get("ruleId")
        where = f"results[{n}] ({rid})"
        idx = res.get("ruleIndex")
        if idx is None or not 0 <= idx < len(rules) or rules[idx].get("id") != rid:
            errs.append(f"{where}: ruleIndex {idx} does not name rule {rid!r}")
            continue
        rule = rules[idx]
        kind = res.get("kind", "fail")
        kinds[rid] = kind
        level = res.get("level")
        if kind != "fail" and level not in (None, "none"):
            errs.append(f"{where}: kind {kind} with level {level} (must be none or absent)")
        if kind == "fail":
            want = rule.get("defaultConfiguration", {}).get("level", "warning")
            if level not in (None, want):
                errs.append(f"{where}: level {level}, the rule's is {want}")
            sev = rule.get("properties", {}).get("severity")
            if LEVELS.get(sev) != want:
                errs.append(f"{where}: severity {sev} has level {want}")
        if not res.get("partialFingerprints"):
            errs.append(f"{where}: no partialFingerprints")
        for k, loc in enumerate(res.get("locations", [])):
            pl = loc.get("physicalLocation", {})
            full = check_artifact_location(pl.get("artifactLocation", {}), f"{where} location {k}")
            line = pl.get("region", {}).get("startLine")
            if full and line is not None and line > line_count(full):
                errs.append(f"{where} location {k}: line {line} past the end of {full}")
        state = res.get("baselineState")
        if baseline_expected is None:
            if state is not None:
                errs.append(f"{where}: baselineState {state} without --baseline")
        elif rid in baseline_expected and state != baseline_expected[rid]:
            errs.append(f"{where}: baselineState {state}, expected {baseline_expected[rid]}")
        if baseline_expected is not None and kind == "fail" and state is None:
            errs.append(f"{where}: a failure without baselineState")
    for i, a in enumerate(artifacts):
        check_artifact_location(a.get("location", {}), f"artifacts[{i}]")

    score = run.get("properties", {}).get("score", {})
    counts = {k: sum(1 for v in kinds.values() if v == k)
              for k in ("pass", "fail", "open", "notApplicable")}
    for key, kind in (("pass", "pass"), ("fail", "fail"), ("notChecked", "open"),
                      ("notApplicable", "notApplicable")):
        if score.get(key) != counts[kind]:
            errs.append(f"score.{key} = {score.get(key)}, but {counts[kind]} results of kind {kind}")
    if statuses is not None:
        if set(statuses) != set(kinds):
            errs.append(f"controls differ from --format json: {sorted(set(statuses) ^ set(kinds))}")
        for cid, status in statuses.items():
            if cid in kinds and kinds[cid] != KIND_OF_STATUS[status]:
                errs.append(f"{cid}: kind {kinds[cid]}, but --format json says {status}")
    return errs


def self_check(validator, sample, snapshot_dir):
    """The validator and the semantic checks reject broken documents."""
    if schema_errors(validator, sample):
        fail("self-check: the sample document is not valid, cannot test rejection")
        return
    minimal = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}]}
    if schema_errors(validator, minimal):
        fail("self-check: a minimal valid SARIF log is rejected")

    def broken(mutate):
        doc = copy.deepcopy(sample)
        mutate(doc)
        return doc

    run0 = lambda d: d["runs"][0]
    schema_cases = {
        "version 2.0": broken(lambda d: d.update(version="2.0")),
        "no runs": broken(lambda d: d.pop("runs")),
        "unknown top-level property": broken(lambda d: d.update(extra=1)),
        "kind bogus": broken(lambda d: run0(d)["results"][0].update(kind="bogus")),
        "level fatal": broken(lambda d: run0(d)["results"][0].update(level="fatal")),
        "result without message": broken(lambda d: run0(d)["results"][0].pop("message")),
        "startLine 0": broken(lambda d: run0(d)["results"].append(
            {"message": {"text": "m"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]})),
        "baselineState gone": broken(lambda d: run0(d)["results"][0].update(baselineState="gone")),
        "driver without name": broken(lambda d: run0(d)["tool"]["driver"].pop("name")),
    }
    for name, doc in schema_cases.items():
        if not schema_errors(validator, doc):
            fail(f"self-check: the schema accepts a broken document ({name})")

    first_fail = next(i for i, r in enumerate(sample["runs"][0]["results"]) if r["kind"] == "fail")
    first_pass = next(i for i, r in enumerate(sample["runs"][0]["results"]) if r["kind"] == "pass")
    located = next(i for i, r in enumerate(sample["runs"][0]["results"])
                   if any("region" in l["physicalLocation"] for l in r.get("locations", [])))

    def region(d):
        return next(l for l in run0(d)["results"][located]["locations"]
                    if "region" in l["physicalLocation"])["physicalLocation"]

    semantic_cases = {
        "ruleIndex off by one": broken(lambda d: run0(d)["results"][0].update(
            ruleIndex=run0(d)["results"][0]["ruleIndex"] + 1)),
        "pass with level error": broken(lambda d: run0(d)["results"][first_pass].update(
            level="error")),
        "fail with another level": broken(lambda d: run0(d)["results"][first_fail].update(
            level="note" if run0(d)["results"][first_fail]["level"] != "note" else "error")),
        "line past the end": broken(lambda d: region(d)["region"].update(startLine=10 ** 6)),
        "file not in the snapshot": broken(lambda d: region(d)["artifactLocation"].update(
            uri="no-such-file.txt")),
        "undeclared uriBaseId": broken(lambda d: region(d)["artifactLocation"].update(
            uriBaseId="ELSEWHERE")),
        "kind not the json status": broken(lambda d: run0(d)["results"][first_pass].update(
            kind="notApplicable")),
    }
    bases = {"SNAPSHOT": snapshot_dir}
    statuses = {r["ruleId"]: {v: k for k, v in KIND_OF_STATUS.items()}[r["kind"]]
                for r in sample["runs"][0]["results"]}
    if semantic_errors(sample, bases, statuses):
        fail("self-check: the semantic checks reject the sample: "
             + "; ".join(semantic_errors(sample, bases, statuses)))
    for name, doc in semantic_cases.items():
        if not semantic_errors(doc, bases, statuses):
            fail(f"self-check: the semantic checks accept a broken document ({name})")


def run_mailwarden(binary, args):
    p = subprocess.run([binary] + args, capture_output=True, timeout=300)
    if p.returncode not in (0, 1, 2, 3):  # audit: 0-3 by the worst failure, 4 could not run
        fail(f"mailwarden {' '.join(args)} exited {p.returncode}: "
             + p.stderr.decode("utf-8", "replace"))
        return None
    return p.stdout


def parse(out, what):
    try:
        return json.loads(out.decode("utf-8"))  # strict: the output must be UTF-8 JSON
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"{what}: not UTF-8 JSON: {e}")
        return None


def validate(validator, doc, what):
    errs = schema_errors(validator, doc)
    for e in errs[:20]:
        fail(f"{what}: schema: {e}")
    return not errs


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    validator = make_validator(os.path.join(src, "tests/data/sarif/sarif-schema-2.1.0.json"))
    print(f"schema: {validator.schema.get('$schema')} ({validator.__class__.__name__})")

    help_text = subprocess.run([binary, "audit", "--help"], capture_output=True,
                               timeout=60).stdout.decode("utf-8", "replace")
    if not re.search(r"\bsarif\b", help_text):
        fail("`mailwarden audit --help` does not offer --format sarif")
        return 1
    has_baseline = "--baseline" in help_text

    checked = 0
    reports = {}
    for name in SNAPSHOTS:
        snap = os.path.join(src, "examples/snapshots", name)
        out = run_mailwarden(binary, ["audit", "--snapshot", snap, "--format", "sarif"])
        js = run_mailwarden(binary, ["audit", "--snapshot", snap, "--format", "json"])
        if out is None or js is None:
            continue
        doc, report = parse(out, name), parse(js, name + " (json)")
        if doc is None or report is None:
            continue
        reports[name] = (js, report)
        if name == SNAPSHOTS[0]:
            self_check(validator, doc, snap)
        statuses = {c["id"]: c["status"] for c in report["controls"]}
        ok = validate(validator, doc, name)
        for e in semantic_errors(doc, {"SNAPSHOT": snap}, statuses):
            fail(f"{name}: {e}")
            ok = False
        results = doc["runs"][0]["results"]
        located = sum(1 for r in results if r.get("locations"))
        print(f"{name}: {len(results)} results, {located} with locations: "
              f"{'valid' if ok else 'INVALID'}")
        checked += 1

    if has_baseline and SNAPSHOTS[0] in reports:
        js, report = reports[SNAPSHOTS[0]]
        with tempfile.TemporaryDirectory() as tmp:
            old = os.path.join(tmp, "old.json")
            with open(old, "wb") as f:
                f.write(js)
            was_failing = {c["id"] for c in report["controls"] if c["status"] == "fail"}
            for name in SNAPSHOTS:
                snap = os.path.join(src, "examples/snapshots", name)
                out = run_mailwarden(binary, ["audit", "--snapshot", snap, "--format", "sarif",
                                              "--baseline", old])
                doc = parse(out, name + " --baseline") if out is not None else None
                if doc is None:
                    continue
                expected = {}
                for r in doc["runs"][0]["results"]:
                    if r["ruleId"] in was_failing:
                        if r["kind"] == "fail" and name == SNAPSHOTS[0]:
                            expected[r["ruleId"]] = "unchanged"  # the same snapshot again
                        elif r["kind"] in ("pass", "notApplicable"):
                            expected[r["ruleId"]] = "absent"  # fixed
                    elif r["kind"] == "fail":
                        expected[r["ruleId"]] = "new"
                ok = validate(validator, doc, name + " --baseline")
                for e in semantic_errors(doc, {"SNAPSHOT": snap}, None, expected):
                    fail(f"{name} --baseline: {e}")
                    ok = False
                if name != SNAPSHOTS[0] and "absent" not in expected.values():
                    fail(f"{name} --baseline: no fixed control, the baseline test tests nothing")
                states = {}
                for r in doc["runs"][0]["results"]:
                    if "baselineState" in r:
                        states[r["baselineState"]] = states.get(r["baselineState"], 0) + 1
                print(f"{name} --baseline {SNAPSHOTS[0]}: baselineState {states}: "
                      f"{'valid' if ok else 'INVALID'}")
                checked += 1
    elif not has_baseline:
        print("--baseline: not offered by `mailwarden audit --help` yet, not tested")

    if failures:
        print(f"{len(failures)} failures", file=sys.stderr)
        return 1
    print(f"{checked} SARIF reports valid; the self-check rejected every broken document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
