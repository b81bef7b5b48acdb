"""AI provider state shared through Redis (the config's top-level `redis` section): RPM reservations across the
workers of two gateways ("nodes"), a breaker opened on one node holding the provider open on the other, and
Redis going away (each node falls back to its own state, and says so in the status).

anomaly_threshold 100 puts a plain SQL injection in the grey zone, so every such request is escalated."""

import os
import time
import urllib.parse

import pytest

from harness import REPO, free_port, start_gateway, wait_until
from mock_llm_server import MockLLM

BUILD = os.environ.get("GUARD_BUILD_DIR", os.path.join(REPO, "build"))


def sqli(n):
    """A grey-zone SQL injection of its own request shape (parameter f<n>): once the fingerprint stage is merged,
    a repeated shape is decided by the verdict cache without the AI, and these tests count AI calls."""
    return f"/items?f{n}=" + urllib.parse.quote("1' UNION SELECT password FROM users--", safe="")


def provider(mock, name, **extra):
    return dict({"name": name, "kind": "openai", "base_url": mock.url(name), "model": "m"}, **extra)


def gateway(tmp, redis, ai, workers):
    conf = {"anomaly_threshold": 100, "redis": {"host": redis.host, "port": redis.port, "prefix": "t"}, "ai": ai}
    cfg = lambda echo: {"_format_version": "3.0", "services": [{  # noqa: E731
        "name": "echo", "url": echo, "routes": [{"name": "api", "paths": ["/api"],
                                                 "plugins": [{"name": "guard-ai", "config": conf}]}]}]}
    return start_gateway(cfg, tmp, workers=workers, cpaths=(BUILD,))


def ai_status(gw):
    for inst in gw.admin("GET", "/guard-ai/status").json()["instances"].values():
        if inst.get("ai"):
            return inst["ai"]
    raise AssertionError("no AI instance")


@pytest.fixture
def mock(tmp_path):
    m = MockLLM(tmp_path / "mock")
    yield m
    m.stop()


def test_rpm_is_reserved_once_for_all_workers_of_all_nodes(tmp_path, redis_server, mock):
    rpm = 5
    mock.control(q={"rpm": rpm})  # the mock answers 429 beyond this, in a rolling minute
    ai = {"providers": [provider(mock, "q", rpm=rpm)]}
    nodes = [gateway(tmp_path / f"gw{i}", redis_server, ai, workers=2) for i in range(2)]
    try:
        start = time.monotonic()
        answers = [nodes[i % 2].proxy("GET", "/api" + sqli(i)).header("x-guard-ai") for i in range(4 * rpm)]
        # 4 worker processes, each with its own client: only the shared reservations keep them to `rpm` per
        # rolling minute (a run longer than a minute would legitimately get more).
        assert time.monotonic() - start < 60
        assert mock.calls("q") == rpm
        assert mock.statuses("q").get(429, 0) == 0
        assert answers.count("block") == rpm and answers.count("fallback") == 3 * rpm
        st = ai_status(nodes[0])
        assert st["shared_state"] == "redis" and st["redis_healthy"] is True
        keys = redis_server.command("KEYS", "t:ai:q:*")
        assert any(k.startswith("t:ai:q:s:") for k in keys), keys
    finally:
        for g in nodes:
            g.stop()


def test_a_breaker_opened_on_one_node_holds_the_provider_open_on_the_other(tmp_path, redis_server, mock):
    dead = f"http://127.0.0.1:{free_port()}/dead/v1"
    ai = {"strategy": "priority", "providers": [
        dict(provider(mock, "dead", priority=1, breaker={"failures": 1, "cooldown_ms": 60000}), base_url=dead),
        provider(mock, "backup", priority=2)]}
    a = gateway(tmp_path / "a", redis_server, ai, workers=1)
    b = gateway(tmp_path / "b", redis_server, ai, workers=1)
    try:
        r = a.proxy("GET", "/api" + sqli(1))
        assert r.status == 403 and r.header("x-guard-ai-provider") == "backup"
        assert ai_status(a)["providers"]["dead"]["breaker"] == "open"
        assert redis_server.command("PTTL", "t:ai:dead:open") > 0
        r = b.proxy("GET", "/api" + sqli(2))
        assert r.status == 403 and r.header("x-guard-ai-provider") == "backup"
        dead_on_b = ai_status(b)["providers"]["dead"]
        assert dead_on_b["calls"] == 0  # node b never called it: node a's breaker held it open
        assert dead_on_b["rate_limited"] >= 1
    finally:
        a.stop()
        b.stop()


def test_redis_down_falls_back_to_node_local_state_and_says_so(tmp_path, redis_server, mock):
    ai = {"providers": [provider(mock, "p", rpm=100)]}
    g = gateway(tmp_path / "gw", redis_server, ai, workers=1)
    try:
        assert g.proxy("GET", "/api" + sqli(1)).header("x-guard-ai") == "block"
        assert ai_status(g)["redis_healthy"] is True
        redis_server.stop()
        r = g.proxy("GET", "/api" + sqli(2))
        assert r.status == 403 and r.header("x-guard-ai") == "block"  # still decided, on local quotas
        st = ai_status(g)
        assert st["shared_state"] == "redis" and st["redis_healthy"] is False
        assert "redis" in st["redis_last_error"]
        assert st["redis_ops_failed"] >= 1
    finally:
        g.stop()
