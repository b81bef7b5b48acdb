// Client fingerprint: who is sending (client key) and what kind of software sends it (header
// fingerprint), for behaviour profiles and scenario detectors.
//
// The header fingerprint is our own design (it is not JA4H): the lowercased header names in the order
// received (proxy-added headers skipped, at most 32), the casing pattern of the names, the presence of
// headers browsers always send (Accept, Accept-Language, Accept-Encoding), cookies, client hints
// (sec-ch-ua) and a Referer, and the user-agent class. Values are never hashed, except the User-Agent
// into a separate ua_hash used to see UA rotation. Same software, same fingerprint, whatever the
// request; docs/fingerprint.md describes it. Nothing here allocates.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace guard::fingerprint {

enum class UaClass : uint8_t { kEmpty, kBrowser, kBot, kScanner, kCliTool, kLibrary, kOther };
std::string_view UaClassName(UaClass c);
UaClass ClassifyUserAgent(std::string_view user_agent);

enum class NameCasing : uint8_t {
  kLower,  // "user-agent": HTTP/2, or a proxy that lowercased
  kTitle,  // "User-Agent": browsers on HTTP/1.1, most libraries
  kMixed,  // some of each (Chrome on HTTP/1.1 lowercases its sec-ch-ua hints), or odd casing
           // ("USER-agent", "X-Api-KEY"): often hand-made requests
};

enum HeaderTrait : uint16_t {
  kHasAccept = 1u << 0,
  kHasAcceptLanguage = 1u << 1,
  kHasAcceptEncoding = 1u << 2,
  kHasCookie = 1u << 3,
  kHasSecChUa = 1u << 4,
  kHasReferer = 1u << 5,
  // Claims to be a browser but lacks what every browser sends (Accept and Accept-Language).
  kUaInconsistent = 1u << 6,
};

struct HeaderView {
  std::string_view name;
  std::string_view value;
};

struct HeaderFingerprint {
  uint64_t hash = 0;      // stable: names in order + casing + traits + UA class
  uint64_t ua_hash = 0;   // stable hash of the exact User-Agent value (0 when absent)
  UaClass ua_class = UaClass::kEmpty;
  NameCasing casing = NameCasing::kLower;
  uint16_t traits = 0;    // HeaderTrait bits
  uint8_t names = 0;      // header names that entered the hash
};

// headers in the order received. With a source that lost the order (a Lua table), pass them sorted:
// the order component is then constant and the rest still works.
HeaderFingerprint FingerprintHeaders(std::span<const HeaderView> headers);

// "kgh1:<casing>:<traits hex>:<ua class>:<12 hex of hash>", for logs and the docs.
std::string DescribeHeaderFingerprint(const HeaderFingerprint& fp);

// The key behaviour profiles are kept under: the consumer when one was identified (it survives IP
// changes), the client IP otherwise. Stable across processes, so workers and nodes agree.
struct ClientKey {
  uint64_t hash = 0;
  bool consumer = false;
};
ClientKey MakeClientKey(std::string_view client_ip, std::string_view consumer_id);

}  // namespace guard::fingerprint
