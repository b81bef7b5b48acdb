// HAR 1.2 reader: log.entries[].request. The absolute "url" becomes the request target (path + query, the
// fragment dropped) and, when the entry has no Host header, the Host. HTTP/2 pseudo-headers (":authority",
// ":path", ...) are dropped, ":authority" standing in for a missing Host. postData.text is the body
// (base64-decoded when postData.encoding is "base64"). Optional custom fields "_id", "_label",
// "_category" on an entry label it like a corpus line.
#include <string>

#include "json_util.h"
#include "readers.h"
#include "strutil.h"

namespace guardctl {
namespace {

// "https://host:8443/a/b?x=1#frag" -> authority "host:8443", target "/a/b?x=1". A bare target passes through.
absl::Status SplitUrl(std::string_view url, std::string* authority, std::string* target) {
  size_t frag = url.find('#');
  if (frag != std::string_view::npos) url = url.substr(0, frag);
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    if (url.empty() || url[0] != '/') return absl::InvalidArgumentError(str::Cat("\"url\" is not absolute: ", url));
    target->assign(url);
    return absl::OkStatus();
  }
  std::string_view rest = url.substr(scheme + 3);
  size_t slash = rest.find_first_of("/?");
  authority->assign(rest.substr(0, slash));
  if (size_t at = authority->rfind('@'); at != std::string::npos) authority->erase(0, at + 1);  // userinfo
  if (authority->empty()) return absl::InvalidArgumentError(str::Cat("\"url\" has no host: ", url));
  if (slash == std::string_view::npos) {
    target->assign("/");
  } else if (rest[slash] == '?') {
    target->assign(str::Cat("/", rest.substr(slash)));
  } else {
    target->assign(rest.substr(slash));
  }
  return absl::OkStatus();
}

absl::Status FromEntry(const rapidjson::Value& e, Request* r) {
  if (!e.IsObject()) return absl::InvalidArgumentError("entry must be an object");
  auto rq = e.FindMember("request");
  if (rq == e.MemberEnd() || !rq->value.IsObject()) return absl::InvalidArgumentError("missing \"request\" object");
  const rapidjson::Value& q = rq->value;
  if (auto s = json::RequiredString(q, "method", &r->method); !s.ok()) return s;
  std::string url, authority;
  if (auto s = json::RequiredString(q, "url", &url); !s.ok()) return s;
  if (auto s = SplitUrl(url, &authority, &r->target); !s.ok()) return s;

  std::string pseudo_authority;
  if (auto h = q.FindMember("headers"); h != q.MemberEnd()) {
    if (!h->value.IsArray()) return absl::InvalidArgumentError("\"headers\" must be an array");
    for (const auto& hv : h->value.GetArray()) {
      if (!hv.IsObject()) return absl::InvalidArgumentError("header must be an object");
      std::string name, value;
      if (auto s = json::RequiredString(hv, "name", &name); !s.ok()) return s;
      if (auto s = json::RequiredString(hv, "value", &value); !s.ok()) return s;
      if (!name.empty() && name[0] == ':') {
        if (str::EqualsIgnoreCase(name, ":authority")) pseudo_authority = value;
        continue;
      }
      r->headers.emplace_back(std::move(name), std::move(value));
    }
  }
  if (r->header("host") == nullptr) {
    std::string host = !pseudo_authority.empty() ? pseudo_authority : authority;
    if (!host.empty()) r->headers.insert(r->headers.begin(), {"Host", host});
  }

  if (auto pd = q.FindMember("postData"); pd != q.MemberEnd() && !pd->value.IsNull()) {
    if (!pd->value.IsObject()) return absl::InvalidArgumentError("\"postData\" must be an object");
    std::string text, encoding;
    if (auto s = json::OptString(pd->value, "text", &text); !s.ok()) return s;
    if (auto s = json::OptString(pd->value, "encoding", &encoding); !s.ok()) return s;
    if (str::EqualsIgnoreCase(encoding, "base64")) {
      if (auto s = json::DecodeBase64(text, "postData.text", &r->body); !s.ok()) return s;
    } else {
      r->body = std::move(text);
    }
  }
  if (auto s = json::OptString(e, "_id", &r->id); !s.ok()) return s;
  if (auto s = json::OptString(e, "_label", &r->label); !s.ok()) return s;
  if (!r->label.empty() && r->label != "attack" && r->label != "benign") {
    return absl::InvalidArgumentError("\"_label\" must be \"attack\" or \"benign\"");
  }
  if (auto s = json::OptString(e, "_category", &r->category); !s.ok()) return s;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Request>> ReadHar(std::string_view text, std::string_view source) {
  rapidjson::Document doc;
  if (auto s = json::Parse(text, doc); !s.ok()) return absl::InvalidArgumentError(str::Cat(source, ": ", s.message()));
  if (!doc.IsObject() || !doc.HasMember("log") || !doc["log"].IsObject()) {
    return absl::InvalidArgumentError(str::Cat(source, ": not a HAR file (no \"log\" object)"));
  }
  const rapidjson::Value& log = doc["log"];
  auto entries = log.FindMember("entries");
  if (entries == log.MemberEnd() || !entries->value.IsArray()) {
    return absl::InvalidArgumentError(str::Cat(source, ": \"log.entries\" must be an array"));
  }
  std::vector<Request> out;
  size_t i = 0;
  for (const auto& e : entries->value.GetArray()) {
    Request r;
    if (auto s = FromEntry(e, &r); !s.ok()) {
      return absl::InvalidArgumentError(str::Cat(source, ": log.entries[", i, "]: ", s.message()));
    }
    if (r.id.empty()) r.id = str::Cat("entry-", i);
    out.push_back(std::move(r));
    ++i;
  }
  return out;
}

}  // namespace guardctl
