-- localgw.cjson_compat: gives Debian's lua-cjson 2.1.0 the two OpenResty lua-cjson extensions Kong plugins use,
-- `cjson.array_mt` and `cjson.empty_array`, so an empty array a plugin marks as such encodes as [] (not {}), as
-- it does under Kong. Applied once in init_by_lua, before plugins load, to both "cjson" and "cjson.safe".
-- Cost: encode() walks the value once; tables are copied only when an empty marked array is found.

local _M = {}

local MARK = "\1localgw-empty-array\1"
local MARK_JSON = '"\\u0001localgw-empty-array\\u0001"'

local function has_empty_marked(v, array_mt, empty_array, depth)
  if v == empty_array then return true end
  if type(v) ~= "table" or depth > 100 then return false end
  if next(v) == nil and getmetatable(v) == array_mt then return true end
  for _, x in pairs(v) do
    if type(x) == "table" and has_empty_marked(x, array_mt, empty_array, depth + 1) then return true end
  end
  return false
end

local function replace_marked(v, array_mt, empty_array, depth)
  if v == empty_array then return MARK end
  if type(v) ~= "table" or depth > 100 then return v end
  if next(v) == nil and getmetatable(v) == array_mt then return MARK end
  local out = {}
  for k, x in pairs(v) do out[k] = replace_marked(x, array_mt, empty_array, depth + 1) end
  return out
end

local function patch(cjson, array_mt, empty_array)
  if cjson.array_mt then return end  -- OpenResty's cjson: nothing to do
  local encode = cjson.encode
  cjson.array_mt = array_mt
  cjson.empty_array = empty_array
  cjson.empty_array_mt = array_mt
  cjson.encode = function(v)
    if not has_empty_marked(v, array_mt, empty_array, 0) then return encode(v) end
    local json, err = encode(replace_marked(v, array_mt, empty_array, 0))
    if not json then return json, err end
    -- The marker is a JSON string; swap it for [] wherever it landed.
    local pos, parts = 1, {}
    while true do
      local s, e = json:find(MARK_JSON, pos, true)
      if not s then break end
      parts[#parts + 1] = json:sub(pos, s - 1)
      parts[#parts + 1] = "[]"
      pos = e + 1
    end
    parts[#parts + 1] = json:sub(pos)
    return table.concat(parts)
  end
end

function _M.apply()
  local array_mt = {}
  local empty_array = setmetatable({}, array_mt)
  patch(require("cjson"), array_mt, empty_array)
  patch(require("cjson.safe"), array_mt, empty_array)
end

return _M
