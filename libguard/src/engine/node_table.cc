#include "engine/node_table.h"

#include <mutex>

#include "quota/engine.h"

namespace guard::engine {
namespace {

struct Table {
  quota::SharedRegion region;
  quota::BucketTable table;
};

// Both live for the process's life (never freed: workers and engines keep pointers into them).
std::mutex g_mu;
Table* g_node = nullptr;
Table* g_local = nullptr;

absl::StatusOr<Table*> Make(size_t bytes) {
  auto region = quota::SharedRegion::Create(bytes);
  if (!region.ok()) return region.status();
  auto table = quota::BucketTable::Format(region->data(), region->size(), quota::MonotonicNowNs());
  if (!table.ok()) return table.status();
  table->set_clock(quota::MonotonicNowNs);  // the clock Engine::CheckQuota passes as now_ns
  return new Table{std::move(*region), *table};
}

}  // namespace

absl::Status InitNodeTable(size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_node != nullptr) return absl::OkStatus();
  auto t = Make(bytes);
  if (!t.ok()) return t.status();
  g_node = *t;
  return absl::OkStatus();
}

absl::StatusOr<const quota::BucketTable*> NodeTableOrLocal() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_node != nullptr) return &g_node->table;
  if (g_local == nullptr) {
    auto t = Make(kLocalTableBytes);
    if (!t.ok()) return t.status();
    g_local = *t;
  }
  return &g_local->table;
}

bool HasNodeTable() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_node != nullptr;
}

}  // namespace guard::engine
