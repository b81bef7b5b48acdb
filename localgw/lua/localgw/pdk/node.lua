-- kong.node: identity of this gateway instance. The id is created once per prefix (file "node.id") so it is
-- stable across restarts, like Kong's node id kept in its prefix.

local uuid = require "kong.tools.uuid"

local _M = {}

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function _M.new(prefix)
  local path = prefix .. "/node.id"
  local id = read_file(path)
  id = id and id:match("^%s*(%S+)%s*$")
  if not uuid.is_valid_uuid(id) then
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
    id = uuid.uuid()
    local f = io.open(path, "wb")
    if f then
      f:write(id, "\n")
      f:close()
    end
  end
  local hostname = (read_file("/proc/sys/kernel/hostname") or "localhost"):gsub("%s+$", "")

  return {
    get_id = function() return id end,
    get_hostname = function() return hostname end,
  }
end

return _M
