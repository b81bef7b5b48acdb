-- kong.client: the connecting client and the authenticated consumer/credential of the request.
-- localgw configures no trusted_ips/real_ip_header, so the forwarded address is the connection's address
-- (what Kong returns with its default trusted_ips = none).

local ctx = require "localgw.pdk.ctx"

local var = ngx.var
local tonumber = tonumber

local _M = {}

-- `consumers` returns the current consumers lookup ({by_id=, by_username=}); it changes with POST /config.
function _M.new(consumers)
  local client = {}

  function client.get_ip() return var.realip_remote_addr or var.remote_addr end
  function client.get_forwarded_ip() return var.remote_addr end
  function client.get_port() return tonumber(var.realip_remote_port or var.remote_port) end
  function client.get_forwarded_port() return tonumber(var.remote_port) end
  function client.get_protocol() return var.scheme end

  function client.get_consumer() return ngx.ctx.authenticated_consumer end
  function client.get_credential() return ngx.ctx.authenticated_credential end

  function client.authenticate(consumer, credential)
    if consumer == nil and credential == nil then
      error("either credential or consumer must be provided", 2)
    end
    local ngx_ctx = ngx.ctx
    ngx_ctx.authenticated_consumer = consumer
    ngx_ctx.authenticated_credential = credential
    ctx.request().consumer = consumer
  end

  function client.load_consumer(consumer_id, search_by_username)
    if type(consumer_id) ~= "string" then error("consumer_id must be a string", 2) end
    local lookup = consumers()
    local c = lookup.by_id[consumer_id]
    if not c and search_by_username then c = lookup.by_username[consumer_id] end
    return c
  end

  return client
end

return _M
