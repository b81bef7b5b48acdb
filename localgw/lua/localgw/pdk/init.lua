-- localgw.pdk: builds the global `kong` table (Kong installs it before loading plugins, so module-level code of
-- a handler may `local kong = kong`). Only functions that exist in Kong 3.9's PDK are provided; see
-- localgw/README.md for the exact list and what is missing.

local meta = require "kong.meta"

local _M = {}

-- `opts`: { prefix, configuration = {...}, consumers = function() -> lookup }
function _M.install(opts)
  local service = require("localgw.pdk.service").new()
  local kong = {
    version = meta._VERSION,
    version_num = tonumber(string.format("%d%03d%03d", meta._VERSION_TABLE.major, meta._VERSION_TABLE.minor,
      meta._VERSION_TABLE.patch)),
    configuration = opts.configuration,
    request = require("localgw.pdk.request").new(),
    response = require("localgw.pdk.response").new(),
    client = require("localgw.pdk.client").new(opts.consumers),
    router = require("localgw.pdk.router").new(),
    service = service,
    ctx = require("localgw.pdk.ctx").new(),
    log = require("localgw.pdk.log").new(),
    node = require("localgw.pdk.node").new(opts.prefix),
    worker_events = require "localgw.worker_events",
    -- kong.plugin.get_id(): the id of the running plugin instance.
    plugin = {
      get_id = function()
        local r = ngx.ctx.localgw
        return r and r.plugin_id
      end,
    },
    -- DB-less without a database: plugins must not rely on kong.db (see README).
    db = nil,
  }
  _G.kong = kong
  return kong
end

return _M
