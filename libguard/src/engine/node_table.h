// The node-wide quota bucket table: one BucketTable per process tree, in a MAP_SHARED region.
//
// In Kong it is made by guard_node_init, which the plugin calls at module load, i.e. in the nginx master
// before fork (plain mmap + memset, no thread): every worker inherits the same pages, so a limit is exact
// across the workers of a node. When nothing called guard_node_init (guardctl, tests, a caller that never
// forks), the first engine with a quota section creates a smaller process-local table instead, so quotas
// still work within that process; engines built before and after a late guard_node_init may then use
// different tables (the node table wins for every engine built after it).
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "quota/shm_table.h"

namespace guard::engine {

inline constexpr size_t kDefaultNodeTableBytes = size_t{16} << 20;  // the plugin's GUARD_SHM_BYTES default
inline constexpr size_t kLocalTableBytes = size_t{1} << 20;          // process-local fallback: 16 K slots

// Creates the node table of `bytes` (idempotent: a second call keeps the first table and succeeds).
absl::Status InitNodeTable(size_t bytes);

// The node table, or (creating it on first use) the process-local one. Called when an engine is built,
// never per request.
absl::StatusOr<const quota::BucketTable*> NodeTableOrLocal();

// Whether guard_node_init made a node table in this process tree.
bool HasNodeTable();

}  // namespace guard::engine
