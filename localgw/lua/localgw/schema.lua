-- localgw.schema: validates plugin configs written in Kong 3.x's schema DSL.
--
-- Kong runs two passes over an entity: process_auto_fields (fill defaults, turn absent fields into ngx.null) and
-- validate (types, field validators, entity checks). We do both in one walk per record because localgw only ever
-- "inserts" whole entities (declarative config, /schemas/plugins/validate), never partial updates.
--
-- Behaviour kept from Kong because plugin code depends on it:
--   * absent optional fields become ngx.null, so record-level custom_validators and entity checks see ngx.null;
--   * a field-level validator never runs on null (Kong returns early for null values);
--   * strings have an implicit len_min = 1 ("length must be at least 1");
--   * the first failing validator of a field wins, in Kong's validator order;
--   * errors are a nested table mirroring the field path, entity-check messages go under "@entity".
-- Not implemented: shorthand_fields, vault reference resolution (referenceable values skip validators like Kong),
-- translate_backwards, partial updates.

local cjson = require "cjson.safe"

local null = (ngx and ngx.null) or cjson.null
local type, pairs, ipairs, tostring, next = type, pairs, ipairs, tostring, next
local fmt, concat, sort = string.format, table.concat, table.sort

local _M = { null = null }

local MSG = {
  REQUIRED = "required field missing",
  UNKNOWN = "unknown field",
  AT_LEAST_ONE_OF = "at least one of these fields must be non-empty: %s",
  ONLY_ONE_OF = "only one of these fields must be non-empty: %s",
  MUTUALLY_REQUIRED = "all or none of these fields must be set: %s",
  MUTUALLY_EXCLUSIVE = "only one or none of these fields must be set: %s",
  DISTINCT = "values of these fields must be distinct: %s",
}
_M.MSG = MSG

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  return setmetatable(out, getmetatable(v))
end
_M.deepcopy = deepcopy

local function is_sequence(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k % 1 ~= 0 then return false end
    n = n + 1
  end
  return n == #t
end

-- Kong field definitions are lists of single-key tables: { {name = def}, ... }.
local function each_field(fields)
  local i = 0
  return function()
    i = i + 1
    local item = fields[i]
    if item == nil then return nil end
    local name, def = next(item)
    return name, def
  end
end

local function quoted_list(names)
  local out = {}
  for i, n in ipairs(names) do out[i] = "'" .. n .. "'" end
  return concat(out, ", ")
end

local function list_of(values)
  local out = {}
  for i, v in ipairs(values) do out[i] = tostring(v) end
  return concat(out, ", ")
end

local function is_vault_reference(v)
  return type(v) == "string" and v:sub(1, 8) == "{vault:/" and v:sub(-1) == "}"
end

-- Field validators in Kong's order (kong/db/schema/init.lua, validators_order); the first failure wins.
local VALIDATORS = {
  { "eq", function(v, arg)
      if v ~= arg then return nil, "value must be " .. (arg == null and "null" or tostring(arg)) end
      return true
    end },
  { "ne", function(v, arg)
      if v == arg then return nil, "value must not be " .. tostring(arg) end
      return true
    end },
  { "not_one_of", function(v, arg)
      for _, x in ipairs(arg) do
        if v == x then return nil, "expected none of: " .. list_of(arg) end
      end
      return true
    end },
  { "one_of", function(v, arg)
      for _, x in ipairs(arg) do
        if v == x then return true end
      end
      return nil, "expected one of: " .. list_of(arg)
    end },
  { "gt", function(v, arg)
      if not (v > arg) then return nil, "value must be greater than " .. tostring(arg) end
      return true
    end },
  { "uuid", function(v)
      if not v:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") then
        return nil, "expected a valid UUID"
      end
      return true
    end },
  { "is_regex", function(v)
      local ok, _, err = pcall(ngx.re.find, "", v, "aj")
      if not ok or err then return nil, "not a valid regex: " .. v end
      return true
    end },
  { "between", function(v, arg)
      if v < arg[1] or v > arg[2] then
        return nil, fmt("value should be between %s and %s", tostring(arg[1]), tostring(arg[2]))
      end
      return true
    end },
  { "len_eq", function(v, arg)
      if #v ~= arg then return nil, fmt("length must be %d", arg) end
      return true
    end },
  { "len_min", function(v, arg)
      if #v < arg then return nil, fmt("length must be at least %d", arg) end
      return true
    end },
  { "len_max", function(v, arg)
      if #v > arg then return nil, fmt("length must be at most %d", arg) end
      return true
    end },
  { "starts_with", function(v, arg)
      if v:sub(1, #arg) ~= arg then return nil, "should start with: " .. arg end
      return true
    end },
  { "not_match", function(v, arg)
      if v:find(arg) then return nil, "invalid value: " .. v end
      return true
    end },
  { "match_none", function(v, arg)
      for _, m in ipairs(arg) do
        if v:find(m.pattern) then return nil, m.err end
      end
      return true
    end },
  { "match", function(v, arg)
      if not v:find(arg) then return nil, "invalid value: " .. v end
      return true
    end },
  { "match_all", function(v, arg)
      for _, m in ipairs(arg) do
        if not v:find(m.pattern) then return nil, m.err end
      end
      return true
    end },
  { "match_any", function(v, arg)
      for _, p in ipairs(arg.patterns) do
        if v:find(p) then return true end
      end
      return nil, arg.err or ("invalid value: " .. v)
    end },
  { "contains", function(v, arg)
      for _, x in ipairs(v) do
        if x == arg then return true end
      end
      return nil, "expected to contain: " .. tostring(arg)
    end },
  { "custom_validator", function(v, fn)
      -- Errors raised by the validator propagate on purpose: Kong's Admin API turns them into a 500.
      local ok, err = fn(v)
      if not ok then return nil, err or "invalid value" end
      return true
    end },
}

local TYPE_CHECK = {
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" and v == v end,
  integer = function(v) return type(v) == "number" and v % 1 == 0 and v > -math.huge and v < math.huge end,
  boolean = function(v) return type(v) == "boolean" end,
  array = function(v) return type(v) == "table" and is_sequence(v) end,
  set = function(v) return type(v) == "table" and is_sequence(v) end,
  map = function(v) return type(v) == "table" and (next(v) == nil or not is_sequence(v)) end,
  record = function(v) return type(v) == "table" and (next(v) == nil or not is_sequence(v)) end,
  json = function() return true end,
  foreign = function(v) return type(v) == "table" end,
}

local process_record, validate_field

local function run_validators(def, v)
  if def.referenceable and is_vault_reference(v) then return true end
  for _, pair in ipairs(VALIDATORS) do
    local name, check = pair[1], pair[2]
    local arg = def[name]
    if name == "len_min" and arg == nil and def.type == "string" then arg = 1 end
    if arg ~= nil then
      local ok, err = check(v, arg, def)
      if not ok then return nil, err end
    end
  end
  return true
end

-- Absent field → default (copied), an auto-filled record, or ngx.null.
local function absent_value(def)
  if def.default ~= nil and def.default ~= null then return deepcopy(def.default) end
  if def.type == "record" and def.fields and not def.required then
    -- Kong fills a missing record with its defaults unless that would fail on a required subfield.
    for _, sub in each_field(def.fields) do
      if sub.required and sub.default == nil then return null end
    end
    return {}
  end
  return null
end

-- Validates one value against its field definition; returns the processed value (defaults filled in nested
-- records) and an error (string or nested table) or nil.
validate_field = function(def, v)
  if v == nil then v = null end
  if v == null then
    if def.ne == null then return v, "value must not be null" end
    if def.eq ~= nil and def.eq ~= null then return v, "value must be " .. tostring(def.eq) end
    if def.required then return v, MSG.REQUIRED end
    return v, nil
  end

  local ftype = def.type
  if ftype and TYPE_CHECK[ftype] and not TYPE_CHECK[ftype](v) then
    if ftype == "foreign" and def.eq == null then return v, "value must be null" end
    return v, "expected " .. ((ftype == "array" or ftype == "integer") and "an " or "a ") .. ftype
  end

  if ftype == "array" or ftype == "set" then
    local out, errs, seen = {}, nil, {}
    for i, elem in ipairs(v) do
      local pv, err = elem, nil
      if def.elements then pv, err = validate_field(def.elements, elem) end
      if err then
        errs = errs or {}
        errs[i] = err
      end
      -- Kong stores sets without duplicates.
      if ftype ~= "set" or type(pv) == "table" or not seen[pv] then
        out[#out + 1] = pv
        if type(pv) ~= "table" then seen[pv] = true end
      end
    end
    if errs then return out, errs end
    v = out
  elseif ftype == "map" then
    local out, errs = {}, nil
    for k, val in pairs(v) do
      local _, kerr = nil, nil
      if def.keys then _, kerr = validate_field(def.keys, k) end
      local pv, verr = val, nil
      if def.values then pv, verr = validate_field(def.values, val) end
      if kerr or verr then
        errs = errs or {}
        errs[k] = kerr or verr
      end
      out[k] = pv
    end
    if errs then return out, errs end
    v = out
  elseif ftype == "record" then
    local out, errs = process_record(def, v)
    if errs then return out, errs end
    v = out
  end

  local ok, err = run_validators(def, v)
  if not ok then return v, err end
  return v, nil
end

local function split_path(name)
  local parts = {}
  for p in name:gmatch("[^%.]+") do parts[#parts + 1] = p end
  return parts
end

local function get_path(t, name)
  for _, p in ipairs(split_path(name)) do
    if type(t) ~= "table" then return nil end
    t = t[p]
  end
  return t
end

local function set_path(t, name, value)
  local parts = split_path(name)
  for i = 1, #parts - 1 do
    if type(t[parts[i]]) ~= "table" then t[parts[i]] = {} end
    t = t[parts[i]]
  end
  t[parts[#parts]] = value
end

local function field_def(record_def, name)
  local parts = split_path(name)
  local def = record_def
  for _, p in ipairs(parts) do
    local found
    for fname, fdef in each_field(def.fields or {}) do
      if fname == p then found = fdef end
    end
    if not found then return {} end
    def = found
  end
  return def
end

local function is_nonempty(v)
  if v == nil or v == null then return false end
  if type(v) == "table" and next(v) == nil then return false end
  return true
end

local function count_set(entity, names)
  local n = 0
  for _, name in ipairs(names) do
    if is_nonempty(get_path(entity, name)) then n = n + 1 end
  end
  return n
end

-- Entity checkers: fields_of(arg) lists the fields involved (a check is skipped when one of them is invalid);
-- fn returns true, or nil and a string (goes to "@entity") or a table of per-field errors.
local CHECKERS = {
  at_least_one_of = {
    fields_of = function(arg) return arg end,
    fn = function(e, arg)
      if count_set(e, arg) > 0 then return true end
      return nil, fmt(MSG.AT_LEAST_ONE_OF, quoted_list(arg))
    end,
  },
  only_one_of = {
    fields_of = function(arg) return arg end,
    fn = function(e, arg)
      if count_set(e, arg) == 1 then return true end
      return nil, fmt(MSG.ONLY_ONE_OF, quoted_list(arg))
    end,
  },
  mutually_required = {
    fields_of = function(arg) return arg end,
    fn = function(e, arg)
      local n = count_set(e, arg)
      if n == 0 or n == #arg then return true end
      return nil, fmt(MSG.MUTUALLY_REQUIRED, quoted_list(arg))
    end,
  },
  mutually_exclusive = {
    fields_of = function(arg) return arg end,
    fn = function(e, arg)
      if count_set(e, arg) <= 1 then return true end
      return nil, fmt(MSG.MUTUALLY_EXCLUSIVE, quoted_list(arg))
    end,
  },
  conditional = {
    fields_of = function(arg) return { arg.if_field, arg.then_field } end,
    fn = function(e, arg, record_def)
      local if_def = setmetatable(deepcopy(arg.if_match), { __index = field_def(record_def, arg.if_field) })
      local _, if_err = validate_field(if_def, get_path(e, arg.if_field))
      if if_err then return true end
      local then_value = get_path(e, arg.then_field)
      if then_value == nil then then_value = null end
      if arg.then_match.required == true and then_value == null then
        return nil, { [arg.then_field] = MSG.REQUIRED }
      end
      local then_def = setmetatable(deepcopy(arg.then_match), { __index = field_def(record_def, arg.then_field) })
      local _, err = validate_field(then_def, then_value)
      if err then return nil, { [arg.then_field] = arg.then_err or err } end
      return true
    end,
  },
  conditional_at_least_one_of = {
    fields_of = function(arg)
      local out = { arg.if_field }
      for _, n in ipairs(arg.then_at_least_one_of or {}) do out[#out + 1] = n end
      for _, n in ipairs(arg.else_then_at_least_one_of or {}) do out[#out + 1] = n end
      return out
    end,
    fn = function(e, arg, record_def)
      local if_value = get_path(e, arg.if_field)
      if if_value == nil then return true end
      local base = field_def(record_def, arg.if_field)
      local _, if_err = validate_field(setmetatable(deepcopy(arg.if_match), { __index = base }), if_value)
      local names, custom_err
      if if_err then
        if arg.else_match == nil then return true end
        local _, else_err = validate_field(setmetatable(deepcopy(arg.else_match), { __index = base }), if_value)
        if else_err then return true end
        names, custom_err = arg.else_then_at_least_one_of, arg.else_then_err
      else
        names, custom_err = arg.then_at_least_one_of, arg.then_err
      end
      if count_set(e, names) > 0 then return true end
      local list = quoted_list(names)
      return nil, custom_err and custom_err:format(list) or fmt(MSG.AT_LEAST_ONE_OF, list)
    end,
  },
  distinct = {
    fields_of = function(arg) return arg end,
    fn = function(e, arg)
      local seen = {}
      for _, name in ipairs(arg) do
        local v = get_path(e, name)
        if is_nonempty(v) then
          if seen[v] then return nil, fmt(MSG.DISTINCT, quoted_list(arg)) end
          seen[v] = true
        end
      end
      return true
    end,
  },
  custom_entity_check = {
    fields_of = function(arg) return arg.field_sources end,
    fn = function(e, arg)
      -- Like Kong, the function sees only its field_sources (absent ones as ngx.null).
      local subset = {}
      for _, name in ipairs(arg.field_sources) do
        local v = get_path(e, name)
        if v == nil then v = null end
        set_path(subset, name, v)
      end
      return arg.fn(subset)
    end,
  },
}
_M.CHECKERS = CHECKERS

local function has_error(errs, name)
  return errs and get_path(errs, name) ~= nil
end

local function add_entity_error(errs, err)
  if type(err) == "table" then
    for name, msg in pairs(err) do set_path(errs, name, msg) end
  else
    errs["@entity"] = errs["@entity"] or {}
    local list = errs["@entity"]
    list[#list + 1] = err
  end
end

local function run_entity_checks(record_def, entity, errs)
  for _, check in ipairs(record_def.entity_checks or {}) do
    local name, arg = next(check)
    local checker = CHECKERS[name]
    if not checker then
      error("localgw does not implement entity check '" .. tostring(name) .. "'", 0)
    end
    local skip = false
    for _, f in ipairs(checker.fields_of(arg) or {}) do
      if has_error(errs, f) then skip = true end
    end
    if not skip then
      local ok, err = checker.fn(entity, arg, record_def)
      if not ok then add_entity_error(errs, err or ("failed entity check: " .. name)) end
    end
  end
end

-- Processes a record value: unknown fields, defaults, per-field validation, then entity checks and the record's
-- own validators (custom_validator on a record sees absent subfields as ngx.null).
process_record = function(record_def, input)
  local errs = {}
  local known = {}
  local out = {}
  for name in each_field(record_def.fields or {}) do known[name] = true end
  for k in pairs(input) do
    if not known[k] then errs[k] = MSG.UNKNOWN end
  end
  for name, def in each_field(record_def.fields or {}) do
    local v = input[name]
    if v == nil or (v == null and def.default ~= nil and def.required) then v = absent_value(def) end
    local pv, err = validate_field(def, v)
    out[name] = pv
    if err then errs[name] = err end
  end
  run_entity_checks(record_def, out, errs)
  if next(errs) then return out, errs end
  return out, nil
end

-- Flattens a nested error table into Kong's one-line form: "config.mode: expected one of: block, monitor".
local function flatten(errs, prefix, out)
  local keys = {}
  for k in pairs(errs) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v = errs[k]
    if k == "@entity" then
      for _, msg in ipairs(v) do
        out[#out + 1] = (prefix ~= "" and (prefix .. ": ") or "") .. msg
      end
    else
      local path
      if type(k) == "number" then
        path = prefix .. "[" .. k .. "]"
      else
        path = prefix ~= "" and (prefix .. "." .. k) or k
      end
      if type(v) == "table" then
        flatten(v, path, out)
      else
        out[#out + 1] = path .. ": " .. tostring(v)
      end
    end
  end
  return out
end

function _M.flatten_errors(errs)
  return flatten(errs, "", {})
end

-- Kong's errors.lua wording: "schema violation (a: x)" or "2 schema violations (a: x; b: y)".
function _M.violation_message(errs)
  local list = flatten(errs, "", {})
  if #list == 1 then return "schema violation (" .. list[1] .. ")" end
  return fmt("%d schema violations (%s)", #list, concat(list, "; "))
end

-- Top-level fields every Kong plugin entity has besides the plugin schema's own (kong/db/schema/entities/plugins).
local BASE_PLUGIN_FIELDS = {
  id = true, name = true, instance_name = true, enabled = true, tags = true, route = true, service = true,
  consumer = true, protocols = true, config = true, ordering = true, created_at = true, updated_at = true,
}

local DEFAULT_PROTOCOLS = { "grpc", "grpcs", "http", "https" }

-- Validates a plugin entity ({name=, config=, protocols=, ...}) with the plugin's schema module.
-- Returns the processed entity (config with defaults and ngx.null for absent fields) or nil, errors.
function _M.validate_plugin(plugin_schema, entity)
  local errs = {}
  local fields = plugin_schema.fields or {}
  local has_config = false
  for name in each_field(fields) do
    if name == "config" then has_config = true end
  end
  if not has_config then
    error("plugin schema '" .. tostring(plugin_schema.name) .. "' has no 'config' record field", 0)
  end

  -- Only the plugin schema's own fields (config, protocols, consumer...) are validated here; the base entity
  -- fields (id, name, enabled...) are handled by the config loader.
  local own = {}
  for name in each_field(fields) do own[name] = true end
  local input = {}
  for k, v in pairs(entity) do
    if own[k] then
      input[k] = v
    elseif not BASE_PLUGIN_FIELDS[k] then
      errs[k] = MSG.UNKNOWN
    end
  end
  if input.config == nil then input.config = {} end

  local out, rerrs = process_record({ fields = fields, entity_checks = plugin_schema.entity_checks }, input)
  if rerrs then
    for k, v in pairs(rerrs) do errs[k] = v end
  end
  -- Kong's plugin entity has `protocols` even when the plugin schema does not declare it.
  if not own.protocols then out.protocols = deepcopy(DEFAULT_PROTOCOLS) end
  if next(errs) then return nil, errs end
  return out
end

-- Marks array/set values with cjson.array_mt (following the schema) so empty ones encode as [] like Kong's
-- Admin API output; config tables lose metatables when they travel through the shared dict as JSON.
local function mark_arrays(def, v, array_mt)
  if type(v) ~= "table" then return v end
  if def.type == "array" or def.type == "set" then
    setmetatable(v, array_mt)
    if def.elements then
      for _, x in ipairs(v) do mark_arrays(def.elements, x, array_mt) end
    end
  elseif def.type == "map" and def.values then
    for _, x in pairs(v) do mark_arrays(def.values, x, array_mt) end
  elseif def.fields then
    for name, sub in each_field(def.fields) do mark_arrays(sub, v[name], array_mt) end
  end
  return v
end

function _M.mark_arrays(plugin_schema, entity)
  local array_mt = cjson.array_mt
  if not array_mt then return entity end
  return mark_arrays({ fields = plugin_schema.fields }, entity, array_mt)
end

-- Deep copy with every ngx.null removed: what a plugin's phase handlers receive as conf (Kong's DAO strips nulls
-- when it reads plugins for the runloop).
function _M.remove_nulls(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if x ~= null then out[k] = _M.remove_nulls(x) end
  end
  return out
end

return _M
