-- kong.db.schema.typedefs for localgw: the subset of Kong 3.9's typedefs a plugin schema uses.
-- Like Kong's, each typedef can be used as is or called with overrides: `typedefs.timeout { default = 2000 }`.
-- Validation messages follow Kong's wording where known.

local null = ngx and ngx.null or require("cjson").null

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  return out
end

local typedef_mt = {
  __call = function(self, overrides)
    local out = deepcopy(self)
    for k, v in pairs(overrides or {}) do out[k] = v end
    return setmetatable(out, getmetatable(self))
  end,
}

local function define(t)
  return setmetatable(t, typedef_mt)
end

local function is_ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, x in ipairs({ a, b, c, d }) do
    if tonumber(x) > 255 or (#x > 1 and x:sub(1, 1) == "0") then return false end
  end
  return true
end

local function is_ipv6(s)
  if not s:find(":", 1, true) or s:find("[^%x:%.]") then return false end
  local double = select(2, s:gsub("::", ""))
  if double > 1 then return false end
  local groups = 0
  for g in (s .. ":"):gmatch("([^:]*):") do
    if g ~= "" then
      if g:find("%.") then
        if not is_ipv4(g) then return false end
        groups = groups + 2
      elseif #g > 4 then
        return false
      else
        groups = groups + 1
      end
    end
  end
  return (double == 1 and groups < 8) or groups == 8
end

local function is_ip(s) return is_ipv4(s) or is_ipv6(s) end

local function is_cidr(s)
  local ip, bits = s:match("^(.+)/(%d+)$")
  if not ip then return false end
  bits = tonumber(bits)
  if is_ipv4(ip) then return bits <= 32 end
  if is_ipv6(ip) then return bits <= 128 end
  return false
end

local function validate_ip(v)
  if is_ip(v) then return true end
  return nil, "not an ip address: " .. v
end

local function validate_cidr(v)
  if is_cidr(v) then return true end
  return nil, "invalid cidr range: " .. v
end

local function validate_ip_or_cidr(v)
  if is_ip(v) or is_cidr(v) then return true end
  return nil, "invalid ip or cidr range: '" .. v .. "'"
end

local function validate_host(v)
  if is_ip(v) then return true end
  local host = v:match("^%[(.+)%]$") or v
  if is_ipv6(host) then return true end
  if #host > 253 or not host:match("^[%w%-%.%*_]+$") or host:find("%.%.") then
    return nil, "invalid value: " .. v
  end
  return true
end

local function validate_header_name(v)
  if v:match("^[%w_%-]+$") then return true end
  return nil, "bad header name '" .. v .. "', allowed characters are A-Z, a-z, 0-9, '_', and '-'"
end

local function validate_path(v)
  if v:find("[%s%?#]") then return nil, "invalid path: '" .. v .. "' (characters outside of the reserved list of RFC 3986 found)" end
  return true
end

local function validate_url(v)
  if v:match("^https?://[^/%s]+") or v:match("^grpcs?://[^/%s]+") or v:match("^tcp://[^/%s]+") then return true end
  return nil, "missing host in url"
end

local HTTP_PROTOCOLS = { "grpc", "grpcs", "http", "https", "ws", "wss" }
local ALL_PROTOCOLS = { "grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss" }

local typedefs = {}

typedefs.no_consumer = define { type = "foreign", reference = "consumers", eq = null }
typedefs.no_route = define { type = "foreign", reference = "routes", eq = null }
typedefs.no_service = define { type = "foreign", reference = "services", eq = null }
typedefs.no_consumer_group = define { type = "foreign", reference = "consumer_groups", eq = null }

typedefs.protocols = define {
  type = "set", required = true, default = { "grpc", "grpcs", "http", "https" },
  elements = { type = "string", one_of = ALL_PROTOCOLS },
}
typedefs.protocols_http = define {
  type = "set", required = true, default = { "grpc", "grpcs", "http", "https" },
  elements = { type = "string", one_of = HTTP_PROTOCOLS },
}

typedefs.host = define { type = "string", custom_validator = validate_host }
typedefs.port = define { type = "integer", between = { 0, 65535 } }
typedefs.timeout = define { type = "integer", between = { 0, math.pow(2, 31) - 2 } }
typedefs.ip = define { type = "string", custom_validator = validate_ip }
typedefs.cidr = define { type = "string", custom_validator = validate_cidr }
typedefs.ip_or_cidr = define { type = "string", custom_validator = validate_ip_or_cidr }
typedefs.header_name = define { type = "string", custom_validator = validate_header_name }
typedefs.path = define {
  type = "string", starts_with = "/",
  match_none = { { pattern = "//", err = "must not have empty segments" } },
  custom_validator = validate_path,
}
typedefs.url = define { type = "string", custom_validator = validate_url }
typedefs.uuid = define { type = "string", uuid = true, auto = true }
typedefs.name = define { type = "string", unique = true }
typedefs.tags = define { type = "set", elements = { type = "string", len_min = 1, len_max = 128 } }
typedefs.http_method = define { type = "string", match = "^%u+$" }
typedefs.sni = define { type = "string", custom_validator = validate_host }
typedefs.semantic_version = define { type = "string", match = "^%d+%.%d+%.?%d*$" }
typedefs.lua_code = define { type = "map", keys = { type = "string", len_min = 1 }, values = { type = "string", len_min = 1 } }

-- Helpers plugins sometimes import alongside the typedefs.
typedefs._is_ip = is_ip
typedefs._is_cidr = is_cidr

return typedefs
