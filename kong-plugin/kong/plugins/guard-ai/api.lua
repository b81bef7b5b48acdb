-- Admin API routes of guard-ai. GET /guard-ai/status: the quota state of every plugin instance as the worker
-- that answers sees it (each worker has its own engines and Redis sync thread; the buckets are node-wide).
local guard_engine = require "kong.plugins.guard-ai.engine"
local behaviour = require "kong.plugins.guard-ai.behaviour"

return {
  ["/guard-ai/status"] = {
    GET = function(self, db, helpers)
      return kong.response.exit(200, {
        version = guard_engine.version(),
        worker_pid = ngx.worker and ngx.worker.pid() or nil,
        instances = guard_engine.status(),
      })
    end,
  },

  -- Behaviour as a signal (issue 5). The blocklist of the node (IPs, CIDRs, consumer:<id>), shared by every
  -- plugin instance: an admin request reaches one worker, the node journal carries it to the others before
  -- their next request and the redis section's Redis to the other nodes. The allow list always wins.
  --   GET    /guard-ai/blocklist                                  live entries
  --   POST   /guard-ai/blocklist  subject, list=ban|allow, ttl (s, 0 = never), reason
  --   DELETE /guard-ai/blocklist  subject, list=ban|allow
  ["/guard-ai/blocklist"] = {
    GET = function(self, db, helpers)
      local entries, err = behaviour.blocklist_list()
      if not entries then
        return kong.response.exit(500, { message = err })
      end
      return kong.response.exit(200, { entries = setmetatable(entries, require("cjson").array_mt) })
    end,
    POST = function(self, db, helpers)
      local p = self.params
      local ok, err = behaviour.blocklist_add(p.list or "ban", p.subject, p.ttl, p.reason)
      if not ok then
        return kong.response.exit(400, { message = err })
      end
      return kong.response.exit(201, { subject = p.subject, list = p.list or "ban", ttl = tonumber(p.ttl) or 0 })
    end,
    DELETE = function(self, db, helpers)
      local p = self.params
      local ok, err = behaviour.blocklist_remove(p.list or "ban", p.subject)
      if not ok then
        return kong.response.exit(400, { message = err })
      end
      return kong.response.exit(204)
    end,
  },

  -- AI feedback for the accuracy strategy (docs/ai.md): {"provider": "<name>", "agreed": true|false}.
  ["/guard-ai/feedback"] = {
    POST = function(self, db, helpers)
      local provider, agreed = self.params.provider, self.params.agreed
      if type(provider) ~= "string" or provider == "" or type(agreed) ~= "boolean" then
        return kong.response.exit(400, { message = "expected {\"provider\": <name>, \"agreed\": true|false}" })
      end
      local n = require("kong.plugins.guard-ai.ai").feedback_all(provider, agreed)
      if n == 0 then
        return kong.response.exit(404, { message = "no AI provider named '" .. provider .. "' in this worker" })
      end
      return kong.response.exit(200, { engines = n, worker_pid = ngx.worker and ngx.worker.pid() or nil })
    end,
  },
}
