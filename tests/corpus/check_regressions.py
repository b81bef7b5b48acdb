#!/usr/bin/env python3
"""Corpus regression check: replays every labelled corpus through guardctl and compares with what is known.

    python3 tests/corpus/check_regressions.py --guardctl build/tools/guardctl/guardctl [--update]

tests/corpus/known_outcomes.json lists, per corpus file, the attacks the default config does not block
("misses") and the benign requests it blocks ("false_positives"). The check fails when
  - an attack not listed as a miss is not blocked (a detection regression),
  - a benign request not listed as a false positive is blocked (a new false positive),
  - a listed id now behaves well (the list is stale: remove it, so the next regression is seen),
  - an id in the list no longer exists in its file.
--update rewrites the file from the current outcome (after a deliberate change; review the diff).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = os.path.join(HERE, "known_outcomes.json")
# Every labelled corpus the rules are held to; paths relative to tests/corpus.
CORPORA = ["attacks.jsonl", "benign.jsonl", "blind/attacks-b.jsonl", "blind/benign-b.jsonl"]


def labels(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                out[r["id"]] = r["label"]
    return out


def verdicts(guardctl, path):
    proc = subprocess.run([guardctl, "scan", "--output", "jsonl", path], capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # 1: misses or false positives, which is what we compare
        sys.exit(f"guardctl scan {path} failed ({proc.returncode}): {proc.stderr.strip()}")
    out = {}
    for line in proc.stdout.splitlines():
        v = json.loads(line)
        out[v["id"]] = v["action"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guardctl", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    current = {}
    problems = []
    for rel in CORPORA:
        path = os.path.join(HERE, rel)
        want = labels(path)
        got = verdicts(args.guardctl, path)
        missing = sorted(set(want) - set(got))
        if missing:
            problems.append(f"{rel}: no verdict for {len(missing)} requests, e.g. {missing[:5]}")
        # "block" is the default config's action for an attack; anything else lets the request through.
        current[rel] = {
            "misses": sorted(i for i, l in want.items() if l == "attack" and got.get(i) != "block"),
            "false_positives": sorted(i for i, l in want.items() if l == "benign" and got.get(i) == "block"),
        }

    if args.update:
        with open(KNOWN, "w", encoding="utf-8") as f:
            json.dump(current, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {KNOWN}")
        return 0

    with open(KNOWN, encoding="utf-8") as f:
        known = json.load(f)
    for rel in CORPORA:
        k = known.get(rel, {"misses": [], "false_positives": []})
        c = current[rel]
        ids = set(labels(os.path.join(HERE, rel)))
        for kind, bad_word, good_word in (("misses", "no longer blocked", "now blocked"),
                                           ("false_positives", "newly blocked", "no longer blocked")):
            now, before = set(c[kind]), set(k.get(kind, []))
            if now - before:
                problems.append(f"{rel}: {bad_word} ({kind}): {sorted(now - before)}")
            gone = before - now
            if gone & ids:
                problems.append(f"{rel}: listed as {kind} but {good_word}, remove from known_outcomes.json: "
                                f"{sorted(gone & ids)}")
            if gone - ids:
                problems.append(f"{rel}: known_outcomes.json lists ids that are not in the file: {sorted(gone - ids)}")
        attacks = sum(1 for l in labels(os.path.join(HERE, rel)).values() if l == "attack")
        benign = len(ids) - attacks
        parts = []
        if attacks:
            parts.append(f"{attacks - len(c['misses'])}/{attacks} attacks blocked")
        if benign:
            parts.append(f"{len(c['false_positives'])}/{benign} benign blocked")
        print(f"{rel}: {', '.join(parts)}")
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
