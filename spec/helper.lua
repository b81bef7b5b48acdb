-- Loaded by busted before the specs: module paths for the plugin, the local gateway's Kong compatibility
-- modules (kong.db.schema.typedefs, the schema validator) and the freshly built libguard.so.
local root = os.getenv("GUARD_ROOT") or "."
local build = os.getenv("GUARD_BUILD_DIR") or (root .. "/build")
package.path = table.concat({
  root .. "/kong-plugin/?.lua",
  root .. "/localgw/lua/?.lua",
  root .. "/localgw/lua/?/init.lua",
  root .. "/spec/?.lua",
  package.path,
}, ";")
package.cpath = build .. "/?.so;" .. package.cpath

-- Kong's cjson (OpenResty's fork) has cjson.array_mt; Debian's lua-cjson does not. localgw gives it the
-- same extension in nginx; do the same here so the plugin sees Kong's cjson in specs too.
require("localgw.cjson_compat").apply()

-- Outside nginx there is no ngx table; the plugin only needs ngx.null (which is cjson.null in OpenResty).
if not rawget(_G, "ngx") then
  _G.ngx = { null = require("cjson").null }
end
