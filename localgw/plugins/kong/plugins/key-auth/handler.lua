-- key-auth for localgw: Kong 3.9's bundled key-auth behaviour (PRIORITY 1250, same messages and upstream
-- headers), looking credentials up in the declarative `keyauth_credentials` instead of Kong's DB cache.
-- This is the one place that reaches into localgw internals (localgw.state), because Kong's plugin uses kong.db.

local state = require "localgw.state"
local meta = require "kong.meta"

local KeyAuth = {
  PRIORITY = 1250,
  VERSION = meta._VERSION,
}

local ERR_NO_API_KEY = "No API key found in request"
local ERR_INVALID_AUTH_CRED = "Unauthorized"
local ERR_DUPLICATE_API_KEY = "Duplicate API key found"

local function www_authenticate(conf)
  return { ["WWW-Authenticate"] = 'Key realm="' .. (conf.realm or meta._NAME) .. '"' }
end

local function set_consumer(consumer, credential)
  local set_header = kong.service.request.set_header
  local clear_header = kong.service.request.clear_header
  if consumer and consumer.id then set_header("X-Consumer-ID", consumer.id) else clear_header("X-Consumer-ID") end
  if consumer and consumer.custom_id then
    set_header("X-Consumer-Custom-ID", consumer.custom_id)
  else
    clear_header("X-Consumer-Custom-ID")
  end
  if consumer and consumer.username then
    set_header("X-Consumer-Username", consumer.username)
  else
    clear_header("X-Consumer-Username")
  end
  kong.client.authenticate(consumer, credential)
  if credential then
    set_header("X-Credential-Identifier", credential.id)
    clear_header("X-Anonymous-Consumer")
  else
    clear_header("X-Credential-Identifier")
    set_header("X-Anonymous-Consumer", "true")
  end
end

local function find_key(conf)
  local headers = conf.key_in_header and kong.request.get_headers() or {}
  local query = conf.key_in_query and kong.request.get_query() or {}
  local body = {}
  if conf.key_in_body then body = kong.request.get_body() or {} end
  for _, name in ipairs(conf.key_names) do
    local key = headers[name]
    local where = "header"
    if key == nil then key, where = query[name], "query" end
    if key == nil then key, where = body[name], "body" end
    if type(key) == "table" then return nil, nil, ERR_DUPLICATE_API_KEY end
    if type(key) == "string" and key ~= "" then return key, { name = name, where = where } end
  end
  return nil
end

local function authenticate(conf)
  local key, found, dup = find_key(conf)
  if dup then return nil, { status = 401, message = dup, headers = www_authenticate(conf) } end
  if not key then return nil, { status = 401, message = ERR_NO_API_KEY, headers = www_authenticate(conf) } end
  if conf.hide_credentials then
    if found.where == "header" then
      kong.service.request.clear_header(found.name)
    elseif found.where == "query" then
      local args = kong.request.get_query()
      args[found.name] = nil
      kong.service.request.set_raw_query(ngx.encode_args(args))
    end
  end
  local credential = state.consumers.by_key[key]
  if not credential then
    return nil, { status = 401, message = ERR_INVALID_AUTH_CRED, headers = www_authenticate(conf) }
  end
  local consumer = kong.client.load_consumer(credential.consumer.id)
  if not consumer then return nil, { status = 500, message = "An unexpected error occurred" } end
  set_consumer(consumer, credential)
  return true
end

function KeyAuth:access(conf)
  if not conf.run_on_preflight and kong.request.get_method() == "OPTIONS" then return end
  -- Another auth plugin already authenticated the request: with anonymous configured, Kong lets it through.
  if conf.anonymous and kong.client.get_credential() then return end
  local ok, err = authenticate(conf)
  if ok then return end
  if conf.anonymous then
    local consumer = kong.client.load_consumer(conf.anonymous, true)
    if not consumer then
      kong.log.err("anonymous consumer ", conf.anonymous, " is configured but doesn't exist")
      return kong.response.error(500, "An unexpected error occurred")
    end
    return set_consumer(consumer, nil)
  end
  return kong.response.error(err.status, err.message, err.headers)
end

return KeyAuth
