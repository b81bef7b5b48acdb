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

  it("refuses consumer scoping (the WAF protects routes and services)", function()
    local entity, errs = validator.validate_plugin(plugin_schema, {
      name = "guard-ai", config = {}, consumer = { id = "8a2f5b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c" } })
    assert.is_nil(entity)
    assert.is_not_nil(errs.consumer)
  end)
end)
