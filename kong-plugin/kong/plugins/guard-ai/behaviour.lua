-- Behaviour as a signal (issue 5), the plugin side: the node behaviour region, response feeding (log phase),
-- the blocklist admin calls and the behaviour/cache status. Thin: the engines live in libguard
-- (docs/fingerprint.md); this module only moves values across the FFI boundary.
local ffi = require "ffi"
local cjson = require "cjson.safe"
local cdefs = require "kong.plugins.guard-ai.cdefs"

local lib = cdefs.lib
local C = cdefs.constants
local ffi_new, ffi_string = ffi.new, ffi.string
local tonumber, type = tonumber, type

local ERRLEN = 512
local errbuf = ffi_new("char[?]", ERRLEN)
local response = ffi_new("guard_response_info")
local decision = ffi_new("guard_decision_info")
local status = ffi_new("guard_behaviour_status")
local str_a = ffi_new("guard_str")
local str_b = ffi_new("guard_str")
local written = ffi_new("size_t[1]")
local list_cap = 64 * 1024
local list_buf = ffi_new("char[?]", list_cap)

local set_str = cdefs.set_str

local _M = {}

-- Creates the node-wide profile table and blocklist journal. Call at module load, in the nginx master
-- before fork (plain mmap, no thread), like the quota table; idempotent. bytes: GUARD_BEHAVIOUR_SHM_BYTES.
_M.DEFAULT_SHM_BYTES = 32 * 1024 * 1024
function _M.node_init(bytes)
  local rc = lib.guard_node_init_behaviour(bytes or _M.DEFAULT_SHM_BYTES, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return true
end

local decisions = { [0] = "none", "throttle", "ban" }

-- Feeds one response into its client's profile. `r`: method, path, client_ip, consumer_id, route_id (strings
-- or nil), status (number). Returns the decision table ({decision, is_new, until_unix_ms, scenario}) or nil, err.
function _M.observe(engine, r)
  set_str(response.method, r.method)
  set_str(response.path, r.path)
  set_str(response.client_ip, r.client_ip)
  set_str(response.consumer_id, r.consumer_id)
  set_str(response.route_id, r.route_id)
  response.status = r.status or 0
  response.flags = r.login_failed and C.GUARD_RESP_LOGIN_FAILED or 0
  local rc = lib.guard_observe(engine.ptr, response, decision, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return {
    decision = decisions[tonumber(decision.decision)] or "none",
    is_new = decision.is_new == 1,
    until_unix_ms = tonumber(decision.until_unix_ms),
    scenario = ffi_string(decision.scenario),
  }
end

local lists = { ban = C.GUARD_LIST_BAN, allow = C.GUARD_LIST_ALLOW }

-- Adds a blocklist entry node- and cluster-wide. list: "ban" or "allow"; ttl_s: nil or 0 = never expires.
function _M.blocklist_add(list, subject, ttl_s, reason)
  local l = lists[list or "ban"]
  if not l then
    return nil, "list must be ban or allow"
  end
  if type(subject) ~= "string" or subject == "" then
    return nil, "subject is required (an IP, a CIDR or consumer:<id>)"
  end
  ttl_s = tonumber(ttl_s) or 0
  if ttl_s < 0 then
    return nil, "ttl must be >= 0"
  end
  set_str(str_a, subject)
  set_str(str_b, reason and tostring(reason) or "admin")
  local rc = lib.guard_blocklist_add(l, str_a, ttl_s * 1000, str_b, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return true
end

function _M.blocklist_remove(list, subject)
  local l = lists[list or "ban"]
  if not l then
    return nil, "list must be ban or allow"
  end
  if type(subject) ~= "string" or subject == "" then
    return nil, "subject is required"
  end
  set_str(str_a, subject)
  local rc = lib.guard_blocklist_remove(l, str_a, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  return true
end

-- The live entries of this node's blocklist, as a Lua array.
function _M.blocklist_list()
  local rc = lib.guard_blocklist_list(list_buf, list_cap, written, errbuf, ERRLEN)
  if rc ~= 0 and tonumber(written[0]) >= list_cap then
    list_cap = tonumber(written[0]) * 2 + 1
    list_buf = ffi_new("char[?]", list_cap)
    rc = lib.guard_blocklist_list(list_buf, list_cap, written, errbuf, ERRLEN)
  end
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  local doc, err = cjson.decode(ffi_string(list_buf, written[0]))
  if not doc then
    return nil, err
  end
  return doc.entries
end

local sync_states = { [0] = "none", "idle", "healthy", "unhealthy" }

-- Verdict cache, profiles, decisions, blocklist and Redis sync of one engine, as this worker sees them.
function _M.status(engine)
  local rc = lib.guard_engine_behaviour_status(engine.ptr, status, errbuf, ERRLEN)
  if rc ~= 0 then
    return nil, ffi_string(errbuf)
  end
  local s = status
  local n = tonumber
  return {
    cache = {
      enabled = s.cache_enabled == 1,
      hits = n(s.cache_hits), misses = n(s.cache_misses), inserts = n(s.cache_inserts),
      evictions = n(s.cache_evictions), expired = n(s.cache_expired), suppressed = n(s.cache_suppressed),
      size = n(s.cache_size), capacity = n(s.cache_capacity), warmed = n(s.cache_warmed),
    },
    behaviour = {
      enabled = s.behaviour_enabled == 1,
      node_profiles = s.node_profiles == 1,
      profiles_live = n(s.profiles_live), profiles_capacity = n(s.profiles_capacity),
      profiles_memory_bytes = n(s.profiles_memory_bytes), profiles_evicted = n(s.profiles_evicted),
      decisions_throttle = n(s.decisions_throttle), decisions_ban = n(s.decisions_ban),
      requests_banned = n(s.requests_banned), requests_throttled = n(s.requests_throttled),
      requests_cache_blocked = n(s.requests_cache_blocked),
    },
    blocklist = {
      entries = n(s.blocklist_entries), static_entries = n(s.blocklist_static),
      journal_seq = n(s.journal_seq), journal_lost = n(s.journal_lost),
    },
    redis = {
      sync = sync_states[n(s.sync_state)],
      rounds_ok = n(s.sync_rounds_ok), rounds_failed = n(s.sync_rounds_failed),
      lines_published = n(s.sync_lines_published), lines_pulled = n(s.sync_lines_pulled),
      l2_fetches = n(s.l2_fetches), l2_hits = n(s.l2_hits), l2_stores = n(s.l2_stores), l2_dropped = n(s.l2_dropped),
      last_ok_unix_ms = n(s.sync_last_ok_unix_ms), last_error = ffi_string(s.sync_last_error),
    },
  }
end

return _M
