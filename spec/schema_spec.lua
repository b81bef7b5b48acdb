-- schema.lua under the Kong 3.x schema rules that localgw reproduces (localgw/lua/localgw/schema.lua):
-- defaults are filled, and every invalid value is reported on its field with Kong's message.
local validator = require "localgw.schema"
local plugin_schema = require "kong.plugins.guard-ai.schema"

local function validate(config)
  return validator.validate_plugin(plugin_schema, { name = "guard-ai", config = config })
end

describe("guard-ai schema.lua", function()
  it("fills every default for an empty config", function()
    local entity = assert(validate({}))
    local c = entity.config
    assert.are.equal("block", c.mode)
    assert.are.equal(1, c.paranoia_level)
    assert.are.equal(5, c.anomaly_threshold)
    assert.are.equal(true, c.inspect_body)
    assert.are.equal(65536, c.max_body_bytes)
    assert.are.equal(403, c.block_status)
    assert.are.equal(true, c.verdict_headers)
    assert.are.same({}, c.disabled_rules)
  end)

  it("accepts a full valid config unchanged", function()
    local entity = assert(validate({ mode = "monitor", paranoia_level = 3, anomaly_threshold = 10,
                                     disabled_rules = { 1001, 2001 }, block_status = 406 }))
    assert.are.equal("monitor", entity.config.mode)
    assert.are.same({ 1001, 2001 }, entity.config.disabled_rules)
  end)

  it("names the field and the rule broken", function()
    local cases = {
      { { mode = "blok" }, "mode", "expected one of: block, monitor" },
      { { paranoia_level = 5 }, "paranoia_level", "value should be between 1 and 4" },
      { { anomaly_threshold = "high" }, "anomaly_threshold", "expected an integer" },
      { { block_status = 200 }, "block_status", "value should be between 400 and 599" },
      { { inspect_body = "yes" }, "inspect_body", "expected a boolean" },
      { { block_message = "" }, "block_message", "length must be at least 1" },
      { { modes = "block" }, "modes", "unknown field" },
    }
    for _, case in ipairs(cases) do
      local entity, errs = validate(case[1])
      assert.is_nil(entity)
      assert.are.equal(case[3], errs.config and errs.config[case[2]], case[2])
    end
  end)

  it("accepts a quota section and leaves an absent sync section absent", function()
    local entity = assert(validate({ quota = {
      limits = { { name = "per-consumer", key = { "consumer" }, default_tier = "free", tier_from = "consumer_tag",
                   tiers = { free = { { per = "minute", limit = 60 } }, gold = { { per = "second", limit = 50 } } } },
                 { name = "per-key", key = { "header:x-api-key", "route" }, when_missing = "skip",
                   windows = { { per = "second", limit = 10, burst = 20 } } } },
      global = { { per = "second", limit = 1000 } },
    } }))
    local q = entity.config.quota
    assert.are.equal(false, q.hide_client_headers)
    assert.are.equal(ngx.null, q.sync) -- not auto-filled: redis is required inside it
    assert.are.equal(20, q.limits[2].windows[1].burst)
  end)

  it("names the quota field and the rule broken", function()
    local function quota_err(quota)
      local entity, errs = validate({ quota = quota })
      assert.is_nil(entity)
      return errs.config.quota
    end
    local e = quota_err({ limits = { { name = "x", key = { "ip" }, windows = { { per = "week", limit = 1 } } } } })
    assert.are.equal("expected one of: second, minute, hour, day, month, year", e.limits[1].windows[1].per)
    e = quota_err({ limits = { { name = "x", key = { "cookie" }, windows = { { per = "second", limit = 1 } } } } })
    assert.are.equal("expected consumer, credential, ip, route, service or header:<name>", e.limits[1].key[1])
    e = quota_err({ limits = { { name = "x", key = { "ip" } } } })
    assert.is_not_nil(e.limits[1]["@entity"])
    e = quota_err({ sync = { redis = { host = "redis", port = 70000 } } })
    assert.are.equal("value should be between 1 and 65535", e.sync.redis.port)
    e = quota_err({ sync = { interval_ms = 100 } })
    assert.are.equal("required field missing", e.sync.redis)
  end)

  it("fills exclusions' defaults and checks their fields", function()
    local entity = assert(validate({ exclusions = { { rule_ids = { 2001 }, targets = { "args:html" } } } }))
    assert.are.same({ 2001 }, entity.config.exclusions[1].rule_ids)
    assert.are.same({}, entity.config.exclusions[1].paths)
    local _, errs = validate({ exclusions = { { rule_ids = { 0 } } } })
    assert.is_not_nil(errs.config.exclusions)
  end)

  it("accepts custom rules in the rules-file shape and names a bad field", function()
    local rule = { id = 900001, category = "custom", severity = 5, paranoia = 1, targets = { "headers:x-tenant" },
                   patterns = { "^forbidden-" }, message = "tenant blocked" }
    local entity = assert(validate({ custom_rules = { rule } }))
    assert.are.same({}, entity.config.custom_rules[1].transforms)
    assert.are.equal(false, entity.config.custom_rules[1].case_sensitive)
    rule.targets = { "argz" }
    local _, errs = validate({ custom_rules = { rule } })
    assert.is_not_nil(errs.config.custom_rules)
  end)

  it("refuses consumer scoping (the WAF protects routes and services)", function()
    local entity, errs = validator.validate_plugin(plugin_schema, {
      name = "guard-ai", config = {}, consumer = { id = "8a2f5b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c" } })
    assert.is_nil(entity)
    assert.is_not_nil(errs.consumer)
  end)
end)
