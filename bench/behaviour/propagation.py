"""How long a ban takes to reach another node (issue 5 target: within 1 s).

Starts redis-server and two localgw gateways (2 workers each) sharing it through the `redis` section, warms both
up (each worker's sync thread starts with its first request), then repeatedly bans a fresh client IP through the
admin API of gateway A and times until gateway B refuses that client. Prints every sample, the median and the
maximum. Run from the repository root after building: /usr/bin/python3 bench/behaviour/propagation.py [samples]"""

import http.client
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
from harness import REPO, RedisServer, start_gateway  # noqa: E402

BUILD = os.environ.get("GUARD_BUILD_DIR", os.path.join(REPO, "build"))


def status_from(gw, ip):
    conn = http.client.HTTPConnection("127.0.0.1", gw.proxy_port, timeout=5, source_address=(ip, 0))
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    finally:
        conn.close()


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    work = tempfile.mkdtemp(prefix="guard-propagation-")
    redis = RedisServer(os.path.join(work, "redis"))
    gws = []
    try:
        def cfg(echo):
            return {"_format_version": "3.0", "services": [{"name": "echo", "url": echo, "routes": [
                {"name": "app", "paths": ["/"], "plugins": [{"name": "guard-ai", "config": {
                    "redis": {"host": "127.0.0.1", "port": redis.port, "prefix": "prop"}}}]}]}]}
        for name in ("a", "b"):
            gws.append(start_gateway(cfg, os.path.join(work, name), workers=2, cpaths=(BUILD,)))
        a, b = gws
        for gw in gws:
            for _ in range(10):
                status_from(gw, "127.0.1.1")
        times = []
        for i in range(samples):
            ip = f"127.0.2.{i + 1}"
            t0 = time.monotonic()
            r = a.admin("POST", "/guard-ai/blocklist", body={"subject": ip, "ttl": 300, "reason": "propagation"})
            assert r.status == 201, r.text()
            # Applied on B = every worker refuses: 8 refusals in a row on fresh connections (either worker).
            streak = 0
            while streak < 8:
                streak = streak + 1 if status_from(b, ip) == 403 else 0
                if time.monotonic() - t0 > 10:
                    raise SystemExit(f"{ip}: not banned on B after 10 s")
            times.append((time.monotonic() - t0) * 1000)
            print(f"  {ip}: {times[-1]:.0f} ms")
            time.sleep(0.05)
        print(f"ban on A -> refused by B's workers (8 in a row; includes those 8 requests): median {statistics.median(times):.0f} ms, max {max(times):.0f} ms "
              f"over {samples} bans")
    finally:
        for gw in gws:
            gw.stop()
        redis.stop()


if __name__ == "__main__":
    main()
