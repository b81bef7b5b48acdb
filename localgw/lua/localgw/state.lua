-- localgw.state: the configuration a worker serves (router, plugin view, consumers) and its distribution.
--
-- The master builds the first config in init_by_lua; workers inherit it through fork. POST /config (one
-- worker) validates a new config and publishes it as JSON with a version number in the shared dict "localgw";
-- every worker notices the new version (polling timer, and at the start of each request) and rebuilds, then
-- calls configure() on the plugins, as Kong does after each declarative reload.

local cjson = require "cjson.safe"
local router = require "localgw.router"
local plugins = require "localgw.plugins"

local DICT = "localgw"

local _M = {
  loaded = nil,    -- loaded plugins (master)
  config = nil,    -- current flat config
  version = 0,
  router = nil,
  view = nil,
  consumers = { by_id = {}, by_username = {}, by_key = {} },
}

local function build_consumers(config)
  local lookup = { by_id = {}, by_username = {}, by_key = {} }
  for _, c in ipairs(config.consumers or {}) do
    lookup.by_id[c.id] = c
    if c.username then lookup.by_username[c.username] = c end
  end
  for _, k in ipairs(config.keyauth_credentials or {}) do lookup.by_key[k.key] = k end
  return lookup
end

-- Installs a config in this process (no configure() call: see activate()).
local function install(config, version)
  _M.config = config
  _M.version = version
  _M.router = router.new(config)
  _M.view = plugins.build(_M.loaded, config)
  _M.consumers = build_consumers(config)
end

-- Master: first config, also published for the workers' version checks.
function _M.init(loaded, config)
  _M.loaded = loaded
  local json = assert(cjson.encode(config))
  local d = ngx.shared[DICT]
  -- On HUP the master re-runs init: keep counting up so workers of the new generation never see an old version.
  local version = (d:get("version") or 0) + 1
  assert(d:set("config", json))
  assert(d:set("version", version))
  install(config, version)
end

-- Worker: configure() with the config inherited from the master, or with a newer published one (a worker
-- respawned after POST /config).
function _M.init_worker()
  local version = ngx.shared[DICT]:get("version")
  if version and version ~= _M.version then return _M.refresh() end
  plugins.configure(_M.view)
end

-- Worker: adopt a newer published config, if any. Cheap when nothing changed (one shared dict read).
function _M.refresh()
  local d = ngx.shared[DICT]
  local version = d:get("version")
  if not version or version == _M.version then return end
  local json = d:get("config")
  local config = json and cjson.decode(json)
  if not config then
    ngx.log(ngx.ERR, "[localgw] cannot decode published config version ", version)
    _M.version = version
    return
  end
  install(config, version)
  plugins.configure(_M.view)
  ngx.log(ngx.INFO, "[localgw] worker ", ngx.worker.pid(), " now serves config version ", version)
end

-- Admin: publish a validated config to all workers (this one applies it at once).
function _M.publish(config)
  local json, err = cjson.encode(config)
  if not json then return nil, "cannot encode config: " .. tostring(err) end
  local d = ngx.shared[DICT]
  local ok, serr = d:set("config", json)
  if not ok then return nil, "cannot store config: " .. tostring(serr) end
  local version, ierr = d:incr("version", 1, 0)
  if not version then return nil, "cannot store config: " .. tostring(ierr) end
  _M.refresh()
  return version
end

return _M
