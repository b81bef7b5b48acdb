-- handler.lua against a recording stand-in for the Kong PDK and the real libguard.so: verdicts turn
-- into Kong responses, headers and logs as documented, and engines follow the plugin's configs.

local pdk = require "fake_pdk"
local fake_kong, conf, install = pdk.fake_kong, pdk.conf, pdk.install

local handler

local function run(c, req)
  local k, rec = fake_kong(req)
  install(k)
  rec.result = handler:access(c)
  handler:header_filter(c)
  return rec
end

describe("guard-ai handler", function()
  setup(function()
    _G.kong = {}
    handler = require "kong.plugins.guard-ai.handler"
  end)

  it("declares PRIORITY and a three-part VERSION as Kong requires", function()
    assert.is_number(handler.PRIORITY)
    assert.matches("^%d+%.%d+%.%d+$", handler.VERSION)
  end)

  it("blocks a SQL injection in the query with the configured status and a JSON body", function()
    local rec = run(conf(), { path = "/search", query = "q=1%27%20union%20select%20password%20from%20users--" })
    assert.are.equal("exited", rec.result)
    assert.are.equal(403, rec.exit.status)
    assert.are.equal("Request blocked by Kong Guard AI", rec.exit.body.message)
    assert.are.equal("sqli", rec.exit.body.category)
    assert.matches("^%x+$", rec.exit.body.incident_id)
    assert.are.equal(32, #rec.exit.body.incident_id)
    assert.are.equal("block", rec.headers["X-Guard-Action"])
    assert.are.equal(rec.exit.body.incident_id, rec.headers["X-Guard-Incident-Id"])
    assert.matches("blocked request: incident=" .. rec.exit.body.incident_id, rec.logs[1], 1, true)
  end)

  it("blocks attacks in headers and JSON bodies", function()
    local rec = run(conf({ block_status = 406 }), { headers = { ["user-agent"] = "Mozilla/5.0 ${jndi:ldap://x.example/a}" } })
    assert.are.equal(406, rec.exit.status)
    assert.are.equal("jndi", rec.exit.body.category)

    local body = '{"comment":{"text":"<img src=x onerror=alert(1)>"}}'
    rec = run(conf(), { method = "POST", body = body,
                        headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body) } })
    assert.are.equal(403, rec.exit.status)
    assert.are.equal("xss", rec.exit.body.category)
  end)

  it("lets benign requests through with verdict headers", function()
    local body = '{"name":"Siobhán O\'Brien","note":"select the blue plan; 1=1 in maths"}'
    local rec = run(conf(), { method = "POST", path = "/api/users", query = "page=2", body = body,
                              headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body) } })
    assert.is_nil(rec.exit)
    assert.are.equal("allow", rec.headers["X-Guard-Action"])
    assert.are.equal(0, rec.headers["X-Guard-Score"])
    assert.is_nil(rec.headers["X-Guard-Incident-Id"])
  end)

  it("only monitors in monitor mode", function()
    local rec = run(conf({ mode = "monitor" }), { query = "file=..%2f..%2f..%2fetc%2fpasswd" })
    assert.is_nil(rec.exit)
    assert.are.equal("monitor", rec.headers["X-Guard-Action"])
    assert.are.equal(32, #rec.headers["X-Guard-Incident-Id"])
    assert.matches("monitored request", rec.logs[1], 1, true)
  end)

  it("reports a body nginx buffered to disk instead of passing it silently", function()
    local rec = run(conf(), { method = "POST", body_on_disk = true, headers = { ["content-length"] = "9000000" } })
    assert.is_nil(rec.exit)
    assert.are.equal("partial", rec.headers["X-Guard-Body-Inspected"])
    assert.matches("request body not inspected", rec.logs[1], 1, true)
  end)

  it("adds no headers when verdict_headers is off", function()
    local rec = run(conf({ verdict_headers = false }), { query = "page=1" })
    assert.is_nil(rec.exit)
    assert.are.same({}, rec.headers)
  end)

  it("answers 500 and logs when libguard refuses a config schema.lua let through", function()
    local c = conf()
    c.mode = "sideways" -- as if schema.lua and the JSON Schema had drifted apart
    local rec = run(c, { query = "a=1" })
    assert.are.equal("errored", rec.result)
    assert.are.equal(500, rec.error.status)
    assert.matches("/mode: must be one of", rec.logs[1], 1, true)
  end)

  -- Quota buckets live in libguard's process-local table for the whole busted run: every test names its own
  -- limit so that none sees another's buckets.
  local function quota_conf(name, windows, extra)
    local q = { limits = { { name = name, key = { "ip" }, windows = windows } } }
    for k, v in pairs(extra or {}) do q[k] = v end
    return conf({ quota = q })
  end

  it("admits up to the limit with Kong's rate-limiting headers, then answers 429 with Retry-After", function()
    local c = quota_conf("spec-429", { { per = "minute", limit = 3 } })
    for i = 1, 3 do
      local rec = run(c, { path = "/api" })
      assert.is_nil(rec.exit)
      assert.are.equal(3, rec.headers["RateLimit-Limit"])
      assert.are.equal(3 - i, rec.headers["RateLimit-Remaining"])
      assert.are.equal(20 * i, rec.headers["RateLimit-Reset"]) -- one token back every 20 s: full after 20·i s
      assert.are.equal("3;w=60", rec.headers["RateLimit-Policy"])
      assert.are.equal(3, rec.headers["X-RateLimit-Limit-Minute"])
      assert.are.equal(3 - i, rec.headers["X-RateLimit-Remaining-Minute"])
      assert.is_nil(rec.headers["X-RateLimit-Limit-Second"])
      assert.is_nil(rec.headers["Retry-After"])
    end
    local rec = run(c, { path = "/api" })
    assert.are.equal("exited", rec.result)
    assert.are.equal(429, rec.exit.status)
    assert.are.same({ message = "API rate limit exceeded", retry_after = 20 }, rec.exit.body)
    assert.are.same({
      ["RateLimit-Limit"] = 3, ["RateLimit-Remaining"] = 0, ["RateLimit-Reset"] = 60, ["RateLimit-Policy"] = "3;w=60",
      ["X-RateLimit-Limit-Minute"] = 3, ["X-RateLimit-Remaining-Minute"] = 0, ["Retry-After"] = 20,
    }, rec.exit.headers)
  end)

  it("reports every period of a multi-window limit and the deciding window in RateLimit-*", function()
    local c = quota_conf("spec-windows", { { per = "second", limit = 5 }, { per = "hour", limit = 2 } })
    local rec = run(c, {})
    assert.are.equal(5, rec.headers["X-RateLimit-Limit-Second"])
    assert.are.equal(4, rec.headers["X-RateLimit-Remaining-Second"])
    assert.are.equal(2, rec.headers["X-RateLimit-Limit-Hour"])
    assert.are.equal(1, rec.headers["X-RateLimit-Remaining-Hour"])
    assert.are.equal(2, rec.headers["RateLimit-Limit"]) -- the window with the fewest tokens left
    assert.are.equal(1, rec.headers["RateLimit-Remaining"])
    assert.are.equal("2;w=3600, 5;w=1", rec.headers["RateLimit-Policy"])
    run(c, {})
    rec = run(c, {})
    assert.are.equal(429, rec.exit.status)
    assert.are.equal(1800, rec.exit.headers["Retry-After"]) -- an hour / 2
  end)

  it("hide_client_headers suppresses every rate-limit header, also on 429", function()
    local c = quota_conf("spec-hidden", { { per = "minute", limit = 1 } }, { hide_client_headers = true })
    local rec = run(c, {})
    assert.is_nil(rec.exit)
    assert.is_nil(rec.headers["RateLimit-Limit"])
    assert.is_nil(rec.headers["X-RateLimit-Limit-Minute"])
    assert.are.equal("allow", rec.headers["X-Guard-Action"]) -- verdict headers are a separate switch
    rec = run(c, {})
    assert.are.equal(429, rec.exit.status)
    assert.are.same({ message = "API rate limit exceeded", retry_after = 60 }, rec.exit.body)
    assert.is_nil(rec.exit.headers)
  end)

  it("does not charge quota for a blocked attack", function()
    local c = quota_conf("spec-attack", { { per = "minute", limit = 1 } })
    assert.are.equal(403, run(c, { query = "q=1%27%20union%20select%20password%20from%20users--" }).exit.status)
    local rec = run(c, {})
    assert.is_nil(rec.exit)
    assert.are.equal(0, rec.headers["RateLimit-Remaining"])
    assert.are.equal(429, run(c, {}).exit.status)
  end)

  it("picks the tier from the consumer's tags", function()
    local c = conf({ quota = { limits = { {
      name = "spec-tiers", key = { "consumer" }, default_tier = "free", tier_from = "consumer_tag",
      tiers = { free = { { per = "minute", limit = 1 } }, gold = { { per = "minute", limit = 100 } } },
    } } } })
    local gold = { id = "c-gold", tags = { "team:a", "tier:gold" } }
    local free = { id = "c-free", tags = { "team:a" } }
    assert.are.equal(100, run(c, { consumer = gold }).headers["RateLimit-Limit"])
    assert.are.equal(1, run(c, { consumer = free }).headers["RateLimit-Limit"])
    assert.are.equal(429, run(c, { consumer = free }).exit.status)
    assert.are.equal(98, run(c, { consumer = gold }).headers["RateLimit-Remaining"])
  end)

  it("builds engines in configure(), reuses them, and frees those of configs that went away", function()
    install((fake_kong({})))
    handler:configure(nil) -- start from no engines at all
    local engine = require "kong.plugins.guard-ai.engine"
    local real_new = engine.new
    local made, freed = 0, 0
    engine.new = function(c)
      local e, err = real_new(c)
      if e then
        made = made + 1
        local real_free = e.free
        e.free = function(self)
          freed = freed + 1
          return real_free(self)
        end
      end
      return e, err
    end
    finally(function() engine.new = real_new end)

    local a, b = conf(), conf({ mode = "monitor" })
    handler:configure({ a, b })
    assert.are.equal(2, made)
    assert.is_nil(run(a, { query = "x=1" }).exit)
    assert.are.equal(2, made) -- access reuses the engine built in configure
    handler:configure({ b })
    assert.are.equal(1, freed)
    handler:configure(nil)
    assert.are.equal(2, freed)
    -- a conf that reaches access without configure (Kong < 3.5 or a race) gets an engine lazily
    assert.are.equal(403, run(a, { query = "q=%3Cscript%3Ealert(1)%3C/script%3E" }).exit.status)
    assert.are.equal(3, made)
  end)
end)

-- Behaviour as a signal (issue 5): bans and throttles become Kong responses, the log phase feeds responses
-- back, and the blocklist calls of behaviour.lua act on every engine of the worker.
describe("guard-ai behaviour", function()
  local behaviour

  setup(function()
    _G.kong = _G.kong or {}
    handler = require "kong.plugins.guard-ai.handler"
    behaviour = require "kong.plugins.guard-ai.behaviour"
  end)

  local function log(c, req)
    local k, rec = fake_kong(req)
    install(k)
    handler:log(c)
    return rec
  end

  it("answers a banned client with behaviour.ban_status and says why", function()
    local c = conf({ blocklist = { deny = { "203.0.113.0/24" } }, behaviour = { ban_status = 451 } })
    local rec = run(c, { path = "/" })
    assert.are.equal(451, rec.exit.status)
    assert.are.equal("behaviour", rec.exit.body.category)
    rec = run(conf({ blocklist = { deny = { "203.0.113.0/24" }, allow = { "203.0.113.7" } } }), { path = "/" })
    assert.is_nil(rec.exit) -- the fake client is 203.0.113.7: the allow list wins
  end)

  it("throttles a client whose 404s overflow probing: 429 with Retry-After, fed from the log phase", function()
    local c = conf({ behaviour = { enabled = true, scenarios = {
      { name = "probing", capacity = 3, leak_per_sec = 0, feeds = { status_404 = 1 }, decision = "throttle", ttl_s = 30 } } } })
    for i = 1, 4 do
      assert.is_nil(run(c, { path = "/nope" .. i }).exit)
      log(c, { path = "/nope" .. i, status = 404 })
    end
    local rec = run(c, { path = "/" })
    assert.are.equal(429, rec.exit.status)
    assert.is_true(rec.exit.headers["Retry-After"] >= 1 and rec.exit.headers["Retry-After"] <= 30)
    assert.are.equal(rec.exit.headers["Retry-After"], rec.exit.body.retry_after)
    -- a request the plugin answered itself is not fed back (its 429 is ours, not the client's)
    local k, _ = fake_kong({ status = 429 })
    install(k)
    kong.ctx.plugin.answered = true
    handler:log(c)
  end)

  it("blocklist add, list and remove through libguard; bad input is refused with a message", function()
    assert.is_true(behaviour.blocklist_add("ban", "192.0.2.0/24", 60, "spec"))
    local found
    for _, e in ipairs(assert(behaviour.blocklist_list())) do
      if e.subject == "192.0.2.0/24" and e.list == "ban" then found = e end
    end
    assert.is_table(found)
    assert.are.equal("spec", found.reason)
    assert.is_true(found.expires_unix_ms > 0)
    assert.is_true(behaviour.blocklist_remove("ban", "192.0.2.0/24"))
    for _, e in ipairs(assert(behaviour.blocklist_list())) do
      assert.are_not.equal("192.0.2.0/24", e.subject)
    end
    local ok, err = behaviour.blocklist_add("ban", "not-an-ip")
    assert.is_nil(ok)
    assert.is_string(err)
    ok, err = behaviour.blocklist_add("maybe", "192.0.2.1")
    assert.is_nil(ok)
    assert.matches("ban or allow", err)
  end)

  it("the status of an engine carries the cache and behaviour counters", function()
    local engine = require "kong.plugins.guard-ai.engine"
    local e = assert(engine.new(conf({ behaviour = { enabled = true } })))
    local s = assert(behaviour.status(e))
    assert.is_true(s.cache.enabled)
    assert.is_true(s.behaviour.enabled)
    assert.is_true(s.behaviour.profiles_capacity > 0)
    assert.are.equal("none", s.redis.sync)
    e:free()
  end)
end)
