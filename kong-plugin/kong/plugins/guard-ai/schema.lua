-- guard-ai config schema in Kong's DSL. It mirrors schema/guard-config.schema.json, the one source of
-- truth (spec/schema_agreement_spec.lua proves they agree); libguard validates against that file again
-- when it builds an engine.
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "guard-ai",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { mode = { description = "block: answer attacks with block_status; monitor: let them through, add headers and log.",
                     type = "string", required = true, default = "block", one_of = { "block", "monitor" } } },
          { paranoia_level = { description = "1 (fewest false positives) to 4 (most rules).",
                               type = "integer", required = true, default = 1, between = { 1, 4 } } },
          { anomaly_threshold = { description = "Anomaly score at which a request is an attack.",
                                  type = "integer", required = true, default = 5, between = { 1, 1000 } } },
          { inspect_body = { description = "Inspect request bodies.",
                             type = "boolean", required = true, default = true } },
          { max_body_bytes = { description = "Bytes of body inspected; the rest is reported as uninspected.",
                               type = "integer", required = true, default = 65536, between = { 0, 16777216 } } },
          { block_status = { description = "HTTP status of a blocked request.",
                             type = "integer", required = true, default = 403, between = { 400, 599 } } },
          { block_message = { description = "The message field of the JSON body of a blocked request.",
                              type = "string", required = true, default = "Request blocked by Kong Guard AI",
                              len_min = 1, len_max = 256 } },
          { disabled_rules = { description = "Rule ids never evaluated for this plugin instance.",
                               type = "set", required = true, default = {},
                               elements = { type = "integer", between = { 1, 4294967295 } } } },
          { verdict_headers = { description = "Add X-Guard-* headers to responses of inspected requests.",
                                type = "boolean", required = true, default = true } },
        },
      },
    },
  },
}
