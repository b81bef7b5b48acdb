-- The Lua half of Kong Guard AI. libguard.so (the engine) is built with CMake from the same repository
-- and installed on Kong's lua cpath (e.g. /usr/local/lib/lua/5.1/libguard.so); see README.md and
-- the Dockerfile.
package = "kong-plugin-guard-ai"
version = "0.1.0-1"
source = {
  url = "git+https://example.invalid/kong-guard-ai.git",
  tag = "v0.1.0",
}
description = {
  summary = "Kong Guard AI: WAF signatures, behaviour, quotas and LLM escalation in libguard via LuaJIT FFI",
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.1",
}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.guard-ai.handler"] = "kong/plugins/guard-ai/handler.lua",
    ["kong.plugins.guard-ai.schema"] = "kong/plugins/guard-ai/schema.lua",
    ["kong.plugins.guard-ai.cdefs"] = "kong/plugins/guard-ai/cdefs.lua",
    ["kong.plugins.guard-ai.engine"] = "kong/plugins/guard-ai/engine.lua",
    ["kong.plugins.guard-ai.api"] = "kong/plugins/guard-ai/api.lua",
    ["kong.plugins.guard-ai.behaviour"] = "kong/plugins/guard-ai/behaviour.lua",
  },
}
