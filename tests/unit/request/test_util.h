// Helpers for the request tests: build a guard_request from std::strings and look fields up.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "guard.h"
#include "request/fields.h"

namespace guard::request::testing {

struct RequestBuilder {
  std::string method = "GET", path = "/", query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  uint32_t flags = 0;
  std::vector<guard_header> hdrs;

  guard_request Build() {
    hdrs.clear();
    for (auto& [n, v] : headers) hdrs.push_back({{n.data(), n.size()}, {v.data(), v.size()}});
    guard_request r{};
    r.method = {method.data(), method.size()};
    r.path = {path.data(), path.size()};
    r.query = {query.data(), query.size()};
    r.headers = hdrs.data();
    r.header_count = hdrs.size();
    r.body = {body.data(), body.size()};
    r.flags = flags;
    return r;
  }
};

inline std::vector<std::pair<std::string, std::string>> Get(const FieldList& fl, Target t) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : fl.fields())
    if (f.target == t) out.emplace_back(std::string(f.name), std::string(f.value));
  return out;
}

inline std::vector<std::pair<std::string, std::string>> P(
    std::initializer_list<std::pair<std::string, std::string>> l) {
  return {l};
}

// Fields may point into the request: helpers that build a request locally park it here so that it
// outlives the FieldList they return (a deque never moves its elements).
inline RequestBuilder& Keep(RequestBuilder b) {
  static std::deque<RequestBuilder> kept;
  kept.push_back(std::move(b));
  return kept.back();
}

inline FieldList ParseWith(RequestBuilder& b, const Limits& limits = {}) {
  FieldList fl;
  guard_request r = b.Build();
  Parse(r, limits, &fl);
  return fl;
}

}  // namespace guard::request::testing
