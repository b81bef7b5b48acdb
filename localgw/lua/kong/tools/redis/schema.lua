-- kong.tools.redis.schema as shipped since Kong 3.6 (shared Redis connection fields for plugin schemas).
local typedefs = require "kong.db.schema.typedefs"

local DEFAULT_TIMEOUT = 2000

return {
  config_schema = {
    type = "record",
    fields = {
      { host = typedefs.host },
      { port = typedefs.port },
      { timeout = typedefs.timeout { default = DEFAULT_TIMEOUT } },
      { connect_timeout = typedefs.timeout },
      { send_timeout = typedefs.timeout },
      { read_timeout = typedefs.timeout },
      { username = { type = "string", referenceable = true } },
      { password = { type = "string", encrypted = true, referenceable = true, len_min = 0 } },
      { database = { type = "integer", default = 0 } },
      { ssl = { type = "boolean", required = false, default = false } },
      { ssl_verify = { type = "boolean", required = false, default = false } },
      { server_name = typedefs.sni { required = false } },
      { keepalive_pool_size = { type = "integer", default = 256, between = { 1, 2147483646 } } },
      { keepalive_backlog = { type = "integer", between = { 0, 2147483646 } } },
    },
    entity_checks = {
      { mutually_required = { "host", "port" } },
    },
  },
}
