#include "request.h"
#include "strutil.h"


namespace guardctl {
namespace {
guard_str Str(std::string_view s) { return guard_str{s.data(), s.size()}; }
}  // namespace

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

const std::string* Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (str::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

void Request::AddImpliedContentLength() {
  if (body.empty() || header("content-length") || header("transfer-encoding")) return;
  headers.emplace_back("Content-Length", std::to_string(body.size()));
}

RequestView::RequestView(const Request& r) {
  headers_.reserve(r.headers.size());
  for (const auto& [n, v] : r.headers) headers_.push_back(guard_header{Str(n), Str(v)});
  req_.method = Str(r.method);
  req_.path = Str(r.path());
  req_.query = Str(r.query());
  req_.headers = headers_.data();
  req_.header_count = headers_.size();
  req_.body = Str(r.body);
  req_.client_ip = Str(r.client_ip);
  req_.flags = 0;
}

}  // namespace guardctl
