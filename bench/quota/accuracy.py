#!/usr/bin/python3
"""Cluster accuracy of guard-ai quotas: several local gateways (localgw, 2 nginx workers each) share one
redis-server with sync every 100 ms; wrk offers several times the limit to every gateway at once for a
minute; the admitted total is compared with the exact single-bucket figure and with docs/quota.md's bound.

    /usr/bin/python3 bench/quota/accuracy.py [--nodes 4] [--seconds 60] [--limit 60] [--connections 2]
                                            [--delay-ms 25]

The limit is one `global` window of `limit` per second (burst = limit), shared by every request of the plugin
instance on every node. Offered load is set by wrk connections and a per-request delay (wrk has no rate
option); the run reports the offered rate it actually achieved, as a multiple of the limit.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from harness import RedisServer, start_gateway  # noqa: E402

BUILD = os.environ.get("GUARD_BUILD_DIR", os.path.join(REPO, "build"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--limit", type=int, default=60, help="requests per second, cluster-wide")
    ap.add_argument("--connections", type=int, default=2, help="wrk connections per node")
    ap.add_argument("--delay-ms", type=int, default=25, help="pause of each wrk connection between requests")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="guard-quota-accuracy-")
    redis = RedisServer(os.path.join(tmp, "redis"))
    gws = []
    try:
        quota = {"global": [{"per": "second", "limit": a.limit}],
                 "sync": {"redis": {"host": "127.0.0.1", "port": redis.port}, "interval_ms": 100,
                          "on_failure": "local_fallback", "expected_nodes": a.nodes}}
        cfg = lambda echo: {"_format_version": "3.0", "services": [{"name": "echo", "url": echo, "routes": [
            {"name": "q", "paths": ["/q"], "plugins": [{"name": "guard-ai", "config": {"quota": quota}}]}]}]}
        for i in range(a.nodes):
            gws.append(start_gateway(cfg, os.path.join(tmp, f"gw{i}"), workers=2, cpaths=(BUILD,)))
        script = os.path.join(tmp, "delay.lua")
        with open(script, "w") as f:
            f.write(f"function delay() return {a.delay_ms} end\n")
        procs = [subprocess.Popen(["wrk", "-t1", f"-c{a.connections}", f"-d{a.seconds}s", "-s", script,
                                   f"http://127.0.0.1:{g.proxy_port}/q/"], stdout=subprocess.PIPE, text=True)
                 for g in gws]
        start = time.monotonic()
        outs = [p.communicate()[0] for p in procs]
        elapsed = time.monotonic() - start
        total = refused = 0
        for out in outs:
            total += int(re.search(r"(\d+) requests in", out).group(1))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            refused += int(m.group(1)) if m else 0
        admitted = total - refused
        r = float(a.limit)
        exact = a.limit + r * a.seconds
        bound = exact + (a.nodes - 1) * (a.limit + r * (0.1 + 0.005))
        print(f"{a.nodes} nodes x 2 workers, {a.seconds} s, limit {a.limit}/s cluster-wide (burst {a.limit})")
        print(f"offered {total} ({total / a.seconds:.0f}/s = {total / a.seconds / r:.1f}x the limit), "
              f"admitted {admitted} ({admitted / a.seconds:.1f}/s)")
        print(f"exact single bucket: {exact:.0f}; admitted/exact = {admitted / exact:.4f}; "
              f"documented bound {bound:.0f} (S = 0.1 s, L = 5 ms)")
        print(f"wall time of the wrk runs {elapsed:.1f} s")
    finally:
        for g in gws:
            g.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
