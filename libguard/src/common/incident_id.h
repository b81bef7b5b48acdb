// Incident ids: unique, unguessable ids for non-allow verdicts, so a blocked client can quote one to
// support and operators can find the matching log line. 128 random bits as 32 hex characters.
//
// A per-thread generator is seeded once (one getrandom() on the first incident of a thread, never on the
// allow path) and then advanced without syscalls; a fork copies the state, so the seed is mixed with the
// pid re-read lazily when it changes (nginx workers are forked from one master).
#pragma once

#include <cstddef>

namespace guard::common {

// Writes 32 hex characters and a NUL into out (out_len >= 33).
void NewIncidentId(char* out, size_t out_len);

}  // namespace guard::common
