-- Admin API routes of guard-ai. GET /guard-ai/status: the quota state of every plugin instance as the worker
-- that answers sees it (each worker has its own engines and Redis sync thread; the buckets are node-wide).
local guard_engine = require "kong.plugins.guard-ai.engine"

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
