-- Test-only plugin for localgw's own e2e tests: records what each phase saw so tests can assert on it.
-- Per-worker observations go to the `kong` shared dict (readable through this plugin's api.lua).

local EchoHeader = {
  PRIORITY = 1000,
  VERSION = "1.0.0",
}

local shm = ngx.shared.kong

-- Module-level code runs in the nginx master (init_by_lua), before the workers fork.
local loaded_in_phase = ngx.get_phase()

function EchoHeader:init_worker()
  shm:set("echo-header:init_worker:" .. ngx.worker.pid(), loaded_in_phase)
  kong.worker_events.register(function(data, event, source)
    shm:set("echo-header:event:" .. ngx.worker.pid(), source .. ":" .. event .. ":" .. tostring(data.msg))
  end, "echo-header", "ping")
end

function EchoHeader:configure(configs)
  local values = {}
  for _, c in ipairs(configs or {}) do
    values[#values + 1] = c.value .. "@" .. tostring(c.__seq__ ~= nil and c.__plugin_id ~= nil and c.__key__ ~= nil)
  end
  table.sort(values)
  shm:set("echo-header:configured:" .. ngx.worker.pid(), configs and table.concat(values, ",") or "nil")
end

function EchoHeader:access(conf)
  if conf.fail_in == "access" then error("echo-header: boom in access") end
  kong.ctx.plugin.phases = { "access" }
  kong.log.notice("access value=", conf.value)
  local order = kong.ctx.shared.order or {}
  order[#order + 1] = "echo-header"
  kong.ctx.shared.order = order
  kong.ctx.shared.echo_header_value = conf.value
  if conf.mode == "block" then
    return kong.response.exit(conf.block_status, { message = "blocked by echo-header", value = conf.value },
      { ["X-Blocked-By"] = "echo-header" })
  end
  local body, err = kong.request.get_raw_body()
  kong.ctx.plugin.body = body and tostring(#body) or ("nil:" .. tostring(err))
  kong.service.request.set_header("X-Echo-Header-Upstream", conf.value)
end

function EchoHeader:header_filter(conf)
  if conf.fail_in == "header_filter" then error("echo-header: boom in header_filter") end
  if conf.exit_in_header_filter then
    return kong.response.exit(418, { message = "replaced in header_filter" }, { ["X-Replaced"] = "yes" })
  end
  local phases = kong.ctx.plugin.phases or {}
  phases[#phases + 1] = "header_filter"
  kong.response.set_header(conf.header_name, conf.value)
  kong.response.set_header("X-Echo-Phases", table.concat(phases, ","))
  kong.response.set_header("X-Echo-Worker", ngx.worker.pid())
  kong.response.set_header("X-Echo-Order", table.concat(kong.ctx.shared.order or {}, ","))
  kong.response.set_header("X-Echo-Source", kong.response.get_source())
  kong.response.set_header("X-Echo-Body", kong.ctx.plugin.body or "unread")
  kong.response.set_header("X-Echo-Upstream-Status", tostring(kong.service.response.get_status()))
  kong.response.set_header("X-Echo-Plugin-Id", kong.plugin.get_id())
  local consumer = kong.client.get_consumer()
  kong.response.set_header("X-Echo-Consumer", consumer and consumer.username or "none")
  local route = kong.router.get_route()
  kong.response.set_header("X-Echo-Route", route and route.name or "none")
  kong.response.set_header("X-Echo-Conf", string.format("tag=%s min=%s strict=%s", tostring(conf.tag),
    tostring(conf.min), tostring(conf.strict)))
end

function EchoHeader:body_filter(conf)
  if ngx.arg[2] then
    local phases = kong.ctx.plugin.phases or {}
    phases[#phases + 1] = "body_filter"
  end
end

function EchoHeader:log(conf)
  if conf.fail_in == "log" then error("echo-header: boom in log") end
  local phases = kong.ctx.plugin.phases or {}
  phases[#phases + 1] = "log"
  shm:set("echo-header:last_log", table.concat(phases, ",") .. "|" .. tostring(kong.ctx.shared.echo_header_value))
end

return EchoHeader
