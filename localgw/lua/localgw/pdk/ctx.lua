-- kong.ctx: per-request tables. kong.ctx.shared is shared by all plugins of a request; kong.ctx.plugin is
-- private to the plugin currently running (Kong namespaces it per plugin). Both live in ngx.ctx, so they vanish
-- with the request. The runner records the running plugin in ngx.ctx.localgw.plugin.

local _M = {}

-- Internal request state used by the runtime and the PDK: route, service, plugins that ran, running plugin...
function _M.request()
  local ngx_ctx = ngx.ctx
  local r = ngx_ctx.localgw
  if not r then
    r = { plugin_ctx = {} }
    ngx_ctx.localgw = r
  end
  return r
end

function _M.new()
  return setmetatable({}, {
    __index = function(_, key)
      if key == "shared" then
        local ngx_ctx = ngx.ctx
        local shared = ngx_ctx.KONG_SHARED
        if not shared then
          shared = {}
          ngx_ctx.KONG_SHARED = shared
        end
        return shared
      elseif key == "plugin" then
        local r = _M.request()
        local name = r.plugin or "?"
        local t = r.plugin_ctx[name]
        if not t then
          t = {}
          r.plugin_ctx[name] = t
        end
        return t
      end
      return nil
    end,
  })
end

return _M
