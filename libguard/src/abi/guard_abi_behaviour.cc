// The C ABI of behaviour as a signal (guard.h, issue 5): response feeding, the node behaviour region, the
// blocklist and the behaviour/cache status. Same rules as guard_abi.cc: function-try-blocks, caller buffers.
#include <cstring>
#include <string>

#include "abi/abi_internal.h"
#include "absl/strings/str_cat.h"
#include "blocklist/blocklist.h"
#include "engine/behaviour_node.h"
#include "engine/signals.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace {

using guard::abi::Fail;
using guard::abi::SetError;
using guard::abi::ValidStr;
using guard::common::CopyCut;

std::string_view View(const guard_str& s) { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }

bool ValidResponse(const guard_response_info* r) {
  return ValidStr(r->method) && ValidStr(r->path) && ValidStr(r->client_ip) && ValidStr(r->consumer_id) &&
         ValidStr(r->route_id);
}

// A subject as the blocklist writes it (canonical CIDR or consumer:<id>), or an error.
absl::StatusOr<std::string> CanonicalSubject(std::string_view subject) {
  if (subject.substr(0, 9) == "consumer:") {
    if (subject.size() == 9) return absl::InvalidArgumentError("empty consumer id");
    for (char c : subject)
      if (c == ' ' || c == '\n' || c == '\r') return absl::InvalidArgumentError("subject contains whitespace");
    return std::string(subject);
  }
  auto cidr = guard::blocklist::ParseCidr(subject);
  if (!cidr.ok()) return cidr.status();
  return guard::blocklist::FormatCidr(*cidr);
}

}  // namespace

extern "C" {

GUARD_API int guard_node_init_behaviour(size_t shm_bytes, char* errbuf, size_t errlen) try {
  return guard::abi::InitNodeRegion(guard::engine::InitBehaviourNode, shm_bytes, errbuf, errlen);
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_observe(const guard_engine* engine, const guard_response_info* response,
                            guard_decision_info* out, char* errbuf, size_t errlen) try {
  if (!engine || !response) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine or response");
  if (!ValidResponse(response)) return Fail(errbuf, errlen, GUARD_EINVAL, "response has a NULL pointer with a non-zero length");
  absl::Status st = engine->impl->Observe(*response, out);
  if (!st.ok()) return Fail(errbuf, errlen, GUARD_EINTERNAL, st);
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_blocklist_add(int list, guard_str subject, int64_t ttl_ms, guard_str reason, char* errbuf,
                                  size_t errlen) try {
  if (list != GUARD_LIST_BAN && list != GUARD_LIST_ALLOW) return Fail(errbuf, errlen, GUARD_EINVAL, "list must be GUARD_LIST_BAN or GUARD_LIST_ALLOW");
  if (!ValidStr(subject) || !ValidStr(reason)) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL subject or reason");
  if (ttl_ms < 0) return Fail(errbuf, errlen, GUARD_EINVAL, "ttl_ms is negative");
  auto canonical = CanonicalSubject(View(subject));
  if (!canonical.ok()) return Fail(errbuf, errlen, GUARD_EINVAL, canonical.status());
  std::string why(View(reason).substr(0, guard::blocklist::kMaxReason));
  for (char& c : why)
    if (c == '\n' || c == '\r') c = ' ';  // one line per entry in the propagation format
  const int64_t expires = ttl_ms == 0 ? 0 : guard::engine::CoarseUnixMs() + ttl_ms;
  std::string line = std::string(list == GUARD_LIST_BAN ? "ban " : "allow ") + *canonical + " " +
                     std::to_string(expires) + (why.empty() ? "" : " ") + why + "\n";
  absl::Status st = guard::engine::PublishBlocklistLines(line);
  if (!st.ok()) return Fail(errbuf, errlen, GUARD_EINVAL, st);
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_blocklist_remove(int list, guard_str subject, char* errbuf, size_t errlen) try {
  if (list != GUARD_LIST_BAN && list != GUARD_LIST_ALLOW) return Fail(errbuf, errlen, GUARD_EINVAL, "list must be GUARD_LIST_BAN or GUARD_LIST_ALLOW");
  if (!ValidStr(subject)) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL subject");
  auto canonical = CanonicalSubject(View(subject));
  if (!canonical.ok()) return Fail(errbuf, errlen, GUARD_EINVAL, canonical.status());
  std::string line = std::string(list == GUARD_LIST_BAN ? "unban " : "unallow ") + *canonical + "\n";
  absl::Status st = guard::engine::PublishBlocklistLines(line);
  if (!st.ok()) return Fail(errbuf, errlen, GUARD_EINVAL, st);
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_blocklist_list(char* out, size_t outlen, size_t* written, char* errbuf, size_t errlen) try {
  if (!written || (!out && outlen)) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL written or out");
  guard::engine::CatchUpBlocklist();
  const int64_t now = guard::engine::CoarseUnixMs();
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("entries");
  w.StartArray();
  for (const guard::blocklist::Entry& e : guard::engine::SharedBlocklist().Entries(now)) {
    w.StartObject();
    w.Key("list");
    w.String(e.list == guard::blocklist::List::kBan ? "ban" : "allow");
    w.Key("subject");
    w.String(e.subject.data(), static_cast<rapidjson::SizeType>(e.subject.size()));
    w.Key("expires_unix_ms");
    w.Int64(e.expires_ms);
    w.Key("reason");
    w.String(e.reason.data(), static_cast<rapidjson::SizeType>(e.reason.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  *written = sb.GetSize();
  if (sb.GetSize() + 1 > outlen) {
    return Fail(errbuf, errlen, GUARD_EINVAL, "buffer too small: " + std::to_string(sb.GetSize() + 1) + " bytes needed");
  }
  std::memcpy(out, sb.GetString(), sb.GetSize());
  out[sb.GetSize()] = '\0';
  SetError(errbuf, errlen, "");
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

GUARD_API int guard_engine_behaviour_status(const guard_engine* engine, guard_behaviour_status* out, char* errbuf,
                                            size_t errlen) try {
  if (!engine || !out) return Fail(errbuf, errlen, GUARD_EINVAL, "NULL engine or out");
  std::memset(out, 0, sizeof *out);
  const guard::engine::Engine& e = *engine->impl;
  const guard::engine::SignalState* s = e.signals();
  if (const guard::cache::VerdictCache* c = e.verdict_cache()) {
    const guard::cache::VerdictCacheStats cs = c->stats();
    out->cache_enabled = 1;
    out->cache_hits = cs.hits;
    out->cache_misses = cs.misses;
    out->cache_inserts = cs.inserts;
    out->cache_evictions = cs.evictions;
    out->cache_expired = cs.expired;
    out->cache_suppressed = cs.suppressed;
    out->cache_size = c->size();
    out->cache_capacity = c->capacity();
  }
  if (s) {
    out->cache_warmed = s->warmed;
    if (s->behaviour) {
      out->behaviour_enabled = 1;
      out->node_profiles = s->node_profiles ? 1 : 0;
      const guard::behaviour::ProfileTable& t = s->behaviour->table();
      const guard::behaviour::ProfileTableStats ts = t.stats();
      out->profiles_live = t.size();
      out->profiles_capacity = t.capacity();
      out->profiles_memory_bytes = t.MemoryBytes();
      out->profiles_evicted = ts.evicted;
    }
    out->decisions_throttle = s->decisions_throttle.load();
    out->decisions_ban = s->decisions_ban.load();
    out->requests_banned = s->requests_banned.load();
    out->requests_throttled = s->requests_throttled.load();
    out->requests_cache_blocked = s->requests_cache_blocked.load();
    out->blocklist_static = s->static_entries;
    out->sync_state = GUARD_SYNC_NONE;
    if (s->sync) {
      const guard::cluster::SyncStats ss = s->sync->Stats();
      switch (ss.state) {
        case guard::cluster::SyncState::kIdle: out->sync_state = GUARD_SYNC_IDLE; break;
        case guard::cluster::SyncState::kHealthy: out->sync_state = GUARD_SYNC_HEALTHY; break;
        case guard::cluster::SyncState::kUnhealthy: out->sync_state = GUARD_SYNC_UNHEALTHY; break;
      }
      out->sync_rounds_ok = ss.rounds_ok;
      out->sync_rounds_failed = ss.rounds_failed;
      out->sync_lines_published = ss.lines_published;
      out->sync_lines_pulled = ss.lines_pulled;
      out->l2_fetches = ss.l2_fetches;
      out->l2_hits = ss.l2_hits;
      out->l2_stores = ss.l2_stores;
      out->l2_dropped = ss.l2_dropped;
      out->sync_last_ok_unix_ms = static_cast<uint64_t>(ss.last_ok_unix_ms);
      CopyCut(out->sync_last_error, sizeof out->sync_last_error, ss.last_error);
    }
  }
  guard::engine::CatchUpBlocklist();
  out->blocklist_entries = guard::engine::SharedBlocklist().size();
  const guard::engine::NodeStats ns = guard::engine::BehaviourNodeStats();
  out->journal_seq = ns.journal_seq;
  out->journal_lost = ns.journal_lost;
  return GUARD_OK;
} GUARD_ABI_CATCH(errbuf, errlen)

}  // extern "C"
