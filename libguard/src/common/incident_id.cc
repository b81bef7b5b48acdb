#include "common/incident_id.h"

#include <sys/random.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>

namespace guard::common {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Generator {
  uint64_t state = 0;
  pid_t pid = 0;
};

thread_local Generator t_gen;

}  // namespace

void NewIncidentId(char* out, size_t out_len) {
  if (out_len < 33) {
    if (out_len) out[0] = '\0';
    return;
  }
  // getpid() is served from the vDSO-free syscall path only on the incident path (block/monitor), which
  // is rare and already writes logs; the allow path never gets here.
  pid_t pid = getpid();
  if (t_gen.pid != pid) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {
      seed = static_cast<uint64_t>(time(nullptr)) ^ reinterpret_cast<uintptr_t>(&t_gen);
    }
    t_gen.state = seed ^ (static_cast<uint64_t>(pid) << 32);
    t_gen.pid = pid;
  }
  static const char kHex[] = "0123456789abcdef";
  for (int half = 0; half < 2; ++half) {
    uint64_t v = SplitMix64(&t_gen.state);
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = kHex[(v >> (60 - 4 * i)) & 0xf];
  }
  out[32] = '\0';
}

}  // namespace guard::common
