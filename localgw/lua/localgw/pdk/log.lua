-- kong.log: writes to nginx's error.log as Kong does: "[kong] <file>:<line> [<plugin>] <message>".
-- The plugin name comes from the running plugin (ngx.ctx in request phases, the runner's current plugin in
-- init_worker/configure/timers), mirroring Kong's per-plugin namespaced logger.

local errlog = require "ngx.errlog"

local raw_log = errlog.raw_log
local getinfo = debug.getinfo
local concat, tostring, select = table.concat, tostring, select

local _M = {}

-- Set by the runner around non-request calls (init_worker, configure).
_M.current_plugin = nil

local function plugin_name()
  local ok, ctx = pcall(function() return ngx.ctx.localgw end)
  if ok and ctx and ctx.plugin then return ctx.plugin end
  return _M.current_plugin
end

local function build(depth, ...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  local info = getinfo(depth, "Sl")
  local where = info and (info.short_src:match("[^/]*$") .. ":" .. tostring(info.currentline)) or "?"
  local name = plugin_name()
  return "[kong] " .. where .. " " .. (name and ("[" .. name .. "] ") or "") .. concat(parts)
end

local function serialize(v, indent, seen)
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. serialize(k, "", seen) .. "]")
    out[#out + 1] = indent .. "  " .. key .. " = " .. serialize(v[k], indent .. "  ", seen)
  end
  seen[v] = nil
  if #out == 0 then return "{}" end
  return "{\n" .. concat(out, ",\n") .. "\n" .. indent .. "}"
end

function _M.new()
  local log = {}
  local levels = {
    debug = ngx.DEBUG, info = ngx.INFO, notice = ngx.NOTICE, warn = ngx.WARN, err = ngx.ERR,
    crit = ngx.CRIT, alert = ngx.ALERT, emerg = ngx.EMERG,
  }
  for name, level in pairs(levels) do
    log[name] = function(...)
      raw_log(level, build(3, ...))
    end
  end

  -- kong.log.inspect(...): pretty-prints its arguments at notice level; can be switched off/on.
  local inspect_enabled = true
  local inspect = setmetatable({
    on = function() inspect_enabled = true end,
    off = function() inspect_enabled = false end,
  }, {
    __call = function(_, ...)
      if not inspect_enabled then return end
      local n = select("#", ...)
      local parts = {}
      for i = 1, n do parts[i] = serialize((select(i, ...)), "", {}) end
      raw_log(ngx.NOTICE, build(3, concat(parts, " ")))
    end,
  })
  log.inspect = inspect
  return log
end

return _M
