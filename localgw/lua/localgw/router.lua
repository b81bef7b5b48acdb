-- localgw.router: matches a request to a route and builds the upstream URI, after Kong's "traditional_compatible"
-- router, reduced to what localgw supports: paths (prefix, or regex when starting with "~"), methods, hosts
-- (exact or wildcard "*.example.com" / "example.*").
--
-- Ordering (simplified from Kong): routes that set more of {hosts, methods, paths} win; then plain hosts over
-- wildcard hosts; then higher regex_priority; then the longest path; then declaration order.
-- Path handling is Kong's default "v0": strip_path removes the matched prefix, the rest is appended to the
-- service path.

local re_match = ngx.re.match
local sort, lower = table.sort, string.lower

local _M = {}
local mt = { __index = _M }

-- Kong matches on the normalized path: percent-decode unreserved characters, merge slashes, drop dot segments.
function _M.normalize_path(raw)
  local p = raw:gsub("%%(%x%x)", function(hex)
    local c = string.char(tonumber(hex, 16))
    if c:match("[%w%-%._~]") then return c end
    return "%" .. hex:upper()
  end)
  p = p:gsub("//+", "/")
  if not p:find("/.", 1, true) then return p end
  local out = {}
  local trailing = p:sub(-1) == "/" or p:sub(-2) == "/." or p:sub(-3) == "/.."
  for seg in p:gmatch("[^/]+") do
    if seg == ".." then
      out[#out] = nil
    elseif seg ~= "." then
      out[#out + 1] = seg
    end
  end
  local s = "/" .. table.concat(out, "/")
  if trailing and s ~= "/" then s = s .. "/" end
  return s
end

local function host_matcher(h)
  h = lower(h)
  if h:sub(1, 2) == "*." then
    local suffix = h:sub(2)
    return function(host) return #host > #suffix and host:sub(-#suffix) == suffix end, true
  elseif h:sub(-2) == ".*" then
    local prefix = h:sub(1, -2)
    return function(host) return #host > #prefix and host:sub(1, #prefix) == prefix end, true
  end
  return function(host) return host == h end, false
end

-- One candidate per (route, path) pair so the longest path wins across routes.
function _M.new(config)
  local services = {}
  for _, s in ipairs(config.services) do services[s.id] = s end

  local candidates = {}
  for order, route in ipairs(config.routes) do
    local service = route.service_id and services[route.service_id]
    if not (service and service.enabled == false) then
      local methods
      if route.methods then
        methods = {}
        for _, m in ipairs(route.methods) do methods[m:upper()] = true end
      end
      local hosts, plain_host = nil, false
      if route.hosts then
        hosts = {}
        for i, h in ipairs(route.hosts) do
          local fn, wildcard = host_matcher(h)
          hosts[i] = fn
          if not wildcard then plain_host = true end
        end
      end
      local weight = (route.paths and 1 or 0) + (methods and 1 or 0) + (hosts and 1 or 0)
      local paths = route.paths or { false }
      for _, p in ipairs(paths) do
        local c = {
          route = route, service = service, methods = methods, hosts = hosts, weight = weight,
          plain_host = plain_host, regex_priority = route.regex_priority or 0, order = order,
        }
        if p and p:sub(1, 1) == "~" then
          c.regex = "^(?:" .. p:sub(2) .. ")"
          c.path_len = #p - 1
        elseif p then
          c.prefix = p
          c.path_len = #p
        else
          c.path_len = 0
        end
        candidates[#candidates + 1] = c
      end
    end
  end

  sort(candidates, function(a, b)
    if a.weight ~= b.weight then return a.weight > b.weight end
    if a.plain_host ~= b.plain_host then return a.plain_host end
    if a.regex_priority ~= b.regex_priority then return a.regex_priority > b.regex_priority end
    if a.path_len ~= b.path_len then return a.path_len > b.path_len end
    return a.order < b.order
  end)

  return setmetatable({ candidates = candidates }, mt)
end

-- Kong's v0 path handling (kong/router/utils.lua).
local function upstream_path(service_path, req_path)
  if req_path:sub(1, 1) ~= "/" then req_path = "/" .. req_path end
  if not service_path or service_path == "/" then return req_path end
  if req_path == "/" then return service_path end
  if service_path:sub(-1) == "/" then return service_path .. req_path:sub(2) end
  return service_path .. req_path
end
_M.upstream_path = upstream_path

-- Returns route, service, upstream_uri (with query) and the matched path; nil when nothing matches.
function _M:match(method, host, raw_path, query)
  local path = _M.normalize_path(raw_path)
  host = host and lower(host) or ""
  for _, c in ipairs(self.candidates) do
    local ok = true
    if c.methods and not c.methods[method] then ok = false end
    if ok and c.hosts then
      ok = false
      for _, fn in ipairs(c.hosts) do
        if fn(host) then ok = true break end
      end
    end
    local matched = ""
    if ok and c.prefix then
      ok = path:sub(1, #c.prefix) == c.prefix
      matched = c.prefix
    elseif ok and c.regex then
      local m = re_match(path, c.regex, "jo")
      ok = m ~= nil
      matched = m and m[0] or ""
    end
    if ok then
      local rest = path
      if c.route.strip_path and matched ~= "" then
        -- Strip from the raw path when it carries the same prefix, so encoded bytes reach the upstream as sent.
        local base = raw_path:sub(1, #matched) == matched and raw_path or path
        rest = base:sub(#matched + 1)
      elseif raw_path:sub(1, 1) == "/" then
        rest = raw_path
      end
      local uri = upstream_path(c.service and c.service.path, rest)
      if query and query ~= "" then uri = uri .. "?" .. query end
      return c.route, c.service, uri, matched
    end
  end
  return nil
end

return _M
