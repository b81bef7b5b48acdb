// Behaviour as a signal (issue 5): what an Engine holds for the stages around the signatures.
//
//   blocklist (before parsing) -> signatures -> request-shape fingerprint -> verdict cache -> behaviour
//
// The L1 verdict cache itself is Engine::verdict_cache() (the lead's slot: later stages store their answers
// there too). Profiles are in the node table when guard_node_init_behaviour made one (engine/behaviour_node.h),
// keyed by client key x plugin instance so that two instances with different scenarios never share buckets.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "behaviour/behaviour.h"
#include "blocklist/blocklist.h"
#include "cluster/state_sync.h"
#include "fingerprint/request_shape.h"
#include "request/fields.h"
#include "signatures/matcher.h"

namespace guard::engine {

struct SignalState {
  std::unique_ptr<behaviour::BehaviourEngine> behaviour;  // nullptr: behaviour.enabled is false
  bool node_profiles = false;
  uint64_t instance_key = 0;
  blocklist::Blocklist static_list;  // the config's blocklist section (never expires)
  size_t static_entries = 0;
  cluster::StateSync* sync = nullptr;  // the redis section's sync (blocklist + L2), nullptr without Redis
  size_t warmed = 0;                   // warm-file entries loaded into L1
  mutable std::atomic<uint64_t> decisions_throttle{0}, decisions_ban{0};
  mutable std::atomic<uint64_t> requests_banned{0}, requests_throttled{0}, requests_cache_blocked{0};
};

// The request-shape fingerprint of a parsed and scanned request: query and body arguments always, cookies and
// headers only when a rule flagged them, flagged values as token skeletons. Allocation-free after warm-up
// (per-thread buffers).
fingerprint::RequestFingerprint FingerprintFields(std::string_view method, const request::FieldList& fields,
                                                  std::span<const signatures::Match> matches);

}  // namespace guard::engine
