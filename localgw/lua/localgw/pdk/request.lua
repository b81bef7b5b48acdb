-- kong.request: read-only view of the client request, after Kong's kong/pdk/request.lua.
-- Without trusted_ips configured, Kong's get_forwarded_* functions return the same as their plain counterparts;
-- localgw has no trusted_ips, so they do the same.

local cjson = require "cjson.safe"
local router = require "localgw.router"
local ctx = require "localgw.pdk.ctx"

local ngx = ngx
local var = ngx.var
local req = ngx.req
local tonumber, type, error = tonumber, type, error
local find, sub, lower, gsub = string.find, string.sub, string.lower, string.gsub

local BODY_TOO_BIG = "request body did not fit into client body buffer, consider raising 'client_body_buffer_size'"

local _M = {}

local function raw_path()
  local uri = var.request_uri or ""
  local q = find(uri, "?", 2, true)
  return q and sub(uri, 1, q - 1) or uri
end

function _M.new()
  local request = {}

  function request.get_scheme() return var.scheme end
  function request.get_host() return var.host end
  function request.get_port() return tonumber(var.server_port) end
  function request.get_forwarded_scheme() return var.scheme end
  function request.get_forwarded_host() return var.host end
  function request.get_forwarded_port() return tonumber(var.server_port) end
  function request.get_forwarded_path() return request.get_path() end
  -- The prefix strip_path removed (what Kong sends upstream as X-Forwarded-Prefix), nil when none.
  function request.get_forwarded_prefix() return ctx.request().forwarded_prefix end

  function request.get_http_version() return req.http_version() end
  function request.get_method() return req.get_method() end

  function request.get_raw_path() return raw_path() end
  function request.get_path() return router.normalize_path(raw_path()) end

  function request.get_path_with_query()
    local args = var.args
    local path = request.get_path()
    if args and args ~= "" then return path .. "?" .. args end
    return path
  end

  function request.get_raw_query() return var.args or "" end

  function request.get_query_arg(name)
    if type(name) ~= "string" then error("query argument name must be a string", 2) end
    local v = req.get_uri_args(100)[name]
    if type(v) == "table" then return v[1] end
    return v
  end

  function request.get_query(max_args)
    max_args = max_args or 100
    if type(max_args) ~= "number" then error("max_args must be a number", 2) end
    if max_args < 1 then error("max_args must be >= 1", 2) end
    if max_args > 1000 then error("max_args must be <= 1000", 2) end
    return req.get_uri_args(max_args)
  end

  function request.get_header(name)
    if type(name) ~= "string" then error("header name must be a string", 2) end
    return var["http_" .. gsub(lower(name), "-", "_")]
  end

  function request.get_headers(max_headers)
    max_headers = max_headers or 100
    if type(max_headers) ~= "number" then error("max_headers must be a number", 2) end
    if max_headers < 1 then error("max_headers must be >= 1", 2) end
    if max_headers > 1000 then error("max_headers must be <= 1000", 2) end
    return req.get_headers(max_headers)
  end

  -- Like Kong: nil + error when nginx spooled the body to a file (it exceeded client_body_buffer_size), so a
  -- plugin can report an uninspected body instead of silently passing it.
  function request.get_raw_body()
    req.read_body()
    local body = req.get_body_data()
    if not body then
      if req.get_body_file() then return nil, BODY_TOO_BIG end
      return ""
    end
    return body
  end

  -- Decodes application/json and application/x-www-form-urlencoded bodies (multipart is not supported here).
  function request.get_body(mimetype, max_args)
    local content_type = mimetype or request.get_header("Content-Type")
    if not content_type then return nil, "missing content type" end
    local ct = lower(content_type)
    if find(ct, "application/x-www-form-urlencoded", 1, true) then
      req.read_body()
      local args, err = req.get_post_args(max_args or 100)
      if not args then return nil, err, "application/x-www-form-urlencoded" end
      return args, nil, "application/x-www-form-urlencoded"
    elseif find(ct, "application/json", 1, true) then
      local body, err = request.get_raw_body()
      if not body then return nil, err, "application/json" end
      local json = cjson.decode(body)
      if type(json) ~= "table" then return nil, "invalid json body", "application/json" end
      return json, nil, "application/json"
    end
    return nil, "unsupported content type '" .. content_type .. "'", lower(content_type)
  end

  function request.get_start_time() return req.start_time() * 1000 end

  return request
end

return _M
