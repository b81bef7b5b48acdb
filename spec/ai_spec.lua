-- AI escalation through handler.lua and ai.lua against the real libguard.so: which requests wait, what the
-- fallbacks do, and async mode never waiting. The provider is a closed port on 127.0.0.1 (connection refused),
-- so every job fails fast and no network beyond loopback is touched; verdicts from a provider are covered by
-- tests/e2e/test_ai.py with the mock.
local ffi = require "ffi"
local pdk = require "fake_pdk"
local fake_kong, conf, install = pdk.fake_kong, pdk.conf, pdk.install

ffi.cdef [[
int poll(void *fds, unsigned long nfds, int timeout);
typedef struct { long tv_sec; long tv_usec; } ai_spec_timeval;
int gettimeofday(ai_spec_timeval *tv, void *tz);
]]

local handler
local sleeps

-- ngx.sleep/now/md5/worker.pid as OpenResty provides them; sleeps are counted (and really sleep, so that
-- libguard's thread gets to fail the job).
local function install_ngx()
  local tv = ffi.new("ai_spec_timeval")
  ngx.sleep = function(s)
    sleeps = sleeps + 1
    ffi.C.poll(nil, 0, math.floor(s * 1000 + 0.5))
  end
  ngx.now = function()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
  end
  ngx.md5 = function(s)
    return string.rep(string.format("%02x", #s % 256), 16)
  end
  ngx.worker = { pid = function() return 4242 end }
end

local function run(c, req)
  local k, rec = fake_kong(req)
  install(k)
  sleeps = 0
  rec.result = handler:access(c)
  handler:header_filter(c)
  rec.sleeps = sleeps
  return rec
end

local SQLI = "id=1%27%20UNION%20SELECT%20password%20FROM%20users--"

local function ai_conf(ai)
  ai.providers = ai.providers or { { name = "nowhere", kind = "openai", base_url = "http://127.0.0.1:1/v1", model = "m" } }
  ai.deadline_ms = ai.deadline_ms or 300
  ai.poll_ms = ai.poll_ms or 5
  return conf({ anomaly_threshold = 100, ai = ai })
end

describe("guard-ai AI escalation", function()
  setup(function()
    _G.kong = {}
    install_ngx()
    handler = require "kong.plugins.guard-ai.handler"
  end)

  it("applies fallback block when no provider answers: 403 with an incident id, X-Guard-AI fallback", function()
    local rec = run(ai_conf({ fallback = "block" }), { path = "/items", query = SQLI })
    assert.are.equal("exited", rec.result)
    assert.are.equal(403, rec.exit.status)
    assert.are.equal(32, #rec.exit.body.incident_id)
    assert.are.equal("fallback", rec.headers["X-Guard-AI"])
    assert.are.equal("block", rec.headers["X-Guard-Action"])
    assert.is_true(rec.sleeps >= 1) -- it waited by polling, not by blocking in libguard
  end)

  it("with fallback signatures the local (grey, allowed) verdict stands", function()
    local rec = run(ai_conf({ fallback = "signatures" }), { path = "/items", query = SQLI })
    assert.is_nil(rec.exit)
    assert.are.equal("allow", rec.headers["X-Guard-Action"])
    assert.are.equal("fallback", rec.headers["X-Guard-AI"])
    assert.matches("info: guard-ai: no AI verdict", table.concat(rec.logs, "\n"), 1, true)
  end)

  it("does not escalate clean requests or requests the signatures block themselves", function()
    local rec = run(ai_conf({ fallback = "block" }), { path = "/items", query = "q=shoes",
                                                       headers = { ["user-agent"] = "Mozilla/5.0", accept = "*/*" } })
    assert.is_nil(rec.exit)
    assert.is_nil(rec.headers["X-Guard-AI"])
    assert.are.equal(0, rec.sleeps)

    local blocking = conf({ ai = { providers = { { name = "n", kind = "openai", base_url = "http://127.0.0.1:1/v1", model = "m" } } } })
    rec = run(blocking, { path = "/items", query = SQLI })
    assert.are.equal(403, rec.exit.status)
    assert.are.equal("sqli", rec.exit.body.category)
    assert.is_nil(rec.headers["X-Guard-AI"])
    assert.are.equal(0, rec.sleeps)
  end)

  it("in async mode lets the request through without waiting", function()
    local rec = run(ai_conf({ mode = "async", fallback = "block" }), { path = "/items", query = SQLI })
    assert.is_nil(rec.exit)
    assert.are.equal(0, rec.sleeps)
    assert.is_nil(rec.headers["X-Guard-AI"])
  end)

  it("accepts a Kong vault reference as api_key, and reports the AI state per instance", function()
    local c = ai_conf({ providers = { { name = "v", kind = "anthropic", base_url = "http://127.0.0.1:1/v1",
                                        model = "m", api_key = "{vault://env/ANTHROPIC_KEY}" } } })
    assert.are.equal("{vault://env/ANTHROPIC_KEY}", c.ai.providers[1].api_key)
    local engine = assert(require("kong.plugins.guard-ai.engine").new(c))
    local st = require("kong.plugins.guard-ai.ai").status(engine)
    assert.is_true(st.enabled)
    assert.are.equal("sync", st.mode)
    assert.are.equal("closed", st.providers.v.breaker)
    assert.are.equal("node-local", st.shared_state)
    engine:free()
  end)
end)
