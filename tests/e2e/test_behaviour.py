"""Behaviour as a signal end to end (issue 5): node-wide profiles across nginx workers, decisions (ban, throttle)
with their statuses, the blocklist admin endpoints and the allow list, the verdict-cache flag, and bans shared
by two gateways through one redis-server.

Clients are told apart by their source address: the whole of 127.0.0.0/8 is loopback, and localgw (like Kong
with its default trusted_ips) takes the connection's address as the client IP."""

import http.client
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import REPO, Response, wait_until

BUILD = os.environ.get("GUARD_BUILD_DIR", os.path.join(REPO, "build"))
ENV = {"GUARD_BEHAVIOUR_SHM_BYTES": str(8 << 20)}


def request_from(gw, source_ip, method, path, headers=None, body=None):
    """One request on a fresh connection from source_ip (a fresh connection may land on any worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.proxy_port, timeout=10, source_address=(source_ip, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def config(echo_url, plugin_config):
    return {"_format_version": "3.0",
            "services": [{"name": "echo", "url": echo_url, "routes": [
                {"name": "app", "paths": ["/"], "plugins": [{"name": "guard-ai", "config": plugin_config}]}]}]}


def signals(gw):
    body = gw.admin("GET", "/guard-ai/status").json()
    (instance,) = [v for v in body["instances"].values()]
    return instance["signals"]


# What a browser sends: with a browser User-Agent and its usual headers, machine-regular timing (this test loop)
# is not held against it (scripted_bot feeds only on non-browser clients).
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
           "Accept": "text/html,application/xhtml+xml", "Accept-Language": "en-GB,en;q=0.8",
           "Accept-Encoding": "gzip, deflate"}

CAPACITY = 10
PROBING = {"behaviour": {"enabled": True, "scenarios": [
    {"name": "probing", "capacity": CAPACITY, "leak_per_sec": 0, "feeds": {"status_404": 1},
     "decision": "ban", "ttl_s": 120}]}}


def test_a_path_scanner_is_banned_within_capacity_across_two_workers_and_benign_clients_are_not(localgw):
    gw = localgw(lambda echo: config(echo, PROBING), workers=2, cpaths=(BUILD,), env=ENV)
    assert signals(gw)["behaviour"]["node_profiles"] is True
    scanner, browser = "127.0.0.2", "127.0.0.3"
    statuses = []
    for i in range(3 * CAPACITY):
        r = request_from(gw, scanner, "GET", f"/admin{i}.php", headers={"X-Echo-Status": "404"})
        statuses.append(r.status)
        if r.status == 403:
            assert r.json()["category"] == "behaviour"
            break
    # The ban is decided in the log phase of the 404 that overflows the bucket (the 11th); one more request may
    # already be on its way while that log phase runs.
    assert 403 in statuses, statuses
    first = statuses.index(403)
    assert CAPACITY + 1 <= first <= CAPACITY + 2, statuses
    assert all(s == 404 for s in statuses[:first])
    # Every worker enforces it (fresh connections), the admin endpoint lists it.
    assert {request_from(gw, scanner, "GET", "/").status for _ in range(8)} == {403}
    entries = gw.admin("GET", "/guard-ai/blocklist").json()["entries"]
    assert [e["subject"] for e in entries if "probing" in e["reason"]] == ["127.0.0.2/32"]
    # A benign client browsing the same site (including a few 404s) is never decided.
    for i in range(40):
        status = "404" if i % 10 == 0 else "200"
        headers = dict(BROWSER, **{"X-Echo-Status": status})
        page = (i * 7919) % 1000  # browsing, not walking ids (that is the enumeration scenario)
        assert request_from(gw, browser, "GET", f"/page/{page}", headers=headers).status == int(status)


def test_a_throttle_answers_429_with_retry_after(localgw):
    cfg = {"behaviour": {"enabled": True, "scenarios": [
        {"name": "probing", "capacity": 3, "leak_per_sec": 0, "feeds": {"status_404": 1},
         "decision": "throttle", "ttl_s": 30}]}}
    gw = localgw(lambda echo: config(echo, cfg), workers=2, cpaths=(BUILD,), env=ENV)
    statuses = [request_from(gw, "127.0.0.5", "GET", f"/x{i}", headers={"X-Echo-Status": "404"}).status
                for i in range(8)]
    assert 429 in statuses, statuses
    r = request_from(gw, "127.0.0.5", "GET", "/")
    assert r.status == 429
    assert 1 <= int(r.header("Retry-After")) <= 30
    assert r.json()["retry_after"] == int(r.header("Retry-After"))


def test_blocklist_admin_endpoints_apply_on_every_worker_and_the_allow_list_wins(localgw):
    gw = localgw(lambda echo: config(echo, {}), workers=2, cpaths=(BUILD,), env=ENV)
    client = "127.0.0.4"
    assert request_from(gw, client, "GET", "/").status == 200
    r = gw.admin("POST", "/guard-ai/blocklist", body={"subject": "127.0.0.4", "ttl": 600, "reason": "test"})
    assert r.status == 201, r.text()
    assert {request_from(gw, client, "GET", "/").status for _ in range(8)} == {403}
    assert request_from(gw, "127.0.0.6", "GET", "/").status == 200
    assert gw.admin("POST", "/guard-ai/blocklist", body={"subject": "127.0.0.0/24", "list": "allow"}).status == 201
    assert {request_from(gw, client, "GET", "/").status for _ in range(8)} == {200}
    assert gw.admin("DELETE", "/guard-ai/blocklist", body={"subject": "127.0.0.0/24", "list": "allow"}).status == 204
    assert {request_from(gw, client, "GET", "/").status for _ in range(8)} == {403}
    assert gw.admin("DELETE", "/guard-ai/blocklist", body={"subject": "127.0.0.4"}).status == 204
    assert {request_from(gw, client, "GET", "/").status for _ in range(8)} == {200}
    bad = gw.admin("POST", "/guard-ai/blocklist", body={"subject": "not-an-ip"})
    assert bad.status == 400


def test_the_verdict_cache_flag_is_visible_on_repeated_attack_shapes(localgw):
    gw = localgw(lambda echo: config(echo, {}), workers=2, cpaths=(BUILD,), env=ENV)
    payloads = ["1' OR 1=1 --", "7' or 5=5 --", "99'  OR  3=3--", "2' Or 8=8 -- x"]
    responses = [request_from(gw, "127.0.0.7", "GET", "/items?id=" + p.replace(" ", "%20").replace("'", "%27"))
                 for p in payloads * 3]
    assert {r.status for r in responses} == {403}
    hits = [r.header("X-Guard-Cache") == "hit" for r in responses]
    # The L1 cache is per worker: at most one miss per worker for one shape, every other variant is a hit.
    assert hits.count(True) >= len(responses) - 2, hits
    cache = signals(gw)["cache"]
    assert cache["enabled"] is True


def test_a_ban_on_gateway_a_applies_on_gateway_b_through_redis(localgw, redis_server):
    cfg = {"redis": {"host": "127.0.0.1", "port": redis_server.port, "prefix": "e2e"}}
    a = localgw(lambda echo: config(echo, cfg), workers=2, cpaths=(BUILD,), env=ENV)
    b = localgw(lambda echo: config(echo, cfg), workers=2, cpaths=(BUILD,), env=ENV)
    client = "127.0.0.8"
    # Traffic starts each worker's sync thread (lazily, never in the master).
    for gw in (a, b):
        for _ in range(6):
            assert request_from(gw, client, "GET", "/").status == 200
    r = a.admin("POST", "/guard-ai/blocklist", body={"subject": client, "ttl": 300, "reason": "shared"})
    assert r.status == 201
    wait_until(lambda: all(request_from(b, client, "GET", "/").status == 403 for _ in range(4)), timeout=5,
               what="the ban of gateway A on gateway B")
    # Nodes that start later load the live entries from the state hash.
    assert redis_server.command("HGET", "e2e:bl:state", "ban 127.0.0.8/32").startswith("ban 127.0.0.8/32 ")
    # The allow list wins on B too, and the unban travels the same way.
    a.admin("POST", "/guard-ai/blocklist", body={"subject": client, "list": "allow", "ttl": 300})
    wait_until(lambda: all(request_from(b, client, "GET", "/").status == 200 for _ in range(4)), timeout=5,
               what="the allow entry of gateway A on gateway B")
    status_b = signals(b)["redis"]
    assert status_b["sync"] == "healthy"
    assert status_b["lines_pulled"] >= 1


def test_redis_down_keeps_the_node_working_and_shows_in_status(localgw):
    from harness import free_port
    cfg = {"redis": {"host": "127.0.0.1", "port": free_port(), "timeout_ms": 50},
           "blocklist": {"deny": ["127.0.0.9"]}}
    gw = localgw(lambda echo: config(echo, cfg), workers=1, cpaths=(BUILD,), env=ENV)
    assert request_from(gw, "127.0.0.10", "GET", "/").status == 200
    assert request_from(gw, "127.0.0.9", "GET", "/").status == 403
    wait_until(lambda: signals(gw)["redis"]["sync"] == "unhealthy", timeout=5, what="sync unhealthy")
    assert signals(gw)["redis"]["last_error"] != ""
    assert request_from(gw, "127.0.0.10", "GET", "/").status == 200


def test_the_l2_verdict_cache_carries_a_known_attack_shape_from_gateway_a_to_gateway_b(localgw, redis_server):
    # Two custom rules: "zzevilmark" is an attack (5 + 1), "zzevil" alone scores 1; both have the skeleton "w", so
    # once A has seen the attack, the low-scoring variant has a known malicious shape.
    rules = [{"id": 900101, "category": "sqli", "severity": 5, "paranoia": 1, "targets": ["args"],
              "patterns": ["zzevilmark"], "message": "m"},
             {"id": 900102, "category": "sqli", "severity": 1, "paranoia": 1, "targets": ["args"],
              "patterns": ["zzevil"], "message": "w"}]
    cfg = {"custom_rules": rules, "redis": {"host": "127.0.0.1", "port": redis_server.port, "prefix": "l2"}}
    a = localgw(lambda echo: config(echo, cfg), workers=1, cpaths=(BUILD,), env=ENV)
    b = localgw(lambda echo: config(echo, cfg), workers=1, cpaths=(BUILD,), env=ENV)
    assert request_from(a, "127.0.0.11", "GET", "/s?q=zzevilmark").status == 403
    wait_until(lambda: any(k.startswith("l2:vc:") for k in redis_server.command("KEYS", "l2:vc:*")), timeout=5,
               what="the malicious verdict written behind to Redis")
    # B has never seen the attack: the variant passes (score 1) and queues a fetch; once the answer is in B's
    # L1, the same shape is blocked from the cache.
    first = request_from(b, "127.0.0.12", "GET", "/s?q=zzEVIL")
    assert first.status == 200
    wait_until(lambda: request_from(b, "127.0.0.12", "GET", "/s?q=ZZevil").status == 403, timeout=5,
               what="gateway B blocking the variant from the L2 cache")
    r = request_from(b, "127.0.0.13", "GET", "/s?q=zzevil")
    assert r.status == 403
    assert r.header("X-Guard-Cache") == "hit"
    assert signals(b)["redis"]["l2_hits"] >= 1
    assert signals(a)["redis"]["l2_stores"] >= 1
