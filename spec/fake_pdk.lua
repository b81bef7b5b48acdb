-- A recording stand-in for the Kong PDK, shared by the specs that run handler.lua against the real
-- libguard.so (handler_spec.lua, ai_spec.lua).
local validator = require "localgw.schema"
local plugin_schema = require "kong.plugins.guard-ai.schema"

-- A minimal PDK that records what the handler asks of Kong.
local function fake_kong(req)
  local rec = { headers = {}, logs = {} }
  local hdrs = req.headers or {}
  hdrs.host = hdrs.host or "api.example.com" -- every HTTP/1.1 request has one
  local k = {
    request = {
      get_method = function() return req.method or "GET" end,
      get_path = function() return req.path or "/" end,
      get_raw_query = function() return req.query or "" end,
      get_headers = function() return hdrs end,
      get_header = function(name) return hdrs[name] end,
      get_raw_body = function()
        if req.body_on_disk then
          return nil, "request body did not fit into client body buffer, consider raising 'client_body_buffer_size'"
        end
        return req.body
      end,
    },
    client = {
      get_forwarded_ip = function() return "203.0.113.7" end,
      get_consumer = function() return req.consumer end,
      get_credential = function() return nil end,
    },
    router = {
      get_route = function() return { id = "route-1" } end,
      get_service = function() return { id = "service-1" } end,
    },
    response = {
      exit = function(status, body, headers)
        rec.exit = { status = status, body = body, headers = headers }
        return "exited"
      end,
      error = function(status, message)
        rec.error = { status = status, message = message }
        return "errored"
      end,
      set_header = function(name, value) rec.headers[name] = value end,
      get_status = function() return req.status or 200 end,
    },
    ctx = { plugin = {} },
    log = {},
  }
  for _, level in ipairs({ "debug", "info", "notice", "warn", "err", "crit" }) do
    k.log[level] = function(...)
      rec.logs[#rec.logs + 1] = level .. ": " .. table.concat({ ... })
    end
  end
  return k, rec
end

local function conf(overrides)
  local entity = assert(validator.validate_plugin(plugin_schema, { name = "guard-ai", config = overrides or {} }))
  return validator.remove_nulls(entity.config)
end

-- Kong's global `kong` is one long-lived table (handlers cache it at load); swap its contents per request.
local function install(k)
  for name in pairs(_G.kong) do
    _G.kong[name] = nil
  end
  for name, v in pairs(k) do
    _G.kong[name] = v
  end
end

return { fake_kong = fake_kong, conf = conf, install = install }
