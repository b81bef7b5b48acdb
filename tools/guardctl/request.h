// An owned copy of one HTTP request as read from a corpus, a HAR file or a raw HTTP file.
//
// The readers produce these; guardctl (and bench/modsec) replay them. A Request owns every byte, so the
// file it came from can be dropped; RequestView lends it to libguard as a guard_request whose strings point
// into the Request, which must outlive the view. The optional label/category come from labelled corpora
// (tests/corpus/*.jsonl) and are what scan compares verdicts against.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "guard.h"

namespace guardctl {

struct Request {
  std::string id;
  std::string method;
  std::string target;  // raw request target as on the wire: path plus optional "?query"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, duplicates kept
  std::string body;
  std::string client_ip = "203.0.113.10";

  std::string label;     // "attack", "benign" or "" when unlabelled
  std::string category;  // expected category of an attack ("sqli", ...), "" otherwise
  std::string split;     // "tune", "holdout" or ""

  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', "" when none
  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
  // Adds the Content-Length a client would have sent when there is a body and neither Content-Length nor
  // Transfer-Encoding (corpus lines leave it implied), so that every engine replayed sees the same headers.
  void AddImpliedContentLength();
};

// A guard_request over a Request; valid while the Request is alive and unchanged.
class RequestView {
 public:
  explicit RequestView(const Request& r);
  RequestView(const RequestView&) = delete;  // req_ points into headers_
  RequestView& operator=(const RequestView&) = delete;
  RequestView(RequestView&& o) noexcept : headers_(std::move(o.headers_)), req_(o.req_) { req_.headers = headers_.data(); }
  const guard_request* get() const { return &req_; }

 private:
  std::vector<guard_header> headers_;
  guard_request req_{};
};

}  // namespace guardctl
