// The engine behind one plugin config: validated config + compiled detectors, immutable once built.
//
// Kong builds one engine per plugin instance (in configure(), or lazily on first use) and frees it when
// the config goes away. Inspect() runs per request on the nginx worker thread; it keeps its per-thread
// mutable state (parsed fields, Hyperscan scratch) in thread-local storage so the engine itself needs no
// locks and a steady-state request allocates nothing.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "guard.h"
#include "protocol/checks.h"
#include "signatures/matcher.h"

namespace guard::engine {

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(std::string_view config_json);

  // Fills *verdict completely. Returns an error only on an internal failure; the verdict then follows
  // the config's mode as if nothing matched, and the error says why.
  absl::Status Inspect(const guard_request& req, guard_verdict* verdict) const;

  const config::Config& config() const { return config_; }

 private:
  Engine() = default;
  config::Config config_;
  request::Limits limits_;
  std::shared_ptr<const signatures::Matcher> matcher_;
  std::unique_ptr<protocol::Checker> protocol_;
};

}  // namespace guard::engine
