-- localgw: entry points called from the generated nginx.conf.
--
-- init(args)       init_by_lua (master): install the PDK, load plugins (their module-level code runs here, before
--                  fork, as in Kong), load and validate the declarative config; any error aborts nginx startup
--                  with one line starting with "localgw: ".
-- init_worker()    each worker: plugins' init_worker(), configure(), and the timer that delivers worker events
--                  and new configs.

local cjson = require "cjson.safe"

local _M = {}

local POLL_INTERVAL = 0.05  -- seconds; bounds how late worker events and POST /config reach a worker

local function fail(msg)
  error("localgw: " .. msg, 0)
end

function _M.init(args_json)
  local args = cjson.decode(args_json)
  if type(args) ~= "table" then fail("bad init arguments") end
  math.randomseed(ngx.now() * 1000)
  require("localgw.cjson_compat").apply()

  local state = require "localgw.state"
  local pdk = require "localgw.pdk"
  pdk.install({
    prefix = args.prefix,
    configuration = args.configuration or {},
    consumers = function() return state.consumers end,
  })

  local plugins = require "localgw.plugins"
  local loaded, err = plugins.load(args.plugins or {})
  if not loaded then fail(err) end

  local config = require "localgw.config"
  local decl, perr = config.load_file(args.config)
  if not decl then fail(perr) end
  local conf, msg = config.build(decl, plugins.schema_lookup(loaded))
  if not conf then fail("invalid declarative config: " .. msg) end

  kong.configuration.loaded_plugins = {}
  for _, p in ipairs(loaded.list) do kong.configuration.loaded_plugins[p.name] = true end
  state.init(loaded, conf)
  require("localgw.worker_events").init()
end

local function poll(premature)
  if premature then return end
  local ok, err = pcall(require("localgw.state").refresh)
  if not ok then ngx.log(ngx.ERR, "[localgw] config refresh failed: ", err) end
  ok, err = pcall(require("localgw.worker_events").poll)
  if not ok then ngx.log(ngx.ERR, "[localgw] worker events poll failed: ", err) end
end

function _M.init_worker()
  -- Seed per worker: forked workers would otherwise share the master's random sequence.
  math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
  local state = require "localgw.state"
  require("localgw.worker_events").init_worker()
  require("localgw.plugins").init_worker(state.loaded)
  state.init_worker()
  local ok, err = ngx.timer.every(POLL_INTERVAL, poll)
  if not ok then ngx.log(ngx.CRIT, "[localgw] cannot start the poll timer: ", err) end
end

return _M
