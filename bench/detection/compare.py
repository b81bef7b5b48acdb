#!/usr/bin/env python3
"""Detection and cost: libguard (guardctl scan) against ModSecurity v3 + OWASP CRS (modsec_scan) at PL1 and PL2.

Same corpus, same machine, same run: every engine replays the same files one after the other, single
threaded, and is scored here from its per-request JSON lines against the corpus labels.

    python3 bench/detection/compare.py [--build build] [--markdown] [--split holdout]

Detection = the engine would stop the request (guard: block or monitor; ModSecurity: an intervention).
A request the engine failed to inspect counts as a miss for an attack and as allowed for benign traffic,
and is listed in the "errors" row. Latency is the engine's own per-request time (guard_inspect for
libguard; the whole request-phase transaction for ModSecurity), after a warm-up of 50 requests in both;
requests/s is 1 / mean latency (one core, inspection only). On a shared machine use --repeat N: the engines
run N rounds, interleaved, and each request keeps its fastest time (verdicts must agree across rounds).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATEGORIES = ["sqli", "xss", "cmdi", "traversal", "rfi", "ssrf", "xxe", "ssti", "jndi", "nosqli", "ldapi", "crlf",
              "code", "scanner", "protocol"]


def find_binary(build_dirs, rel_paths):
    for b in build_dirs:
        for rel in rel_paths:
            p = os.path.join(b, rel)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                return p
    return None


def load_corpus(files):
    corpus = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    r = json.loads(line)
                    rid = r.get("id") or "line-%d" % n
                    if rid in corpus:
                        sys.exit("compare.py: duplicate id %s in %s" % (rid, f))
                    corpus[rid] = r
    return corpus


def run_engine(name, cmd, stop_actions, time_field, time_scale_us):
    print("running %s: %s" % (name, " ".join(cmd)), file=sys.stderr)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1, 2) or not p.stdout.strip():
        sys.exit("compare.py: %s failed (exit %d):\n%s" % (name, p.returncode, p.stderr[-3000:]))
    results = {}
    for line in p.stdout.splitlines():
        if line.strip():
            o = json.loads(line)
            results[o["id"]] = {"stop": o["action"] in stop_actions, "us": o[time_field] * time_scale_us,
                                "categories": o.get("categories", [])}
    return {"name": name, "results": results, "wall": wall, "stderr": p.stderr}


def score(engine, corpus, split):
    per_cat = {c: [0, 0] for c in CATEGORIES}
    benign = fp = errors = 0
    times = []
    for rid, r in corpus.items():
        if split and r.get("split") != split:
            continue
        res = engine["results"].get(rid)
        if res is None:
            errors += 1
        else:
            times.append(res["us"])
        stop = bool(res and res["stop"])
        if r["label"] == "attack":
            pc = per_cat.setdefault(r["category"], [0, 0])
            pc[0] += stop
            pc[1] += 1
        else:
            benign += 1
            fp += stop
    times.sort()
    det = sum(v[0] for v in per_cat.values())
    tot = sum(v[1] for v in per_cat.values())
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))] if times else 0.0
    mean = statistics.fmean(times) if times else 0.0
    return {"per_cat": per_cat, "detected": det, "attacks": tot, "benign": benign, "fp": fp, "errors": errors,
            "median_us": pick(0.5), "p99_us": pick(0.99), "rps": 1e6 / mean if mean else 0.0}


def rows(scores):
    out = []
    for c in CATEGORIES:
        cells = []
        for s in scores:
            d, t = s["per_cat"].get(c, [0, 0])
            cells.append("%d/%d (%.1f%%)" % (d, t, 100.0 * d / t) if t else "-")
        out.append([c] + cells)
    out.append(["ALL attacks"] + ["%d/%d (%.1f%%)" % (s["detected"], s["attacks"], 100.0 * s["detected"] / max(1, s["attacks"])) for s in scores])
    out.append(["false positives"] + ["%d/%d (%.2f%%)" % (s["fp"], s["benign"], 100.0 * s["fp"] / max(1, s["benign"])) for s in scores])
    out.append(["median us/request"] + ["%.1f" % s["median_us"] for s in scores])
    out.append(["p99 us/request"] + ["%.1f" % s["p99_us"] for s in scores])
    out.append(["requests/s (1 core)"] + ["%.0f" % s["rps"] for s in scores])
    out.append(["errors"] + [str(s["errors"]) for s in scores])
    return out


def print_text(headers, table):
    widths = [max(len(str(r[i])) for r in [headers] + table) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(r))
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print(line(r))


def print_markdown(headers, table):
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    for r in table:
        print("| " + " | ".join(str(c) for c in r) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", help="build directory to find guardctl and modsec_scan in (repeatable)")
    ap.add_argument("--guardctl", help="path to guardctl")
    ap.add_argument("--modsec", help="path to modsec_scan")
    ap.add_argument("--config", help="libguard config JSON passed to guardctl scan")
    ap.add_argument("--corpus", nargs="+", default=[os.path.join(ROOT, "tests/corpus/attacks.jsonl"), os.path.join(ROOT, "tests/corpus/benign.jsonl")])
    ap.add_argument("--paranoia", default="1,2", help="CRS paranoia levels to run (default 1,2)")
    ap.add_argument("--split", choices=["tune", "holdout"], help="score only this split (all engines still replay everything)")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--save", help="directory to keep each engine's raw JSON lines in")
    ap.add_argument("--repeat", type=int, default=1, help="rounds per engine; each request keeps its fastest time")
    args = ap.parse_args()

    builds = args.build or [os.path.join(ROOT, d) for d in ("build", "build-corpus", "build-release")]
    guardctl = args.guardctl or find_binary(builds, ["tools/guardctl/guardctl", "guardctl", "bin/guardctl"])
    modsec = args.modsec or find_binary(builds, ["bench/modsec/modsec_scan", "modsec_scan", "bin/modsec_scan"])
    if not guardctl:
        sys.exit("compare.py: guardctl not found in %s (build it, or pass --guardctl)" % ", ".join(builds))
    corpus = load_corpus(args.corpus)

    specs = [("libguard", [guardctl, "scan", "--output", "jsonl"] + (["--config", args.config] if args.config else []) + args.corpus,
              {"block", "monitor"}, "ns", 1e-3)]
    if modsec:
        for pl in [int(x) for x in args.paranoia.split(",") if x]:
            specs.append(("CRS PL%d" % pl, [modsec, "--paranoia", str(pl)] + args.corpus, {"block"}, "us", 1.0))
    else:
        print("compare.py: modsec_scan not found (libmodsecurity missing?): libguard only", file=sys.stderr)
    engines = [None] * len(specs)
    for _ in range(max(1, args.repeat)):
        for i, spec in enumerate(specs):
            e = run_engine(*spec)
            if engines[i] is None:
                engines[i] = e
                continue
            for rid, res in e["results"].items():
                prev = engines[i]["results"].get(rid)
                if prev is None:
                    engines[i]["results"][rid] = res
                    continue
                if prev["stop"] != res["stop"]:
                    sys.exit("compare.py: %s gave two verdicts for %s across rounds" % (spec[0], rid))
                prev["us"] = min(prev["us"], res["us"])

    if args.save:
        os.makedirs(args.save, exist_ok=True)
        for e in engines:
            with open(os.path.join(args.save, e["name"].replace(" ", "_").lower() + ".jsonl"), "w") as f:
                for rid, res in e["results"].items():
                    f.write(json.dumps(dict(id=rid, **res)) + "\n")

    scores = [score(e, corpus, args.split) for e in engines]
    headers = [("split: " + args.split) if args.split else "corpus"] + [e["name"] for e in engines]
    table = rows(scores)
    n_attacks, n_benign = scores[0]["attacks"], scores[0]["benign"]
    title = "%d attacks, %d benign requests (%s)" % (n_attacks, n_benign, ", ".join(os.path.relpath(c, ROOT) for c in args.corpus))
    if args.markdown:
        print("**%s**\n" % title)
        print_markdown(headers, table)
    else:
        print(title)
        print_text(headers, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
