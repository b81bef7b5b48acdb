-- kong.meta: the version localgw stands in for (Kong 3.9).
local version = setmetatable({ major = 3, minor = 9, patch = 0 }, {
  __tostring = function(t) return string.format("%d.%d.%d", t.major, t.minor, t.patch) end,
})

return {
  _NAME = "kong",
  _VERSION = tostring(version),
  _VERSION_TABLE = version,
  _SERVER_TOKENS = "kong/" .. tostring(version),
  _DEPENDENCIES = { nginx = { "1.25.3.2" } },
}
