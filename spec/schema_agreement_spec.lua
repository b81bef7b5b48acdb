-- schema/guard-config.schema.json is the one source of truth for the config; schema.lua restates it in
-- Kong's DSL. This spec walks both and fails on any difference in fields, types, defaults, enums,
-- bounds or lengths.
local cjson = require "cjson.safe"
local plugin_schema = require "kong.plugins.guard-ai.schema"

local root = os.getenv("GUARD_ROOT") or "."

local function read_json(path)
  local f = assert(io.open(path, "rb"))
  local doc = assert(cjson.decode(f:read("*a")))
  f:close()
  return doc
end

local function config_record()
  for _, f in ipairs(plugin_schema.fields) do
    if f.config then
      return f.config
    end
  end
end

local function lua_fields(record)
  local out, order = {}, {}
  for _, f in ipairs(record.fields) do
    local name, def = next(f)
    out[name] = def
    order[#order + 1] = name
  end
  return out, order
end

local function expected_lua_type(js)
  if js.type == "array" then
    return js.uniqueItems and "set" or "array"
  elseif js.type == "object" then
    return js.properties and "record" or "map"
  end
  return js.type
end

-- Follows "$ref" into schema/<file>#/pointer (the config schema refers to rules.schema.json for rules).
local function resolve(js)
  local ref = js["$ref"]
  if not ref then
    return js
  end
  local file, pointer = ref:match("^([^#]*)#(.*)$")
  local node = read_json(root .. "/schema/" .. file)
  for token in pointer:gmatch("[^/]+") do
    node = node[token]
  end
  return resolve(node)
end

-- Compares one JSON Schema node with one Kong field definition; returns a list of differences.
local function compare(path, js, lua, diffs)
  js = resolve(js)
  local function diff(what, a, b)
    diffs[#diffs + 1] = string.format("%s: %s: json=%s lua=%s", path, what, cjson.encode(a), cjson.encode(b))
  end
  if expected_lua_type(js) ~= lua.type then
    diff("type", expected_lua_type(js), lua.type)
  end
  if js.default ~= nil then
    -- cjson cannot tell an empty array from an empty object; both sides mean [] there.
    local function enc(v)
      return (type(v) == "table" and next(v) == nil) and "[]" or cjson.encode(v)
    end
    local a, b = enc(js.default), enc(lua.default)
    if a ~= b then
      diff("default", js.default, lua.default)
    end
  elseif lua.default ~= nil then
    diff("default", nil, lua.default)
  end
  if js.enum or lua.one_of then
    if cjson.encode(js.enum or {}) ~= cjson.encode(lua.one_of or {}) then
      diff("enum/one_of", js.enum, lua.one_of)
    end
  end
  if js.minimum ~= nil or js.maximum ~= nil or lua.between then
    local b = lua.between or {}
    if js.minimum ~= b[1] or js.maximum ~= b[2] then
      diff("minimum,maximum/between", { js.minimum, js.maximum }, lua.between)
    end
  end
  -- Kong's len_min/len_max bound strings and arrays alike; JSON Schema says minLength or minItems.
  local min_len, max_len = js.minLength, js.maxLength
  if js.type == "array" then
    min_len, max_len = js.minItems, js.maxItems
  end
  if min_len ~= lua.len_min then
    diff("minLength|minItems/len_min", min_len, lua.len_min)
  end
  if max_len ~= lua.len_max then
    diff("maxLength|maxItems/len_max", max_len, lua.len_max)
  end
  -- Regular expressions differ in syntax (ECMA vs Lua patterns): require that both sides constrain or neither.
  if (js.pattern ~= nil) ~= (lua.match ~= nil or lua.match_any ~= nil) then
    diff("pattern/match present", js.pattern ~= nil, lua.match ~= nil or lua.match_any ~= nil)
  end
  if js.type == "array" then
    compare(path .. "[]", resolve(js.items or {}), lua.elements or {}, diffs)
  end
  if js.type == "object" and not js.properties then
    -- a map: values as additionalProperties. Draft-04 cannot bound keys; schema.lua may (stricter is safe).
    local values = type(js.additionalProperties) == "table" and js.additionalProperties or {}
    compare(path .. "{}", values, lua.values or {}, diffs)
  end
  if js.type == "object" and js.properties then
    local fields = lua_fields(lua)
    local required = {}
    for _, name in ipairs(js.required or {}) do
      required[name] = true
    end
    for name, sub in pairs(js.properties) do
      if not fields[name] then
        diff("field missing in schema.lua", name, nil)
      else
        compare(path .. "." .. name, sub, fields[name], diffs)
        -- required in JSON, or defaulted (Kong marks defaulted fields required, as its own plugins do)
        local want = required[name] == true or sub.default ~= nil
        if want ~= (fields[name].required == true) then
          diff("required", want, fields[name].required == true)
        end
      end
    end
    for name in pairs(fields) do
      if not js.properties[name] then
        diff("field missing in the JSON Schema", nil, name)
      end
    end
  end
end

describe("schema.lua", function()
  it("agrees with schema/guard-config.schema.json field by field", function()
    local js = read_json(root .. "/schema/guard-config.schema.json")
    local diffs = {}
    compare("config", js, config_record(), diffs)
    assert.are.same({}, diffs)
  end)

  it("detects a disagreement (the comparison can fail)", function()
    local js = read_json(root .. "/schema/guard-config.schema.json")
    js.properties.mode.enum = { "block" }
    js.properties.paranoia_level.maximum = 5
    js.properties.extra = { type = "string" }
    local diffs = {}
    compare("config", js, config_record(), diffs)
    assert.are.equal(3, #diffs)
  end)

  it("detects disagreements inside nested records, arrays of records and maps", function()
    local js = read_json(root .. "/schema/guard-config.schema.json")
    local quota = js.properties.quota.properties
    local limit = quota.limits.items.properties
    limit.windows.items.properties.per.enum = { "second" }             -- in an array of records in an array
    limit.tiers.additionalProperties.maxItems = 5                       -- in a map's values
    limit.key.items.pattern = nil                                       -- a constraint dropped on one side
    quota.sync.properties.redis.properties.port.maximum = 65536         -- in a record in a record
    quota.sync.properties.redis.required = {}                           -- required-ness
    quota.limits.items.properties.cost = nil                            -- a field only schema.lua has
    local diffs = {}
    compare("config", js, config_record(), diffs)
    local expected = {
      "config.quota.limits[]: field missing in the JSON Schema: json=null lua=\"cost\"",
      "config.quota.limits[].key[]: pattern/match present: json=false lua=true",
      "config.quota.limits[].tiers{}: maxLength|maxItems/len_max: json=5 lua=6",
      "config.quota.limits[].windows[].per: enum/one_of: json=[\"second\"] lua=[\"second\",\"minute\",\"hour\",\"day\",\"month\",\"year\"]",
      "config.quota.sync.redis: required: json=false lua=true",
      "config.quota.sync.redis.port: minimum,maximum/between: json=[1,65536] lua=[1,65535]",
    }
    table.sort(diffs)
    table.sort(expected)
    assert.are.same(expected, diffs)
  end)

  it("marks every field with a default as required, as Kong's own plugins do", function()
    for name, def in pairs((lua_fields(config_record()))) do
      if def.default ~= nil then
        assert.is_true(def.required, name)
      end
    end
  end)
end)
