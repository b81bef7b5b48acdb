-- Test-only plugin with a higher PRIORITY than echo-header: proves plugins run in priority order and share
-- kong.ctx.shared within a request.
local EchoFirst = { PRIORITY = 2000, VERSION = "0.1.0" }

function EchoFirst:access(conf)
  local order = kong.ctx.shared.order or {}
  order[#order + 1] = "echo-first"
  kong.ctx.shared.order = order
end

return EchoFirst
