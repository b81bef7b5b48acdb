// Node-wide behaviour state: the profile table every nginx worker updates, and the blocklist journal that
// carries bans and allows from the worker that decided them to the others.
//
// guard_node_init_behaviour (the plugin calls it at module load, in the nginx master before fork) maps one
// MAP_SHARED region: a journal ring of blocklist lines, then a ProfileTable (behaviour/profile_table.h).
// Every worker inherits both, so a client spread over the workers fills one set of buckets, and a ban
// decided in one worker (behaviour, admin API) is in every worker's blocklist before its next request:
// each Inspect compares the journal's sequence number with the last one it applied (one atomic load) and
// applies the new lines only when they differ (rare: decisions, not requests).
//
// Without the region (guardctl, tests, a host that never forks) engines keep profiles in their own
// process and the journal does not exist: the process blocklist is still shared by every engine of the
// process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "behaviour/profile_table.h"
#include "blocklist/blocklist.h"

namespace guard::engine {

inline constexpr size_t kDefaultBehaviourNodeBytes = size_t{32} << 20;  // GUARD_BEHAVIOUR_SHM_BYTES default
inline constexpr size_t kJournalEntries = 1024;
inline constexpr size_t kJournalLineBytes = 320;

// Creates the node region (idempotent). bytes covers the journal (~330 KiB) and the profile table.
absl::Status InitBehaviourNode(size_t bytes);
// The node profile table, or nullptr when InitBehaviourNode was not called in this process tree.
behaviour::ProfileTable* NodeProfiles();

// The blocklist of this process: admin entries, behaviour bans and what Redis brought. Engines add their
// config's static entries on their own (those belong to one plugin instance).
blocklist::Blocklist& SharedBlocklist();

// Applies lines ("ban <subject> <expires_unix_ms> <reason>", blocklist.h) here and appends them to the
// node journal for the other workers. `origin_local` lines are also handed to the cluster publisher
// (Redis) when one is registered.
absl::Status PublishBlocklistLines(std::string_view lines);

// Applies journal lines that other workers wrote since the last call. One atomic load when nothing changed.
void CatchUpBlocklist();

// The publisher of locally decided lines to the cluster (cluster/state_sync.h registers itself).
using LinePublisher = void (*)(std::string_view lines);
void SetClusterPublisher(LinePublisher p);

// Counters for the status endpoint.
struct NodeStats {
  bool node_region = false;
  uint64_t journal_seq = 0;     // lines written to the journal (node-wide)
  uint64_t journal_lost = 0;    // lines this process missed because the ring wrapped before it caught up
};
NodeStats BehaviourNodeStats();

// Wall-clock milliseconds from CLOCK_REALTIME_COARSE (vDSO: no syscall; ~4 ms resolution). Decisions expire
// in unix ms so that Redis, other nodes and the admin API agree on them.
int64_t CoarseUnixMs();
// Benchmarks and tests only: replaces that clock (simulated time); nullptr restores it.
void SetClockForTesting(int64_t (*now_ms)());

}  // namespace guard::engine
