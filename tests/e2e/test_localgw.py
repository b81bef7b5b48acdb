"""End-to-end tests of localgw itself, with the test-only plugins in tests/e2e/plugins (echo-header, echo-first).

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/e2e/test_localgw.py
"""

import hashlib
import json
import os
import subprocess

import pytest

from harness import LOCALGW, PYTHON, free_port, http_request, wait_until


def echo_service(plugins_on_route=None, plugins_on_service=None, global_plugins=None, **route):
    """One service on the echo upstream with one route /api."""
    r = {"name": "api", "paths": ["/api"]}
    r.update(route)
    if plugins_on_route:
        r["plugins"] = plugins_on_route
    s = {"name": "echo", "url": "{{echo_url}}", "routes": [r]}
    if plugins_on_service:
        s["plugins"] = plugins_on_service
    conf = {"_format_version": "3.0", "services": [s]}
    if global_plugins:
        conf["plugins"] = global_plugins
    return conf


def resolved(conf, gw):
    """The config with the gateway's echo upstream URL filled in (for POST /config)."""
    return json.loads(json.dumps(conf).replace("{{echo_url}}", gw.echo_url))


def echo_header(**config):
    return {"name": "echo-header", "config": config}


# --- proxying -------------------------------------------------------------------------------------------------

def test_request_reaches_echo_upstream_intact(localgw):
    gw = localgw(echo_service())
    r = gw.proxy("PUT", "/api/items/7?b=2&a=%20x", body=b'{"k": "v"}',
                 headers={"Content-Type": "application/json", "X-Custom": "abc"})
    assert r.status == 200, r
    echo = r.json()
    assert echo["method"] == "PUT"
    assert echo["path"] == "/items/7"             # strip_path defaults to true, as in Kong
    assert echo["query"] == "b=2&a=%20x"          # raw query, untouched
    assert echo["body"] == '{"k": "v"}'
    assert echo["headers"]["x-custom"] == "abc"
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["headers"]["host"] == f"127.0.0.1:{gw.echo_port}"   # preserve_host false
    assert echo["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert echo["headers"]["x-forwarded-prefix"] == "/api"
    assert echo["headers"]["x-forwarded-path"] == "/api/items/7"
    assert r.header("Via") == "1.1 kong/3.9.0"


def test_binary_body_of_200kb_passes_byte_exact(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header()]))
    body = os.urandom(200 * 1024)
    r = gw.proxy("POST", "/api/upload", body=body, headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200, r
    echo = r.json()
    assert echo["body_length"] == len(body)
    assert echo["body_md5"] == hashlib.md5(body).hexdigest()
    # The plugin read the whole body with kong.request.get_raw_body() (1m client_body_buffer_size by default).
    assert r.header("X-Echo-Body") == str(len(body))


def test_body_over_buffer_is_reported_by_get_raw_body_and_still_proxied(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header()]),
                 extra_args=["--client-body-buffer-size", "8k"])
    body = ("0123456789abcdef" * 4096).encode()   # 64 KB > 8k buffer
    r = gw.proxy("POST", "/api", body=body)
    assert r.status == 200, r
    assert r.json()["body"] == body.decode()
    assert r.header("X-Echo-Body") == ("nil:request body did not fit into client body buffer, "
                                       "consider raising 'client_body_buffer_size'")


def test_router_longest_prefix_methods_hosts_and_service_path(localgw):
    conf = {
        "_format_version": "3.0",
        "services": [
            {"name": "short", "url": "{{echo_url}}/short-svc", "routes": [{"name": "r-short", "paths": ["/a"]}]},
            {"name": "long", "url": "{{echo_url}}/long/", "routes": [
                {"name": "r-long", "paths": ["/a/b"], "strip_path": True},
                {"name": "r-nostrip", "paths": ["/keep"], "strip_path": False},
                {"name": "r-post", "paths": ["/m"], "methods": ["POST"]},
                {"name": "r-host", "hosts": ["*.example.test"]},
            ]},
        ],
    }
    gw = localgw(conf)
    assert gw.proxy("GET", "/a/x").json()["path"] == "/short-svc/x"
    assert gw.proxy("GET", "/a").json()["path"] == "/short-svc"
    assert gw.proxy("GET", "/a/b/c").json()["path"] == "/long/c"          # longest path wins
    assert gw.proxy("GET", "/keep/me").json()["path"] == "/long/keep/me"  # strip_path false
    assert gw.proxy("POST", "/m/1").json()["path"] == "/long/1"
    r = gw.proxy("GET", "/m/1")
    assert r.status == 404
    assert r.json() == {"message": "no Route matched with those values"}
    assert gw.proxy("GET", "/zzz", headers={"Host": "api.example.test"}).json()["path"] == "/long/zzz"


# --- plugin lifecycle ------------------------------------------------------------------------------------------

def test_phases_run_in_order_and_conf_has_defaults(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="v1")]))
    r = gw.proxy("GET", "/api/x")
    assert r.status == 200
    assert r.header("X-Echo-Header") == "v1"            # header_name default filled
    assert r.header("X-Echo-Phases") == "access,header_filter"
    assert r.header("X-Echo-Source") == "service"
    assert r.header("X-Echo-Route") == "api"
    assert r.header("X-Echo-Upstream-Status") == "200"                      # kong.service.response.get_status
    assert r.header("X-Echo-Plugin-Id") == gw.admin("GET", "/plugins").json()["data"][0]["id"]   # kong.plugin.get_id
    # Absent optional fields reach the handler as nil (Kong strips nulls when reading plugins).
    assert r.header("X-Echo-Conf") == "tag=nil min=nil strict=false"
    assert r.json()["headers"]["x-echo-header-upstream"] == "v1"   # kong.service.request.set_header
    last = wait_until(lambda: gw.admin("GET", "/echo-header/last-log").json().get("last_log"), what="log phase")
    assert last == "access,header_filter,body_filter,log|v1"


def test_plugins_run_by_priority_and_share_ctx(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(), {"name": "echo-first"}]))
    r = gw.proxy("GET", "/api")
    assert r.header("X-Echo-Order") == "echo-first,echo-header"


def test_module_code_runs_in_master_and_init_worker_and_configure_in_each_worker(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="a")], global_plugins=[echo_header(value="g")]),
                 workers=2)
    state = wait_until(lambda: (lambda s: s if len(s["configured"]) == 2 else None)(
        gw.admin("GET", "/echo-header/workers").json()), what="configure in 2 workers")
    assert state["worker_count"] == 2
    assert sorted(state["init_worker"].values()) == ["init", "init"]  # handler module loaded in init_by_lua
    # configure() got every enabled config, each carrying __plugin_id, __key__ and __seq__.
    assert sorted(state["configured"].values()) == ["a@true,g@true", "a@true,g@true"]


def test_kong_response_exit_json_and_header_filter_still_runs(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(mode="block", value="blk", block_status=451)]))
    r = gw.proxy("POST", "/api/x", body=b"payload")
    assert r.status == 451
    assert r.header("Content-Type") == "application/json; charset=utf-8"
    assert r.json() == {"message": "blocked by echo-header", "value": "blk"}
    assert r.header("X-Blocked-By") == "echo-header"
    assert r.header("X-Echo-Phases") == "access,header_filter"
    assert r.header("X-Echo-Source") == "exit"
    assert r.header("X-Echo-Upstream-Status") == "nil"
    assert r.header("Server") == "kong/3.9.0"
    assert int(r.header("Content-Length")) == len(r.body)


def test_plugin_error_in_access_is_500_and_logged(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(fail_in="access")]))
    r = gw.proxy("GET", "/api")
    assert r.status == 500
    assert r.json() == {"message": "An unexpected error occurred"}
    wait_until(lambda: "boom in access" in gw.error_log(), what="error logged")


def test_plugin_error_in_log_phase_does_not_affect_response(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(fail_in="log")]))
    r = gw.proxy("GET", "/api")
    assert r.status == 200
    wait_until(lambda: "boom in log" in gw.error_log(), what="error logged")


def test_route_overrides_service_overrides_global(localgw):
    conf = {
        "_format_version": "3.0",
        "services": [
            {"name": "s1", "url": "{{echo_url}}",
             "plugins": [echo_header(value="service")],
             "routes": [{"name": "with-route-plugin", "paths": ["/r1"], "plugins": [echo_header(value="route")]},
                        {"name": "service-only", "paths": ["/r2"]}]},
            {"name": "s2", "url": "{{echo_url}}", "routes": [{"name": "global-only", "paths": ["/r3"]}]},
        ],
        "plugins": [echo_header(value="global")],
    }
    gw = localgw(conf)
    assert gw.proxy("GET", "/r1").header("X-Echo-Header") == "route"
    assert gw.proxy("GET", "/r2").header("X-Echo-Header") == "service"
    assert gw.proxy("GET", "/r3").header("X-Echo-Header") == "global"


def test_top_level_plugin_scoped_by_route_name(localgw):
    conf = echo_service()
    conf["plugins"] = [{"name": "echo-header", "route": "api", "config": {"value": "scoped"}}]
    gw = localgw(conf)
    assert gw.proxy("GET", "/api").header("X-Echo-Header") == "scoped"


# --- schema validation -----------------------------------------------------------------------------------------

def test_invalid_config_fails_startup_with_kong_shaped_message(localgw_start_error):
    err = localgw_start_error(echo_service(plugins_on_route=[echo_header(mode="blok")]))
    assert err.returncode == 1
    first = err.message.splitlines()[0]
    assert "schema violation (config.mode: expected one of: block, monitor)" in first
    assert "services[1].routes[1].plugins[1] (echo-header)" in first


def test_unknown_plugin_fails_startup(localgw_start_error):
    err = localgw_start_error(echo_service(global_plugins=[{"name": "no-such-plugin"}]))
    assert "plugin 'no-such-plugin' not enabled" in err.message


def test_validate_endpoint_names_the_field(localgw):
    gw = localgw(echo_service())
    r = gw.admin("POST", "/schemas/plugins/validate", body={"name": "echo-header", "config": {"mode": "blok"}})
    assert r.status == 400
    assert r.json() == {
        "code": 2,
        "name": "schema violation",
        "message": "schema violation (config.mode: expected one of: block, monitor)",
        "fields": {"config": {"mode": "expected one of: block, monitor"}},
    }
    ok = gw.admin("POST", "/schemas/plugins/validate", body={"name": "echo-header", "config": {"mode": "block"}})
    assert ok.status == 200
    assert ok.json() == {"message": "schema validation successful"}


def test_validation_rules(localgw):
    gw = localgw(echo_service())

    def fields(config):
        r = gw.admin("POST", "/schemas/plugins/validate", body={"name": "echo-header", "config": config})
        assert r.status == 400, r
        return r.json()["fields"]["config"]

    assert fields({"nope": 1}) == {"nope": "unknown field"}
    assert fields({"value": "has space"}) == {"value": "must not contain whitespace"}    # custom_validator
    assert fields({"value": ""}) == {"value": "length must be at least 1"}               # Kong's implicit len_min
    assert fields({"block_status": 600}) == {"block_status": "value should be between 400 and 599"}
    assert fields({"min": 0}) == {"min": "value must be greater than 0"}
    assert fields({"min": 1.5}) == {"min": "expected an integer"}
    assert fields({"strict": "yes"}) == {"strict": "expected a boolean"}
    assert fields({"allow": ["10.0.0.0/8", "bad"]}) == {"allow": [None, "invalid ip or cidr range: 'bad'"]}
    assert fields({"min": 5, "max": 2}) == {"@entity": ["min must not exceed max"]}      # custom_entity_check
    assert fields({"mode": "block", "block_status": 503}) == {
        "block_status": "block_status must be a 4xx when mode is block"}                  # conditional
    assert fields({"strict": True, "tag": "t"}) == {
        "@entity": ["strict mode needs one of 'min', 'max'"]}                              # conditional_at_least_one_of
    r = gw.admin("POST", "/schemas/plugins/validate", body={"name": "echo-header", "consumer": {"id": "x"}})
    assert r.json()["fields"] == {"consumer": "value must be null"}                       # typedefs.no_consumer
    r = gw.admin("POST", "/schemas/plugins/validate", body={"name": "nope"})
    assert r.status == 400
    assert "plugin 'nope' not enabled" in r.json()["message"]


def test_absent_optional_fields_reach_record_validator_as_ngx_null(localgw):
    gw = localgw(echo_service())
    # strict=true with no tag: the record's custom_validator sees tag == ngx.null (not nil) and rejects it.
    r = gw.admin("POST", "/schemas/plugins/validate",
                 body={"name": "echo-header", "config": {"strict": True, "min": 1}})
    assert r.status == 400, r
    assert r.json()["message"] == "schema violation (config: tag must be set when strict is true)"
    r = gw.admin("POST", "/schemas/plugins/validate",
                 body={"name": "echo-header", "config": {"strict": True, "tag": "t", "min": 1}})
    assert r.status == 200, r
    # min only: the entity check sees max == ngx.null and must not compare it.
    r = gw.admin("POST", "/schemas/plugins/validate", body={"name": "echo-header", "config": {"min": 3}})
    assert r.status == 200, r


def test_admin_plugins_lists_instances_with_defaults(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="x")]))
    data = gw.admin("GET", "/plugins").json()["data"]
    assert len(data) == 1
    p = data[0]
    assert p["name"] == "echo-header" and len(p["id"]) == 36
    assert p["route"]["id"] and p["service"] is None and p["consumer"] is None
    assert p["config"] == {"header_name": "X-Echo-Header", "value": "x", "mode": "monitor", "block_status": 403,
                           "strict": False, "tag": None, "min": None, "max": None, "allow": [],
                           "fail_in": None, "exit_in_header_filter": False}
    assert p["protocols"] == ["grpc", "grpcs", "http", "https"]
    root = gw.admin("GET", "/").json()
    assert root["version"] == "3.9.0"
    assert root["plugins"]["available_on_server"]["echo-header"] == {"version": "1.0.0", "priority": 1000}
    assert root["plugins"]["enabled_in_cluster"] == ["echo-header"]
    assert gw.admin("GET", "/status").json()["database"]["reachable"] is True


# --- workers, config reload, events -----------------------------------------------------------------------------

def test_four_workers_serve_traffic(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header()]), workers=4)
    pids = set()
    for _ in range(200):
        r = gw.proxy("GET", "/api")
        assert r.status == 200
        pids.add(r.header("X-Echo-Worker"))
        if len(pids) == 4:
            break
    assert len(pids) == 4, pids
    state = gw.admin("GET", "/echo-header/workers").json()
    assert state["worker_count"] == 4
    assert set(state["init_worker"]) == pids


def test_post_config_reaches_every_worker(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="old")]), workers=4)
    wait_until(lambda: len(gw.admin("GET", "/echo-header/workers").json()["configured"]) == 4, what="4 workers")
    r = gw.post_config(resolved(echo_service(plugins_on_route=[echo_header(value="new")]), gw))
    assert r.status == 201, r
    configured = wait_until(
        lambda: (lambda c: c if len(c) == 4 and set(c.values()) == {"new@true"} else None)(
            gw.admin("GET", "/echo-header/workers").json()["configured"]),
        timeout=5, what="configure(new) in all 4 workers")
    assert len(configured) == 4
    for _ in range(20):
        assert gw.proxy("GET", "/api").header("X-Echo-Header") == "new"


def test_invalid_post_config_is_rejected_and_nothing_changes(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="keep")]))
    bad = resolved(echo_service(plugins_on_route=[echo_header(mode="blok")]), gw)
    r = gw.post_config(bad)
    assert r.status == 400
    body = r.json()
    assert body["name"] == "invalid declarative configuration"
    assert "schema violation (config.mode: expected one of: block, monitor)" in body["message"]
    assert body["fields"]["services"][0]["routes"][0]["plugins"][0] == {
        "config": {"mode": "expected one of: block, monitor"}}
    assert gw.proxy("GET", "/api").header("X-Echo-Header") == "keep"


def test_post_config_can_remove_a_plugin_and_configure_gets_nil(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="x")]), workers=2)
    conf = resolved(echo_service(), gw)
    assert gw.post_config(conf).status == 201
    wait_until(lambda: set(gw.admin("GET", "/echo-header/workers").json()["configured"].values()) == {"nil"},
               what="configure(nil) everywhere")
    assert gw.proxy("GET", "/api").header("X-Echo-Header") is None


def test_worker_events_reach_all_workers(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header()]), workers=4)
    r = gw.admin("POST", "/echo-header/ping", body={"msg": "hi"})
    assert r.status == 202
    events = wait_until(
        lambda: (lambda e: e if len(e) == 4 and set(e.values()) == {"echo-header:ping:hi"} else None)(
            gw.admin("GET", "/echo-header/workers").json()["events"]),
        timeout=5, what="event in 4 workers")
    assert len(events) == 4


def test_plugin_api_params_merge_path_query_and_body(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header()]))
    r = gw.admin("POST", "/echo-header/params/abc?q=1", body={"b": 2})
    assert r.status == 200
    assert r.json() == {"id": "abc", "q": "1", "b": 2}


# --- CLI ------------------------------------------------------------------------------------------------------

def test_cli_status_and_stop(localgw):
    gw = localgw(echo_service())
    out = subprocess.run([PYTHON, LOCALGW, "status", "--prefix", gw.prefix], stdout=subprocess.PIPE, text=True)
    assert out.returncode == 0
    assert f"pid={gw.pid}" in out.stdout and f"proxy=127.0.0.1:{gw.proxy_port}" in out.stdout
    node_id = gw.admin("GET", "/").json()["node_id"]
    gw.stop()
    assert not gw.alive()
    out = subprocess.run([PYTHON, LOCALGW, "status", "--prefix", gw.prefix], stdout=subprocess.PIPE, text=True)
    assert out.returncode == 3
    with pytest.raises(OSError):
        http_request(gw.proxy_port, "GET", "/", timeout=1)
    with open(os.path.join(gw.prefix, "node.id")) as f:
        assert f.read().strip() == node_id


def test_upstream_failure_is_kong_json_and_plugins_still_log(localgw):
    closed_port = free_port()
    conf = {"_format_version": "3.0",
            "services": [{"name": "down", "url": f"http://127.0.0.1:{closed_port}",
                          "routes": [{"name": "down", "paths": ["/down"]}],
                          "plugins": [echo_header(value="d")]}]}
    gw = localgw(conf)
    r = gw.proxy("GET", "/down")
    assert r.status == 502, r
    assert r.json() == {"message": "An invalid response was received from the upstream server"}
    assert r.header("X-Echo-Source") == "error"
    assert r.header("X-Echo-Phases") == "access,header_filter"
    last = wait_until(lambda: gw.admin("GET", "/echo-header/last-log").json().get("last_log"), what="log phase")
    assert last == "access,header_filter,body_filter,log|d"


def test_key_auth_and_consumers(localgw):
    conf = echo_service(plugins_on_route=[{"name": "key-auth", "config": {"hide_credentials": True}},
                                          echo_header()])
    conf["consumers"] = [{"username": "alice", "keyauth_credentials": [{"key": "alice-key"}]},
                         {"username": "bob", "custom_id": "b-1", "keyauth_credentials": [{"key": "bob-key"}]}]
    gw = localgw(conf)
    r = gw.proxy("GET", "/api")
    assert r.status == 401
    assert r.json() == {"message": "No API key found in request"}
    r = gw.proxy("GET", "/api", headers={"apikey": "wrong"})
    assert r.status == 401
    assert r.json() == {"message": "Unauthorized"}
    r = gw.proxy("GET", "/api", headers={"apikey": "alice-key"})
    assert r.status == 200
    assert r.header("X-Echo-Consumer") == "alice"
    upstream = r.json()["headers"]
    assert upstream["x-consumer-username"] == "alice"
    assert "apikey" not in upstream                    # hide_credentials
    r = gw.proxy("GET", "/api?apikey=bob-key&x=1")
    assert r.header("X-Echo-Consumer") == "bob"
    assert r.json()["query"] == "x=1"
    assert r.json()["headers"]["x-consumer-custom-id"] == "b-1"


def test_cjson_array_mt_encodes_empty_arrays_like_openresty(localgw):
    gw = localgw(echo_service())
    assert gw.admin("GET", "/consumers").json() == {"data": [], "next": None}
    assert '"data":[]' in gw.admin("GET", "/plugins").text


def test_kong_response_exit_in_header_filter_replaces_upstream_response(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(exit_in_header_filter=True)]))
    r = gw.proxy("GET", "/api")
    assert r.status == 418
    assert r.json() == {"message": "replaced in header_filter"}
    assert r.header("X-Replaced") == "yes"
    assert int(r.header("Content-Length")) == len(r.body)


def test_kong_log_format(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(value="logged")]))
    assert gw.proxy("GET", "/api").status == 200
    wait_until(lambda: "[kong] handler.lua:" in gw.error_log() and "[echo-header] access value=logged" in gw.error_log(),
               what="kong.log line")


def test_redis_server_fixture(redis_server):
    assert redis_server.host == "127.0.0.1"
    assert redis_server.command("PING") == "PONG"
    assert redis_server.command("SET", "k", "v") == "OK"
    assert redis_server.command("GET", "k") == "v"
    assert redis_server.command("INCRBY", "n", 5) == 5
    assert redis_server.command("CONFIG", "GET", "save") == ["save", ""]
    assert os.path.exists(f"/proc/{redis_server.pid}")


def test_plugin_error_in_header_filter_breaks_the_response_like_kong(localgw):
    gw = localgw(echo_service(plugins_on_route=[echo_header(fail_in="header_filter")]))
    try:
        r = gw.proxy("GET", "/api")
        status = r.status
    except OSError:   # nginx may close the connection instead of answering
        status = None
    assert status in (None, 500)
    wait_until(lambda: "plugin 'echo-header' failed in header_filter phase" in gw.error_log(), what="error logged")


def test_duplicate_names_are_rejected(localgw_start_error):
    conf = echo_service()
    conf["services"].append({"name": "echo", "url": "{{echo_url}}"})
    err = localgw_start_error(conf)
    assert "UNIQUE violation detected on '{name=\"echo\"}'" in err.message
