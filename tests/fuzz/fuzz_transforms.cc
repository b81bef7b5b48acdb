// libFuzzer target: every transform alone and one fuzzer-chosen chain, checking the bounds they promise.
//
// Input: byte 0 = chain length (mod 8), then that many bytes naming transforms (mod kCount), then the
// value. The value is copied into an exactly-sized heap block so that ASan catches reads past its end.
// Checked: no output is longer than its input, lowercase leaves no uppercase, removeNulls leaves no
// NUL, applying a chain twice with the same scratch buffers gives the same answer, and a transform whose
// MayChange() bit is clear gives the value back unchanged (the matcher skips it on that promise).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "transforms/transforms.h"

using guard::transforms::Apply;
using guard::transforms::Transform;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chain_len = data[0] % 8;
  if (size < 1 + chain_len) return 0;
  std::vector<Transform> chain;
  for (size_t i = 0; i < chain_len; ++i)
    chain.push_back(static_cast<Transform>(data[1 + i] % static_cast<uint8_t>(Transform::kCount)));
  size_t len = size - 1 - chain_len;
  std::unique_ptr<char[]> value(new char[len ? len : 1]);
  std::memcpy(value.get(), data + 1 + chain_len, len);
  std::string_view in(value.get(), len);

  static std::string a, b;  // reused, as a worker reuses them
  for (int t = 0; t < static_cast<int>(Transform::kCount); ++t) {
    Transform one[] = {static_cast<Transform>(t)};
    std::string_view out = Apply(one, in, &a, &b);
    if (out.size() > in.size()) abort();
    if (one[0] == Transform::kLowercase)
      for (char c : out)
        if (c >= 'A' && c <= 'Z') abort();
    if (one[0] == Transform::kRemoveNulls && out.find('\0') != std::string_view::npos) abort();
    if (!(guard::transforms::MayChange(in) & guard::transforms::Bit(one[0])) && out != in) abort();
  }
  std::string first(Apply(chain, in, &a, &b));
  if (first.size() > in.size()) abort();
  if (Apply(chain, in, &a, &b) != first) abort();
  return 0;
}
