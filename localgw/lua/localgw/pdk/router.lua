-- kong.router: the route and service matched for the current request (nil before matching or when none).
local ctx = require "localgw.pdk.ctx"

local _M = {}

function _M.new()
  return {
    get_route = function() return ctx.request().route end,
    get_service = function() return ctx.request().service end,
  }
end

return _M
