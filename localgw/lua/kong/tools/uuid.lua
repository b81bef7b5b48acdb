-- kong.tools.uuid (Kong >= 3.6): random v4 UUIDs. Kong uses resty.jit-uuid; math.random seeded per worker is
-- enough for ids that only need to be unique within a local gateway.
local random, fmt = math.random, string.format

local _M = {}

function _M.uuid()
  return fmt("%08x-%04x-4%03x-%04x-%012x",
    random(0, 0xffffffff), random(0, 0xffff), random(0, 0xfff),
    0x8000 + random(0, 0x3fff), random(0, 0xffffffffffff))
end

function _M.is_valid_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

return _M
