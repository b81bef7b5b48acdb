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
}
