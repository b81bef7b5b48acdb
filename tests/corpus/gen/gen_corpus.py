#!/usr/bin/env python3
"""Generates the labelled detection corpus: tests/corpus/attacks.jsonl and tests/corpus/benign.jsonl.

    python3 tests/corpus/gen/gen_corpus.py            # rewrites both files
    python3 tests/corpus/gen/gen_corpus.py --check    # fails if the committed files are stale

One JSON object per line (see tests/corpus/README.md for the fields). Output is deterministic: a fixed seed,
ids numbered per category in generation order, and a held-out split chosen by a hash of the id (20%), so
adding a payload at the end of a category does not move other requests between splits.
"""
import argparse
import hashlib
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # keep the source tree clean (ctest runs --check)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attacks  # noqa: E402
import benign  # noqa: E402

SEED = 20260315
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.dirname(HERE)
FIELD_ORDER = ["id", "split", "label", "category", "location", "evasion", "difficulty", "method", "uri", "headers",
               "header_list", "body", "body_b64"]


def split_of(rid):
    return "holdout" if int(hashlib.sha256(rid.encode()).hexdigest(), 16) % 5 == 0 else "tune"


def finish(items, prefix_of):
    seen, out, counters = set(), [], {}
    for r in items:
        key = json.dumps([r["method"], r["uri"], r.get("headers"), r.get("header_list"), r.get("body"), r.get("body_b64")], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        prefix = prefix_of(r)
        counters[prefix] = counters.get(prefix, 0) + 1
        r["id"] = "%s-%04d" % (prefix, counters[prefix])
        r["split"] = split_of(r["id"])
        out.append({k: r[k] for k in FIELD_ORDER if k in r})
    return out


def render(items):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ from what would be generated")
    args = ap.parse_args()
    files = {
        "attacks.jsonl": render(finish(attacks.generate(random.Random(SEED)), lambda r: r["category"])),
        "benign.jsonl": render(finish(benign.generate(random.Random(SEED + 1)), lambda r: "benign")),
    }
    stale = []
    for name, text in files.items():
        path = os.path.join(OUT_DIR, name)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(name)
            except FileNotFoundError:
                stale.append(name)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        print("stale corpus files (re-run gen_corpus.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    for name, text in files.items():
        rows = [json.loads(l) for l in text.splitlines()]
        by = {}
        for r in rows:
            k = r.get("category", "benign")
            by[k] = by.get(k, 0) + 1
        held = sum(1 for r in rows if r["split"] == "holdout")
        print("%s: %d requests (%d holdout) %s" % (name, len(rows), held, " ".join("%s=%d" % kv for kv in sorted(by.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
