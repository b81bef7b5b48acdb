-- kong.response: the response sent to the client, after Kong's kong/pdk/response.lua.
--
-- exit() in rewrite/access/admin (content) sends the response at once and ends the phase with ngx.exit, so
-- nginx still runs header_filter/body_filter/log (Kong's plugins see their header_filter/log phases for a
-- short-circuited request). exit() in header_filter replaces status/headers and the body_filter swaps the body.
-- Content negotiation of error() (HTML/XML/gRPC) is not implemented: error() always answers JSON.

local cjson = require "cjson.safe"
local ctx = require "localgw.pdk.ctx"

local ngx = ngx
local type, tostring, error, pairs = type, tostring, error, pairs

local _M = {}

-- Kong's default messages for kong.response.error() without a message (kong/constants/tools).
local MESSAGES = {
  [400] = "Bad request", [401] = "Unauthorized", [402] = "Payment required", [403] = "Forbidden",
  [404] = "Not found", [405] = "Method not allowed", [406] = "Not acceptable",
  [407] = "Proxy authentication required", [408] = "Request timeout", [409] = "Conflict", [410] = "Gone",
  [411] = "Length required", [412] = "Precondition failed", [413] = "Payload too large",
  [414] = "URI too long", [415] = "Unsupported media type", [416] = "Range not satisfiable",
  [417] = "Expectation failed", [418] = "I'm a teapot", [421] = "Misdirected request",
  [422] = "Unprocessable entity", [423] = "Locked", [424] = "Failed dependency", [425] = "Too early",
  [426] = "Upgrade required", [428] = "Precondition required", [429] = "Too many requests",
  [431] = "Request header fields too large", [451] = "Unavailable for legal reasons",
  [494] = "Request header or cookie too large", [500] = "An unexpected error occurred",
  [501] = "Not implemented", [502] = "An invalid response was received from the upstream server",
  [503] = "The upstream server is currently unavailable", [504] = "The upstream server is timing out",
  [505] = "HTTP version not supported",
}
_M.MESSAGES = MESSAGES

local SERVER_TOKENS = require("kong.meta")._SERVER_TOKENS

local function check_header(name, value)
  if type(name) ~= "string" or name == "" then error("invalid header name \"" .. tostring(name) .. "\"", 3) end
  local t = type(value)
  if t == "table" then
    for _, v in ipairs(value) do
      if type(v) ~= "string" then
        error("invalid header value in array \"" .. name .. "\": got " .. type(v) .. ", expected string", 3)
      end
    end
  elseif t ~= "string" and t ~= "number" and t ~= "boolean" then
    error("invalid header value for \"" .. name .. "\": got " .. t .. ", expected array of string, string, number or boolean", 3)
  end
end

local function check_not_sent()
  if ngx.headers_sent then error("headers have already been sent", 3) end
end

local function normalize_value(v)
  if type(v) == "table" then return v end
  return tostring(v)
end

function _M.new()
  local response = {}

  function response.get_status() return ngx.status end

  function response.get_header(name)
    if type(name) ~= "string" then error("header name must be a string", 2) end
    local v = ngx.resp.get_headers(1000)[name]
    if type(v) == "table" then return v[1] end
    return v
  end

  function response.get_headers(max_headers)
    max_headers = max_headers or 100
    if max_headers < 1 then error("max_headers must be >= 1", 2) end
    if max_headers > 1000 then error("max_headers must be <= 1000", 2) end
    return ngx.resp.get_headers(max_headers)
  end

  -- Kong's order: "error" for the gateway's own failures (a plugin raised), "exit" when kong.response ended the
  -- request, "service" when the upstream answered, else "error".
  function response.get_source()
    local r = ctx.request()
    if r.unexpected then return "error" end
    if r.exited then return "exit" end
    if ngx.var.upstream_status and ngx.var.upstream_status ~= "" and ngx.var.upstream_status ~= "-" then
      return "service"
    end
    return "error"
  end

  function response.set_status(status)
    if type(status) ~= "number" or status < 100 or status > 599 then
      error("code must be a number between 100 and 599", 2)
    end
    check_not_sent()
    ngx.status = status
  end

  function response.set_header(name, value)
    check_header(name, value)
    check_not_sent()
    ngx.header[name] = normalize_value(value)
  end

  function response.add_header(name, value)
    check_header(name, value)
    check_not_sent()
    local current = ngx.header[name]
    local values = type(current) == "table" and current or (current and { current } or {})
    if type(value) == "table" then
      for _, v in ipairs(value) do values[#values + 1] = v end
    else
      values[#values + 1] = tostring(value)
    end
    ngx.header[name] = values
  end

  function response.clear_header(name)
    if type(name) ~= "string" then error("header name must be a string", 2) end
    check_not_sent()
    ngx.header[name] = nil
  end

  function response.set_headers(headers)
    if type(headers) ~= "table" then error("headers must be a table", 2) end
    check_not_sent()
    for k, v in pairs(headers) do
      check_header(k, v)
      ngx.header[k] = normalize_value(v)
    end
  end

  function response.exit(status, body, headers)
    if type(status) ~= "number" or status < 100 or status > 599 then
      error("code must be a number between 100 and 599", 2)
    end
    if body ~= nil and type(body) ~= "string" and type(body) ~= "table" then
      error("body must be a nil, string or table", 2)
    end
    if headers ~= nil and type(headers) ~= "table" then error("headers must be a nil or table", 2) end
    local phase = ngx.get_phase()
    if phase ~= "rewrite" and phase ~= "access" and phase ~= "content" and phase ~= "header_filter" then
      error("function cannot be called in " .. phase .. " phase", 2)
    end
    if ngx.headers_sent then error("headers have already been sent", 2) end

    local r = ctx.request()
    r.exited = true
    ngx.status = status
    ngx.header["Server"] = SERVER_TOKENS
    local has_content_type = false
    for k, v in pairs(headers or {}) do
      check_header(k, v)
      if k:lower() == "content-type" then has_content_type = true end
      ngx.header[k] = normalize_value(v)
    end
    if type(body) == "table" then
      local json, err = cjson.encode(body)
      if not json then error("could not JSON encode the error message: " .. tostring(err), 2) end
      body = json
      if not has_content_type then ngx.header["Content-Type"] = "application/json; charset=utf-8" end
    end

    if phase == "header_filter" then
      -- The upstream body is already on its way: the body_filter replaces it (see localgw.proxy).
      r.exit_body = body or ""
      ngx.header["Content-Length"] = #(body or "")
      return
    end
    ngx.header["Content-Length"] = body and #body or 0
    if body and body ~= "" then ngx.print(body) end
    return ngx.exit(status)
  end

  function response.error(status, message, headers)
    if type(status) ~= "number" or status < 400 or status > 599 then
      error("code must be a number between 400 and 599", 2)
    end
    if message ~= nil and type(message) ~= "string" and type(message) ~= "table" then
      error("message must be a nil, a string or a table", 2)
    end
    local body = { message = message or MESSAGES[status] or "An unexpected error occurred" }
    return response.exit(status, body, headers)
  end

  return response
end

return _M
