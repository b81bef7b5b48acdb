-- Test-only plugin for localgw's own e2e tests: exercises the schema DSL features plugins rely on.
local typedefs = require "kong.db.schema.typedefs"

local function no_whitespace(v)
  if v:find("%s") then return nil, "must not contain whitespace" end
  return true
end

return {
  name = "echo-header",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { header_name = typedefs.header_name { default = "X-Echo-Header" } },
          { value = { type = "string", default = "hello", custom_validator = no_whitespace } },
          { mode = { type = "string", default = "monitor", one_of = { "block", "monitor" } } },
          { block_status = { type = "integer", default = 403, between = { 400, 599 } } },
          { strict = { type = "boolean", default = false } },
          { tag = { type = "string" } },                      -- optional, no default
          { min = { type = "integer", gt = 0 } },              -- optional, no default
          { max = { type = "integer", gt = 0 } },              -- optional, no default
          { allow = { type = "array", default = {}, elements = typedefs.ip_or_cidr } },
          { exit_in_header_filter = { type = "boolean", default = false } },
          { fail_in = { type = "string", one_of = { "access", "header_filter", "log" } } },  -- raise there
        },
        -- A record-level validator sees absent optional fields as ngx.null (Kong behaviour), never nil.
        custom_validator = function(conf)
          if conf.strict == true and conf.tag == ngx.null then
            return nil, "tag must be set when strict is true"
          end
          return true
        end,
        entity_checks = {
          { custom_entity_check = {
              field_sources = { "min", "max" },
              fn = function(e)
                -- Guard against ngx.null: `e.min > e.max` would raise on an absent field.
                if type(e.min) == "number" and type(e.max) == "number" and e.min > e.max then
                  return nil, "min must not exceed max"
                end
                return true
              end,
          } },
          { conditional_at_least_one_of = { if_field = "strict", if_match = { eq = true },
                                            then_at_least_one_of = { "min", "max" },
                                            then_err = "strict mode needs one of %s" } },
          { conditional = { if_field = "mode", if_match = { eq = "block" },
                            then_field = "block_status", then_match = { between = { 400, 499 } },
                            then_err = "block_status must be a 4xx when mode is block" } },
        },
    } },
  },
}
