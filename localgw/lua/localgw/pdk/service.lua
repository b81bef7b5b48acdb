-- kong.service: kong.service.request changes the request localgw sends upstream (a subset of Kong's): headers go
-- through ngx.req.set_header, which is what proxy_pass forwards; the path/query through $upstream_uri.
-- kong.service.response reads what the upstream answered (get_status, get_header).

local var = ngx.var
local req = ngx.req

local _M = {}

local function check_header(name, value)
  if type(name) ~= "string" or name == "" then error("invalid header name", 3) end
  local t = type(value)
  if t ~= "string" and t ~= "number" and t ~= "boolean" and t ~= "table" then
    error("invalid header value for \"" .. name .. "\": got " .. t .. ", expected array of string, string, number or boolean", 3)
  end
end

function _M.new()
  local request = {}

  function request.set_header(name, value)
    check_header(name, value)
    if type(value) ~= "table" then value = tostring(value) end
    req.set_header(name, value)
  end

  function request.add_header(name, value)
    check_header(name, value)
    local current = req.get_headers(1000)[name]
    local values = type(current) == "table" and current or (current and { current } or {})
    values[#values + 1] = tostring(value)
    req.set_header(name, values)
  end

  function request.clear_header(name)
    req.clear_header(name)
  end

  function request.set_headers(headers)
    if type(headers) ~= "table" then error("headers must be a table", 2) end
    for k, v in pairs(headers) do request.set_header(k, v) end
  end

  function request.set_path(path)
    if type(path) ~= "string" or path:sub(1, 1) ~= "/" then error("path must be a string starting with '/'", 2) end
    local q = var.upstream_uri:match("%?.*$") or ""
    var.upstream_uri = path .. q
  end

  function request.set_raw_query(query)
    if type(query) ~= "string" then error("query must be a string", 2) end
    local path = var.upstream_uri:match("^[^?]*")
    var.upstream_uri = query ~= "" and (path .. "?" .. query) or path
  end

  function request.set_raw_body(body)
    if type(body) ~= "string" then error("body must be a string", 2) end
    req.read_body()
    req.set_body_data(body)
  end

  local response = {}

  -- Kong: the status of the last upstream attempt, nil when the request was not proxied.
  function response.get_status()
    local status = var.upstream_status
    if not status or status == "" or status == "-" then return nil end
    return tonumber(status:sub(-3))
  end

  function response.get_header(name)
    if type(name) ~= "string" then error("header name must be a string", 2) end
    return var["upstream_http_" .. name:lower():gsub("-", "_")]
  end

  return { request = request, response = response }
end

return _M
