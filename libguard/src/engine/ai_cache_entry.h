// How an AI answer becomes a verdict-cache entry (engine_ai.cc), apart so that tests can pin it down.
#pragma once

#include <cstdint>
#include <string_view>

#include "cache/verdict_cache.h"
#include "fingerprint/stable_hash.h"
#include "providers/verdict.h"

namespace guard::engine {

// Parses guard_verdict.fingerprint: exactly 32 hex digits, hi then lo (fingerprint::Hash128::Hex). False for
// "" (no fingerprint computed) and anything else.
bool ParseFingerprintHex(std::string_view hex, fingerprint::Hash128* out);

// The entry for an escalated verdict (score, threshold, categories, first rule) answered by the AI: a block is
// malicious, scored at least the threshold (a cached block must block) and carries the AI's category bit;
// anything else is benign with the local score. The cache itself refuses a benign entry for a request the
// signatures flagged.
cache::CachedVerdict AiCacheEntry(const providers::AiVerdict& ai, int32_t score, int32_t threshold,
                                  uint64_t categories, uint32_t rule_id);

}  // namespace guard::engine
