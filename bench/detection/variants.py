#!/usr/bin/env python3
"""Variants of caught attacks: is an attack still caught when it is encoded differently or sent elsewhere?

    python3 bench/detection/variants.py --guardctl build/tools/guardctl/guardctl [--show N]

Takes every attack of the labelled corpora (tests/corpus, tests/corpus/blind) that is a GET with its payload
in a query argument and no evasion of its own, which the default config blocks, and replays its payload
  - re-encoded in that argument: every byte percent-encoded, double and triple encoding, IIS %u, full-width
    forms, overlong UTF-8, random letter case, form-style '+';
  - moved elsewhere, as itself: a nested JSON key, a form field, a multipart field, an XML element, a
    cookie, a custom header (X-Api-Filter), a path segment.
Prints, per variant, how many are still blocked, and the first misses. Not every variant is an attack on
every application (a payload in a path segment reaches a shell only through some routes), so 100% is not
the goal: the figure shows where the rules' reach depends on the place rather than the payload.
"""
import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "corpus", "gen"))
import encoders as E  # noqa: E402

CORPORA = ["tests/corpus/attacks.jsonl", "tests/corpus/blind/attacks-b.jsonl"]
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"


def random_case(s, rng):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)


def payloads():
    """(attack, argument name, decoded payload, other query pairs) for each usable corpus attack."""
    for rel in CORPORA:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["method"] != "GET" or "?" not in r["uri"] or r.get("evasion", "none") != "none":
                    continue
                if r["category"] in ("protocol", "scanner"):  # about the request's shape, not a payload
                    continue
                path, query = r["uri"].split("?", 1)
                try:  # payloads that are not UTF-8 once decoded (overlong forms) cannot be re-encoded faithfully
                    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict")
                except UnicodeDecodeError:
                    continue
                if not pairs or len({k for k, _ in pairs}) != len(pairs):  # HPP: the payload spans arguments
                    continue
                name, value = max(pairs, key=lambda kv: len(kv[1]))
                if len(value) >= 6:
                    yield r, path, name, value, [(k, v) for k, v in pairs if k != name]


def variants():
    rng = random.Random(7)
    encodings = {
        "pct-all": E.pct_all, "double-pct": E.double_pct, "triple-pct": E.triple_pct, "%u": E.u_encode,
        "fullwidth": E.fullwidth, "overlong": E.overlong, "case": lambda s: E.pct(random_case(s, rng)),
        "plus": E.pct_plus,
    }
    for r, path, name, value, rest in payloads():
        base = {"label": "attack", "category": r["category"]}
        # The attack's own headers (some attacks need one, e.g. a Referer the payload points to).
        headers = dict(r.get("headers") or r.get("header_list") or {"Host": "api.example.com", "User-Agent": UA})
        rest_q = "".join(f"&{urllib.parse.quote(k)}={urllib.parse.quote(v)}" for k, v in rest)

        def make(kind, **req):
            v = dict(base, **req)
            v["id"] = f"{r['id']}~{kind}"
            return v

        for kind, enc in encodings.items():
            yield make(kind, method="GET", uri=f"{path}?{urllib.parse.quote(name)}={enc(value)}{rest_q}", headers=headers)
        yield make("json", method="POST", uri="/api/v1/items", headers=dict(headers, **{"Content-Type": "application/json"}),
                   body=json.dumps({"data": {"attributes": {name: value, "note": "x"}}, "meta": [1, 2]}))
        yield make("form", method="POST", uri="/api/v1/items",
                   headers=dict(headers, **{"Content-Type": "application/x-www-form-urlencoded"}),
                   body=urllib.parse.urlencode({name: value, "submit": "Save"}))
        b = "XyZ123"
        yield make("multipart", method="POST", uri="/api/v1/upload",
                   headers=dict(headers, **{"Content-Type": f"multipart/form-data; boundary={b}"}),
                   body=f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n--{b}--\r\n')
        esc = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        yield make("xml", method="POST", uri="/api/v1/items", headers=dict(headers, **{"Content-Type": "application/xml"}),
                   body=f'<?xml version="1.0"?><item><name>{esc}</name></item>')
        yield make("cookie", method="GET", uri="/api/v1/items",
                   headers=dict(headers, Cookie=f"session=abc123; {name}={urllib.parse.quote(value)}"))
        if "\r" not in value and "\n" not in value:  # a header cannot carry a line break
            yield make("custom-header", method="GET", uri="/api/v1/items", headers=dict(headers, **{"X-Api-Filter": value}))
        yield make("path", method="GET", uri="/api/v1/items/" + urllib.parse.quote(value, safe="") + "/detail",
                   headers=headers)


def scan(guardctl, path):
    out = subprocess.run([guardctl, "scan", "--output", "jsonl", path], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"guardctl scan failed: {out.stderr.strip()}")
    return {json.loads(l)["id"]: json.loads(l)["action"] for l in out.stdout.splitlines()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guardctl", default=os.path.join(ROOT, "build", "tools", "guardctl", "guardctl"))
    ap.add_argument("--show", type=int, default=8, help="misses listed per variant")
    args = ap.parse_args()
    originals = {}
    for rel in CORPORA:
        originals.update(scan(args.guardctl, os.path.join(ROOT, rel)))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tmp:
        count = 0
        for v in variants():
            if originals.get(v["id"].split("~")[0]) == "block":
                tmp.write(json.dumps(v) + "\n")
                count += 1
    try:
        got = scan(args.guardctl, tmp.name)
    finally:
        os.unlink(tmp.name)
    totals = collections.OrderedDict()
    misses = collections.defaultdict(list)
    for vid, action in got.items():
        orig, kind = vid.split("~")
        t = totals.setdefault(kind, [0, 0])
        t[1] += 1
        if action == "block":
            t[0] += 1
        else:
            misses[kind].append(orig)
    print(f"{count} variants of {len({v.split('~')[0] for v in got})} blocked attacks")
    print("| variant | still blocked | first misses |\n|---|---:|---|")
    for kind, (ok, n) in totals.items():
        print(f"| {kind} | {ok}/{n} ({100.0 * ok / n:.1f}%) | {', '.join(misses[kind][:args.show])} |")


if __name__ == "__main__":
    main()
