-- Test-only Admin API routes (Kong api.lua shape) exposing what the handler recorded.
local shm = ngx.shared.kong

local function by_worker(prefix)
  local out = {}
  for _, key in ipairs(shm:get_keys(0)) do
    local pid = key:match("^echo%-header:" .. prefix .. ":(%d+)$")
    if pid then out[pid] = shm:get(key) end
  end
  return out
end

return {
  ["/echo-header/workers"] = {
    GET = function(self)
      return kong.response.exit(200, {
        configured = by_worker("configured"),
        init_worker = by_worker("init_worker"),
        events = by_worker("event"),
        worker_count = ngx.worker.count(),
      })
    end,
  },
  ["/echo-header/last-log"] = {
    GET = function(self)
      return kong.response.exit(200, { last_log = shm:get("echo-header:last_log") })
    end,
  },
  ["/echo-header/ping"] = {
    POST = function(self)
      local ok, err = kong.worker_events.post("echo-header", "ping", { msg = self.params.msg })
      if not ok then return kong.response.exit(500, { message = err }) end
      return kong.response.exit(202, { posted = true, msg = self.params.msg })
    end,
  },
  ["/echo-header/params/:id"] = {
    GET = function(self) return kong.response.exit(200, self.params) end,
    POST = function(self) return kong.response.exit(200, self.params) end,
  },
}
